import type { ExecutionResult } from '../core/runner.js';
import type { MeasureSpec } from '../exec/measure.js';

/** An execution's outcome as a backend reports it: the result plus the host it ran on. */
export interface BackendResult extends ExecutionResult {
  host: string;
  /**
   * Call once the execution's record is written; a backend may hold the next execution (on the
   * same slot) until then. Calling it again does nothing.
   */
  release?: () => void;
  /** When its clock started (ms since the epoch, this machine's clock), where the backend knows it. */
  startedAt?: number;
  /** It was stopped before it started (an interrupt): nothing ran, nothing is to be recorded. */
  notStarted?: boolean;
  /** What the backend saw of the output files afterwards, where it looked (saves infra the look). */
  output?: OutputState;
  /**
   * Its record is already in the records file (written by the measurement helper from the
   * spec's `record` template): `line` as written (with its newline), at byte `at`.
   */
  recorded?: { line: string; at: number };
}

/** A place kept for one execution by {@link ExecutionBackend.reserve}. */
export interface Reservation {
  /** Gives the place up (the execution will not come). */
  cancel(): void;
}

/** The output files after an execution, as the measurement helper saw them. */
export interface OutputState {
  /** Bytes in each (-1: not there). */
  stdoutSize: number;
  stderrSize: number;
  /** Their file system had no space left. */
  full: boolean;
}

/**
 * Where measured executions happen. Every backend runs the same measurement helper (locally,
 * over SSH, in a Slurm or prun allocation) and returns the same result, so records do not
 * depend on the backend. A backend file lives in src/parallel/ and exports a factory.
 */
export interface ExecutionBackend {
  /** Name as given to `--parallel` (e.g. 'local', 'ssh', 'slurm'). */
  readonly name: string;
  /** How many executions it can run at once; the job pool uses this as its limit. */
  readonly capacity: number;
  /**
   * How many of them really run at once when that is fewer (a batch backend holds executions
   * waiting in its jobs' batches); for the progress display.
   */
  readonly runningAtOnce?: number;
  /**
   * Runs one execution. Paths in the spec are on the machine the caller writes results on;
   * a remote backend copies the logs back there before returning.
   */
  execute(spec: MeasureSpec, reservation?: Reservation): Promise<BackendResult>;
  /**
   * Waits until an execution could start at once, with no other execution's record still to be
   * written on its slot, and keeps that place for the execution `execute` is then given the
   * reservation with; for a benchmark's `prepare` step. Backends without it start executions
   * only when the pool does.
   */
  reserve?(): Promise<Reservation>;
  /**
   * Where the backend's helpers can write records themselves (MeasureSpec.record): the `host`
   * those records name. Absent: they cannot, and specs' templates are ignored.
   */
  readonly recordsHost?: string;
  /**
   * Runs `write` (infra appending a record) when no helper of the backend may be writing one,
   * so the records file has one writer at a time; at once where none may.
   */
  appendRecord?(write: () => void): Promise<void>;
  /** Releases connections, allocations and temporary files. */
  close(): Promise<void>;
}

/** A job that threw (a bug, or a UserError from e.g. a target's prepare step). */
export interface JobFailure {
  label: string;
  error: unknown;
}

/** Told about job starts and ends (e.g. {@link Progress}). */
export interface PoolObserver {
  jobAdded?(label: string): void;
  jobStarted?(label: string): void;
  jobFinished?(label: string, error: unknown): void;
}

interface QueuedJob {
  label: string;
  run: () => Promise<unknown>;
  exclusiveKey?: string;
}

export interface JobOptions {
  /** Jobs with the same key never run at the same time (they start in the order added). */
  exclusiveKey?: string | undefined;
  /** The observer was told of this job already, by {@link JobPool.announce}. */
  announced?: boolean;
}

/**
 * Runs async jobs in the order they were added, at most `parallelmax` at a time. A job that
 * throws never stops the others: its error is collected in {@link failures}.
 * After {@link abort}, queued jobs are dropped (running ones finish or are killed by the
 * caller, e.g. with `killAll` from src/exec/children.ts).
 */
export class JobPool {
  readonly failures: JobFailure[] = [];
  /** Jobs not started: `queue[head..]` (taking the first job is then O(1), whatever the length). */
  private queue: Array<QueuedJob | undefined> = [];
  private head = 0;
  private readonly idleWaiters: Array<() => void> = [];
  private running = 0;
  private readonly busyKeys = new Set<string>();
  private aborted = false;
  private dropped = 0;

  constructor(
    readonly parallelmax: number,
    private readonly observer: PoolObserver = {},
  ) {
    if (!Number.isInteger(parallelmax) || parallelmax < 1) {
      throw new RangeError(`parallelmax must be a positive integer, got ${parallelmax}`);
    }
  }

  /** Queues a job; it starts as soon as a slot is free. Ignored after {@link abort}. */
  add(label: string, run: () => Promise<unknown>, options: JobOptions = {}): void {
    if (this.aborted) {
      this.dropped++;
      return;
    }
    if (!options.announced) this.observer.jobAdded?.(label);
    this.queue.push({ label, run, exclusiveKey: options.exclusiveKey });
    this.pump();
  }

  /**
   * Tells the observer of a job that will be added later (with `announced`), so that e.g. a
   * progress display counts it from the start while the queue holds only a window of jobs.
   */
  announce(label: string): void {
    if (!this.aborted) this.observer.jobAdded?.(label);
  }

  /** Stops starting queued jobs; returns how many were dropped. */
  abort(): number {
    this.aborted = true;
    this.dropped += this.pendingCount;
    this.queue = [];
    this.head = 0;
    this.settleIfIdle();
    return this.dropped;
  }

  get isAborted(): boolean {
    return this.aborted;
  }

  /** Jobs dropped by {@link abort} (queued then, or added after). */
  get droppedCount(): number {
    return this.dropped;
  }

  get activeCount(): number {
    return this.running;
  }

  get pendingCount(): number {
    return this.queue.length - this.head;
  }

  /** Resolves when no job is running or queued (jobs added meanwhile are waited for too). */
  drain(): Promise<void> {
    if (this.running === 0 && this.pendingCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (this.running < this.parallelmax) {
      const job = this.takeNext();
      if (!job) return;
      if (job.exclusiveKey !== undefined) this.busyKeys.add(job.exclusiveKey);
      this.running++;
      this.observer.jobStarted?.(job.label);
      let error: unknown;
      // a job may throw synchronously; Promise.resolve().then() turns that into a rejection
      Promise.resolve()
        .then(job.run)
        .catch((e: unknown) => {
          error = e ?? new Error('job failed without an error value');
          this.failures.push({ label: job.label, error });
        })
        .finally(() => {
          this.running--;
          if (job.exclusiveKey !== undefined) this.busyKeys.delete(job.exclusiveKey);
          this.observer.jobFinished?.(job.label, error);
          this.pump();
          this.settleIfIdle();
        });
    }
  }

  /** Removes and returns the first queued job whose exclusive key is free. */
  private takeNext(): QueuedJob | undefined {
    const free = (j: QueuedJob) => j.exclusiveKey === undefined || !this.busyKeys.has(j.exclusiveKey);
    let at = this.head;
    while (at < this.queue.length && !free(this.queue[at]!)) at++;
    if (at >= this.queue.length) return undefined;
    if (at > this.head) return this.queue.splice(at, 1)[0];
    const job = this.queue[at];
    this.queue[this.head++] = undefined;
    // drop the taken slots once they are most of the array
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    return job;
  }

  private settleIfIdle(): void {
    if (this.running > 0 || this.pendingCount > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
