import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { isInterrupted, onInterrupt } from '../exec/interrupt.js';
import { envFileContent, helperArguments, resultFromHelper, type MeasureSpec } from '../exec/measure.js';
import { quote } from '../util/shell.js';
import type { QueuedExecution } from './batch.js';
import type { BackendResult } from './pool.js';
import { errorResult, tail } from './remote.js';
import { TarStreamReader } from './tar-stream.js';

/**
 * One long-lived ssh session on a node (over the node's shared connection) that runs
 * executions one after another, as this machine sends them, without a new ssh, shell or
 * temporary directory per execution.
 *
 * The session's remote side is a small shell loop: its input is copied into a FIFO, which a
 * second shell reads one line at a time and evaluates. Each execution is one line: it writes
 * the benchmark's environment (defined once per session as a printf format, never on a
 * command line) into a 0600 file that the helper reads and removes, runs the helper in the
 * working directory, and writes the helper's files as a tar archive to the session's output.
 * Archives arrive back to back; each execution is settled when its archive is complete, so it
 * is recorded as soon as it finished on the node. Several lines can be on their way at once
 * (the backend decides how many), so the node does not wait for this machine between
 * executions. When this machine closes the session's input (at the end, or on an interrupt),
 * or the connection is lost, the copying ends, the loop is killed, and the helper, whose parent
 * it was, stops the benchmark's process tree. On an interrupt the local ssh is not killed but
 * its input closed, so that an execution that finished just before still gets its result
 * back; it is killed if the node has not ended the session {@link STOP_GRACE_MS} later.
 */
export class SshSession {
  private readonly child: ChildProcess;
  private readonly queue: QueuedExecution[] = [];
  private readonly defined = new Set<string>();
  private readonly reader: TarStreamReader;
  private stderr = '';
  private ended = false;
  /** The archive being read: its small files, and the output file it is writing. */
  private files = new Map<string, Buffer[]>();
  private current: { name: string; fd: number | undefined } | undefined;
  private readonly exited: Promise<void>;
  private readonly unwatch: () => void;
  private killTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    argv: (command: string) => string[],
    private readonly nodeName: string,
    readonly host: string,
    private readonly helper: string,
  ) {
    // its own process group, so a Ctrl-C on the terminal does not reach it; not tracked with the
    // other children (which an interrupt kills), see above; if infra dies, its input closes
    this.child = spawn(argv(SESSION_SCRIPT)[0]!, argv(SESSION_SCRIPT).slice(1), { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.unwatch = onInterrupt(() => this.stop());
    this.reader = new TarStreamReader({
      file: (name) => this.beginFile(name),
      data: (chunk) => this.fileData(chunk),
      archiveEnd: () => this.archiveEnd(),
      line: (text) => this.quickEnd(text),
    });
    this.child.stdin!.on('error', () => {});
    this.child.stdout!.on('data', (c: Buffer) => this.reader.write(c));
    this.child.stderr!.on('data', (c: Buffer) => (this.stderr = (this.stderr + c.toString()).slice(-4000)));
    this.exited = new Promise<void>((resolve) => {
      this.child.once('error', (e) => {
        this.stderr += e.message;
        this.fail(255, null);
        resolve();
      });
      this.child.once('close', (code, signal) => {
        this.fail(code, signal);
        resolve();
      });
    }).finally(() => {
      this.unwatch();
      if (this.killTimer) clearTimeout(this.killTimer);
    });
  }

  /** Executions sent and not yet settled. */
  get outstanding(): number {
    return this.queue.length;
  }

  /** False once the session's ssh has ended (its executions are settled by then) or is stopping. */
  get alive(): boolean {
    return !this.ended && !this.stopping;
  }

  /** Sends executions to the node (in one write); each is settled when its archive is back. */
  send(batch: QueuedExecution[]): void {
    if (this.ended || this.stopping) {
      for (const e of batch) e.resolve(this.lost(e.spec, null, null));
      return;
    }
    const lines: string[] = [];
    for (const e of batch) {
      const env = envFileContent(e.spec.env);
      const key = createHash('sha256').update(env).digest('hex').slice(0, 16);
      if (!this.defined.has(key)) {
        this.defined.add(key);
        lines.push(`e_${key}=${printfFormat(env)}`);
      }
      lines.push(executionLine(e.spec, this.helper, `e_${key}`));
      this.queue.push(e);
    }
    this.child.stdin!.write(lines.join('\n') + '\n');
  }

  /** Closes the session's input at once: the node stops what runs; what finished comes back. */
  private stop(): void {
    if (this.ended || this.stopping) return;
    this.stopping = true;
    this.child.stdin!.end();
    this.killTimer ??= setTimeout(() => {
      try {
        process.kill(-this.child.pid!, 'SIGTERM');
      } catch {
        /* gone */
      }
    }, STOP_GRACE_MS);
  }

  /** Ends the session (after its executions) and waits for its ssh to exit. */
  async close(): Promise<void> {
    if (!this.ended && !this.stopping) this.child.stdin!.end();
    await this.exited;
  }

  private beginFile(name: string): void {
    this.closeOutput();
    const spec = this.queue[0]?.spec;
    const path = name === 'o' ? spec?.stdoutPath : name === 'e' ? spec?.stderrPath : undefined;
    if (path !== undefined) {
      mkdirSync(dirname(path), { recursive: true });
      this.current = { name, fd: openSync(path, 'w') };
    } else {
      this.current = { name, fd: undefined };
      this.files.set(name, []);
    }
  }

  private fileData(chunk: Buffer): void {
    if (!this.current) return;
    if (this.current.fd !== undefined) writeSync(this.current.fd, chunk);
    else this.files.get(this.current.name)!.push(Buffer.from(chunk));
  }

  private closeOutput(): void {
    if (this.current?.fd !== undefined) closeSync(this.current.fd);
    this.current = undefined;
  }

  private archiveEnd(): void {
    this.closeOutput();
    const text = (name: string) => Buffer.concat(this.files.get(name) ?? []).toString('utf8');
    const status = text('s').trim();
    const result = text('r');
    const helperErr = text('h');
    this.files = new Map();
    const e = this.queue.shift();
    if (!e) return;
    e.resolve(this.outcome(e.spec, status, result, helperErr));
  }

  /** `STATUS RESULT`: an execution that left no output and no message from the helper. */
  private quickEnd(text: string): void {
    const space = text.indexOf(' ');
    const e = this.queue.shift();
    if (!e) return;
    // its output files are empty: make them so here too
    for (const path of [e.spec.stdoutPath, e.spec.stderrPath]) {
      mkdirSync(dirname(path), { recursive: true });
      closeSync(openSync(path, 'w'));
    }
    e.resolve(this.outcome(e.spec, text.slice(0, space), text.slice(space + 1), ''));
  }

  private outcome(spec: MeasureSpec, status: string, resultText: string, helperErr: string): BackendResult {
    if (status.startsWith('x ')) return { ...errorResult(spec, status.slice(2)), host: this.host };
    const result = resultFromHelper(resultText, spec);
    if (result) return { ...result, host: this.host };
    const why = tail(helperErr, 3) || 'no result written';
    return { ...errorResult(spec, `measurement helper on ${this.nodeName} failed (exit status ${status}): ${why}`), host: this.host };
  }

  private lost(spec: MeasureSpec, code: number | null, signal: NodeJS.Signals | null): BackendResult {
    const reason =
      signal || isInterrupted()
        ? `measurement interrupted (ssh to ${this.nodeName} ${signal ? `killed by ${signal}` : 'stopped'})`
        : code === 255
          ? `ssh to ${this.nodeName} failed: ${tail(this.stderr, 2) || 'connection lost'}`
          : `ssh session on ${this.nodeName} ended (exit status ${code}): ${tail(this.stderr, 2) || 'no output'}`;
    return { ...errorResult(spec, reason), host: this.host };
  }

  private fail(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.ended) return;
    this.ended = true;
    this.closeOutput();
    for (const e of this.queue.splice(0)) e.resolve(this.lost(e.spec, code, signal));
  }
}

