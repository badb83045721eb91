/**
 * The report's table model and its output formats. Values stay typed until formatting, so
 * machine formats (csv, json) get plain numbers and human formats get rounded, aligned text.
 */

export type CellValue = number | string | boolean | null;

/** A value with a marker appended in text formats (e.g. `*` for a significant difference). */
export interface MarkedCell {
  value: CellValue;
  mark: string;
  /** Shown with all `precision` decimals even when whole (a ratio of 1 reads 1.000). */
  keepDecimals?: boolean;
  /** The outcome of a significance test (machine formats give it a column of its own). */
  significant?: boolean;
}

/** A confidence interval: `[lo, hi]` in text formats, two numbers in machine formats. */
export interface IntervalCell {
  interval: [number, number];
}

export type Cell = CellValue | MarkedCell | IntervalCell;

export interface Column {
  name: string;
  /** Header shown above a run of columns (the instance). */
  group?: string;
  /** Name in machine formats (csv, json...), without spaces; default: group and name joined by dots. */
  key?: string;
  /**
   * `interval`: machine formats write `KEY.low` and `KEY.high`; `test`: a p-value column, to
   * which machine formats add `FIELD.significant` (true, false or empty without a test).
   */
  kind?: 'interval' | 'test';
  /** The unit of the column's numbers (`seconds`, `KiB`, `ratio`), said by the JSON format. */
  unit?: string;
  /** The field whose values (on its own scale) the column holds, so its unit can be found. */
  field?: string;
}

export interface ReportTable {
  columns: Column[];
  rows: Cell[][];
  /** Rows under a rule at the bottom (geomean of overheads, --aggregate). */
  summary: Cell[][];
  /** Lines printed under the table in human formats (legend, warnings). */
  notes: string[];
}

export const TABLE_FORMATS = ['fancy', 'ascii', 'csv', 'tsv', 'ssv', 'json', 'markdown', 'latex'] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

const isMarked = (c: Cell): c is MarkedCell => c !== null && typeof c === 'object' && 'mark' in c;
const isInterval = (c: Cell): c is IntervalCell => c !== null && typeof c === 'object' && 'interval' in c;
/** The plain value of a cell (an interval has none: null). */
export const cellValue = (c: Cell): CellValue => (isMarked(c) ? c.value : isInterval(c) ? null : c);

/** Rounds to `precision` decimals, keeping integers whole and tiny values visible. */
export function formatNumber(x: number, precision: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x)) return String(x);
  const fixed = x.toFixed(precision);
  if (x !== 0 && Number(fixed) === 0) return x.toPrecision(Math.max(1, precision));
  return fixed;
}

export function cellText(c: Cell, precision: number, withMark: boolean): string {
  if (isInterval(c)) return `[${formatNumber(c.interval[0], precision)}, ${formatNumber(c.interval[1], precision)}]`;
  const v = cellValue(c);
  const fixed = isMarked(c) && c.keepDecimals && typeof v === 'number' && Number.isFinite(v);
  const s = v === null ? '' : fixed ? v.toFixed(precision) : typeof v === 'number' ? formatNumber(v, precision) : String(v);
  return withMark && isMarked(c) && c.mark ? s + c.mark : s;
}

const flatName = (c: Column): string => (c.group ? `${c.group}/${c.name}` : c.name);

/** `asan` and `runtime:median` give `asan.runtime.median`. */
export const columnKey = (c: Column): string =>
  c.key ??
  [c.group, c.name]
    .filter(Boolean)
    .join('.')
    .replace(/[:\s/]+/g, '.')
    .replace(/[^\w.%+-]/g, '');

