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

interface ColumnHeader {
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
  let at = align(12 + headerBytes);
  if (crc32(buf.subarray(at)) !== header.crc) return null;
  // the arrays are views of the file's buffer, copied only where it is not 8-byte aligned in memory
  const view = (bytes: number): { buffer: ArrayBufferLike; offset: number } => {
    const start = buf.byteOffset + at;
    if (at + bytes > buf.length) throw new RangeError('index truncated');
    at = align(at + bytes);
    return start % 8 ? { buffer: buf.buffer.slice(start, start + bytes), offset: 0 } : { buffer: buf.buffer, offset: start };
  };
  const keys = new Map<KeyColumn, Column>();
  const fields = new Map<string, Column>();
  try {
    for (const c of header.columns) {
      let column: Column;
      if (c.kind === 'number') {
        const { buffer, offset } = view(header.length * 8);
        column = { kind: 'number', values: new Float64Array(buffer, offset, header.length) };
      } else {
        const width = c.width ?? 4;
        const { buffer, offset } = view(header.length * width);
        const n = header.length;
        const codes =
          width === 1
            ? new Uint8Array(buffer, offset, n)
            : width === 2
              ? new Uint16Array(buffer, offset, n)
              : new Uint32Array(buffer, offset, n);
        const values: Array<FieldValue | undefined> = (c.values ?? []).slice();
        values[0] = undefined;
        column = { kind: 'dict', codes, values };
      }
      if (c.set === 'key') keys.set(c.name as KeyColumn, column);
      else fields.set(c.name, column);
    }
  } catch {
    return null;
  }
  const { badLines, problems, lastLine, superseded } = header;
  return { columns: new RecordColumns(header.length, keys, fields, records), badLines, problems, lastLine, superseded };
}

const align = (n: number) => (n + 7) & ~7;

/**
 * Writes the index of `file` (read while it had `before` as its stat). Nothing is written when
 * the file changed while being read (a run still appending to it); a failure to write (a
 * read-only or full disk) leaves no partial index and is for the caller to log.
 */
export function writeIndex(file: string, before: Stats, read: IndexedFile): void {
  const now = statSync(file);
  if (now.size !== before.size || now.mtimeMs !== before.mtimeMs) return;
  const { columns } = read;
  const arrays: ArrayBufferView[] = [];
  const described: ColumnHeader[] = [];
  const add = (set: ColumnHeader['set'], name: string, c: Column) => {
    if (c.kind === 'number') {
      described.push({ set, name, kind: 'number' });
      arrays.push(c.values);
    } else {
      described.push({ set, name, kind: 'dict', width: c.codes.BYTES_PER_ELEMENT as 1 | 2 | 4, values: c.values.map((v) => v ?? null) });
      arrays.push(c.codes);
    }
  };
  for (const [k, c] of columns.keys) add('key', k, c);
  for (const [k, c] of columns.fields) add('field', k, c);
  const header: IndexHeader = {
    format: FORMAT,
    source: { size: now.size, mtimeMs: now.mtimeMs, digest: digestOf(file, now.size) },
    length: columns.length,
    badLines: read.badLines,
    problems: read.problems,
    lastLine: read.lastLine,
    superseded: read.superseded,
    columns: described,
    crc: 0,
  };
  const pad = Buffer.alloc(8);
  const payload: Uint8Array[] = [];
  for (const a of arrays) {
    payload.push(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    if (a.byteLength % 8) payload.push(pad.subarray(0, 8 - (a.byteLength % 8)));
  }
  header.crc = payload.reduce((crc, bytes) => crc32(bytes, crc), 0);
  const json = Buffer.from(JSON.stringify(header));
  const head = Buffer.alloc(align(12 + json.length));
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(json.length, 8);
  json.copy(head, 12);
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

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
}
