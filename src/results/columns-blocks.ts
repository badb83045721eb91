/**
 * The column blocks a run writes beside its records.jsonl (`.records.blocks`), so that even the
 * first report of a million records reads typed arrays instead of parsing a million lines.
 * Every {@link BLOCK_RECORDS} records (and when the run ends or is interrupted) the run appends
 * one block: the columns of the records it appended since the last one, the byte range of
 * records.jsonl they were written to and the CRC-32 of those bytes.
 *
 * records.jsonl stays the only record of the results. A report believes a block only where its
 * range lies within the file and the bytes there still have its CRC-32 (reading the file to
 * check costs about 0.2 s per million records, far less than parsing it, and holds whoever
 * changed the file and when). Records outside every believed block (those after the last block
 * of a killed run, a line a resumed run ended, a changed or damaged block's) are read from the
 * lines, so a block only ever saves time.
 *
 * Layout: blocks one after the other, each the magic `INFRABLK`, a 32-bit little-endian length,
 * that many bytes of JSON ({@link BlockHeader}), padding to a multiple of 8, then its columns'
 * arrays as in the column index (columns-file.ts). A block cut short or damaged is skipped.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readFileSync, readSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ColumnsBuilder, RecordColumns } from './columns.js';
import { align, decodeColumns, encodeColumns, headOf, writeAll, type ColumnHeader } from './columns-file.js';
import type { ExecutionRecord } from './schema.js';

const MAGIC = 'INFRABLK';
/** Changes whenever what a record file reads as changes (its checks, its columns). */
const FORMAT = 1;
/**
 * Records per block: what a run keeps in memory as it goes (about 2 MB of columns) against
 * the blocks a report joins (61 for a million records).
 */
export const BLOCK_RECORDS = 16384;

interface BlockHeader {
  format: number;
  /** Where the block's records are in records.jsonl: bytes `from` up to (not including) `to`. */
  from: number;
  to: number;
  /** CRC-32 of those bytes. */
  sourceCrc: number;
  /** Records, one per line of the range. */
  length: number;
  columns: ColumnHeader[];
  /** CRC-32 of the block's arrays. */
  crc: number;
}

/** A block's records as columns, and where they are in records.jsonl. */
export interface Block {
  from: number;
  to: number;
  sourceCrc: number;
  columns: RecordColumns;
}

/** Where the blocks of `file` are kept. */
export function blocksPath(file: string): string {
  return join(dirname(file), `.${basename(file, '.jsonl')}.blocks`);
}

const noRecords = (): ExecutionRecord[] => [];

/**
 * Collects the records a run appends to `recordsFile` into blocks. Writing them is an
 * optimisation only: a block that cannot be written (a full or read-only disk) is dropped and
 * no more are written by this writer, and a report reads those records from the lines.
 */
export class BlockWriter {
  private builder = new ColumnsBuilder();
  private from: number;
  private to: number;
  private sourceCrc = 0;
  private fd: number | undefined;
  private failed = false;

  /** @param size the size of `recordsFile` before the first record this writer sees */
  constructor(
    private readonly recordsFile: string,
    size: number,
    private readonly perBlock = BLOCK_RECORDS,
  ) {
    this.from = this.to = size;
  }

  /** Notes `record`, just appended to the records file as `line` at byte `at`. */
  add(record: ExecutionRecord, line: Uint8Array, at: number): void {
    if (this.failed) return;
    // the run is the file's only writer, so this does not happen; if it did, a block must not span the gap
    if (at !== this.to) {
      this.flush();
      this.from = at;
    }
    this.builder.add(record);
    this.sourceCrc = crc32(line, this.sourceCrc);
    this.to = at + line.length;
    if (this.builder.length >= this.perBlock) this.flush();
  }

