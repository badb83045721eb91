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
  const blocks: ReportBlock[] = [];
  let current: ReportBlock | null = null;
  for (const line of text.split('\n')) {
    const at = line.indexOf(REPORT_PREFIX);
    if (at < 0) continue;
    const rest = line.slice(at + REPORT_PREFIX.length).trim();
    if (rest.startsWith('begin ')) {
      current = { name: rest.slice(6).trim(), fields: {} };
    } else if (rest.startsWith('end ')) {
      if (current && current.name === rest.slice(4).trim()) blocks.push(current);
      current = null;
    } else if (current) {
      const colon = rest.indexOf(':');
      if (colon > 0) current.fields[rest.slice(0, colon).trim()] = parseBlockValue(rest.slice(colon + 1));
    }
  }
  return blocks;
}

/** Formats one block, so runtime libraries and scripts in any language can produce it. */
export function formatReportBlock(name: string, fields: Record<string, FieldValue>): string {
  const lines = [`${REPORT_PREFIX} begin ${name}`];
  for (const [k, v] of Object.entries(fields)) lines.push(`${REPORT_PREFIX} ${k}: ${v}`);
  lines.push(`${REPORT_PREFIX} end ${name}`);
  return lines.join('\n') + '\n';
}
