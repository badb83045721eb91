import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { ExecutionResult } from '../core/runner.js';
import type { OutputState, Reservation } from '../parallel/pool.js';
import { track } from './children.js';
import {
  classifyHelperResult,
  envFileContent,
  helperArguments,
  interruptedResult,
  parseHelperResult,
  prepareExecution,
  type MeasureSpec,
} from './measure.js';

/** A served execution's result, and what the caller owes the service for it. */
export interface ServedResult extends ExecutionResult {
  /**
   * Call once the execution's record is written: the execution that waits behind it on the same
   * helper starts only then. Calling it again does nothing.
   */
  release: () => void;
  /** When the clock started (ms since the epoch), just before the exec; absent if nothing ran. */
  startedAt?: number;
  /** It was stopped while waiting behind another execution (an interrupt): nothing ran. */
  notStarted?: boolean;
  /** The output files afterwards, as the helper saw them. */
  output?: OutputState;
  /** The helper wrote the record from the spec's template: the line (with its newline) and where. */
  recorded?: { line: string; at: number };
}

/**
 * Long-lived measurement helpers (`measure --serve`, runtime/measure.c) that measure one
 * execution after another on request, so an execution costs the helper a fork and an exec
 * rather than infra starting a new helper process each time. At most `slots` helpers run, each
 * one execution at a time.
 *
 * When every helper is busy, the next execution is handed to one of them at once, *held*: the
 * helper creates its process and sets it up (cgroup, working directory, output files) as soon as the
 * running execution ends, and starts its clock and program only when the caller has released
 * the one before ({@link ServedResult.release}, after writing its record). The set-up then
 * overlaps with infra's recording, and infra's next request no longer lies between one
 * execution and the next: only the record does. Callers that may give it up to two executions
 * per slot (`2 * slots` at once) get this; with fewer, nothing is ever held.
 *
 * What an execution is measured with does not change: the same helper code forks, measures
 * and reports it, in a fresh cgroup, with the same fields, and kills its whole tree on a
 * timeout, an interrupt, or when infra dies (PR_SET_PDEATHSIG; each helper leads a process
 * group known to the supervisor, src/exec/supervisor.ts).
 */
export class MeasureService {
  private readonly helpers = new Set<ServedHelper>();
  /** Executions waiting for a place on a helper (more were given than `2 * slots`). */
  private readonly waiting: Array<() => void> = [];
  /** Records infra is to append once no helper may be writing one ({@link appendRecord}). */
  private readonly appends: Array<() => void> = [];
  private nextToken = 1;

  /**
   * `slots`: helpers at most. Without it, a new helper is started whenever all are busy and
   * every execution is released as its result arrives (nothing is held).
   */
  constructor(
    private readonly helper: string,
    private readonly slots = Infinity,
  ) {}

  /**
   * Measures one execution; results and errors as {@link executeMeasured}. With a reservation
   * from {@link reserve}, on the helper it kept, at once.
   */
  async execute(spec: MeasureSpec, reservation?: Reservation): Promise<ServedResult> {
    const refused = prepareExecution(spec);
    if (refused) {
      if (reservation) reservation.cancel();
      return { ...refused, release: () => {} };
    }
    if (reservation instanceof HeldPlace) return reservation.use(spec);
    return this.withPlace(true, (place) => place.helper.execute(spec, place.hold ? this.nextToken++ : undefined));
  }

  /**
   * Waits until an execution could start at once (nothing before it on a helper still to be
   * recorded), and keeps that place for the execution given it. For a step that must run between
   * one execution's record and the next one's start (a benchmark's `prepare`).
   */
  async reserve(): Promise<Reservation> {
    return this.withPlace(false, (place) => new HeldPlace(place.helper, () => this.wake()));
  }

