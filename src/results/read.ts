import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { qjoin } from '../util/shell.js';
import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { ExecutionStatus } from '../core/runner.js';
import type { Target } from '../core/target.js';
import { ColumnsBuilder, LatestRecords, latestRows, RecordColumns } from './columns.js';
import { blocksDescribing } from './columns-blocks.js';
import { readIndex, writeIndex, type FileProblems, type IndexedFile } from './columns-file.js';
import { readLegacyTargetDir } from './read-legacy.js';
import { MEASURED_FIELDS, META_FILE, RECORDS_FILE, SCHEMA_VERSION, type ExecutionRecord, type RunMeta } from './schema.js';

export interface ResultSet {
  /** Every record read, as columns (`columns.records()` gives them as objects). */
  columns: RecordColumns;
  /** Run directories (with records.jsonl) that were read. */
  runDirs: string[];
  /** Python-style `<target>/` directories that were read. */
  legacyDirs: string[];
  /** How many records each of {@link runDirs} holds. */
  recorded: Map<string, number>;
}

/** Corrupt lines reported one by one per file before the rest are only counted. */
const MAX_LINE_WARNINGS = 5;
const MAX_DEPTH = 8;
const STATUSES = new Set<ExecutionStatus>(['ok', 'failed', 'crashed', 'timeout', 'error']);

/**
 * Reads every result under the given paths. Each may be a run directory (with records.jsonl),
 * a `results/last` symlink, a directory of run directories (searched recursively), a
 * records.jsonl file, or a result directory of the Python original (`<target>/<instance>/<logs>`
 * with `[setup-report]` blocks; `target.parseOutfile` is used for those logs when the target
 * implements it).
 */
export async function readResults(ctx: Context, target: Target, paths: string[]): Promise<ResultSet> {
  const set: Found = { parts: [], runDirs: [], legacyDirs: [], recorded: new Map() };
  const seen = new Set<string>();
  for (const path of paths) {
    if (!existsSync(path)) throw new UserError(`results directory '${path}' does not exist`);
    let found = true;
    if ((await stat(path)).isFile()) {
      const columns = readRecordsForReport(ctx, path);
      set.parts.push(columns);
      set.runDirs.push(path);
      set.recorded.set(path, columns.length);
    } else {
      found = await visit(ctx, target, path, 0, seen, set);
    }
    if (!found) {
      throw new UserError(
        `no results found in '${path}': expected a run directory (with ${RECORDS_FILE}), a directory of ` +
          `run.* directories, or a '${target.name}/<instance>/' directory of log files`,
      );
    }
  }
  const { parts, ...rest } = set;
  return { columns: parts.length ? RecordColumns.concat(parts) : RecordColumns.fromRecords([]), ...rest };
}

type Found = Omit<ResultSet, 'columns'> & { parts: RecordColumns[] };

/**
 * Reads the results in or under `dir`; says whether there were any (a directory already read
 * through another path, such as results/last, counts as having results).
 */
async function visit(ctx: Context, target: Target, dir: string, depth: number, seen: Set<string>, set: Found): Promise<boolean> {
  const real = await realpath(dir);
  if (seen.has(real)) return true;
  seen.add(real);
  if (existsSync(join(dir, RECORDS_FILE))) {
    const columns = readRecordsForReport(ctx, join(dir, RECORDS_FILE));
    set.parts.push(columns);
    set.runDirs.push(dir);
    set.recorded.set(dir, columns.length);
    return true;
  }
  if (basename(real) === target.name && (await looksLegacy(dir))) {
    await readLegacy(ctx, target, dir, set);
    return true;
  }
  const legacy = join(dir, target.name);
  if (existsSync(legacy) && !existsSync(join(legacy, RECORDS_FILE)) && (await looksLegacy(legacy))) {
    seen.add(await realpath(legacy));
    await readLegacy(ctx, target, legacy, set);
    return true;
  }
  if (depth >= MAX_DEPTH) return false;
  let found = false;
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    if (!e.isDirectory() && !e.isSymbolicLink()) continue;
    const sub = join(dir, e.name);
    if (e.isSymbolicLink() && !(await stat(sub).catch(() => null))?.isDirectory()) continue;
    if (await visit(ctx, target, sub, depth + 1, seen, set)) found = true;
  }
  return found;
}

