import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onInterrupt, quote, sshDestination, UserError } from '../../api.js';

/** What a finished shell script did. */
export interface ShellResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The script travels on the standard input (never on a command line, where other users could
 * read it); what follows it on the standard input is the script's own input, the control
 * channel: when it closes, the script knows that we are gone.
 */
function bootstrap(script: Buffer): string {
  return `s=$(head -c ${script.length}) && eval "$s"`;
}

/**
 * A POSIX shell on one machine, this one or an SSH host, that runs the web server orchestration's
 * scripts. Over SSH every script is a new session of one shared connection (`ControlMaster`),
 * so no script pays for a login; nothing listens on any port of ours: the SSH connection is
 * the only control channel.
 */
export class HostShell {
  private readonly sessions = new Set<ChildProcess>();
  private readonly stopWatching: () => void;

  private constructor(
    /** As the user wrote it (`--ssh-nodes`), or `localhost` for this machine. */
    readonly name: string,
    private readonly prefix: readonly string[],
    private readonly controlDir: string | null,
  ) {
    // an interrupted run takes every session with it: each remote script then sees its input close
    this.stopWatching = onInterrupt(() => this.killAll());
    process.on('exit', this.killOnExit);
  }

  /** This machine's `sh`. */
  static local(): HostShell {
    return new HostShell('localhost', ['sh', '-c'], null);
  }

  /** A host reached with `ssh` (BatchMode: keys or an agent, never a prompt; ~/.ssh/config applies). */
  static ssh(node: string, connectTimeout = 10): HostShell {
    const { destination, port } = sshDestination(node);
    const controlDir = mkdtempSync(join(tmpdir(), 'infra-web-ssh-'));
    const prefix = [
      'ssh',
      '-T',
      '-o',
      'BatchMode=yes',
      '-o',
      `ConnectTimeout=${connectTimeout}`,
      '-o',
      'ServerAliveInterval=15',
      '-o',
      'ControlMaster=auto',
      '-o',
      `ControlPath=${controlDir}/%C`,
      '-o',
      'ControlPersist=60',
      ...(port !== undefined ? ['-p', String(port)] : []),
      destination,
    ];
    return new HostShell(node, prefix, controlDir);
  }

  get isLocal(): boolean {
    return this.controlDir === null;
  }

  /**
   * Starts `script` with `args` as its positional parameters ($1...). Its standard input
   * stays open until {@link ShellSession.end}; output arrives as it is written.
   */
  session(script: string, args: readonly string[] = []): ShellSession {
    const body = Buffer.from(`set -- ${args.map(quote).join(' ')}\n${script}`, 'utf8');
    const child = spawn(this.prefix[0]!, [...this.prefix.slice(1), bootstrap(body)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.sessions.add(child);
    child.once('close', () => this.sessions.delete(child));
    child.stdin.on('error', () => {});
    child.stdin.write(body);
    return new ShellSession(child, this.name);
  }

  /** Runs `script` to its end with `input` after it on the standard input. */
  async run(script: string, args: readonly string[] = [], input?: Buffer): Promise<ShellResult> {
    const s = this.session(script, args);
    s.end(input);
    return s.done;
  }

  /** Like {@link run}, and a non-zero exit is a UserError saying what `what` was. */
  async check(what: string, script: string, args: readonly string[] = [], input?: Buffer): Promise<string> {
    const r = await this.run(script, args, input);
    if (r.code === 0) return r.stdout;
    if (r.code === 255 && !this.isLocal) {
      throw new UserError(`cannot reach ${this.name} over ssh (${what}): ${lastLines(r.stderr) || 'ssh exit status 255'}`);
    }
    const how = r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`;
    throw new UserError(`${what} on ${this.name} failed (${how}): ${lastLines(r.stderr || r.stdout) || 'no output'}`);
  }

  /** Ends every session and the shared connection. */
  async close(): Promise<void> {
    this.stopWatching();
    process.off('exit', this.killOnExit);
    for (const child of this.sessions) child.stdin?.end();
    if (this.controlDir !== null) {
      await new Promise<void>((resolve) => {
        const exit = spawn(this.prefix[0]!, [...this.prefix.slice(1, -1), '-O', 'exit', this.prefix[this.prefix.length - 1]!], {
          stdio: 'ignore',
        });
        exit.once('error', () => resolve());
        exit.once('close', () => resolve());
      });
      rmSync(this.controlDir, { recursive: true, force: true });
    }
  }

  private readonly killOnExit = () => this.killAll('SIGKILL');

  private killAll(signal: NodeJS.Signals = 'SIGTERM'): void {
    for (const child of this.sessions) {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        /* gone */
      }
    }
  }
}

/** A running script: its output line by line, its input as the control channel. */
export class ShellSession {
  readonly done: Promise<ShellResult>;
  private stdout = '';
  private stderr = '';
  private readonly waiters: Array<{ test: (line: string) => boolean; resolve: (line: string | null) => void }> = [];
  private lines: string[] = [];
  private closed = false;

  constructor(
    private readonly child: ChildProcess,
    readonly host: string,
  ) {
    child.stdout!.on('data', (c: Buffer) => {
      this.stdout += c.toString();
      const parts = this.stdout.split('\n');
      const complete = parts.slice(this.lines.length, -1);
      this.lines.push(...complete);
      for (const line of complete) this.offer(line);
    });
    child.stderr!.on('data', (c: Buffer) => (this.stderr += c.toString()));
    this.done = new Promise((resolve) => {
      child.once('error', (e) => (this.stderr += e.message));
      child.once('close', (code, signal) => {
        this.closed = true;
        for (const w of this.waiters.splice(0)) w.resolve(null);
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      });
    });
  }

  /** The first output line (already written or still to come) that passes `test`; null if the script ends first. */
  waitForLine(test: (line: string) => boolean): Promise<string | null> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  /** Output lines so far. */
  output(): readonly string[] {
    return this.lines;
  }

  errorOutput(): string {
    return this.stderr;
  }

  /** Closes the script's input (after `input`): the script's signal to finish. */
  end(input?: Buffer): void {
    if (input) this.child.stdin!.write(input);
    this.child.stdin!.end();
  }

  /** Kills the local end (ssh or sh); a remote script sees its input close. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    try {
      process.kill(-this.child.pid!, signal);
    } catch {
      /* gone */
    }
  }

  private offer(line: string): void {
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i]!;
      if (w.test(line)) {
        this.waiters.splice(i--, 1);
        w.resolve(line);
      }
    }
  }
}

function lastLines(text: string, n = 3): string {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-n)
    .join(' / ');
}
