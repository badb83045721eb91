import { createReadStream, readFileSync, statSync } from 'node:fs';
import type { FieldValue } from '../core/runner.js';

/**
 * Plain-text result blocks any program can print into its output (the Python original's
 * format, still accepted):
 *
 *   [setup-report] begin NAME
 *   [setup-report] key: value
 *   [setup-report] end NAME
 */
export const REPORT_PREFIX = '[setup-report]';

/** The block the Python original appends to a log to cache what it parsed from it. */
export const CACHED_BLOCK = 'cached';

/** One block of results a program printed (see {@link parseReportBlocks}). */
export interface ReportBlock {
  name: string;
  fields: Record<string, FieldValue>;
}

/** Reads a value back as the original wrote it: bool, int, float, or else the string. */
export function parseBlockValue(raw: string): FieldValue {
  const s = raw.trim();
  if (s === 'True' || s === 'true') return true;
  if (s === 'False' || s === 'false') return false;
  if (s === 'None') return null;
  if (/^[-+]?\d+$/.test(s)) return Number(s);
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) return Number(s);
  if (/^[-+]?(inf|infinity)$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  return s;
}

/**
 * Extracts every complete `[setup-report]` block from a program's output. A block that is
 * never ended (a crashed program) is dropped; lines without the prefix are ignored, so the
 * blocks may be interleaved with any other output.
 */
export function parseReportBlocks(text: string): ReportBlock[] {
  const parser = new ReportBlockParser();
  for (const line of text.split('\n')) parser.line(line);
  return parser.blocks;
}

/** {@link parseReportBlocks} fed one line at a time. */
export class ReportBlockParser {
  readonly blocks: ReportBlock[] = [];
  private current: ReportBlock | null = null;

  line(line: string): void {
    const at = line.indexOf(REPORT_PREFIX);
    if (at < 0) return;
    const rest = line.slice(at + REPORT_PREFIX.length).trim();
    // the original's first releases wrote `begin` and `end` without a name
    if (rest.startsWith('begin ') || rest === 'begin') {
      this.current = { name: rest.slice(6).trim(), fields: {} };
    } else if (rest.startsWith('end ') || rest === 'end') {
      if (this.current && this.current.name === rest.slice(4).trim()) this.blocks.push(this.current);
      this.current = null;
    } else if (this.current) {
      const colon = rest.indexOf(':');
      if (colon > 0) this.current.fields[rest.slice(0, colon).trim()] = parseBlockValue(rest.slice(colon + 1));
    }
  }
}

/**
 * Only the last this many bytes of a longer line are looked at: a block's lines are short, and
 * an output of any size (one line of hundreds of MB included) is read in bounded memory.
 */
export const MAX_REPORT_LINE = 64 * 1024;
const NEWLINE = 0x0a;
const PREFIX_BYTES = Buffer.from(REPORT_PREFIX);

/** {@link parseReportBlocks} of a file, streamed: memory stays bounded whatever its size. */
export async function readReportBlocks(file: string): Promise<ReportBlock[]> {
  // most outputs are small: read at once, without the thread-pool round trips of a stream
  const small = readSmallFile(file);
  if (small !== null) return parseReportBlocks(small.toString('utf8'));
  const parser = new ReportBlockParser();
  let carry: Buffer = Buffer.alloc(0);
  const feed = (line: Buffer) => {
    if (line.indexOf(PREFIX_BYTES) >= 0) parser.line(line.toString('utf8'));
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
      feed(carry.length ? Buffer.concat([carry, chunk.subarray(start, nl)]) : chunk.subarray(start, nl));
      carry = Buffer.alloc(0);
      start = nl + 1;
    }
    const tail = chunk.subarray(start);
    carry = carry.length + tail.length > MAX_REPORT_LINE ? lastBytes(carry, tail) : Buffer.concat([carry, tail]);
  }
  if (carry.length) feed(carry);
  return parser.blocks;
}

/** A regular file of at most {@link MAX_REPORT_LINE} bytes, read whole; null for anything else. */
function readSmallFile(file: string): Buffer | null {
  // stat first: opening a FIFO would block until a writer comes
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st?.isFile() || st.size > MAX_REPORT_LINE) return null;
  if (st.size === 0) return Buffer.alloc(0);
  const buf = readFileSync(file);
  return buf.length <= MAX_REPORT_LINE ? buf : null;
}

/** The last {@link MAX_REPORT_LINE} bytes of `a` followed by `b`, copied (not views of a larger chunk). */
function lastBytes(a: Buffer, b: Buffer): Buffer {
  if (b.length >= MAX_REPORT_LINE) return Buffer.from(b.subarray(b.length - MAX_REPORT_LINE));
  return Buffer.concat([a.subarray(a.length - (MAX_REPORT_LINE - b.length)), b]);
}

/** Formats one block, so runtime libraries and scripts in any language can produce it. */
export function formatReportBlock(name: string, fields: Record<string, FieldValue>): string {
  const lines = [`${REPORT_PREFIX} begin ${name}`];
  for (const [k, v] of Object.entries(fields)) lines.push(`${REPORT_PREFIX} ${k}: ${v}`);
  lines.push(`${REPORT_PREFIX} end ${name}`);
  return lines.join('\n') + '\n';
}
