import { existsSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { qjoin } from '../util/shell.js';
import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Target } from '../core/target.js';
import { ColumnsBuilder, LatestRecords, latestRows, RecordColumns } from './columns.js';
import { blocksDescribing } from './columns-blocks.js';
import { readIndex, writeIndex, type FileProblems, type IndexedFile } from './columns-file.js';
import { readLegacyTargetDir } from './read-legacy.js';
import { joinParts, MAX_LINE_WARNINGS, scanRecords, type LinesPart } from './parse-records.js';
import { readLineRange } from './read-lines.js';
import { META_FILE, RECORDS_FILE, type ExecutionRecord, type RunMeta } from './schema.js';

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

const MAX_DEPTH = 8;

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
      const columns = await readRecordsForReport(ctx, path);
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
    const columns = await readRecordsForReport(ctx, join(dir, RECORDS_FILE));
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
export async function readRecordColumnsFile(
  file: string,
  log?: Logger,
  options: { index?: boolean; partBytes?: number } = {},
): Promise<IndexedFile> {
  const records = () => readRecordsFile(file).records;
  let read = readIndex(file, records);
  if (!read) {
    const before = statSync(file);
    read = await readBlocksAndLines(file, before, records, log, options.partBytes);
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
 * (columns-blocks.ts) where they describe it, the lines elsewhere (read-lines.ts).
 */
async function readBlocksAndLines(
  file: string,
  stat: Stats,
  records: () => ExecutionRecord[],
  log: Logger | undefined,
  partBytes: number | undefined,
): Promise<IndexedFile> {
  // in the file's order: each block, and the lines before it that no block covers (then those after the last)
  const parts: Array<Promise<LinesPart>> = [];
  let at = 0;
  for (const block of blocksDescribing(file, stat)) {
    if (block.from > at) parts.push(readLineRange(file, at, block.from, log, partBytes));
    parts.push(Promise.resolve(wholePart(block.columns)));
    at = block.to;
  }
  if (stat.size > at) parts.push(readLineRange(file, at, stat.size, log, partBytes));
  // an empty file: no records, but the columns every record has
  if (!parts.length) parts.push(Promise.resolve(wholePart(new ColumnsBuilder().finish(records))));
  const { columns: all, badLines, problems, lastLine } = joinParts(await Promise.all(parts));
  const keep = latestRows(all);
  const latest = keep ? all.select(keep) : all;
  const columns = new RecordColumns(latest.length, latest.keys, latest.fields, records);
  return { columns, badLines, problems, lastLine, superseded: all.length - latest.length };
}

/** Columns read whole (a block, or none from an empty file) as a part of the file: one valid line per row. */
function wholePart(columns: RecordColumns): LinesPart {
  const n = columns.length;
  return { columns, badLines: [], problems: [], lastLine: n, lines: n };
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
async function readRecordsForReport(ctx: Context, file: string): Promise<RecordColumns> {
  const { columns, badLines } = await readRecordColumnsFile(file, ctx.log);
  if (badLines.length && !columns.length) {
    throw new UserError(`cannot read any record from '${file}': it is not a ${RECORDS_FILE} file of result records`);
  }
  return columns;
}
