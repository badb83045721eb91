import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../core/errors.js';
import type { ExecutionResult, Measurement } from '../core/runner.js';
import { track } from './children.js';
import { packageFile } from '../paths.js';
import type { ExecutionSettings } from '../run/settings.js';

/**
 * One execution to measure, independent of where it runs. Backends (local, ssh, cluster)
 * take this and return an {@link ExecutionResult}.
 */
export interface MeasureSpec {
  argv: string[];
  cwd: string;
  /** The complete environment of the benchmark (not added to anything). */
  env: Record<string, string>;
  stdinFile?: string;
  stdoutPath: string;
  stderrPath: string;
  /**
   * The run's execution settings (src/run/settings.ts), as the helper applies them:
   * `timeout` seconds after which the whole process tree is killed; `linger` seconds that
   * processes the benchmark leaves running (e.g. a daemon it forked) may go on after the main
   * process exited before they are killed and the result notes it (descendants that finish
   * within it are waited for and measured; default {@link DEFAULT_LINGER_SECONDS}); `cpus`, a
   * CPU list for `sched_setaffinity` such as `0,2-3`; `nothp` disables transparent huge pages
   * for the process tree.
   */
  execution: ExecutionSettings;
  /** With `--parallel ssh`: the `--ssh-nodes` entry to run on (see `BenchmarkRun.node`). */
  node?: string;
  /** Do not put the execution in a cgroup (no `cgroupPeak`; saves about half a millisecond). */
  noCgroup?: boolean;
  /**
   * The execution's record as far as infra knows it before it runs, for a served helper that
   * may write it itself (see {@link RecordTemplate}); backends that cannot ignore it.
   */
  record?: RecordTemplate;
}

/**
 * An execution's record (one line of records.jsonl) around what only the measurement helper
 * knows, for a helper that writes the record of a clean execution itself (runtime/measure.c,
 * write_record): the line is `head`, the start time (ISO 8601), `middle`, the measured fields
 * (`"runtime":...`), `tail`. Where the execution does not end cleanly, infra writes the record.
 */
export interface RecordTemplate {
  /** The records file, appended to. */
  file: string;
  /** Up to and with the start time's opening quote. */
  head: string;
  /** From the start time's closing quote up to and with the opening brace of the fields. */
  middle: string;
  /** After the measured fields: the others, then the closing braces (no newline). */
  tail: string;
}

/** Default of the `linger` execution setting. */
export const DEFAULT_LINGER_SECONDS = 10;

/**
 * What the helper reports (one JSON object on its standard output). Sums and maxima are over
 * every process of the tree that was waited for (RUSAGE_CHILDREN).
 */
export interface HelperResult {
  exitCode: number | null;
  signal: string | null;
  signalDescription?: string;
  timedOut: boolean;
  interrupted: boolean;
  execError: string | null;
  /** Wall-clock seconds from the benchmark's exec until the main process exited. */
  runtime: number;
  utime: number;
  stime: number;
  /**
   * KiB: the peak resident set size of the largest single process of the tree, not a sum
   * (two 50 MiB processes running at once report 50 MiB).
   */
  maxrss: number;
  minflt: number;
  majflt: number;
  nvcsw: number;
  nivcsw: number;
  /**
   * KiB, where a cgroup memory controller is usable: the peak memory of the whole tree
   * together, as charged to the execution's cgroup (including page cache and kernel memory).
   */
  cgroupPeak: number | null;
  /** Processes still running `linger` seconds after the main process exited, then killed. */
  lingering: number;
  /** Seconds since the epoch (this machine's clock) at the clock's start, just before the exec. */
  startedAt?: number;
  /** A held execution (`--hold`) that was stopped before its go: nothing ran. */
  notStarted?: boolean;
  /**
   * The helper wrote the execution's record (`record`: the line without its newline, as
   * written) at byte `at` of the records file, `length` bytes with the newline; the next
   * execution has then started without waiting for infra.
   */
  recorded?: { record: unknown; at: number; length: number };
  /** It was to write the record but could not (infra writes it). */
  recordError?: string;
  /** Bytes in the output files after the execution (-1: not there). */
  stdoutSize?: number;
  stderrSize?: number;
  /** The standard output file's file system had no space left after the execution. */
  outputFsFull?: boolean;
}

/** The helper's C source, shipped in the package's `runtime/` directory. */
export const MEASURE_SOURCE = packageFile('runtime', 'measure.c');

const building = new Map<string, Promise<string>>();

/**
 * Compiles the measurement helper with the system C compiler (once; it is cached in
 * `<buildroot>/.infra/measure-<hash of source>`) and returns its path. Linked statically
 * where possible, so an `LD_PRELOAD` meant for the benchmark never loads into the helper.
 */