export function formatTable(table: ReportTable, format: TableFormat, precision: number): string {
  switch (format) {
    case 'fancy':
      return boxed(table, precision, FANCY) + notes(table);
    case 'ascii':
      return boxed(table, precision, ASCII) + notes(table);
    case 'markdown':
      return markdown(table, precision) + notes(table);
    case 'csv':
      return separated(table, ',', csvQuote);
    case 'tsv':
      return separated(table, '\t', (s) => s.replace(/[\t\n]/g, ' '));
    case 'ssv':
      return separated(table, ' ', (s) => (s === '' ? '-' : /[\s"]/.test(s) ? csvQuote(s.replace(/\n/g, ' '), true) : s));
    case 'json':
      return json(table);
    case 'latex':
      return latex(table, precision);
  }
}

function notes(table: ReportTable): string {
  return table.notes.length ? '\n' + table.notes.join('\n') + '\n' : '';
}

function csvQuote(s: string, force = false): string {
  return force || /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A column of a machine format: its name, unit and how a row's value is read. */
interface MachineColumn {
  key: string;
  unit?: string;
  value(row: Cell[]): CellValue;
}

/**
 * The columns machine formats write: every value at full precision, an interval as two
 * numbers, a test as its p-value and a boolean, and (when there are summary rows) a last
 * `summary` column naming the summary (`geomean`), so those rows are not taken for data.
 */
function machineColumns(table: ReportTable): MachineColumn[] {
  const out: MachineColumn[] = [];
  table.columns.forEach((c, i) => {
    const key = columnKey(c);
    const unit = c.unit ? { unit: c.unit } : {};
    if (c.kind === 'interval') {
      const end = (k: 0 | 1) => (row: Cell[]) => {
        const cell = row[i] ?? null;
        return isInterval(cell) ? cell.interval[k] : null;
      };
      out.push({ key: `${key}.low`, ...unit, value: end(0) }, { key: `${key}.high`, ...unit, value: end(1) });
    } else if (c.kind === 'test') {
      const cellOf = (row: Cell[]) => row[i] ?? null;
      out.push({ key, value: (row) => (typeof cellValue(cellOf(row)) === 'number' ? cellValue(cellOf(row)) : null) });
      out.push({
        key: `${key.replace(/\.p$/, '')}.significant`,
        value: (row) => {
          const cell = cellOf(row);
          return isMarked(cell) && cell.significant !== undefined ? cell.significant : null;
        },
      });
    } else {
      out.push({ key, ...unit, value: (row) => cellValue(row[i] ?? null) });
    }
  });
  if (table.summary.length) {
    const labels = new Map(table.summary.map((r) => [r, String(cellValue(r[0] ?? null) ?? 'summary')]));
    out.push({ key: 'summary', value: (row) => labels.get(row) ?? '' });
  }
  return out;
}

/** A number as JavaScript writes it: the shortest text that reads back as the same number. */
function exact(v: CellValue): string {
  if (v === null) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : formatNumber(v, 0);
  return String(v);
}

function separated(table: ReportTable, sep: string, quote: (s: string) => string): string {
  const columns = machineColumns(table);
  const lines = [columns.map((c) => quote(c.key)).join(sep)];
  for (const row of [...table.rows, ...table.summary]) lines.push(columns.map((c) => quote(exact(c.value(row)))).join(sep));
  return lines.join('\n') + '\n';
}

function json(table: ReportTable): string {
  return JSON.stringify(jsonObject(table), null, 2) + '\n';
}

/**
 * A table as JSON, with tables shown after it in human formats (e.g. a web-server sweep's
 * saturation table) under `tables`, each with its heading; without any, as {@link formatTable}.
 */
export function formatJsonTables(table: ReportTable, extra: ReadonlyArray<{ heading: string; table: ReportTable }>): string {
  if (!extra.length) return json(table);
  const tables = extra.map((t) => ({ heading: t.heading, ...jsonObject(t.table) }));
  return JSON.stringify({ ...jsonObject(table), tables }, null, 2) + '\n';
}

function jsonObject(table: ReportTable) {
  const columns = machineColumns(table);
  const toObject = (row: Cell[]) => {
    const o: Record<string, CellValue> = {};
    for (const c of columns) {
      const v = c.value(row);
      // JSON has no NaN or Infinity; null says "no value"
      o[c.key] = typeof v === 'number' && !Number.isFinite(v) ? null : v;
    }
    return o;
  };
  const meta = columns.filter((c) => c.key !== 'summary').map((c) => ({ key: c.key, ...(c.unit ? { unit: c.unit } : {}) }));
  return { columns: meta, rows: table.rows.map(toObject), summary: table.summary.map(toObject), notes: table.notes };
}

function markdown(table: ReportTable, precision: number): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const numeric = numericColumns(table);
  const lines = [
    '| ' + table.columns.map((c) => esc(flatName(c))).join(' | ') + ' |',
    '|' + table.columns.map((_, i) => (numeric[i] ? ' ---: ' : ' --- ')).join('|') + '|',
  ];
  for (const row of [...table.rows, ...table.summary]) {
    lines.push('| ' + row.map((c) => esc(cellText(c, precision, true))).join(' | ') + ' |');
  }
  return lines.join('\n') + '\n';
}

export function numericColumns(table: ReportTable): boolean[] {
  return table.columns.map((_, i) => [...table.rows, ...table.summary].some((r) => typeof cellValue(r[i] ?? null) === 'number'));
}

interface BoxChars {
  h: string;
  v: string;
  tl: string;
  tm: string;
  tr: string;
  ml: string;
  mm: string;
  mr: string;
  bl: string;
  bm: string;
  br: string;
}
const FANCY: BoxChars = { h: '─', v: '│', tl: '┌', tm: '┬', tr: '┐', ml: '├', mm: '┼', mr: '┤', bl: '└', bm: '┴', br: '┘' };
const ASCII: BoxChars = { h: '-', v: '|', tl: '+', tm: '+', tr: '+', ml: '+', mm: '+', mr: '+', bl: '+', bm: '+', br: '+' };

/** Runs of adjacent columns sharing a group header. */
export function groupSpans(columns: Column[]): Array<{ label: string; from: number; to: number }> {
  const spans: Array<{ label: string; from: number; to: number }> = [];
  columns.forEach((c, i) => {
    const label = c.group ?? '';
    const last = spans[spans.length - 1];
    if (last && last.label === label && label !== '') last.to = i;
    else spans.push({ label, from: i, to: i });
  });
  return spans;
}

function boxed(table: ReportTable, precision: number, ch: BoxChars): string {
  const body = table.rows.map((r) => r.map((c) => cellText(c, precision, true)));
  const summary = table.summary.map((r) => r.map((c) => cellText(c, precision, true)));
  const numeric = numericColumns(table);
  const widths = table.columns.map((c) => c.name.length);
  for (const row of [...body, ...summary]) row.forEach((s, i) => (widths[i] = Math.max(widths[i]!, s.length)));
  const hasGroups = table.columns.some((c) => c.group);
  const spans = groupSpans(table.columns);
  if (hasGroups) {
    for (const s of spans) {
      const inner = spanWidth(widths, s.from, s.to);
      if (s.label.length > inner) widths[s.to]! += s.label.length - inner;
    }
  }
  const rule = (l: string, m: string, r: string) => l + widths.map((w) => ch.h.repeat(w + 2)).join(m) + r;
  const line = (cells: string[]) =>
    ch.v + cells.map((s, i) => ' ' + (numeric[i] ? s.padStart(widths[i]!) : s.padEnd(widths[i]!)) + ' ').join(ch.v) + ch.v;
  const out: string[] = [];
  if (hasGroups) {
    out.push(ch.tl + spans.map((s) => ch.h.repeat(spanWidth(widths, s.from, s.to) + 2)).join(ch.tm) + ch.tr);
    out.push(ch.v + spans.map((s) => ' ' + center(s.label, spanWidth(widths, s.from, s.to)) + ' ').join(ch.v) + ch.v);
    // the rule under the group row has joints where either row has a column boundary
    const starts = new Set(spans.map((s) => s.from));
    out.push(
      ch.ml +
        widths
          .map((w) => ch.h.repeat(w + 2))
          .map((seg, i) => (i === 0 ? seg : (starts.has(i) ? ch.mm : ch.tm) + seg))
          .join('') +
        ch.mr,
    );
  } else {
    out.push(rule(ch.tl, ch.tm, ch.tr));
  }
  out.push(ch.v + table.columns.map((c, i) => ' ' + c.name.padEnd(widths[i]!) + ' ').join(ch.v) + ch.v);
  out.push(rule(ch.ml, ch.mm, ch.mr));
  for (const r of body) out.push(line(r));
  if (summary.length) {
    out.push(rule(ch.ml, ch.mm, ch.mr));
    for (const r of summary) out.push(line(r));
  }
  out.push(rule(ch.bl, ch.bm, ch.br));
  return out.join('\n') + '\n';
}

function spanWidth(widths: number[], from: number, to: number): number {
  let w = 0;
  for (let i = from; i <= to; i++) w += widths[i]!;
  return w + (to - from) * 3;
}

function center(s: string, width: number): string {
  const left = Math.floor((width - s.length) / 2);
  return ' '.repeat(left) + s + ' '.repeat(width - s.length - left);
}

const LATEX_SPECIAL: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '&': '\\&',
  '%': '\\%',
  $: '\\$',
  '#': '\\#',
  _: '\\_',
  '{': '\\{',
  '}': '\\}',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}',
};
const latexEscape = (s: string): string => s.replace(/[\\&%$#_{}~^]/g, (c) => LATEX_SPECIAL[c]!);

/**
 * A booktabs table (`\usepackage{booktabs}`): instance headers over their columns with
 * `\cmidrule`, numbers right-aligned, the summary rows under a `\midrule`, the notes as
 * comments so the table can be `\input` unchanged.
 */
function latex(table: ReportTable, precision: number): string {
  const numeric = numericColumns(table);
  const row = (cells: string[]) => '  ' + cells.join(' & ') + ' \\\\';
  const text = (r: Cell[]) => r.map((c) => latexEscape(cellText(c, precision, true)));
  const out = [`\\begin{tabular}{${numeric.map((n) => (n ? 'r' : 'l')).join('')}}`, '  \\toprule'];
  if (table.columns.some((c) => c.group)) {
    const spans = groupSpans(table.columns);
    out.push(
      row(spans.map((s) => (s.to > s.from ? `\\multicolumn{${s.to - s.from + 1}}{c}{${latexEscape(s.label)}}` : latexEscape(s.label)))),
    );
    const rules = spans.filter((s) => s.label).map((s) => `\\cmidrule(lr){${s.from + 1}-${s.to + 1}}`);
    if (rules.length) out.push('  ' + rules.join(' '));
  }
  out.push(row(table.columns.map((c) => latexEscape(c.name))), '  \\midrule');
  for (const r of table.rows) out.push(row(text(r)));
  if (table.summary.length) {
    out.push('  \\midrule');
    for (const r of table.summary) out.push(row(text(r)));
  }
  out.push('  \\bottomrule', '\\end{tabular}');
  for (const n of table.notes) out.push(`% ${n.replace(/\n/g, ' ')}`);
  return out.join('\n') + '\n';
}