  /**
   * Runs `write` (infra appending a record) once no helper may write one itself: at once, or
   * right when the last execution that could has reported, before anything else is sent.
   */
  appendRecord(write: () => void): Promise<void> {
    if (!this.writing()) {
      write();
      return Promise.resolve();
    }
    return new Promise((resolve, reject) =>
      this.appends.push(() => {
        try {
          write();
          resolve();
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      }),
    );
  }

  private writing(): boolean {
    for (const h of this.helpers) if (h.writingRecord) return true;
    return false;
  }

  /** Called by a helper whenever an execution reported or it ended. */
  private reported(): void {
    while (this.appends.length && !this.writing()) this.appends.shift()!();
  }

  /** Ends every helper (each exits at the end of its input) and waits for them. */
  async close(): Promise<void> {
    await Promise.all([...this.helpers].map((h) => h.close()));
  }

  /** Helpers running now. */
  get size(): number {
    return this.helpers.size;
  }

  /**
   * Gives `use` a {@link place} once there is one, in the same turn as it is found: another
   * execution given meanwhile must not find the same place free.
   */
  private async withPlace<T>(hold: boolean, use: (place: { helper: ServedHelper; hold: boolean }) => T): Promise<Awaited<T>> {
    for (;;) {
      const place = this.place(hold);
      if (place) return await use(place);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  /** A helper with nothing to wait for; else (with `hold`) one with room for a held execution. */
  private place(hold: boolean): { helper: ServedHelper; hold: boolean } | null {
    let behind: ServedHelper | undefined;
    for (const h of this.helpers) {
      if (h.gone) continue;
      if (h.idle) return { helper: h, hold: false };
      if (hold && !behind && h.canHold) behind = h;
    }
    if (this.helpers.size < this.slots) return { helper: this.start(), hold: false };
    return behind ? { helper: behind, hold: true } : null;
  }

  private start(): ServedHelper {
    const served = new ServedHelper(this.helper, this.slots === Infinity, () => {
      this.helpers.delete(served);
      this.reported();
      this.wake();
    });
    served.onFree = () => this.wake();
    served.onReported = () => this.reported();
    this.helpers.add(served);
    return served;
  }

  private wake(): void {
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

/** A reserved helper: marked busy until the execution comes or the place is given up. */
class HeldPlace implements Reservation {
  private done = false;

  constructor(
    private readonly helper: ServedHelper,
    private readonly onCancel: () => void,
  ) {
    helper.reserved++;
  }

  use(spec: MeasureSpec): Promise<ServedResult> {
    this.finish();
    return this.helper.execute(spec, undefined);
  }

  cancel(): void {
    if (this.finish()) this.onCancel();
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.helper.reserved--;
    return true;
  }
}

interface Pending {
  spec: MeasureSpec;
  resolve: (r: ServedResult) => void;
  reject: (e: Error) => void;
  /** Its go token while it is held; undefined once started (or if never held). */
  token: number | undefined;
}

/** The environment part of a request, kept for the environment object it was made from. */
const envText = new WeakMap<Record<string, string>, string>();

/** One `measure --serve` process, its executions in progress (at most two) and the go pipe. */
class ServedHelper {
  private readonly child: ChildProcess;
  private readonly stdin: Writable;
  private readonly go: Writable;
  private readonly stdout: Readable;
  /** Requests sent, in order; their results come back in this order. */
  private readonly sent: Pending[] = [];
  /** The last execution started or held that is not yet released: the next one waits for it. */
  private blocker: Pending | null = null;
  /** The one held behind `blocker`. */
  private held: Pending | null = null;
  private buffered = '';
  private stderr = '';
  private spawnError: Error | undefined;
  private exited: Promise<void>;
  gone = false;
  /** Places kept by reservations. */
  reserved = 0;
  onFree: () => void = () => {};
  onReported: () => void = () => {};

  constructor(
    private readonly helper: string,
    /** Release each execution as its result arrives (nothing is ever held on this helper). */
    private readonly autoRelease: boolean,
    onGone: () => void,
  ) {
    // no environment of its own: each request carries the benchmark's; own process group
    // so an interrupt (killAll) reaches it and it passes the signal on to the benchmark;
    // descriptor 3 carries the go of held executions (GO_FD in runtime/measure.c)
    this.child = spawn(helper, ['--serve'], { cwd: '/', env: {}, stdio: ['pipe', 'pipe', 'pipe', 'pipe'], detached: true });
    track(this.child, { ownCleanup: true });
    this.stdin = this.child.stdin!;
    this.go = this.child.stdio[3] as Writable;
    this.stdout = this.child.stdout!;
    this.stdin.on('error', () => {}); // a helper that died: its exit says why
    this.go.on('error', () => {});
    this.stdout.setEncoding('utf8');
    this.stdout.on('data', (text: string) => this.received(text));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (text: string) => (this.stderr = (this.stderr + text).slice(-4096)));
    this.child.once('error', (e) => (this.spawnError = e));
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code, signal) => {
        this.gone = true;
        this.ended(code, signal);
        onGone();
        resolve();
      }),
    );
    this.setBusy(false);
  }

  /** Nothing runs, waits or is kept here, and the last execution was released. */
  get idle(): boolean {
    return this.sent.length === 0 && this.blocker === null && this.reserved === 0;
  }

  /**
   * An execution that may write its own record (it has a template) has started and not yet
   * reported: the helper may be appending to the records file.
   */
  get writingRecord(): boolean {
    const b = this.blocker;
    return b !== null && b.spec.record !== undefined && b.token === undefined && this.sent.includes(b);
  }

  /** An execution runs (or waits to be recorded) and none is held behind it yet. */
  get canHold(): boolean {
    return this.blocker !== null && this.held === null && this.reserved === 0;
  }

  /** Sends a request: started at once, or (with a token) held until the blocker is released. */
  execute(spec: MeasureSpec, token: number | undefined): Promise<ServedResult> {
    if (this.gone) return Promise.reject(new Error(`measurement helper ${this.helper} is no longer running`));
    if (token === undefined && this.blocker) throw new Error('a measurement helper was given a second execution while busy');
    return new Promise((resolve, reject) => {
      const pending: Pending = { spec, resolve, reject, token };
      this.sent.push(pending);
      if (token === undefined) this.blocker = pending;
      else this.held = pending;
      this.setBusy(true);
      this.stdin.write(request(spec, token));
    });
  }

  close(): Promise<void> {
    if (!this.gone) this.setBusy(true); // until it has exited
    this.stdin.end();
    this.go.end();
    return this.exited;
  }

  /**
   * The record of `p` is written: what is held behind it may start (`go`: infra sends its go;
   * else the helper, which wrote the record, started it). Again (or once `p` is gone): nothing.
   */
  private release(p: Pending, go = true): void {
    if (this.blocker !== p) return;
    const next = this.held;
    this.held = null;
    this.blocker = next;
    if (next?.token !== undefined && !go) next.token = undefined;
    if (next?.token !== undefined) {
      const token = Buffer.alloc(8);
      token.writeBigUInt64LE(BigInt(next.token)); // the helper reads it in host order (x86, arm64: little-endian)
      next.token = undefined;
      this.go.write(token);
    }
    this.onFree();
  }

  /** An idle helper does not keep infra running (a forgotten close must not hang the CLI). */
  private setBusy(busy: boolean): void {
    const handles = [this.child, this.stdout, this.child.stderr, this.go] as Array<{ ref?: () => void; unref?: () => void } | null>;
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
      const pending = this.sent.shift();
      if (!pending) continue;
      if (this.sent.length === 0) this.setBusy(false);
      const raw = parseHelperResult(line);
      if (!raw) {
        this.release(pending);
        pending.reject(new Error(`measurement helper ${this.helper} gave no result: ${line.slice(0, 500)}`));
        continue;
      }
      const release = () => this.release(pending);
      if (raw.notStarted) {
        release();
        pending.resolve(notStartedResult(pending.spec));
        continue;
      }
      const result = classifyHelperResult(raw, pending.spec) as ServedResult; // a new object: no copy needed
      result.release = release;
      if (typeof raw.startedAt === 'number' && raw.startedAt > 0) result.startedAt = raw.startedAt * 1000;
      if (typeof raw.stdoutSize === 'number' && typeof raw.stderrSize === 'number') {
        result.output = { stdoutSize: raw.stdoutSize, stderrSize: raw.stderrSize, full: raw.outputFsFull === true };
      }
      if (raw.recorded) {
        // written by the helper, which has started what was held behind it already
        const start = line.lastIndexOf(',"recorded":{"record":') + ',"recorded":{"record":'.length;
        const end = line.lastIndexOf(',"at":');
        result.recorded = { line: `${line.slice(start, end)}\n`, at: raw.recorded.at };
        this.release(pending, false);
      }
      if (this.autoRelease) release();
      pending.resolve(result);
    }
    // records waiting for the helper to stop writing go in now, before anything else is sent
    this.onReported();
  }

