import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Context } from '../core/context.js';
import { CACHED_BLOCK, parseReportBlocks, readReportBlocks, type ReportBlock } from '../core/report-blocks.js';
import type { ExecutionStatus, FieldValue } from '../core/runner.js';
import { Target } from '../core/target.js';
import { SCHEMA_VERSION, type ExecutionRecord } from './schema.js';

/**
 * Result directories of the Python original: `<target>/<instance>/<log files>`.
 *
 * A serial run leaves one log per benchmark (`<benchmark>`, any extension); a parallel one
 * one log per job: `<benchmark>-<i>` (`--parallel proc` or `ssh` with several iterations),
 * `<benchmark>.<i>` (prun), or `<benchmark>.<i>.stdout.log` beside `.stderr.log`. The
 * `[setup-report]` blocks of one job's files describe one execution: they are merged into one
 * record whose iteration is the job's number.
 */

/** Field names of the original's rusage-counters library, with what they mean. */
export const ORIGINAL_RUSAGE_FIELDS: Readonly<Record<string, string>> = {
  estimated_runtime: 'runtime estimated by the program itself from start to exit (rusage-counters), seconds',
  page_faults: 'page faults as counted by the program itself (rusage-counters)',
  io_operations: 'I/O operations as counted by the program itself (rusage-counters)',
  context_switches: 'context switches as counted by the program itself (rusage-counters)',
};

const STATUSES = new Set<ExecutionStatus>(['ok', 'failed', 'crashed', 'timeout', 'error']);

/** One log file's place in its job. */
interface LogName {
  file: string;
  /** `file` relative to the instance directory. */
  rel: string;
  /** The name without iteration, stream and extension (a benchmark, unless a block names one). */
  stem: string;
  iteration?: number;
  /** Files of one job share this. */
  job: string;
}

const STREAM = /^(.+?)\.(\d+)\.(?:stdout|stderr|out|err)(?:\.(?:log|txt))?$/;
const NUMBERED = /^(.+?)([.-])(\d+)(?:\.(?:log|txt))?$/;
const EXTENSION = /\.(?:log|txt|out|err)$/;

/**
 * Reads a file name as the original wrote it. A bare `-N` or `.N` ending is an iteration only
 * when the same stem has a `-0`/`.0` file too (the original numbers jobs from 0), so that a
 * benchmark named `CWE121-01` or `400.perlbench` keeps its name.
 */
export function legacyLogNames(files: readonly string[], root: string): LogName[] {
  // the files were listed under root: their names relative to it are what follows it
  const rel = files.map((f) => f.slice(root.length + 1));
  const zeros = new Set<string>();
  for (const r of rel) {
    const m = NUMBERED.exec(r);
    if (m && Number(m[3]) === 0) zeros.add(`${m[1]}${m[2]}`);
  }
  return rel.map((r, i) => {
    const file = files[i]!;
    const s = STREAM.exec(r);
    if (s) return { file, rel: r, stem: stemName(s[1]!), iteration: Number(s[2]), job: `${s[1]}\u0000${Number(s[2])}` };
    const n = NUMBERED.exec(r);
    if (n && zeros.has(`${n[1]}${n[2]}`))
      return { file, rel: r, stem: stemName(n[1]!), iteration: Number(n[3]), job: `${n[1]}\u0000${Number(n[3])}` };
    const plain = r.replace(EXTENSION, '');
    return { file, rel: r, stem: stemName(plain), job: plain };
  });
}

/** The benchmark a stem names: its last path part (logs may sit in subdirectories). */
function stemName(stem: string): string {
  return basename(stem);
}

/** Reads `<target>/` of a Python-era results directory into records. */
export async function readLegacyTargetDir(ctx: Context, target: Target, dir: string): Promise<ExecutionRecord[]> {
  const ownParser = target.parseOutfile !== Target.prototype.parseOutfile;
  const out: ExecutionRecord[] = [];
  const instances = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  for (const instance of instances.sort()) {
    const instanceDir = join(dir, instance);
    const names = legacyLogNames(await listFiles(instanceDir), instanceDir);
    const jobs = new Map<string, LogName[]>();
    for (const n of names) {
      const files = jobs.get(n.job);
      if (files) files.push(n);
      else jobs.set(n.job, [n]);
    }
    for (const files of jobs.values())
      files.sort((a, b) => Number(isStderr(a.file)) - Number(isStderr(b.file)) || (a.file < b.file ? -1 : 1));
    const parsed = await mapLimit([...jobs.values()], 16, async (files) => ({
      files,
      results: await jobResults(ctx, target, files, ownParser),
    }));
    for (const r of numberRecords(target.name, instance, parsed)) out.push(r);
  }
  return out;
}

/**
 * Gives every result its record: the job's iteration where the file name has one (and no
 * other result of that benchmark took it), else the next free iteration of its benchmark,
 * in the order of the file names (numbers compared as numbers).
 */
