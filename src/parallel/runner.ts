import { existsSync, readFileSync } from 'node:fs';
import { CACHED_BLOCK, parseReportBlocks } from '../core/report-blocks.js';
import { join } from 'node:path';
import { buildEnv, type Context } from '../core/context.js';
import type { Logger } from '../core/log.js';
import type { BenchmarkRun, ExecutionResult, ExecutionStatus, FieldValue, Runner } from '../core/runner.js';
import type { Target } from '../core/target.js';
import type { MeasureSpec } from '../exec/measure.js';
import { executionKey, LOGS_DIR, SCHEMA_VERSION, type ExecutionRecord } from '../results/schema.js';
import type { RunDirectory } from '../results/write.js';
import type { BackendResult, ExecutionBackend, JobFailure, JobPool } from './pool.js';
import type { Progress } from './progress.js';

export interface RunnerOptions {
  runDir: RunDirectory;
  target: Target;
  backend: ExecutionBackend;
  /** Its limit should be the backend's capacity; give it the progress display as observer. */
  pool: JobPool;
  /** Executions per benchmark unless the benchmark sets its own. */
  iterations: number;
  /** Unrecorded executions of each benchmark (per instance) before the measured ones. */
  warmup?: number;
  /** Seconds, unless the benchmark sets its own. */
  timeout?: number;
  cpus?: string;
  noThp?: boolean;
  /** Grace period for processes left behind (default: the measurement helper's). */
  linger?: number;
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
   * each instance in turn, with the instance order rotating every iteration, so slow drift of
   * the machine (thermal state, background load) does not favour one instance. Submissions
   * after this start at once.
   */
  start(): void;
  /**
   * Starts what is staged, then waits for every execution. Unless the pool was aborted, marks
   * the run directory finished (meta.json: `interrupted` cleared, `finishedAt` set).
   */
  finish(): Promise<RunSummary>;
}

/** One execution waiting for {@link MeasuringRunner.start}. */
interface Staged {
  instance: string;
  ctx: Context;
  run: BenchmarkRun;
  iteration: number;
  /** Which repetition of its submission this is (0-based); executions are interleaved by it. */
  round: number;
  /** Submission order, for ties. */
  seq: number;
  /** A warm-up execution: run and checked, but not recorded. */
  warmup?: boolean;
}

/**
 * Creates the runner: each submitted benchmark is expanded into its iterations, each
 * iteration becomes a pool job that prepares, executes (through the backend's measurement
 * helper), checks, parses and records it. Every record is appended as soon as it is final
 * (records of one benchmark may therefore be out of iteration order; readers sort).
 */