  private ended(code: number | null, signal: NodeJS.Signals | null): void {
    this.blocker = this.held = null; // releasing what is left does nothing now (nor is any record being written)
    for (const pending of this.sent.splice(0)) {
      if (this.spawnError) {
        pending.reject(new Error(`cannot start the measurement helper ${this.helper}: ${this.spawnError.message}`));
      } else if (code === 0 || pending.token !== undefined) {
        // a helper that ends on its own with requests unread stopped after an interrupt: they
        // never started (nor did one still held, whatever ended the helper)
        pending.resolve(notStartedResult(pending.spec));
      } else if (signal) {
        pending.resolve({ ...interruptedResult(pending.spec, `killed by ${signal}`), release: () => {} });
      } else {
        const why = this.stderr.trim() || 'no result written';
        pending.reject(new Error(`measurement helper failed (exit status ${code}): ${why}`));
      }
    }
  }
}

/** The result of an execution stopped before it started (nothing to release: it held nothing up). */
function notStartedResult(spec: MeasureSpec): ServedResult {
  return { ...interruptedResult(spec, 'stopped before it started'), release: () => {}, notStarted: true };
}

/** One request frame: its length, a newline, then the environment, an empty string and the arguments, each NUL-terminated. */
function request(spec: MeasureSpec, hold: number | undefined): string {
  let env = envText.get(spec.env);
  if (env === undefined) {
    env = envFileContent(spec.env);
    envText.set(spec.env, env);
  }
  // a served result always comes back on the pipe ('-')
  const files = { stdout: spec.stdoutPath, stderr: spec.stderrPath, result: '-', ...(hold === undefined ? {} : { hold }) };
  const args = ['--cwd', spec.cwd];
  const r = spec.record;
  if (r) args.push('--record', r.file, '--record-head', r.head, '--record-middle', r.middle, '--record-tail', r.tail);
  args.push(...helperArguments(spec, files));
  const payload = `${env}\u0000${args.join('\u0000')}\u0000`;
  return `${Buffer.byteLength(payload)}\n${payload}`;
}
