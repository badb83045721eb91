/**
 * The column index kept beside a records.jsonl (`.records.columns`): the file's records as
 * {@link RecordColumns}, so a report of a million records reads typed arrays instead of
 * parsing a million lines. records.jsonl stays the only record of the results: the index is
 * used only while it describes that file exactly as it is now (its size, its modification time
 * and the digest of its first and last 64 KiB), and is written again whenever it does not.
 *
 * Layout: the magic `INFRACOL`, a 32-bit little-endian length, that many bytes of JSON
 * ({@link IndexHeader}), padding to a multiple of 8, then each column's array in the
 * header's order, each starting at a multiple of 8.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { FieldValue } from '../core/runner.js';
import { RecordColumns, type Column, type KeyColumn } from './columns.js';
import type { ExecutionRecord } from './schema.js';

const MAGIC = 'INFRACOL';
/** Changes whenever what a record file reads as changes (its checks, its columns). */
const FORMAT = 1;
const SAMPLE = 64 << 10;

/** What was read from a records.jsonl besides its records. */
export interface FileProblems {
  /** Line numbers (1-based) that could not be read. */
  badLines: number[];
  /** What was wrong with the first few of them. */
  problems: Array<{ line: number; problem: string }>;
  /** The number of the file's last line. */
  lastLine: number;
  /** Earlier records of executions that were recorded again. */
  superseded: number;
}

export interface ColumnHeader {
  set: 'key' | 'field';
  name: string;
  kind: Column['kind'];
  /** Bytes per code (dictionaries). */
  width?: 1 | 2 | 4;
  /** The dictionary; its first value (code 0, absent) is written as null. */
  values?: Array<FieldValue | null>;
}

interface IndexHeader extends FileProblems {
  format: number;
  source: { size: number; mtimeMs: number; digest: string };
  length: number;
  columns: ColumnHeader[];
  /** CRC-32 of everything after the header: a damaged index is not believed. */
  crc: number;
}

/** Where the index of `file` is kept. */
export function indexPath(file: string): string {
  return join(dirname(file), `.${basename(file, '.jsonl')}.columns`);
}

/** A digest of the first and last {@link SAMPLE} bytes of the file (the size and mtime say the rest). */
function digestOf(file: string, size: number): string {
  const hash = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(SAMPLE);
    hash.update(buf.subarray(0, readSync(fd, buf, 0, Math.min(size, SAMPLE), 0)));
    const tail = Math.max(SAMPLE, size - SAMPLE);
    if (size > tail) hash.update(buf.subarray(0, readSync(fd, buf, 0, size - tail, tail)));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

export interface IndexedFile extends FileProblems {
  columns: RecordColumns;
}

/**
 * The index of `file` if there is one that describes the file as it is; null otherwise (none,
 * another format, stale, or unreadable: the caller reads the file itself).
 */
export function readIndex(file: string, records: () => ExecutionRecord[]): IndexedFile | null {
  let buf: Buffer;
  let stat: Stats;
  try {
    stat = statSync(file);
    buf = readFileSync(indexPath(file));
  } catch {
    return null;
  }
  if (buf.length < 12 || buf.toString('latin1', 0, 8) !== MAGIC) return null;
  const headerBytes = buf.readUInt32LE(8);
  let header: IndexHeader;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + headerBytes)) as IndexHeader;
  } catch {
    return null;
  }
  const s = (header as Partial<IndexHeader>).source; // any JSON: checked before use
  if (header.format !== FORMAT || s?.size !== stat.size || s.mtimeMs !== stat.mtimeMs) return null;
  if (s.digest !== digestOf(file, stat.size)) return null;
  const at = align(12 + headerBytes);
  if (crc32(buf.subarray(at)) !== header.crc) return null;
  const decoded = decodeColumns(buf, at, header.length, header.columns);
  if (!decoded) return null;
  const { keys, fields } = decoded;
  const { badLines, problems, lastLine, superseded } = header;
  return { columns: new RecordColumns(header.length, keys, fields, records), badLines, problems, lastLine, superseded };
}

export const align = (n: number) => (n + 7) & ~7;

/**
 * Writes the index of `file` (read while it had `before` as its stat). Nothing is written when
 * the file changed while being read (a run still appending to it); a failure to write (a
 * read-only or full disk) leaves no partial index and is for the caller to log.
 */