function numberRecords(
  target: string,
  instance: string,
  jobs: Array<{ files: LogName[]; results: Array<Record<string, FieldValue>> }>,
): ExecutionRecord[] {
  jobs.sort((a, b) => compareNames(a.files[0]!, b.files[0]!));
  const taken = new Map<string, Set<number>>();
  const pending: Array<{ record: ExecutionRecord }> = [];
  const records: ExecutionRecord[] = [];
  const takenOf = (benchmark: string) => {
    let set = taken.get(benchmark);
    if (!set) taken.set(benchmark, (set = new Set()));
    return set;
  };
  for (const { files, results } of jobs) {
    const first = files[0]!;
    for (const fields of results) {
      const benchmark = fields.benchmark != null ? String(fields.benchmark) : first.stem;
      const { status, reason } = legacyStatus(fields);
      const stdout = files.find((f) => !isStderr(f.file)) ?? first;
      const stderr = files.find((f) => f !== stdout);
      const record: ExecutionRecord = {
        schema: SCHEMA_VERSION,
        target,
        instance,
        benchmark,
        iteration: -1,
        host: typeof fields.hostname === 'string' ? fields.hostname : '',
        status,
        exitCode: null,
        signal: null,
        ...(reason ? { reason } : {}),
        start: '',
        fields: withOurNames(fields),
        stdout: join(instance, stdout.rel),
        stderr: stderr ? join(instance, stderr.rel) : '',
      };
      const used = takenOf(benchmark);
      if (first.iteration !== undefined && !used.has(first.iteration)) {
        record.iteration = first.iteration;
        used.add(first.iteration);
      } else {
        pending.push({ record });
      }
      records.push(record);
    }
  }
  for (const { record } of pending) {
    const used = takenOf(record.benchmark);
    let i = 0;
    while (used.has(i)) i++;
    record.iteration = i;
    used.add(i);
  }
  return records;
}

const isStderr = (file: string): boolean => /\.(?:stderr|err)(?:\.(?:log|txt))?$/.test(file);

function compareNames(a: LogName, b: LogName): number {
  if (a.stem !== b.stem) return a.stem < b.stem ? -1 : 1;
  return (a.iteration ?? -1) - (b.iteration ?? -1) || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
}

/**
 * The original's `estimated_runtime` is also our `runtime` when the log has no runtime of its
 * own (both are the wall-clock time from the program's start to its exit), so the default
 * report and `--overhead` work on such logs; the original's name stays as it was.
 */
function withOurNames(fields: Record<string, FieldValue>): Record<string, FieldValue> {
  if (fields.runtime === undefined && typeof fields.estimated_runtime === 'number') return { ...fields, runtime: fields.estimated_runtime };
  return fields;
}

/**
 * The results of one job (the files of one execution, such as its stdout and stderr logs):
 * the results of each file, merged file by file when each file holds as many results.
 */
async function jobResults(ctx: Context, target: Target, files: LogName[], ownParser: boolean): Promise<Array<Record<string, FieldValue>>> {
  const perFile = await Promise.all(files.map((f) => fileResults(ctx, target, f.file, ownParser)));
  const nonEmpty = perFile.filter((r) => r.length);
  if (nonEmpty.length < 2) return nonEmpty[0] ?? [];
  const n = nonEmpty[0]!.length;
  if (nonEmpty.some((r) => r.length !== n)) return nonEmpty.flat();
  return nonEmpty[0]!.map((_, k) => mergeFields(nonEmpty.map((r) => r[k]!)));
}

/**
 * The results of one log file. A target with its own parser decides (unless the log carries
 * `cached` blocks, which the original appended to save re-parsing); otherwise the blocks are
 * the results: blocks of different names describe the same execution and are merged, and a
 * block whose name the current result already has starts the next one. `cached` blocks are
 * used only when they are the file's only blocks.
 */
async function fileResults(ctx: Context, target: Target, file: string, ownParser: boolean): Promise<Array<Record<string, FieldValue>>> {
  const blocks = await readBlocks(file);
  const cached = blocks.filter((b) => b.name === CACHED_BLOCK).map((b) => b.fields);
  if (cached.length && (ownParser || cached.length === blocks.length)) return cached;
  if (ownParser) return [...(await target.parseOutfile(ctx, file))];
  return mergeBlocks(blocks.filter((b) => b.name !== CACHED_BLOCK));
}

/** Logs up to this size are read in one call (most are small; one call costs far less than a stream). */
const READ_WHOLE = 16 << 20;

async function readBlocks(file: string): Promise<ReportBlock[]> {
  const fd = openSync(file, 'r');
  try {
    if (fstatSync(fd).size > READ_WHOLE) return await readReportBlocks(file);
    return parseReportBlocks(readFileSync(fd, 'utf8'));
  } finally {
    closeSync(fd);
  }
}

/** Groups consecutive blocks of different names into one result each. */
export function mergeBlocks(blocks: readonly ReportBlock[]): Array<Record<string, FieldValue>> {
  const results: Array<Record<string, FieldValue>> = [];
  let names = new Set<string>();
  let current: Record<string, FieldValue> | null = null;
  for (const b of blocks) {
    if (!current || names.has(b.name)) {
      current = {};
      names = new Set();
      results.push(current);
    }
    names.add(b.name);
    for (const [k, v] of Object.entries(b.fields)) {
      // a name two blocks both set keeps the first block's value; the other stays, prefixed
      if (k in current && current[k] !== v) current[`${b.name}.${k}`] = v;
      else current[k] = v;
    }
  }
  return results;
}

function mergeFields(parts: ReadonlyArray<Record<string, FieldValue>>): Record<string, FieldValue> {
  const merged: Record<string, FieldValue> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p)) if (!(k in merged)) merged[k] = v;
  return merged;
}

function legacyStatus(fields: Record<string, FieldValue>): { status: ExecutionStatus; reason?: string } {
  if (fields.success === false) return { status: 'failed', reason: 'reported success: False' };
  const s = fields.status;
  if (typeof s === 'string' && !/^(ok|success|succeeded|passed)$/i.test(s)) {
    return { status: STATUSES.has(s as ExecutionStatus) ? (s as ExecutionStatus) : 'failed', reason: `status ${s}` };
  }
  return { status: 'ok' };
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** `fn` over `items` with at most `limit` at a time (a directory of 10,000 logs must not open them all at once). */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