export function ensureMeasureHelper(buildroot: string, cc = 'cc'): Promise<string> {
  const source = readFileSync(MEASURE_SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const path = join(buildroot, '.infra', `measure-${hash}`);
  let pending = building.get(path);
  if (!pending) {
    pending = existsSync(path) ? Promise.resolve(path) : compileHelper(cc, path);
    building.set(path, pending);
    pending.catch(() => building.delete(path));
  }
  return pending;
}

async function compileHelper(cc: string, path: string): Promise<string> {
  mkdirSync(dirname(path), { recursive: true });
  const temp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  const compile = (extra: string[]) =>
    new Promise<string | null>((resolve) => {
      execFile(cc, ['-O2', ...extra, '-o', temp, MEASURE_SOURCE], (err, _stdout, stderr) => {
        if (!err) resolve(null);
        else if ((err as NodeJS.ErrnoException).code === 'ENOENT') resolve(`C compiler '${cc}' not found`);
        else resolve(stderr.trim() || err.message);
      });
    });
  // static is preferred; without a static libc, a dynamic helper still measures correctly
  let error = await compile(['-static']);
  if (error !== null) error = await compile([]);
  if (error !== null) {
    rmSync(temp, { force: true });
    throw new UserError(
      `cannot build the measurement helper (${MEASURE_SOURCE}): ${error}\n` +
        `  a working C compiler is needed ('cc', e.g. from the gcc or clang package)`,
    );
  }
  renameSync(temp, path);
  return path;
}

const madeDirs = new Set<string>();
function ensureDir(dir: string): void {
  if (madeDirs.has(dir) && existsSync(dir)) return;
  mkdirSync(dir, { recursive: true });
  madeDirs.add(dir);
}

/**
 * What every local execution checks before it starts: the directories of its output files are
 * made; a working directory that does not exist gives the 'error' result returned.
 */
export function prepareExecution(spec: MeasureSpec): ExecutionResult | null {
  ensureDir(dirname(spec.stdoutPath));
  if (dirname(spec.stderrPath) !== dirname(spec.stdoutPath)) ensureDir(dirname(spec.stderrPath));
  return existsSync(spec.cwd) ? null : unmeasured(spec, `working directory does not exist: ${spec.cwd}`);
}

/**
 * An 'error' result: the execution produced no measurement, for `reason` (an unreachable node,
 * a failed submission, a missing working directory...).
 */
export function unmeasured(spec: MeasureSpec, reason: string): ExecutionResult {
  return {
    status: 'error',
    exitCode: null,
    signal: null,
    measurement: null,
    stdoutPath: spec.stdoutPath,
    stderrPath: spec.stderrPath,
    cwd: spec.cwd,
    reason,
  };
}

/**
 * Runs one execution under a new measurement helper (one helper process per execution; see
 * {@link MeasureService} for helpers that serve many) and classifies it: 'ok' (exit 0),
 * 'failed' (non-zero exit), 'crashed' (killed by a signal), 'timeout', or 'error'
 * (the program could not be started). Never throws for a problem of the benchmark itself.
 * Processes left running after the main process exited are killed after the `linger`
 * setting's seconds; `reason` then says so, also when the status is 'ok'.
 */
export async function executeMeasured(spec: MeasureSpec, helper: string): Promise<ExecutionResult> {
  const refused = prepareExecution(spec);
  if (refused) return refused;
  // the result comes back on the helper's standard output: no temporary file per execution
  const args = helperArguments(spec, { stdout: spec.stdoutPath, stderr: spec.stderrPath, result: '-' });
  const helperOut: Buffer[] = [];
  const helperErr: string[] = [];
  const outcome = await new Promise<{ code: number | null; signal: string | null; spawnError?: Error }>((resolve) => {
    // own process group: an interrupt (killAll) reaches the helper, which passes it on; if
    // infra dies, the helper learns it from PR_SET_PDEATHSIG and stops the benchmark's tree
    const child = spawn(helper, args, { cwd: spec.cwd, env: spec.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    track(child, { ownCleanup: true });
    child.stdout.on('data', (c: Buffer) => helperOut.push(c));
    child.stderr.on('data', (c: Buffer) => helperErr.push(c.toString()));
    child.once('error', (e) => resolve({ code: null, signal: null, spawnError: e }));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  if (outcome.spawnError) {
    throw new Error(`cannot start the measurement helper ${helper}: ${outcome.spawnError.message}`);
  }
  const result = outcome.code === 0 ? resultFromHelper(Buffer.concat(helperOut).toString('utf8'), spec) : null;
  if (!result) {
    const how = outcome.signal ? `killed by ${outcome.signal}` : `exit status ${outcome.code}`;
    if (outcome.signal) return interruptedResult(spec, how);
    throw new Error(`measurement helper failed (${how}): ${helperErr.join('').trim() || 'no result written'}`);
  }
  return result;
}

/** The result of an execution whose helper was killed before it could report. */
export function interruptedResult(spec: MeasureSpec, how: string): ExecutionResult {
  return unmeasured(spec, `measurement interrupted (${how})`);
}

/** Where the helper writes the benchmark's output and its own result ('-': its stdout). */
export interface HelperFiles {
  /** Served helpers only: start once infra sends this token (see runtime/measure.c, GO_FD). */
  hold?: number;
  stdout: string;
  stderr: string;
  result: string;
  /**
   * A file with the benchmark's environment ({@link envFileContent}), which the helper reads and
   * removes; without it the benchmark gets the helper's own environment.
   */
  env?: string;
}

/** The environment as the helper's `--env-file` reads it: NUL-terminated NAME=VALUE entries. */
export function envFileContent(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => `${k}=${v}\u0000`)
    .join('');
}

/** The helper's arguments (after its own path) for one execution; the same on every backend. */
export function helperArguments(spec: MeasureSpec, files: HelperFiles): string[] {
  const { timeout, linger, cpus, nothp } = spec.execution;
  const args: string[] = [];
  if (timeout !== undefined && timeout > 0) args.push('--timeout', String(timeout));
  args.push('--linger', String(linger ?? DEFAULT_LINGER_SECONDS));
  if (cpus) args.push('--cpus', cpus);
  if (nothp) args.push('--nothp');
  if (spec.noCgroup) args.push('--no-cgroup');
  if (spec.stdinFile) args.push('--stdin', spec.stdinFile);
  if (files.hold !== undefined) args.push('--hold', String(files.hold));
  if (files.env !== undefined) args.push('--env-file', files.env);
  args.push('--stdout', files.stdout, '--stderr', files.stderr, '--result', files.result, '--', ...spec.argv);
  return args;
}

/**
 * Classifies the helper's JSON result: 'ok', 'failed' (non-zero exit), 'crashed' (signal),
 * 'timeout', or 'error' (the program could not start), with a note on processes killed after
 * the grace period. Every backend uses this, so statuses never depend on where a run happened.
 * Returns null when `text` is not a helper result.
 */
export function resultFromHelper(text: string, spec: MeasureSpec): ExecutionResult | null {
  const raw = parseHelperResult(text);
  return raw && classifyHelperResult(raw, spec);
}

/** The helper's JSON result, or null when `text` is not one. */
export function parseHelperResult(text: string): HelperResult | null {
  try {
    const raw = JSON.parse(text) as HelperResult;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- the text comes from another process
    return typeof raw === 'object' && raw !== null && typeof raw.runtime === 'number' ? raw : null;
  } catch {
    return null;
  }
}

/** {@link resultFromHelper} of a parsed result. */
export function classifyHelperResult(raw: HelperResult, spec: MeasureSpec): ExecutionResult {
  const measurement: Measurement = {
    runtime: raw.runtime,
    utime: raw.utime,
    stime: raw.stime,
    maxrss: raw.maxrss,
    minflt: raw.minflt,
    majflt: raw.majflt,
    nvcsw: raw.nvcsw,
    nivcsw: raw.nivcsw,
  };
  if (raw.cgroupPeak !== null) measurement.cgroupPeak = raw.cgroupPeak;
  const base: ExecutionResult = {
    status: 'ok',
    exitCode: raw.exitCode,
    signal: raw.signal,
    measurement,
    stdoutPath: spec.stdoutPath,
    stderrPath: spec.stderrPath,
    cwd: spec.cwd,
  };
  const r = classifyStatus(raw, base);
  if (raw.lingering > 0) {
    const n = raw.lingering === 1 ? '1 process' : `${raw.lingering} processes`;
    const note = `killed ${n} left running ${spec.execution.linger ?? DEFAULT_LINGER_SECONDS} s after the main process exited`;
    r.reason = r.reason === undefined ? `ok, but ${note}` : `${r.reason}; ${note}`;
  }
  return r;
}

function classifyStatus(raw: HelperResult, r: ExecutionResult): ExecutionResult {
  if (raw.execError) {
    return { ...r, status: 'error', measurement: null, reason: raw.execError };
  }
  if (raw.timedOut) {
    return { ...r, status: 'timeout', reason: `timed out after ${raw.runtime.toFixed(1)} s; the process tree was killed` };
  }
  if (raw.signal) {
    const words = raw.signalDescription ? ` (${raw.signalDescription.toLowerCase()})` : '';
    const why = raw.interrupted ? ' after an interrupt' : '';
    return { ...r, status: 'crashed', reason: `killed by ${raw.signal}${words}${why}` };
  }
  if (raw.exitCode !== 0) {
    return { ...r, status: 'failed', reason: `exit status ${raw.exitCode}` };
  }
  return r;
}