async function readLegacy(ctx: Context, target: Target, dir: string, set: Found): Promise<void> {
  set.legacyDirs.push(dir);
  set.parts.push(RecordColumns.fromRecords(await readLegacyTargetDir(ctx, target, dir)));
}

/** A Python-style target directory holds instance directories that hold files. */
async function looksLegacy(dir: string): Promise<boolean> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.some((e) => e.isDirectory());
}

export interface RecordsRead {
  /** The last record of each execution (see {@link latestRecords}), in the order they were written. */
  records: ExecutionRecord[];
  /** Line numbers (1-based) that could not be read. */
  badLines: number[];
  /** Earlier records of executions that were recorded again (e.g. interrupted, then resumed). */
  superseded: number;
}

/**
 * Reads one records.jsonl: the only parser of that format (reports and `run --resume` both use
 * it). Corrupt lines, such as a torn last line of a run that was killed while writing, are
 * skipped with a warning naming the file and line. Within one file, a later record of the same
 * execution replaces an earlier one.
 */
export function readRecordsFile(file: string, log?: Logger): RecordsRead {
  if (!existsSync(file)) return { records: [], badLines: [], superseded: 0 };
  const all: ExecutionRecord[] = [];
  const scanned = scanRecords(file, (r) => all.push(r));
  warnProblems(file, scanned, log);
  const records = latestRecords(all);
  return { records, badLines: scanned.badLines, superseded: all.length - records.length };
}

/**
 * Calls `each` with every valid record of `file` in order (of bytes `from` to `to` only, whose
 * first line is line `line + 1`); says which lines were not (the first few with what was
 * wrong), the number of the last line that is not blank, and of the last line read.
 */
function scanRecords(
  file: string,
  each: (r: ExecutionRecord) => void,
  from = 0,
  to = Infinity,
  line = 0,
): Omit<FileProblems, 'superseded'> & { lines: number } {
  const problems: FileProblems['problems'] = [];
  const badLines: number[] = [];
  const one: ExecutionRecord[] = [];
  let lastLine = 0;
  const lines = forEachLine(
    file,
    (text, n) => {
      lastLine = n;
      const problem = parseRecordLine(text, one);
      if (!problem) {
        each(one.pop()!);
        return;
      }
      badLines.push(n);
      if (problems.length < MAX_LINE_WARNINGS) problems.push({ line: n, problem });
    },
    from,
    to,
    line,
  );
  return { badLines, problems, lastLine, lines };
}

function warnProblems(file: string, read: Omit<FileProblems, 'superseded'>, log?: Logger): void {
  for (const { line, problem } of read.problems) {
    const torn = line === read.lastLine ? '; a torn last line: the run was probably killed while writing it' : '';
    log?.warning(`${file}:${line}: skipped a corrupt record (${problem}${torn}); that execution counts as missing`);
  }
  if (read.badLines.length > MAX_LINE_WARNINGS) log?.warning(`${file}: skipped ${read.badLines.length} corrupt records in all`);
}

/**
 * Reads one records.jsonl as columns, with the same checks, warnings and choice of the latest
 * record of each execution as {@link readRecordsFile}: from its column index when that
 * describes the file as it is, otherwise from the run's column blocks and the lines they do not
 * cover (columns-blocks.ts), writing the index for the next time
 * (see columns-file.ts), unless `index` is false (the caller is about to append to the file).
 */
export function readRecordColumnsFile(file: string, log?: Logger, options: { index?: boolean } = {}): IndexedFile {
  const records = () => readRecordsFile(file).records;
  let read = readIndex(file, records);
  if (!read) {
    const before = statSync(file);
    read = readBlocksAndLines(file, before, records);
    if (options.index !== false) writeIndexOrLog(file, before, read, log);
  }
  warnProblems(file, read, log);
  return read;
}

function writeIndexOrLog(file: string, before: Stats, read: IndexedFile, log?: Logger): void {
  try {
    writeIndex(file, before, read);
  } catch (e) {
    // the index only saves time: without it the next report reads the file again
    log?.debug(`no column index written beside ${file}: ${(e as Error).message}`);
  }
}

/**
 * Reads one records.jsonl (of stat `stat`) as columns: the blocks its run wrote
 * (columns-blocks.ts) where they describe it, the lines elsewhere.
 */