export function createRunner(options: RunnerOptions): MeasuringRunner {
  const { runDir, target, pool, log, progress } = options;
  const nextIteration = new Map<string, number>();
  const instanceOrder = new Map<string, number>();
  const benchmarkOrder = new Map<string, number>();
  let staged: Staged[] = [];
  let started = false;
  const failed: ExecutionRecord[] = [];
  let total = 0;
  let ok = 0;
  let skipped = 0;

  const write = (record: ExecutionRecord) => {
    runDir.append(record);
    if (record.status === 'ok') ok++;
    else failed.push(record);
  };

  const enqueueWarmup = ({ instance, ctx, run, iteration }: Staged) => {
    if (pool.isAborted) return;
    const label = `${instance}/${run.benchmark}.warmup${-iteration}`;
    pool.add(
      label,
      async () => {
        const r = await executeOne(options, ctx, run, instance, iteration);
        if (r.status !== 'ok') log.warning(`${label} (not recorded): ${r.status}: ${r.reason ?? ''}`);
      },
      run.exclusive ? { exclusiveKey: `${instance}\u0000${run.benchmark}` } : {},
    );
  };

  const enqueue = (s: Staged) => {
    if (s.warmup) return enqueueWarmup(s);
    const { instance, ctx, run, iteration } = s;
    if (pool.isAborted) return;
    total++;
    const label = `${instance}/${run.benchmark}.${iteration}`;
    const job = async () => {
      let record: ExecutionRecord | null = null;
      try {
        record = await executeOne(options, ctx, run, instance, iteration);
      } catch (e) {
        record = errorRecord(options, run, instance, iteration, e);
        throw e;
      } finally {
        if (record) {
          write(record);
          const text = record.status === 'ok' ? describeOk(record) : `${record.status}: ${record.reason ?? ''}`;
          if (progress) progress.report(label, record.status === 'ok', text);
          else if (record.status === 'ok') log.debug(`${label}: ${text}`);
          else log.warning(`${label}: ${text}`);
        }
      }
    };
    // iterations of an exclusive benchmark (for one instance) never overlap; others run beside them
    pool.add(label, job, run.exclusive ? { exclusiveKey: `${instance}\u0000${run.benchmark}` } : {});
  };

  const submitFor = (instance: string, ctx: Context, run: BenchmarkRun) => {
    if (!instanceOrder.has(instance)) instanceOrder.set(instance, instanceOrder.size);
    if (!benchmarkOrder.has(run.benchmark)) benchmarkOrder.set(run.benchmark, benchmarkOrder.size);
    const groupKey = `${instance}\u0000${run.benchmark}`;
    const count = run.iterations ?? options.iterations;
    let skippedHere = 0;
    const wanted = (round: number) => !options.skipKeys?.has(executionKey({ target: target.name, instance, benchmark: run.benchmark, iteration: (nextIteration.get(groupKey) ?? 0) + round }));
    // warm-ups (negative rounds: they start first) only when something is left to measure
    const warmups = Array.from({ length: count }, (_, r) => r).some(wanted) ? options.warmup ?? 0 : 0;
    for (let w = 0; w < warmups; w++) {
      const s: Staged = { instance, ctx, run, iteration: -(w + 1), round: w - warmups, seq: staged.length, warmup: true };
      if (started) enqueue(s);
      else staged.push(s);
    }
    for (let round = 0; round < count; round++) {
      // a benchmark submitted twice continues its numbering, so keys stay unique
      const iteration = nextIteration.get(groupKey) ?? 0;
      nextIteration.set(groupKey, iteration + 1);
      const key = executionKey({ target: target.name, instance, benchmark: run.benchmark, iteration });
      if (options.skipKeys?.has(key)) {
        skipped++;
        skippedHere++;
        continue;
      }
      const s: Staged = { instance, ctx, run, iteration, round, seq: staged.length };
      if (started) enqueue(s);
      else staged.push(s);
    }
    if (skippedHere) log.debug(`${instance}/${run.benchmark}: ${skippedHere} iteration(s) already recorded`);
  };

  const start = () => {
    if (started) return;
    started = true;
    const instances = instanceOrder.size;
    // round r puts instance (r mod n) first: A B, B A, A B... per benchmark
    const turn = (s: Staged) => (instanceOrder.get(s.instance)! - (s.round % instances) + instances) % instances;
    const order = staged.sort(
      (a, b) =>
        a.round - b.round ||
        benchmarkOrder.get(a.run.benchmark)! - benchmarkOrder.get(b.run.benchmark)! ||
        turn(a) - turn(b) ||
        a.seq - b.seq,
    );
    staged = [];
    for (const s of order) enqueue(s);
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
      if (!instanceOrder.has(instance)) instanceOrder.set(instance, instanceOrder.size);
      return { submit: (ctx, run) => submitFor(instance, ctx, run) };
    },
    start,
    async finish() {
      start();
      await pool.drain();
      if (!pool.isAborted) runDir.finish();
      progress?.close();
      return { total, ok, failed, skipped, errors: [...pool.failures], dropped: pool.droppedCount };
    },
  };
}

function describeOk(r: ExecutionRecord): string {
  const t = r.fields.runtime;
  return typeof t === 'number' ? `ok ${t.toFixed(3)} s` : 'ok';
}

function logPaths(runDirPath: string, target: string, instance: string, benchmark: string, iteration: number) {
  const base = join(LOGS_DIR, target, instance, `${safeName(benchmark)}.${iteration < 0 ? `warmup${-iteration}` : iteration}`);
  return {
    stdout: `${base}.stdout`,
    stderr: `${base}.stderr`,
    stdoutPath: join(runDirPath, `${base}.stdout`),
    stderrPath: join(runDirPath, `${base}.stderr`),
  };
}

