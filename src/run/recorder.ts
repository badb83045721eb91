import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildEnv, type Context, type EnvValue } from '../core/context.js';
import type { Logger } from '../core/log.js';
import { CACHED_BLOCK, readReportBlocks } from '../core/report-blocks.js';
import type { BenchmarkRun, ExecutionStatus } from '../core/runner.js';
import { Target } from '../core/target.js';
import type { MeasureSpec, RecordTemplate } from '../exec/measure.js';
import type { BackendResult, ExecutionBackend, OutputState } from '../parallel/pool.js';
import type { Progress } from '../parallel/progress.js';
import { LOGS_DIR, SCHEMA_VERSION, type ExecutionRecord } from '../results/schema.js';
import type { RunDirectory } from '../results/write.js';
import { CHECK_PREFIX, OUTPUT_PREFIX, RecordFields, SUBMIT_PREFIX, type RenamedField } from './fields.js';
import { executionLabel, iterationName, type PlannedExecution } from './schedule.js';
import type { ExecutionSettings } from './settings.js';

/**
 * Executes one planned execution through the backend (prepare, measure, check, parse) and
 * appends its record to the run directory as soon as it is final.
 */

/** What a planned execution carries: the submitting instance's context and the benchmark. */
export interface Submission {
  ctx: Context;
  run: BenchmarkRun;
}

export type Execution = PlannedExecution<Submission>;

export interface RecorderOptions {
  /** The run directory (opened by the first call). */
  runDir: () => RunDirectory;
  target: Target;
  backend: ExecutionBackend;
  /** The run's execution settings; a benchmark's own `timeout` replaces the run's. */
  execution: ExecutionSettings;
  log: Logger;
  progress?: Progress;
}

export interface Recorder {
  /** Executes a measured iteration and records it (a job that throws is recorded as 'error', then rethrown). */
  record(e: Execution): Promise<void>;
  /** Executes a warm-up; nothing is recorded, a failure is logged. */
  warmup(e: Execution): Promise<void>;
  /** Records of this invocation that succeeded. */
  readonly ok: number;
  /** Records the measurement helper wrote itself (serial local runs; see RecordTemplate). */
  readonly byHelper: number;
  readonly failed: ExecutionRecord[];
}

export function createRecorder(options: RecorderOptions): Recorder {
  const { runDir, log, progress } = options;
  const announced = new Set<string>();
  const execute = (e: Execution, got: Measured) => executeOne(options, e, got, (renamed) => announce(renamed, e, announced, log));
  const recorder = {
    ok: 0,
    byHelper: 0,
    failed: [] as ExecutionRecord[],
    async record(e: Execution) {
      let record: ExecutionRecord | null = null;
      const got: Measured = {};
      try {
        record = await execute(e, got);
      } catch (error) {
        record = errorRecord(options, e, error);
        throw error;
      } finally {
        try {
          if (record && !got.result?.notStarted) {
            // its output may be cut short, and nothing after it can be recorded (the helper's
            // look at the output's file system saves asking again while there is space)
            const full = got.result?.output?.full === false ? null : runDir().noSpaceLeft();
            if (full) Object.assign(record, { status: 'error', reason: `${full.message}: its output may be incomplete` });
            const written = got.result?.recorded;
            const final = record;
            if (written) {
              adopt(runDir(), final, written, log);
              recorder.byHelper++;
            } else if (options.backend.appendRecord) await options.backend.appendRecord(() => runDir().append(final));
            else runDir().append(record);
            // the next execution on the slot may start now, before the counting and the progress line
            got.result?.release?.();
            if (record.status === 'ok') recorder.ok++;
            else recorder.failed.push(record);
            report(record, executionLabel(e), log, progress);
            // eslint-disable-next-line no-unsafe-finally -- the run stops: this replaces any other outcome
            if (full) throw full;
          }
        } finally {
          // the record is written (or will never be): the next execution on its slot may start
          got.result?.release?.();
        }
      }
    },
    async warmup(e: Execution) {
      const got: Measured = {};
      try {
        const r = await execute(e, got);
        if (r.status !== 'ok' && !got.result?.notStarted)
          log.warning(`${executionLabel(e)} (not recorded): ${r.status}: ${r.reason ?? ''}`);
      } finally {
        got.result?.release?.();
      }
    },
  };
  return recorder;
}