function readBlocksAndLines(file: string, stat: Stats, records: () => ExecutionRecord[]): IndexedFile {
  const parts: RecordColumns[] = [];
  const badLines: number[] = [];
  const problems: FileProblems['problems'] = [];
  let line = 0;
  let lastLine = 0;
  let at = 0;
  const readLines = (to: number) => {
    if (at >= to) return;
    const builder = new ColumnsBuilder();
    const scanned = scanRecords(file, (r) => builder.add(r), at, to, line);
    parts.push(builder.finish(records));
    badLines.push(...scanned.badLines);
    problems.push(...scanned.problems.slice(0, MAX_LINE_WARNINGS - problems.length));
    if (scanned.lastLine) lastLine = scanned.lastLine;
    line = scanned.lines;
  };
  for (const block of blocksDescribing(file, stat)) {
    readLines(block.from);
    parts.push(block.columns);
    line += block.columns.length;
    lastLine = line;
    at = block.to;
  }
  readLines(stat.size);
  const all = parts.length ? RecordColumns.concat(parts) : new ColumnsBuilder().finish(records);
  const keep = latestRows(all);
  const latest = keep ? all.select(keep) : all;
  const columns = new RecordColumns(latest.length, latest.keys, latest.fields, records);
  return { columns, badLines, problems, lastLine, superseded: all.length - latest.length };
}

const CHUNK = 4 << 20;
const NEWLINE = 0x0a;

/**
 * Calls `each` with every line of `file` that is not blank (trimmed) and its 1-based number,
 * reading the file in chunks: a file of any size is read without one string of all of it
 * (which V8 caps at about 512 MB). Only bytes `from` to `to`, whose first line is line
 * `line + 1`, when given; returns the number of the last line read.
 */
function forEachLine(file: string, each: (line: string, n: number) => void, from = 0, to = Infinity, line = 0): number {
  const fd = openSync(file, 'r');
  try {
    let buf = Buffer.allocUnsafe(CHUNK);
    let filled = 0;
    let n = line;
    for (let pos = from; ;) {
      if (filled === buf.length) {
        // a line longer than the buffer: grow it
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const got = pos < to ? readSync(fd, buf, filled, Math.min(buf.length - filled, to - pos), pos) : 0;
      pos += got;
      const end = filled + got;
      const view = buf.subarray(0, end);
      let start = 0;
      for (let nl = view.indexOf(NEWLINE); nl >= 0; nl = view.indexOf(NEWLINE, start)) {
        n++;
        emit(buf.toString('utf8', start, nl), n, each);
        start = nl + 1;
      }
      if (got === 0) {
        if (start < end) emit(buf.toString('utf8', start, end), ++n, each);
        return n;
      }
      buf.copy(buf, 0, start, end);
      filled = end - start;
    }
  } finally {
    closeSync(fd);
  }
}

function emit(raw: string, n: number, each: (line: string, n: number) => void): void {
  const line = raw.trim();
  if (line) each(line, n);
}

/**
 * A line for each run directory among `runDirs` (as {@link ResultSet.runDirs}) whose meta.json
 * says it was interrupted: how many of its executions are recorded (`recorded`, as
 * {@link ResultSet.recorded}, or read again), and the command that completes it.
 */
export function incompleteRunWarnings(runDirs: readonly string[], recorded?: ReadonlyMap<string, number>): string[] {
  const lines: string[] = [];
  for (const given of runDirs) {
    const dir = basename(given) === RECORDS_FILE ? dirname(given) : given;
    let meta: RunMeta;
    try {
      meta = JSON.parse(readFileSync(join(dir, META_FILE), 'utf8')) as RunMeta;
    } catch {
      continue; // not a run directory of this tool, or no readable meta.json: nothing to say
    }
    if (!meta.interrupted) continue;
    const count = recorded?.get(given) ?? readRecords(dir).records.length;
    const real = realpathSync(dir);
    const shown = relative(process.cwd(), real) || real;
    const instances = meta.settings?.instances ?? meta.instances.map((i) => i.name);
    const command = qjoin(['infra', 'run', meta.target, ...instances, '--resume', shown]);
    const of = meta.executions === undefined ? String(count) : `${count} of ${meta.executions}`;
    lines.push(`${shown}: ${of} executions recorded (run interrupted; complete it with ${command})`);
  }
  return lines;
}

/** Reads `<runDir>/records.jsonl` (see {@link readRecordsFile}). */
export function readRecords(runDir: string, log?: Logger): RecordsRead {
  return readRecordsFile(join(runDir, RECORDS_FILE), log);
}

/**
 * Keeps the last record of each execution (by `executionKey`): an execution cut short by an
 * interrupt is recorded as crashed, and `run --resume` records it again; only the later record
 * describes the run.
 */
export function latestRecords(records: readonly ExecutionRecord[]): ExecutionRecord[] {
  const latest = new LatestRecords();
  const superseded = new Uint8Array(records.length);
  let any = false;
  for (let i = 0; i < records.length; i++) {
    const earlier = latest.see(records[i]!, i);
    if (earlier !== undefined) {
      superseded[earlier] = 1;
      any = true;
    }
  }
  // each final record keeps the place of its last occurrence
  return any ? records.filter((_, i) => !superseded[i]) : records.slice();
}

/** {@link readRecordColumnsFile} for reports: a file with nothing readable is not a records file. */
function readRecordsForReport(ctx: Context, file: string): RecordColumns {
  const { columns, badLines } = readRecordColumnsFile(file, ctx.log);
  if (badLines.length && !columns.length) {
    throw new UserError(`cannot read any record from '${file}': it is not a ${RECORDS_FILE} file of result records`);
  }
  return columns;
}

/** Parses one line into `out`, or says what is wrong with it. */
function parseRecordLine(line: string, out: ExecutionRecord[]): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    return (err as Error).message;
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return 'not an object';
  const r = parsed as Record<string, unknown>;
  for (const key of ['target', 'instance', 'benchmark'] as const) {
    if (typeof r[key] !== 'string') return `'${key}' is missing`;
  }
  if (r.fields === undefined || r.fields === null) r.fields = {};
  if (typeof r.fields !== 'object' || Array.isArray(r.fields)) return `'fields' is not an object`;
  if (!STATUSES.has(r.status as ExecutionStatus)) return `unknown status '${String(r.status)}'`;
  if (typeof r.schema === 'number' && r.schema > SCHEMA_VERSION) return `schema ${r.schema} is newer than this tool reads`;
  const wrong = invalidField(r);
  if (wrong) return wrong;
  out.push(r as unknown as ExecutionRecord);
  return null;
}

