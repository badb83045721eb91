import type { Context } from '../core/context.js';
import type { Logger } from '../core/log.js';
import type { BenchmarkRun, Runner } from '../core/runner.js';
import type { Target } from '../core/target.js';
import type { ExecutionBackend, JobFailure, JobPool } from '../parallel/pool.js';
import type { Progress } from '../parallel/progress.js';
import type { ExecutionRecord } from '../results/schema.js';
import { RecordingStopped, type RunDirectory } from '../results/write.js';
import { killAll } from '../exec/children.js';
import { createRecorder, type Execution, type Submission } from './recorder.js';
import { executionLabel, Schedule } from './schedule.js';
import { executionSettings, type GivenRunOptions } from './settings.js';

export interface RunnerOptions {
  /**
   * Where records go; a function is called once, when the first execution is about to start,
   * so a run whose submissions fail (an unknown benchmark, a target not built) writes nothing.
   */
  runDir: RunDirectory | (() => RunDirectory);
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
  /** Records the measurement helper wrote itself (the rest infra wrote). */
  byHelper: number;
  /** Executions skipped because a resumed run had them already. */
  skipped: number;
  /** Jobs that threw instead of producing a record (bugs); also counted in `failed`. */
  errors: JobFailure[];
  /** Executions never started because the pool was aborted. */
  dropped: number;
  /** The run directory, unless nothing was executed and it was never created. */
  path: string | undefined;
  /** Why recording stopped before the end (a full or read-only file system); the pool was aborted. */
  stopped: RecordingStopped | undefined;
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
  let dir = typeof options.runDir === 'function' ? undefined : options.runDir;
  const runDir = () => (dir ??= (options.runDir as () => RunDirectory)());
  const recorder = createRecorder({ ...options, runDir, execution: executionSettings(settings) });
  let total = 0;
  let skipped = 0;
  let stopped: RecordingStopped | undefined;
  // a record that cannot be written stops the run at once: nothing after it could be kept
  const stopOn = (error: unknown) => {
    if (!(error instanceof RecordingStopped)) throw error;
    if (stopped) return;
    stopped = error;
    pool.abort();
    killAll();
  };

  /*
   * Planned executions wait here and go to the pool a window at a time, so memory does not grow
   * with the number of executions (a pool job is a closure, a label and its queue entry); the
   * progress display is told of each at once, so its total and ETA cover the whole run.
   */
  let backlog: Array<Execution | undefined> = [];
  let head = 0;
  const window = Math.max(256, pool.parallelmax * 16);
  const feed = () => {
    while (head < backlog.length && pool.pendingCount < window && !pool.isAborted) {
      const e = backlog[head]!;
      backlog[head++] = undefined;
      // iterations of an exclusive benchmark (for one instance) never overlap; others run beside them
      // a string names a group of which no two executions overlap
      const group = e.job.run.exclusive;
      const exclusive = typeof group === 'string' ? `group\u0000${group}` : group ? `${e.instance}\u0000${e.benchmark}` : undefined;
      const job = () => {
        feed();
        return (e.warmup ? recorder.warmup(e) : recorder.record(e)).catch(stopOn);
      };
      pool.add(executionLabel(e), job, { exclusiveKey: exclusive, announced: true });
    }
    if (head > 4096 && head * 2 > backlog.length) {
      backlog = backlog.slice(head);
      head = 0;
    }
  };
  const enqueue = (e: Execution) => {
    if (pool.isAborted) return;
    runDir();
    if (!e.warmup) total++;
    pool.announce(executionLabel(e));
    backlog.push(e);
  };

  const submitFor = (instance: string, ctx: Context, run: BenchmarkRun) => {
    const planned = schedule.submit(instance, run.benchmark, run.iterations, { ctx, run });
    skipped += planned.skipped;
    if (planned.skipped) log.debug(`${instance}/${run.benchmark}: ${planned.skipped} iteration(s) already recorded`);
    planned.ready.forEach(enqueue);
    feed();
  };

  const start = () => {
    const ready = schedule.start();
    let measured = 0;
    for (const e of ready) if (!e.warmup) measured++;
    if (ready.length) plan(measured);
    ready.forEach(enqueue);
    feed();
  };
  // meta.json says how many executions the run has, so a report of an interrupted one can say what is missing
  const plan = (more: number) => {
    const meta = runDir().meta;
    meta.executions = Math.max(meta.executions ?? 0, skipped + total + more);
    runDir().saveMeta();
  };

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
      if (!pool.isAborted) dir?.finish();
      else dir?.close();
      options.progress?.close();
      const { ok, failed, byHelper } = recorder;
      // planned executions that never reached the pool (it was aborted) were dropped too
      const dropped = pool.droppedCount + backlog.length - head;
      return { total, ok, failed, byHelper, skipped, errors: [...pool.failures], dropped, path: dir?.path, stopped };
    },
  };
}