/** How long an interrupted session may take to end before its ssh is killed. */
const STOP_GRACE_MS = 5000;

/**
 * The session's remote side (the ssh command; run by the login shell, so it is plain POSIX sh).
 * `$d` is the session's private directory: the FIFO and the current execution's files.
 */
const SESSION_SCRIPT = [
  'umask 077',
  'd=$(mktemp -d "${TMPDIR:-/tmp}/infra-session.XXXXXX") || exit 97',
  'mkfifo "$d/q" || { rm -rf "$d"; exit 97; }',
  '(while IFS= read -r l; do eval "$l"; done) <"$d/q" &',
  'x=$!',
  // copies our input until it closes (this machine is done, or its ssh died)
  'cat >"$d/q"',
  'kill -TERM $x 2>/dev/null',
  'wait $x 2>/dev/null',
  'rm -rf "$d"',
].join('\n');

/**
 * One execution as one line of shell: the files of the previous one are emptied, the helper
 * runs in a subshell that entered the working directory, and `tar` sends back its status (s),
 * result (r), the benchmark's output (o, e) and what the helper itself printed (h). When only
 * the result has content (e.g. a quiet program), one line `@STATUS RESULT` written by shell
 * builtins replaces the archive: no process is started for it.
 */
function executionLine(spec: MeasureSpec, helper: string, envVar: string): string {
  const pre: string[] = [];
  const word = (w: string) => oneLineWord(w, pre);
  const files = { stdout: '"$d/o"', stderr: '"$d/e"', result: '"$d/r"', env: '"$d/env"' };
  const args = helperArguments(spec, files).map((a) => (Object.values(files).includes(a) ? a : word(a)));
  const cwd = word(spec.cwd);
  const missing = `echo "x working directory does not exist on $(hostname): "${cwd} >"$d/s"`;
  return [
    ...pre,
    ': >"$d/o"; : >"$d/e"; : >"$d/r"; : >"$d/h"; : >"$d/s"',
    `printf "$${envVar}" >"$d/env"`,
    `(cd -- ${cwd} 2>/dev/null || { ${missing}; exit 98; }; exec ${word(helper)} ${args.join(' ')} </dev/null >/dev/null 2>"$d/h")`,
    'st=$?',
    'if [ -s "$d/s" ] || [ -s "$d/o" ] || [ -s "$d/e" ] || [ -s "$d/h" ]',
    'then [ -s "$d/s" ] || echo $st >"$d/s"; tar -cf - -C "$d" s r o e h',
    `else IFS= read -r res <"$d/r"; printf '@%s %s\\n' $st "$res"; fi`,
  ].join('; ');
}

/**
 * A shell word for `w` that contains no newline (the line protocol): quoted as usual, or,
 * for a word with a newline, a variable set from a printf format by a command before it.
 */
function oneLineWord(w: string, pre: string[]): string {
  if (!w.includes('\n')) return quote(w);
  const name = `w${pre.length}`;
  pre.push(`${name}=$(printf ${printfFormat(w)}_)`);
  return `"\${${name}%_}"`;
}

/** A single-quoted printf format that prints exactly `text` (any bytes, NULs too), in plain ASCII. */
export function printfFormat(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    if (byte === 0x25) out += '%%';
    else if (byte === 0x5c) out += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f && byte !== 0x27) out += String.fromCharCode(byte);
    else out += `\\${byte.toString(8).padStart(3, '0')}`;
  }
  return `'${out}'`;
}