/** A measured value beyond this is not a measurement (a year in seconds; 2^50 KiB, faults or switches). */
const ABSURD: Readonly<Record<string, number>> = { runtime: 3.2e7, utime: 3.2e7, stime: 3.2e7 };
const ABSURD_COUNT = 2 ** 50;
const STRING_KEYS = ['host', 'start', 'stdout', 'stderr', 'reason'] as const;

/**
 * What makes a record's keys or fields unusable, or null: values are never coerced, since a
 * wrong one (an iteration "one" read as 0) would silently replace a real record.
 */
function invalidField(r: Record<string, unknown>): string | null {
  const it = r.iteration;
  if (typeof it !== 'number' || !Number.isInteger(it) || it < 0)
    return `'iteration' is ${it === undefined ? 'missing' : JSON.stringify(it)}, not an iteration number`;
  for (const key of STRING_KEYS) {
    if (r[key] !== undefined && typeof r[key] !== 'string') return `'${key}' is not a string`;
  }
  if (r.exitCode !== undefined && r.exitCode !== null && !Number.isInteger(r.exitCode)) return `'exitCode' is not an integer`;
  if (r.signal !== undefined && r.signal !== null && typeof r.signal !== 'string') return `'signal' is not a string`;
  const fields = r.fields as Record<string, unknown>;
  for (const name in fields) {
    const value = fields[name];
    const type = typeof value;
    if (value !== null && type !== 'number' && type !== 'string' && type !== 'boolean') return `field '${name}' is not a plain value`;
    if (!Object.hasOwn(MEASURED_FIELDS, name)) continue;
    const limit = ABSURD[name] ?? ABSURD_COUNT;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > limit) {
      return `measured field '${name}' is ${JSON.stringify(value)}, not a number from 0 to ${limit}`;
    }
  }
  return null;
}
