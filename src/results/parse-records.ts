/**
 * The parser of records.jsonl's lines: every reader of the format (reports, `run --resume`, the
 * column blocks' gaps, the worker threads that read a large file's lines in parts) goes
 * through it, so a line is valid or not alike everywhere.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { ExecutionStatus } from '../core/runner.js';
import { ColumnsBuilder, RecordColumns } from './columns.js';
import type { FileProblems } from './columns-file.js';
import { MEASURED_FIELDS, SCHEMA_VERSION, type ExecutionRecord } from './schema.js';

/** Corrupt lines reported one by one per file before the rest are only counted. */
export const MAX_LINE_WARNINGS = 5;
const STATUSES = new Set<ExecutionStatus>(['ok', 'failed', 'crashed', 'timeout', 'error']);

/**
 * Calls `each` with every valid record of `file` in order (of bytes `from` to `to` only, whose
 * first line is line 1); says which lines were not (the first few with what was wrong), the
 * number of the last line that is not blank, and of the last line read.
 */
export function scanRecords(file: string, each: (r: ExecutionRecord) => void, from = 0, to = Infinity): LinesRead {
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
  );
  return { badLines, problems, lastLine, lines };
}

/** What was read of a part of a file besides its records (line numbers from the part's first line, 1). */
export interface LinesRead extends Omit<FileProblems, 'superseded'> {
  /** Lines in the part. */
  lines: number;
}

/** The records of a part of a file as columns, with what was wrong in it. */
export interface LinesPart extends LinesRead {
  columns: RecordColumns;
}

/** Reads bytes `from` to `to` of `file` (a part that starts at a line) as columns. */
export function readLinesAsColumns(file: string, from: number, to: number): LinesPart {
  const builder = new ColumnsBuilder();
  const scanned = scanRecords(file, (r) => builder.add(r), from, to);
  return { ...scanned, columns: builder.finish(() => []) };
}

/**
 * Parts of one file, one after the other, as one: the columns joined, line numbers counted
 * from the first part's first line, the first few problems kept.
 */
export function joinParts(parts: readonly LinesPart[]): LinesPart {
  if (parts.length === 1) return parts[0]!;
  const joined: LinesPart = {
    columns: RecordColumns.concat(parts.map((p) => p.columns)),
    badLines: [],
    problems: [],
    lastLine: 0,
    lines: 0,
  };
  for (const part of parts) {
    const offset = joined.lines;
    for (const n of part.badLines) joined.badLines.push(n + offset);
    for (const p of part.problems.slice(0, MAX_LINE_WARNINGS - joined.problems.length))
      joined.problems.push({ ...p, line: p.line + offset });
    if (part.lastLine) joined.lastLine = part.lastLine + offset;
    joined.lines += part.lines;
  }
  return joined;
}

const CHUNK = 4 << 20;
const NEWLINE = 0x0a;

/**
 * Calls `each` with every line of `file` that is not blank (trimmed) and its 1-based number,
 * reading the file in chunks: a file of any size is read without one string of all of it
 * (which V8 caps at about 512 MB). Only bytes `from` to `to`, whose first line is line 1,
 * when given; returns the number of the last line read.
 */
function forEachLine(file: string, each: (line: string, n: number) => void, from = 0, to = Infinity): number {
  const fd = openSync(file, 'r');
  try {
    let buf = Buffer.allocUnsafe(CHUNK);
    let filled = 0;
    let n = 0;
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