/**
 * Takes up a record the measurement helper wrote from the execution's template. It is the line
 * infra would have written; if it ever were not, the file keeps what the helper wrote (it is
 * still a valid record) and the column blocks take that.
 */
function adopt(dir: RunDirectory, record: ExecutionRecord, written: { line: string; at: number }, log: Logger): void {
  const own = JSON.stringify(record) + '\n';
  if (own === written.line) {
    dir.adopt(record, own, written.at);
    return;
  }
  log.warning(`${record.benchmark}: the measurement helper wrote its record as ${written.line.trim()}, not as ${own.trim()}`);
  dir.adopt(JSON.parse(written.line) as ExecutionRecord, written.line, written.at);
}

function report(record: ExecutionRecord, label: string, log: Logger, progress: Progress | undefined): void {
  const ok = record.status === 'ok';
  const runtime = record.fields.runtime;
  const text = !ok ? `${record.status}: ${record.reason ?? ''}` : typeof runtime === 'number' ? `ok ${runtime.toFixed(3)} s` : 'ok';
  if (progress) progress.report(label, ok, text);
  else if (ok) log.debug(`${label}: ${text}`);
  else log.warning(`${label}: ${text}`);
}

/**
 * Says once per run and stored name that a field was renamed: a warning when the target set
 * it (submit, check, output), a debug line for a runtime library's block, which is expected
 * to report its own view of e.g. `maxrss`.
 */
function announce(renamed: RenamedField[], e: Execution, announced: Set<string>, log: Logger): void {
  for (const { field, source, storedAs } of renamed) {
    if (announced.has(storedAs)) continue;
    announced.add(storedAs);
    const line = `${e.benchmark}: '${field}' is measured by the framework; the value from ${source} is recorded as '${storedAs}'`;
    if ([SUBMIT_PREFIX, CHECK_PREFIX, OUTPUT_PREFIX].includes(source)) log.warning(line);
    else log.debug(line);
  }
}

