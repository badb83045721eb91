import { getAggregation } from './aggregate.js';
import { aggregateCell, failureCell, fieldValues, hasFailures, numericValues } from './aggregated.js';
import type { FieldSpec } from './fields.js';
import type { Grouped } from './select.js';
import * as stats from './stats.js';
import { cellValue, type Cell, type Column, type ReportTable } from './table.js';

/** Significance level of the Mann–Whitney U test. */
export const ALPHA = 0.05;
export const SIGNIFICANT_MARK = '*';
export const TOO_FEW = 'n/a (too few samples)';

export interface OverheadOptions {
  baseline: string;
  /** Add a bootstrap 95% confidence interval of the ratio of medians per field. */
  ci?: boolean;
}

export interface OverheadTable {
  table: ReportTable;
  /** Indexes of the columns holding ratios to the baseline. */
  ratioColumns: Set<number>;
}

/** The outcome of comparing one instance with the baseline in one group, for one field. */
export interface Comparison {
  /** null when either side has fewer than {@link stats.MIN_SAMPLES_FOR_TEST} samples. */
  p: number | null;
  significant: boolean;
  ci?: [number, number];
}

export function compare(base: readonly number[], other: readonly number[], withCi: boolean): Comparison {
  if (base.length < stats.MIN_SAMPLES_FOR_TEST || other.length < stats.MIN_SAMPLES_FOR_TEST) {
    return { p: null, significant: false };
  }
  const { p } = stats.mannWhitneyU(other, base);
  const out: Comparison = { p, significant: p < ALPHA };
  if (withCi) out.ci = stats.bootstrapRatioCI(base, other);
  return out;
}

/**
 * `--overhead BASELINE`: the baseline's aggregated values as they are, and for every other
 * instance the ratio of its value to the baseline's in the same group (1.153 means 15.3%
 * more than the baseline). Aggregations that are not on the field's scale (count,
 * stdev_percent...) are shown as they are. Per field, a two-sided Mann–Whitney U test of the
 * successful samples against the baseline's marks significant differences; the last row is
 * the geometric mean of each ratio column (never the arithmetic mean of ratios).
 */
export function overheadTable(data: Grouped, specs: FieldSpec[], opts: OverheadOptions): OverheadTable {
  const layout = overheadColumns(data, specs, opts);
  let anyTooFew = false;
  const rows = data.groups.map((group) => {
    const row: Cell[] = [group];
    for (const instance of data.instances) {
      const cells = instanceCells(data, layout, opts, group, instance);
      anyTooFew ||= cells.tooFew;
      row.push(...cells.cells);
    }
    return row;
  });
  const summary = [geomeanRow(layout.columns, layout.ratioColumns, rows)];
  const table = { columns: layout.columns, rows, summary, notes: overheadNotes(data, opts, anyTooFew) };
  return { table, ratioColumns: layout.ratioColumns };
}

/** The columns of an overhead table, and which hold ratios. */
interface OverheadLayout {
  columns: Column[];
  ratioColumns: Set<number>;
  /** Per instance the fields it has values of (a pass's own counter only its instance has). */
  specs: Map<string, FieldSpec[]>;
  /** Per other instance the fields compared with the baseline: on the field's scale, both have them. */
  tested: Map<string, FieldSpec[]>;
  /** Fields the baseline has: only these become ratios. */
  baselineFields: Set<string>;
  /** Whether any execution failed (each instance then gets an 'unsuccessful' column). */
  failures: boolean;
}

/** Whether an instance has a value of the field in any group. */
function hasField(data: Grouped, instance: string, field: string): boolean {
  for (const row of data.cells.values()) if (fieldValues(row.get(instance), field).length) return true;
  return false;
}

function overheadColumns(data: Grouped, allSpecs: FieldSpec[], opts: OverheadOptions): OverheadLayout {
  const failures = hasFailures(data);
  const columns: Column[] = [{ name: data.groupby }];
  const ratioColumns = new Set<number>();
  const baselineFields = new Set(allSpecs.filter((s) => hasField(data, opts.baseline, s.field)).map((s) => s.field));
  const specs = new Map<string, FieldSpec[]>();
  const tested = new Map<string, FieldSpec[]>();
  for (const instance of data.instances) {
    const isBase = instance === opts.baseline;
    // a field no instance has keeps its (empty) columns, so a misspelt field is visible
    const own = allSpecs.filter((s) => hasField(data, instance, s.field) || !data.instances.some((i) => hasField(data, i, s.field)));
    specs.set(instance, own);
    for (const s of own) {
      for (const a of s.aggregations) {
        const scaled = getAggregation(a).scaled;
        const ratio = !isBase && scaled && baselineFields.has(s.field);
        if (ratio) ratioColumns.add(columns.length);
        columns.push({ group: instance, name: `${s.field}:${a}`, ...(!scaled ? {} : ratio ? { unit: 'ratio' } : { field: s.field }) });
      }
    }
    const compared = isBase ? [] : own.filter((s) => baselineFields.has(s.field) && s.aggregations.some((a) => getAggregation(a).scaled));
    tested.set(instance, compared);
    for (const s of compared) {
      columns.push({ group: instance, name: `${s.field} p`, key: `${instance}.${s.field}.p`, kind: 'test' });
      if (opts.ci)
        columns.push({ group: instance, name: `${s.field} 95% CI`, key: `${instance}.${s.field}.ci`, kind: 'interval', unit: 'ratio' });
    }
    if (failures) columns.push({ group: instance, name: 'unsuccessful' });
  }
  return { columns, ratioColumns, specs, tested, baselineFields, failures };
}