export function writeIndex(file: string, before: Stats, read: IndexedFile): void {
  const now = statSync(file);
  if (now.size !== before.size || now.mtimeMs !== before.mtimeMs) return;
  const { columns } = read;
  const { described, payload, crc } = encodeColumns(columns);
  const header: IndexHeader = {
    format: FORMAT,
    source: { size: now.size, mtimeMs: now.mtimeMs, digest: digestOf(file, now.size) },
    length: columns.length,
    badLines: read.badLines,
    problems: read.problems,
    lastLine: read.lastLine,
    superseded: read.superseded,
    columns: described,
    crc,
  };
  const head = headOf(MAGIC, header);
  const target = indexPath(file);
  const temp = `${target}.tmp-${process.pid}`;
  const fd = openSync(temp, 'w');
  try {
    writeAll(fd, head);
    for (const bytes of payload) writeAll(fd, bytes);
    closeSync(fd);
    renameSync(temp, target);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
    rmSync(temp, { force: true });
    throw e;
  }
}

export function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
}

/** The description of each column of `columns` and their arrays, each padded to a multiple of 8 bytes, with their CRC-32. */
export function encodeColumns(columns: RecordColumns): { described: ColumnHeader[]; payload: Uint8Array[]; crc: number } {
  const described: ColumnHeader[] = [];
  const payload: Uint8Array[] = [];
  const pad = new Uint8Array(8);
  const add = (set: ColumnHeader['set'], name: string, c: Column) => {
    const a = c.kind === 'number' ? c.values : c.codes;
    if (c.kind === 'number') described.push({ set, name, kind: 'number' });
    else described.push({ set, name, kind: 'dict', width: c.codes.BYTES_PER_ELEMENT as 1 | 2 | 4, values: c.values.map((v) => v ?? null) });
    payload.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    if (a.byteLength % 8) payload.push(pad.subarray(0, 8 - (a.byteLength % 8)));
  };
  for (const [k, c] of columns.keys) add('key', k, c);
  for (const [k, c] of columns.fields) add('field', k, c);
  return { described, payload, crc: payload.reduce((crc, bytes) => crc32(bytes, crc), 0) };
}

/**
 * The columns `described`, of `length` rows, whose arrays start at `at` in `buf` (as
 * {@link encodeColumns} wrote them); null if `buf` is too short for them or `described`, read
 * from a file as any JSON, does not describe columns. The arrays are views of `buf`, copied
 * only where they are not 8-byte aligned in memory.
 */
export function decodeColumns(
  buf: Buffer,
  at: number,
  length: number,
  described: readonly ColumnHeader[],
): { keys: Map<KeyColumn, Column>; fields: Map<string, Column>; end: number } | null {
  try {
    return decodeArrays(buf, at, length, described);
  } catch {
    return null; // a header that is JSON but not a description of columns
  }
}

function decodeArrays(
  buf: Buffer,
  at: number,
  length: number,
  described: readonly ColumnHeader[],
): { keys: Map<KeyColumn, Column>; fields: Map<string, Column>; end: number } | null {
  const view = (bytes: number): { buffer: ArrayBufferLike; offset: number } | null => {
    const start = buf.byteOffset + at;
    if (at + bytes > buf.length) return null;
    at = align(at + bytes);
    return start % 8 ? { buffer: buf.buffer.slice(start, start + bytes), offset: 0 } : { buffer: buf.buffer, offset: start };
  };
  const keys = new Map<KeyColumn, Column>();
  const fields = new Map<string, Column>();
  for (const c of described) {
    let column: Column;
    if (c.kind === 'number') {
      const v = view(length * 8);
      if (!v) return null;
      column = { kind: 'number', values: new Float64Array(v.buffer, v.offset, length) };
    } else {
      const width = c.width ?? 4;
      const v = view(length * width);
      if (!v) return null;
      const codes =
        width === 1
          ? new Uint8Array(v.buffer, v.offset, length)
          : width === 2
            ? new Uint16Array(v.buffer, v.offset, length)
            : new Uint32Array(v.buffer, v.offset, length);
      const values: Array<FieldValue | undefined> = (c.values ?? []).slice();
      values[0] = undefined;
      column = { kind: 'dict', codes, values };
    }
    if (c.set === 'key') keys.set(c.name as KeyColumn, column);
    else fields.set(c.name, column);
  }
  return { keys, fields, end: at };
}

/** `magic` (8 bytes), the length of `header` as JSON (32-bit little-endian), the JSON, padded to a multiple of 8. */
export function headOf(magic: string, header: object): Buffer {
  const json = Buffer.from(JSON.stringify(header));
  const head = Buffer.alloc(align(12 + json.length));
  head.write(magic, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  json.copy(head, 12);
  return head;
}