function logPaths(runDirPath: string, target: string, e: Execution) {
  const base = join(LOGS_DIR, target, e.instance, `${safeName(e.benchmark)}.${iterationName(e.iteration)}`);
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

/**
 * The process environment as a plain object, read once per run: reading `process.env` goes
 * through the C library's environment for every variable, which costs more than a trivial
 * execution's whole bookkeeping.
 */
const processEnv = new WeakMap<RecorderOptions, Record<string, string>>();
function baseEnv(options: RecorderOptions): Record<string, string> {
  let env = processEnv.get(options);
  if (!env) processEnv.set(options, (env = buildEnv(process.env)));
  return env;
}

/**
 * The environment of a submission's execution; the object of its previous execution when
 * its layers (the context's runenv, the benchmark's env) hold the same entries, so neither
 * the environment nor what is derived from it (the helper's request) is made again: the
 * layers are a few entries, the environment every variable of the process.
 */
const lastEnv = new WeakMap<Submission, { layers: string; env: Record<string, string> }>();
function executionEnv(options: RecorderOptions, job: Submission): Record<string, string> {
  const layers = layerKey(job.ctx.runenv, job.run.env);
  const last = lastEnv.get(job);
  if (last?.layers === layers) return last.env;
  const env = buildEnv(baseEnv(options), job.ctx.runenv, job.run.env);
  lastEnv.set(job, { layers, env });
  return env;
}

/** The entries of environment layers as one string, as {@link buildEnv} would apply them. */
function layerKey(...layers: Array<Record<string, EnvValue | undefined> | undefined>): string {
  let key = '';
  for (const layer of layers) {
    if (layer) {
      for (const k in layer) {
        const v = layer[k];
        if (v !== undefined) key += `${k}\u0000${Array.isArray(v) ? v.join(':') : v}\u0000`;
      }
    }
    key += '\u0001';
  }
  return key;
}

function measureSpec(options: RecorderOptions, job: Submission, paths: ReturnType<typeof logPaths>): MeasureSpec {
  const { ctx, run } = job;
  const execution = { ...options.execution };
  if (run.timeout !== undefined) execution.timeout = run.timeout;
  const spec: MeasureSpec = {
    argv: [...ctx.targetRunWrapper, ...run.argv].map(String),
    cwd: run.cwd ?? ctx.paths.root,
    env: executionEnv(options, job),
    stdoutPath: paths.stdoutPath,
    stderrPath: paths.stderrPath,
    execution,
  };
  if (run.stdinFile !== undefined) spec.stdinFile = run.stdinFile;
  if (run.node !== undefined) spec.node = run.node;
  return spec;
}

/**
 * The backend's result, kept for the caller of {@link executeOne} even when building the
 * record fails: it says whether anything ran, and is released once the record is written.
 */
interface Measured {
  result?: BackendResult;
}

interface Verdict {
  status: ExecutionStatus;
  reason: string | undefined;
}

async function executeOne(
  options: RecorderOptions,
  e: Execution,
  got: Measured,
  onRenamed: (r: RenamedField[]) => void,
): Promise<ExecutionRecord> {
  const { ctx, run } = e.job;
  const { backend } = options;
  const paths = logPaths(options.runDir().path, options.target.name, e);
  // a prepare step runs after the execution before it (on its slot) is recorded, as if serial
  const reservation = run.prepare && backend.reserve ? await backend.reserve() : undefined;
  let spec: MeasureSpec;
  try {
    await run.prepare?.(ctx);
    spec = measureSpec(options, e.job, paths);
    if (!e.warmup && options.backend.recordsHost !== undefined) {
      const template = recordTemplate(options, e, paths, options.backend.recordsHost);
      if (template) spec.record = template;
    }
  } catch (error) {
    reservation?.cancel();
    throw error;
  }
  const requested = new Date();
  const result = await backend.execute(spec, reservation);
  got.result = result;
  // a held execution starts after its request: the backend's time is the start, where it has one
  const start = result.startedAt === undefined ? requested : new Date(result.startedAt);
  const verdict: Verdict = { status: result.status, reason: result.reason };
  const fields = new RecordFields(result.measurement);
  fields.add(SUBMIT_PREFIX, run.fields);
  // (awaited only where there is something to do: each await delays the record, and with it the next execution)
  if (run.check) await applyCheck(e.job, result, verdict, fields);
  if (verdict.status !== 'error' && hasOutputToParse(options.target, result.output)) {
    await collectOutputFields(options.target, ctx, paths, result.output, verdict, fields);
  }
  onRenamed(fields.renamed);
  const record: ExecutionRecord = {
    ...recordBase(options, e, paths, start),
    host: result.host,
    status: verdict.status,
    exitCode: result.exitCode,
    signal: result.signal,
    fields: fields.fields,
  };
  if (verdict.reason !== undefined) record.reason = verdict.reason;
  return record;
}

function fail(verdict: Verdict, reason: string): void {
  verdict.status = 'failed';
  verdict.reason = reason;
}

/** The check judges a successful execution's output; other outcomes already say what went wrong. */
async function applyCheck({ ctx, run }: Submission, result: BackendResult, verdict: Verdict, fields: RecordFields): Promise<void> {
  if (verdict.status !== 'ok' || !run.check) return;
  try {
    const outcome = await run.check(result, ctx);
    fields.add(CHECK_PREFIX, outcome?.fields);
    if (outcome?.failure) fail(verdict, outcome.failure);
  } catch (error) {
    fail(verdict, `check failed: ${message(error)}`);
  }
}

/** False where the helper saw both output files empty and the target parses with the default parser. */
function hasOutputToParse(target: Target, output: OutputState | undefined): boolean {
  return !output || output.stderrSize > 0 || output.stdoutSize > 0 || target.parseOutfile !== Target.prototype.parseOutfile;
}

/**
 * Runtime libraries (rusage counters, pass runtimes) print their blocks on stderr (an empty
 * one has none and is not read); the target parses stdout.
 */
async function collectOutputFields(
  target: Target,
  ctx: Context,
  paths: ReturnType<typeof logPaths>,
  output: OutputState | undefined,
  verdict: Verdict,
  fields: RecordFields,
): Promise<void> {
  // where the helper said how large the files were, they are not looked at again
  if (!(output ? output.stderrSize <= 0 : nothingToRead(paths.stderrPath))) {
    for (const block of await readReportBlocks(paths.stderrPath)) {
      if (block.name !== CACHED_BLOCK) fields.add(block.name, block.fields);
    }
  }
  if (output ? output.stdoutSize < 0 : !existsSync(paths.stdoutPath)) return;
  // the default parser finds no block in an empty file; a target's own parser is always asked
  if (output?.stdoutSize === 0 && target.parseOutfile === Target.prototype.parseOutfile) return;
  try {
    const parsed = await target.parseOutfile(ctx, paths.stdoutPath);
    fields.add(OUTPUT_PREFIX, parsed[0]);
  } catch (error) {
    if (verdict.status === 'ok') fail(verdict, `cannot parse the output: ${message(error)}`);
  }
}

/** True for a missing file or an empty regular one. */
function nothingToRead(path: string): boolean {
  const st = statSync(path, { throwIfNoEntry: false });
  return st === undefined || (st.isFile() && st.size === 0);
}

/** Keys JavaScript objects put first, in numeric order, wherever they were added. */
const INDEX_KEY = /^(0|[1-9]\d{0,9})$/;

/**
 * The record of a clean execution (status 'ok', no check, nothing in its output files to
 * parse) around its start time and measured fields, for a helper that writes it itself; the
 * same text as JSON.stringify of the record {@link executeOne} makes (keys in the same order).
 * Null where that cannot be known before the execution (a check, a target's own output parser)
 * or key order could differ (a submit field with an array-index name).
 */
function recordTemplate(options: RecorderOptions, e: Execution, paths: ReturnType<typeof logPaths>, host: string): RecordTemplate | null {
  const { run } = e.job;
  if (run.check || options.target.parseOutfile !== Target.prototype.parseOutfile) return null;
  const fields = new RecordFields(null);
  fields.add(SUBMIT_PREFIX, run.fields);
  for (const key in fields.fields) if (INDEX_KEY.test(key)) return null;
  const { start: _, stdout, stderr, ...head } = recordBase(options, e, paths, new Date(0));
  const rest = { stdout, stderr, host, status: 'ok', exitCode: 0, signal: null };
  const others = JSON.stringify(fields.fields);
  return {
    file: options.runDir().recordsFile,
    head: `${JSON.stringify(head).slice(0, -1)},"start":"`,
    middle: `",${JSON.stringify(rest).slice(1, -1)},"fields":{`,
    tail: `${others === '{}' ? '' : `,${others.slice(1, -1)}`}}}`,
  };
}

type RecordBase = Pick<ExecutionRecord, 'schema' | 'target' | 'instance' | 'benchmark' | 'iteration' | 'start' | 'stdout' | 'stderr'>;

function recordBase(options: RecorderOptions, e: Execution, paths: ReturnType<typeof logPaths>, start: Date): RecordBase {
  return {
    schema: SCHEMA_VERSION,
    target: options.target.name,
    instance: e.instance,
    benchmark: e.benchmark,
    iteration: e.iteration,
    start: start.toISOString(),
    stdout: paths.stdout,
    stderr: paths.stderr,
  };
}

/** A record for an execution whose job threw (a failing prepare step, a broken backend). */
function errorRecord(options: RecorderOptions, e: Execution, error: unknown): ExecutionRecord {
  const fields = new RecordFields(null);
  fields.add(SUBMIT_PREFIX, e.job.run.fields);
  return {
    ...recordBase(options, e, logPaths(options.runDir().path, options.target.name, e), new Date()),
    host: 'unknown',
    status: 'error',
    exitCode: null,
    signal: null,
    reason: message(error),
    fields: fields.fields,
  };
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
