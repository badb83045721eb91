import type { MeasureSpec } from '../exec/measure.js';
import type { BackendResult } from './pool.js';

/**
 * Packing many executions into few batch jobs (slurm, prun): how many executions go into one
 * job, and the queue that gathers the executions the job pool hands over into jobs, at most
 * `jobs` of them pending or running at once.
 *
 * The batch size is `--batch-size N` when given (each job takes N, the last fewer). Without it,
 * it follows the expected duration of an execution, learned from the executions this run has
 * measured so far: a job should last at least {@link MIN_JOB_SECONDS} (short executions are not
 * worth a job each) and at most {@link TARGET_JOB_SECONDS} (a job must stay well inside a
 * cluster's default time limit, e.g. 15 minutes on DAS-5), and the executions waiting are shared
 * by the job slots (so the last jobs are small and end together). Until the first execution has
 * been measured nothing is known, and each job holds one execution.
 */

/** A job should not run longer than this, by the expected duration (seconds). */
export const TARGET_JOB_SECONDS = 300;
/** ...and need not be shorter than this (seconds): a job costs about a second to start. */
export const MIN_JOB_SECONDS = 30;
/** At most this many executions per job without `--batch-size` (bounds what is held in memory). */
export const MAX_AUTO_BATCH = 200;
/** What one execution costs in a job beyond its measured runtime (helper start, files), seconds. */
const PER_EXECUTION_SECONDS = 0.005;

/**
 * How many of `queued` waiting executions the next job takes. `fixed`: `--batch-size`;
 * `expected`: seconds one execution is expected to take (undefined: not known yet).
 */
export function batchSizeFor(queued: number, jobs: number, fixed: number | undefined, expected: number | undefined): number {
  if (queued <= 0) return 0;
  if (fixed !== undefined) return Math.min(fixed, queued);
  if (expected === undefined) return 1;
  const each = Math.max(expected, PER_EXECUTION_SECONDS);
  const most = Math.max(1, Math.min(MAX_AUTO_BATCH, Math.floor(TARGET_JOB_SECONDS / each)));
  const least = Math.ceil(MIN_JOB_SECONDS / each);
  return Math.min(queued, most, Math.max(least, Math.ceil(queued / jobs)));
}

/** The mean duration of the executions measured so far (runtime plus the per-execution cost). */
export class DurationEstimate {
  private count = 0;
  private sum = 0;

  add(result: BackendResult): void {
    if (!result.measurement) return;
    this.count++;
    this.sum += result.measurement.runtime + PER_EXECUTION_SECONDS;
  }

  get seconds(): number | undefined {
    return this.count === 0 ? undefined : this.sum / this.count;
  }
}

/** One execution waiting for its result; settle it exactly once. */
export interface QueuedExecution {
  spec: MeasureSpec;
  resolve(result: BackendResult): void;
  reject(error: unknown): void;
}

export interface BatchQueueOptions {
  /** Jobs pending or running at once (`--parallelmax`). */
  jobs: number;
  /** `--batch-size`: executions per job; undefined: chosen by {@link batchSizeFor}. */
  batchSize?: number;
  /**
   * Submits one job and settles every execution in it (as each finishes); resolves when the
   * job no longer holds a slot. Executions it leaves unsettled are rejected.
   */
  launch(batch: QueuedExecution[]): Promise<void>;
  /** Milliseconds to wait for more executions before a job is formed (default 20). */
  gatherMs?: number;
}

/** Gathers executions into jobs; see the file's comment. */
export class BatchQueue {
  /** How many executions the job pool may hand over at once: enough to fill every slot and one more job. */
  readonly capacity: number;
  readonly estimate = new DurationEstimate();
  private readonly waiting: QueuedExecution[] = [];
  private running = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Jobs submitted so far (for debugging output and benchmarks). */
  submitted = 0;

  constructor(private readonly options: BatchQueueOptions) {
    this.capacity = (options.jobs + 1) * (options.batchSize ?? MAX_AUTO_BATCH);
  }

  /** Queues one execution; resolves with its result once the job that runs it reports it. */
  execute(spec: MeasureSpec): Promise<BackendResult> {
    return new Promise((resolve, reject) => {
      let settled = false;
      this.waiting.push({
        spec,
        resolve: (r) => {
          if (settled) return;
          settled = true;
          this.estimate.add(r);
          resolve(r);
        },
        reject: (e) => {
          if (settled) return;
          settled = true;
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer || this.running >= this.options.jobs || this.waiting.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.fill();
    }, this.options.gatherMs ?? 20);
  }

  private fill(): void {
    while (this.running < this.options.jobs && this.waiting.length > 0) {
      const n = batchSizeFor(this.waiting.length, this.options.jobs, this.options.batchSize, this.estimate.seconds);
      const batch = this.waiting.splice(0, n);
      this.running++;
      this.submitted++;
      const leftover = new Error('a batch job ended without reporting every execution (this is a bug)');
      Promise.resolve()
        .then(() => this.options.launch(batch))
        .then(
          () => batch.forEach((e) => e.reject(leftover)),
          (error: unknown) => batch.forEach((e) => e.reject(error)),
        )
        .finally(() => {
          this.running--;
          this.schedule();
        });
    }
  }

  /** Stops the gathering timer (the run is over). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
