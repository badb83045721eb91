import { getAggregation } from './aggregate.js';
import { aggregateCell, failureCell, hasFailures, numericValues } from './aggregated.js';
import type { FieldSpec } from './fields.js';
import type { Grouped } from './select.js';
import * as stats from './stats.js';
import { cellValue, formatNumber, type Cell, type Column, type ReportTable } from './table.js';

/** Significance level of the Mann–Whitney U test. */
export const ALPHA = 0.05;
export const SIGNIFICANT_MARK = '*';
export const TOO_FEW = 'n/a (too few samples)';

export interface OverheadOptions {
  baseline: string;
  /** Add a bootstrap 95% confidence interval of the ratio of medians per field. */
  ci?: boolean;
  /** Decimals of the confidence interval text. */
  precision?: number;
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

export function compare(base: number[], other: number[], withCi: boolean): Comparison {
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
  const { baseline } = opts;
  const failures = hasFailures(data);
  const columns: Column[] = [{ name: data.groupby }];
  const ratioColumns = new Set<number>();
  const tested = specs.filter((s) => s.aggregations.some((a) => getAggregation(a).scaled));
  for (const instance of data.instances) {
    const isBase = instance === baseline;
    for (const s of specs) {
      for (const a of s.aggregations) {
        if (!isBase && getAggregation(a).scaled) ratioColumns.add(columns.length);
        columns.push({ group: instance, name: `${s.field}:${a}` });
      }
    }
    if (!isBase) {
      for (const s of tested) {
        columns.push({ group: instance, name: `${s.field} p` });
        if (opts.ci) columns.push({ group: instance, name: `${s.field} 95% CI` });
      }
    }
    if (failures) columns.push({ group: instance, name: 'unsuccessful' });
  }

  let anyTooFew = false;
  const rows = data.groups.map((group) => {
    const row: Cell[] = [group];
    const baseCell = data.cells.get(group)?.get(baseline);
    for (const instance of data.instances) {
      const isBase = instance === baseline;
      const cell = data.cells.get(group)?.get(instance);
      const comparisons = new Map<string, Comparison>();
      if (!isBase && cell && baseCell) {
        for (const s of tested) {
          comparisons.set(s.field, compare(numericValues(baseCell, s.field), numericValues(cell, s.field), !!opts.ci));
        }
      }
      for (const s of specs) {
        for (const a of s.aggregations) {
          const value = aggregateCell(data, group, instance, s.field, a);
          if (isBase || !getAggregation(a).scaled) {
            row.push(value);
            continue;
          }
          const base = aggregateCell(data, group, baseline, s.field, a);
          if (typeof value !== 'number' || typeof base !== 'number') {
            row.push(null);
            continue;
          }
          const ratio = value / base;
          row.push(comparisons.get(s.field)?.significant ? { value: ratio, mark: SIGNIFICANT_MARK } : ratio);
        }
      }
      if (!isBase) {
        for (const s of tested) {
          const c = comparisons.get(s.field);
          if (!c) row.push(null);
          else if (c.p === null) {
            anyTooFew = true;
            row.push(TOO_FEW);
          } else row.push(c.significant ? { value: c.p, mark: ` ${SIGNIFICANT_MARK}` } : c.p);
          if (opts.ci) row.push(c?.ci ? ciText(c.ci, opts.precision ?? 3) : null);
        }
      }
      if (failures) row.push(failureCell(data, group, instance));
    }
    return row;
  });

  const geomeanRow: Cell[] = columns.map((_, i) => {
    if (i === 0) return 'geomean';
    if (!ratioColumns.has(i)) return null;
    const xs: number[] = [];
    for (const row of rows) {
      const v = cellValue(row[i] ?? null);
      if (typeof v === 'number' && Number.isFinite(v) && v > 0) xs.push(v);
    }
    return xs.length ? stats.geomean(xs) : null;
  });

  const others = data.instances.filter((i) => i !== baseline);
  const notes = [
    `Overheads: ${others.length ? others.join(', ') : 'each instance'} relative to '${baseline}', as ratios per ` +
      `${data.groupby} (1.153 = 15.3% more than '${baseline}'); the geomean row is the geometric mean of the ratios.`,
    `${SIGNIFICANT_MARK} significant difference from '${baseline}': two-sided Mann-Whitney U test of the ` +
      `successful samples, alpha ${ALPHA}` + (opts.ci ? '; 95% CI: bootstrap interval of the ratio of medians.' : '.'),
  ];
  if (anyTooFew) notes.push(`${TOO_FEW}: the test needs at least ${stats.MIN_SAMPLES_FOR_TEST} successful samples on each side.`);
  return { table: { columns, rows, summary: [geomeanRow], notes }, ratioColumns };
}

function ciText([lo, hi]: [number, number], precision: number): string {
  return `[${formatNumber(lo, precision)}, ${formatNumber(hi, precision)}]`;
}
