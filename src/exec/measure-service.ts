import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { ExecutionResult } from '../core/runner.js';
import { track } from './children.js';
import { envFileContent, helperArguments, interruptedResult, prepareExecution, resultFromHelper, type MeasureSpec } from './measure.js';

/**
 * Long-lived measurement helpers (`measure --serve`, runtime/measure.c) that measure one
 * execution after another on request, so an execution costs the helper a fork and an exec
 * rather than infra starting a new helper process each time. Each helper runs one execution
 * at a time; the service starts a new helper whenever all of its helpers are busy, so it never
 * has more than the executions running at once.
 *
 * What an execution is measured with does not change: the same helper code forks, measures
 * and reports it, in a fresh cgroup, with the same fields, and kills its whole tree on a
 * timeout, an interrupt, or when infra dies (PR_SET_PDEATHSIG; each helper leads a process
 * group known to the supervisor, src/exec/supervisor.ts).
 */
export class MeasureService {
  private readonly idle: ServedHelper[] = [];
  private readonly all = new Set<ServedHelper>();

  constructor(private readonly helper: string) {}

  /** Measures one execution; results and errors as {@link executeMeasured}. */
  async execute(spec: MeasureSpec): Promise<ExecutionResult> {
    const refused = prepareExecution(spec);
    if (refused) return refused;
    let served = this.idle.pop();
    while (served?.gone) served = this.idle.pop();
    served ??= this.start();
    try {
      return await served.execute(spec);
    } finally {
      if (!served.gone) this.idle.push(served);
    }
  }

  /** Ends every helper (each exits at the end of its input) and waits for them. */
  async close(): Promise<void> {
    const helpers = [...this.all];
    this.idle.length = 0;
    await Promise.all(helpers.map((h) => h.close()));
  }

  /** Helpers running now. */
  get size(): number {
    return this.all.size;
  }

  private start(): ServedHelper {
    const served = new ServedHelper(this.helper, () => this.all.delete(served));
    this.all.add(served);
    return served;
  }
}

interface Pending {
  spec: MeasureSpec;
  resolve: (r: ExecutionResult) => void;
  reject: (e: Error) => void;
}

/** The environment part of a request, kept for the environment object it was made from. */
const envText = new WeakMap<Record<string, string>, string>();

/** One `measure --serve` process and its request in progress. */
class ServedHelper {
  private readonly child: ChildProcess;
  private readonly stdin: Writable;
  private readonly stdout: Readable;
  private pending: Pending | null = null;
  private buffered = '';
  private stderr = '';
  private spawnError: Error | undefined;
  private exited: Promise<void>;
  gone = false;

  constructor(
    private readonly helper: string,
    onGone: () => void,
  ) {
    // no environment of its own: each request carries the benchmark's; own process group
    // so an interrupt (killAll) reaches it and it passes the signal on to the benchmark
    this.child = spawn(helper, ['--serve'], { cwd: '/', env: {}, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    track(this.child, { ownCleanup: true });
    this.stdin = this.child.stdin!;
    this.stdout = this.child.stdout!;
    this.stdin.on('error', () => {}); // a helper that died: its exit says why
    this.stdout.setEncoding('utf8');
    this.stdout.on('data', (text: string) => this.received(text));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (text: string) => (this.stderr = (this.stderr + text).slice(-4096)));
    this.child.once('error', (e) => (this.spawnError = e));
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code, signal) => {
        this.gone = true;
        onGone();
        this.ended(code, signal);
        resolve();
      }),
    );
    this.setBusy(false);
  }

  execute(spec: MeasureSpec): Promise<ExecutionResult> {
    if (this.pending) throw new Error('a measurement helper was given a second execution while busy');
    return new Promise((resolve, reject) => {
      this.pending = { spec, resolve, reject };
      this.setBusy(true);
      this.stdin.write(request(spec));
    });
  }

  close(): Promise<void> {
    if (!this.gone) this.setBusy(true); // until it has exited
    this.stdin.end();
    return this.exited;
  }

  /** An idle helper does not keep infra running (a forgotten close must not hang the CLI). */
  private setBusy(busy: boolean): void {
    const handles = [this.child, this.stdout, this.child.stderr] as Array<{ ref?: () => void; unref?: () => void } | null>;
    for (const h of handles) {
      if (busy) h?.ref?.();
      else h?.unref?.();
    }
  }

  private received(text: string): void {
    this.buffered += text;
    for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const pending = this.pending;
      if (!pending) continue;
      this.pending = null;
      this.setBusy(false);
      const result = resultFromHelper(line, pending.spec);
      if (result) pending.resolve(result);
      else pending.reject(new Error(`measurement helper ${this.helper} gave no result: ${line.slice(0, 500)}`));
    }
  }

  private ended(code: number | null, signal: NodeJS.Signals | null): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    if (this.spawnError) {
      pending.reject(new Error(`cannot start the measurement helper ${this.helper}: ${this.spawnError.message}`));
    } else if (signal) {
      pending.resolve(interruptedResult(pending.spec, `killed by ${signal}`));
    } else {
      const why = this.stderr.trim() || 'no result written';
      pending.reject(new Error(`measurement helper failed (exit status ${code}): ${why}`));
    }
  }
}

/** One request frame: its length, a newline, then the environment, an empty string and the arguments, each NUL-terminated. */
function request(spec: MeasureSpec): string {
  let env = envText.get(spec.env);
  if (env === undefined) {
    env = envFileContent(spec.env);
    envText.set(spec.env, env);
  }
  // a served result always comes back on the pipe ('-')
  const args = ['--cwd', spec.cwd, ...helperArguments(spec, { stdout: spec.stdoutPath, stderr: spec.stderrPath, result: '-' })];
  const payload = `${env}\u0000${args.join('\u0000')}\u0000`;
  return `${Buffer.byteLength(payload)}\n${payload}`;
}