/** One instance's cells in one group's row: values (ratios for other instances), tests, failures. */
function instanceCells(
  data: Grouped,
  layout: OverheadLayout,
  opts: OverheadOptions,
  group: string,
  instance: string,
): { cells: Cell[]; tooFew: boolean } {
  const { baseline } = opts;
  const isBase = instance === baseline;
  const tested = layout.tested.get(instance) ?? [];
  const comparisons = isBase ? new Map<string, Comparison>() : compareGroup(data, tested, opts, group, instance);
  const cells: Cell[] = [];
  let tooFew = false;
  for (const s of layout.specs.get(instance) ?? []) {
    for (const a of s.aggregations) {
      const value = aggregateCell(data, group, instance, s.field, a);
      if (isBase || !getAggregation(a).scaled || !layout.baselineFields.has(s.field)) cells.push(value);
      else cells.push(ratioCell(value, aggregateCell(data, group, baseline, s.field, a), comparisons.get(s.field)));
    }
  }
  for (const s of tested) {
    const c = comparisons.get(s.field);
    if (c?.p === null) tooFew = true;
    cells.push(pValueCell(c));
    if (opts.ci) cells.push(c?.ci ? { interval: c.ci } : null);
  }
  if (layout.failures) cells.push(failureCell(data, group, instance));
  return { cells, tooFew };
}

/** The significance tests of one instance against the baseline in one group, per field. */
function compareGroup(data: Grouped, tested: FieldSpec[], opts: OverheadOptions, group: string, instance: string): Map<string, Comparison> {
  const out = new Map<string, Comparison>();
  const cell = data.cells.get(group)?.get(instance);
  const baseCell = data.cells.get(group)?.get(opts.baseline);
  if (!cell || !baseCell) return out;
  for (const s of tested) out.set(s.field, compare(numericValues(baseCell, s.field), numericValues(cell, s.field), !!opts.ci));
  return out;
}

function ratioCell(value: Cell, base: Cell, comparison: Comparison | undefined): Cell {
  if (typeof value !== 'number' || typeof base !== 'number') return null;
  const ratio = value / base;
  return { value: ratio, mark: comparison?.significant ? SIGNIFICANT_MARK : '', keepDecimals: true };
}

function pValueCell(c: Comparison | undefined): Cell {
  if (!c) return null;
  if (c.p === null) return TOO_FEW;
  return { value: c.p, mark: c.significant ? ` ${SIGNIFICANT_MARK}` : '', keepDecimals: true, significant: c.significant };
}

/** The geometric mean of each ratio column (never the arithmetic mean of ratios). */
function geomeanRow(columns: Column[], ratioColumns: Set<number>, rows: Cell[][]): Cell[] {
  return columns.map((_, i) => {
    if (i === 0) return 'geomean';
    if (!ratioColumns.has(i)) return null;
    const xs: number[] = [];
    for (const row of rows) {
      const v = cellValue(row[i] ?? null);
      if (typeof v === 'number' && Number.isFinite(v) && v > 0) xs.push(v);
    }
    return xs.length ? { value: stats.geomean(xs), mark: '', keepDecimals: true } : null;
  });
}

function overheadNotes(data: Grouped, opts: OverheadOptions, anyTooFew: boolean): string[] {
  const { baseline } = opts;
  const others = data.instances.filter((i) => i !== baseline);
  const notes = [
    `Overheads: ${others.length ? others.join(', ') : 'each instance'} relative to '${baseline}', as ratios per ` +
      `${data.groupby} (1.153 = 15.3% more than '${baseline}'); the geomean row is the geometric mean of the ratios.`,
    `${SIGNIFICANT_MARK} significant difference from '${baseline}': two-sided Mann-Whitney U test of the ` +
      `successful samples, alpha ${ALPHA}` +
      (opts.ci ? '; 95% CI: bootstrap interval of the ratio of medians.' : '.'),
  ];
  if (anyTooFew) notes.push(`${TOO_FEW}: the test needs at least ${stats.MIN_SAMPLES_FOR_TEST} successful samples on each side.`);
  const power = powerNote(data, baseline);
  if (power) notes.push(power);
  return notes;
}

/** The smallest two-sided p-value the exact Mann–Whitney test can give with n1 and n2 samples. */
export function smallestPossibleP(n1: number, n2: number): number {
  let ways = 1; // C(n1 + n2, n1), the number of equally likely arrangements
  for (let k = 1; k <= n1; k++) ways = (ways * (n2 + k)) / k;
  return Math.min(1, 2 / ways);
}

/** Below this smallest possible p, the test can also tell overlapping samples apart. */
const WEAK_TEST_P = 0.01;

/**
 * With few samples the test is weak: with 4 per side the smallest possible p is 0.029, so
 * "significant" only means the samples do not overlap at all. Says so, with the iterations
 * that would let the test see smaller, overlapping differences.
 */
function powerNote(data: Grouped, baseline: string): string | null {
  let fewest = Infinity;
  for (const row of data.cells.values()) {
    const base = row.get(baseline)?.ok.length ?? 0;
    for (const [instance, cell] of row) {
      if (instance === baseline || base < stats.MIN_SAMPLES_FOR_TEST || cell.ok.length < stats.MIN_SAMPLES_FOR_TEST) continue;
      fewest = Math.min(fewest, base, cell.ok.length);
    }
  }
  if (!Number.isFinite(fewest)) return null;
  const p = smallestPossibleP(fewest, fewest);
  if (p < WEAK_TEST_P) return null;
  let suggested = fewest;
  while (smallestPossibleP(suggested, suggested) >= WEAK_TEST_P / 10) suggested++;
  return (
    `With ${fewest} samples per side the smallest possible p is ${p.toFixed(3)}: "significant" only means the ` +
    `samples do not overlap at all. Run at least ${suggested} iterations (-i ${suggested}) to detect smaller, overlapping differences.`
  );
}
