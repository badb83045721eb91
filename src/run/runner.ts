import type { Context } from '../core/context.js';
import type { Logger } from '../core/log.js';
import type { BenchmarkRun, Runner } from '../core/runner.js';
import type { Target } from '../core/target.js';
import type { ExecutionBackend, JobFailure, JobPool } from '../parallel/pool.js';
import type { Progress } from '../parallel/progress.js';
import type { ExecutionRecord } from '../results/schema.js';
import type { RunDirectory } from '../results/write.js';
import { createRecorder, type Execution, type Submission } from './recorder.js';
import { executionLabel, Schedule } from './schedule.js';
import { executionSettings, type GivenRunOptions } from './settings.js';

export interface RunnerOptions {
  runDir: RunDirectory;
  target: Target;
  backend: ExecutionBackend;
  /** Its limit should be the backend's capacity; give it the progress display as observer. */
  pool: JobPool;
  /**
   * The run's settings: `iterations` (default 1) and `warmup` shape the schedule, the
   * execution settings (timeout, cpus, nothp, linger) go to the measurement helper.
   */
  settings: Readonly<GivenRunOptions>;
  /** `executionKey`s already recorded as ok (a resumed run); these are not run again. */
  skipKeys?: ReadonlySet<string>;
  log: Logger;
  progress?: Progress;
}

export interface RunSummary {
  /** Executions run in this invocation. */
  total: number;
  ok: number;
  /** Records of executions that did not succeed. */
  failed: ExecutionRecord[];
  /** Executions skipped because a resumed run had them already. */
  skipped: number;
  /** Jobs that threw instead of producing a record (bugs); also counted in `failed`. */
  errors: JobFailure[];
  /** Executions never started because the pool was aborted. */
  dropped: number;
}

/**
 * The run command's {@link Runner}. A target's `run` receives `forInstance(instance.name)`,
 * which knows which instance the submitted benchmarks belong to; `submit` on the object itself
 * reads the instance name from `ctx.instanceName` instead.
 *
 * Submissions are staged: nothing executes until {@link start}, so every instance's `run` can
 * submit (or fail) before the first measurement, and executions can be interleaved.
 */
export interface MeasuringRunner extends Runner {
  forInstance(instance: string): Runner;
  /**
   * Starts the staged executions interleaved: iteration by iteration, benchmark by benchmark,
   * each instance in turn, with the instance order rotating every iteration (see
   * {@link Schedule.start}). Submissions after this start at once.
   */
  start(): void;
  /**
   * Starts what is staged, then waits for every execution. Unless the pool was aborted, marks
   * the run directory finished (meta.json: `interrupted` cleared, `finishedAt` set).
   */
  finish(): Promise<RunSummary>;
}

/**
 * Creates the runner: the {@link Schedule} decides what runs in which order, each planned
 * execution becomes a pool job, and the recorder executes and records it. Every record is
 * appended as soon as it is final (records of one benchmark may therefore be out of
 * iteration order; readers sort).
 */
export function createRunner(options: RunnerOptions): MeasuringRunner {
  const { target, pool, log, settings } = options;
  const schedule = new Schedule<Submission>({
    target: target.name,
    iterations: settings.iterations ?? 1,
    warmup: settings.warmup,
    skipKeys: options.skipKeys,
  });
  const recorder = createRecorder({ ...options, execution: executionSettings(settings) });
  let total = 0;
  let skipped = 0;

  const enqueue = (e: Execution) => {
    if (pool.isAborted) return;
    if (!e.warmup) total++;
    // iterations of an exclusive benchmark (for one instance) never overlap; others run beside them
    const exclusive = e.job.run.exclusive ? { exclusiveKey: `${e.instance}\u0000${e.benchmark}` } : {};
    pool.add(executionLabel(e), () => (e.warmup ? recorder.warmup(e) : recorder.record(e)), exclusive);
  };

  const submitFor = (instance: string, ctx: Context, run: BenchmarkRun) => {
    const planned = schedule.submit(instance, run.benchmark, run.iterations, { ctx, run });
    skipped += planned.skipped;
    if (planned.skipped) log.debug(`${instance}/${run.benchmark}: ${planned.skipped} iteration(s) already recorded`);
    planned.ready.forEach(enqueue);
  };

  const start = () => schedule.start().forEach(enqueue);

  return {
    submit(ctx, run) {
      const instance = ctx.instanceName;
      if (typeof instance !== 'string' || !instance) {
        throw new Error('runner.submit needs ctx.instanceName; use runner.forInstance(name) instead');
      }
      submitFor(instance, ctx, run);
    },
    forInstance(instance) {
      schedule.addInstance(instance);
      return { submit: (ctx, run) => submitFor(instance, ctx, run) };
    },
    start,
    async finish() {
      start();
      await pool.drain();
      if (!pool.isAborted) options.runDir.finish();
      options.progress?.close();
      const { ok, failed } = recorder;
      return { total, ok, failed, skipped, errors: [...pool.failures], dropped: pool.droppedCount };
    },
  };
}