  /** Appends a block of the records noted since the last one, if any. */
  flush(): void {
    const length = this.builder.length;
    if (!length || this.failed) return;
    const { described, payload, crc } = encodeColumns(this.builder.finish(noRecords));
    const header: BlockHeader = {
      format: FORMAT,
      from: this.from,
      to: this.to,
      sourceCrc: this.sourceCrc,
      length,
      columns: described,
      crc,
    };
    this.builder = new ColumnsBuilder();
    this.from = this.to;
    this.sourceCrc = 0;
    let size = 0;
    try {
      this.fd ??= openSync(blocksPath(this.recordsFile), 'a');
      size = fstatSync(this.fd).size;
      // one write, so a reader sees the block whole or cut short (and then ignores it)
      writeAll(this.fd, Buffer.concat([headOf(MAGIC, header), ...payload]));
    } catch {
      this.failed = true;
      if (this.fd !== undefined) {
        try {
          ftruncateSync(this.fd, size);
        } catch {
          // a block cut short is ignored by readers
        }
      }
    }
  }

  /** Writes the last block and closes the file. */
  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * The blocks of `file` (whose stat is `stat`) that describe it as it is, in the order of their
 * ranges, none overlapping another; none if there are no blocks.
 */
export function blocksDescribing(file: string, stat: Stats): Block[] {
  let buf: Buffer;
  try {
    buf = readFileSync(blocksPath(file));
  } catch {
    return [];
  }
  const blocks: Block[] = [];
  let end = 0;
  for (const { end: _, ...block } of parseBlocks(buf)) {
    // blocks are appended in the order of their ranges; one out of order, or beyond the file, is not the file's
    if (block.from < end || block.to > stat.size) continue;
    blocks.push(block);
    end = block.to;
  }
  if (!blocks.length) return blocks;
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(4 << 20);
    return blocks.filter((b) => crcOfRange(fd, buf, b.from, b.to) === b.sourceCrc);
  } finally {
    closeSync(fd);
  }
}

/**
 * The sound blocks of `buf`. One cut short or damaged (a run killed while writing it, whose
 * resumed run appended more after it) is skipped: reading goes on at the next magic. A magic
 * found by chance inside a block's arrays is no block: its header and CRC-32 do not hold.
 */
function* parseBlocks(buf: Buffer): Generator<Block & { end: number }> {
  for (let at = 0; at + 12 <= buf.length;) {
    const block = blockAt(buf, at);
    if (block) {
      yield block;
      at = block.end;
    } else {
      at = buf.indexOf(MAGIC, at + 1, 'latin1');
      if (at < 0) return;
    }
  }
}

/** The block that starts at `at` in `buf`, and where it ends; null if there is no sound one. */
function blockAt(buf: Buffer, at: number): (Block & { end: number }) | null {
  if (buf.toString('latin1', at, at + 8) !== MAGIC) return null;
  const headerBytes = buf.readUInt32LE(at + 8);
  if (at + 12 + headerBytes > buf.length) return null;
  let header: BlockHeader;
  try {
    header = JSON.parse(buf.toString('utf8', at + 12, at + 12 + headerBytes)) as BlockHeader;
  } catch {
    return null;
  }
  if (header.format !== FORMAT || !Number.isSafeInteger(header.from) || !Number.isSafeInteger(header.to)) return null;
  if (!Number.isSafeInteger(header.length) || header.length <= 0 || header.from >= header.to) return null;
  const start = align(at + 12 + headerBytes);
  const decoded = decodeColumns(buf, start, header.length, header.columns);
  if (!decoded || crc32(buf.subarray(start, decoded.end)) !== header.crc) return null;
  const columns = new RecordColumns(header.length, decoded.keys, decoded.fields, noRecords);
  return { from: header.from, to: header.to, sourceCrc: header.sourceCrc, columns, end: decoded.end };
}

/** CRC-32 of bytes `from` to `to` of the file open as `fd`, read through `buf`. */
function crcOfRange(fd: number, buf: Buffer, from: number, to: number): number {
  let crc = 0;
  for (let pos = from; pos < to;) {
    const got = readSync(fd, buf, 0, Math.min(buf.length, to - pos), pos);
    if (got === 0) return -1;
    crc = crc32(buf.subarray(0, got), crc);
    pos += got;
  }
  return crc;
}