/** Benchmark names may contain '/', which must not create directories. */
function safeName(name: string): string {
  return name.replace(/[/\0]/g, '_');
}

async function executeOne(
  options: RunnerOptions,
  ctx: Context,
  run: BenchmarkRun,
  instance: string,
  iteration: number,
): Promise<ExecutionRecord> {
  const { target, backend, runDir } = options;
  const paths = logPaths(runDir.path, target.name, instance, run.benchmark, iteration);
  await run.prepare?.(ctx);
  const start = new Date();
  const spec: MeasureSpec = {
    argv: [...ctx.targetRunWrapper, ...run.argv].map(String),
    cwd: run.cwd ?? ctx.paths.root,
    env: buildEnv(process.env, ctx.runenv, run.env),
    stdoutPath: paths.stdoutPath,
    stderrPath: paths.stderrPath,
  };
  if (run.stdinFile !== undefined) spec.stdinFile = run.stdinFile;
  const timeout = run.timeout ?? options.timeout;
  if (timeout !== undefined) spec.timeout = timeout;
  if (options.cpus !== undefined) spec.cpus = options.cpus;
  if (options.noThp) spec.noThp = true;
  if (options.linger !== undefined) spec.linger = options.linger;

  const result: BackendResult = await backend.execute(spec);
  let status: ExecutionStatus = result.status;
  let reason = result.reason;
  const fields: Record<string, FieldValue> = { ...measuredFields(result), ...run.fields };

  // the check judges a successful execution's output; other outcomes already say what went wrong
  if (status === 'ok' && run.check) {
    try {
      const outcome = await run.check(result, ctx);
      if (outcome?.fields) Object.assign(fields, outcome.fields);
      if (outcome?.failure) {
        status = 'failed';
        reason = outcome.failure;
      }
    } catch (e) {
      status = 'failed';
      reason = `check failed: ${message(e)}`;
    }
  }
  // runtime libraries (rusage counters, pass runtimes) print their blocks on stderr
  if (status !== 'error' && existsSync(paths.stderrPath)) {
    for (const block of parseReportBlocks(readFileSync(paths.stderrPath, 'utf8'))) {
      if (block.name !== CACHED_BLOCK) Object.assign(fields, block.fields);
    }
  }
  if (status !== 'error' && existsSync(paths.stdoutPath)) {
    try {
      const parsed = await target.parseOutfile(ctx, paths.stdoutPath);
      if (parsed[0]) Object.assign(fields, parsed[0]);
    } catch (e) {
      if (status === 'ok') {
        status = 'failed';
        reason = `cannot parse the output: ${message(e)}`;
      }
    }
  }
  const record: ExecutionRecord = {
    schema: SCHEMA_VERSION,
    target: target.name,
    instance,
    benchmark: run.benchmark,
    iteration,
    host: result.host,
    status,
    exitCode: result.exitCode,
    signal: result.signal,
    start: start.toISOString(),
    fields,
    stdout: paths.stdout,
    stderr: paths.stderr,
  };
  if (reason !== undefined) record.reason = reason;
  return record;
}

function measuredFields(result: ExecutionResult): Record<string, FieldValue> {
  const m = result.measurement;
  if (!m) return {};
  const out: Record<string, FieldValue> = {};
  for (const [k, v] of Object.entries(m)) if (v !== undefined) out[k] = v;
  return out;
}

/** A record for an execution whose job threw (a failing prepare step, a broken backend). */
function errorRecord(
  options: RunnerOptions,
  run: BenchmarkRun,
  instance: string,
  iteration: number,
  error: unknown,
): ExecutionRecord {
  const paths = logPaths(options.runDir.path, options.target.name, instance, run.benchmark, iteration);
  return {
    schema: SCHEMA_VERSION,
    target: options.target.name,
    instance,
    benchmark: run.benchmark,
    iteration,
    host: 'unknown',
    status: 'error',
    exitCode: null,
    signal: null,
    reason: message(error),
    start: new Date().toISOString(),
    fields: { ...run.fields },
    stdout: paths.stdout,
    stderr: paths.stderr,
  };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
