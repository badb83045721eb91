import { getAggregation } from './aggregate.js';
import { aggregateCell, numericValues } from './aggregated.js';
import { fileStem, instanceColors, ratioChart, type Chart } from './charts.js';
import { chartedSpecs, ratioPoints, SIGNIFICANCE_LEGEND } from './figures.js';
import type { FieldSpec } from './fields.js';
import { ALPHA, compare, SIGNIFICANT_MARK, type Comparison } from './overhead.js';
import type { Grouped } from './select.js';
import * as stats from './stats.js';
import { cellValue, type Cell, type Column, type ReportTable } from './table.js';

export const VERDICTS = ['improved', 'regressed', 'unchanged'] as const;
export type Verdict = (typeof VERDICTS)[number] | 'too few samples';

export interface CompareOptions {
  /** A change counts only beyond this many percent (LNT's rule: significant and large enough). */
  thresholdPercent: number;
  /** Fields where a larger value is better (throughput); for the others smaller is better. */
  higherIsBetter: ReadonlySet<string>;
  ci?: boolean;
}

/** Two runs grouped the same way: A is the reference, B the run compared with it. */
export interface RunPair {
  a: Grouped;
  b: Grouped;
  /** Groups present in both runs, in natural order. */
  groups: string[];
  /** Instances present in both runs. */
  instances: string[];
  groupby: string;
}

/** improved / regressed / unchanged: a change must be significant and beyond the threshold. */
export function verdict(ratio: number, c: Comparison, higherIsBetter: boolean, thresholdPercent: number): Verdict {
  if (c.p === null) return 'too few samples';
  if (!c.significant || Math.abs(ratio - 1) * 100 <= thresholdPercent) return 'unchanged';
  return ratio > 1 === higherIsBetter ? 'improved' : 'regressed';
}

/**
 * Per group a row; per instance and field the aggregate in A and in B, the ratio B/A (marked
 * when significant), the Mann–Whitney p-value of B's samples against A's (and the bootstrap
 * interval with `ci`) and the verdict. The summary row holds the geometric mean of the
 * ratios, with a verdict by the threshold alone.
 */
export function compareTable(pair: RunPair, specs: readonly FieldSpec[], opts: CompareOptions): ReportTable {
  const columns: Column[] = [{ name: pair.groupby }];
  const ratioColumns: number[] = [];
  const charted = chartedSpecs(specs);
  for (const instance of pair.instances) {
    for (const s of specs) {
      for (const a of s.aggregations) {
        const field = getAggregation(a).scaled ? { field: s.field } : {};
        columns.push({ group: instance, name: `${s.field}:${a} A`, ...field }, { group: instance, name: `${s.field}:${a} B`, ...field });
      }
    }
    for (const c of charted) {
      ratioColumns.push(columns.length);
      const key = `${instance}.${c.field}`;
      columns.push({ group: instance, name: `${c.field} B/A`, key: `${key}.ratio`, unit: 'ratio' });
      columns.push({ group: instance, name: `${c.field} p`, key: `${key}.p`, kind: 'test' });
      if (opts.ci) columns.push({ group: instance, name: `${c.field} 95% CI`, key: `${key}.ci`, kind: 'interval', unit: 'ratio' });
      columns.push({ group: instance, name: `${c.field} verdict`, key: `${key}.verdict` });
    }
  }
  const rows = pair.groups.map((group) => {
    const row: Cell[] = [group];
    for (const instance of pair.instances) {
      for (const s of specs) {
        for (const a of s.aggregations)
          row.push(aggregateCell(pair.a, group, instance, s.field, a), aggregateCell(pair.b, group, instance, s.field, a));
      }
      for (const c of charted) row.push(...comparisonCells(pair, group, instance, c, opts));
    }
    return row;
  });
  const summary = geomeanRow(columns, ratioColumns, rows, charted, opts);
  return { columns, rows, summary: [summary], notes: compareNotes(opts) };
}

function comparisonCells(
  pair: RunPair,
  group: string,
  instance: string,
  c: { field: string; aggregation: string },
  opts: CompareOptions,
): Cell[] {
  const a = aggregateCell(pair.a, group, instance, c.field, c.aggregation);
  const b = aggregateCell(pair.b, group, instance, c.field, c.aggregation);
  const empty = opts.ci ? [null, null, null, null] : [null, null, null];
  if (typeof a !== 'number' || typeof b !== 'number' || a === 0) return empty;
  const ratio = b / a;
  const samplesA = numericValues(pair.a.cells.get(group)?.get(instance), c.field);
  const samplesB = numericValues(pair.b.cells.get(group)?.get(instance), c.field);
  const cmp = compare(samplesA, samplesB, !!opts.ci && c.aggregation === 'median');
  const cells: Cell[] = [
    { value: ratio, mark: cmp.significant ? SIGNIFICANT_MARK : '', keepDecimals: true },
    cmp.p === null ? null : { value: cmp.p, mark: '', keepDecimals: true, significant: cmp.significant },
  ];
  if (opts.ci) cells.push(cmp.ci ? { interval: cmp.ci } : null);
  cells.push(verdict(ratio, cmp, opts.higherIsBetter.has(c.field), opts.thresholdPercent));
  return cells;
}

function geomeanRow(
  columns: Column[],
  ratioColumns: number[],
  rows: Cell[][],
  charted: Array<{ field: string }>,
  opts: CompareOptions,
): Cell[] {
  const row: Cell[] = columns.map((_, i) => (i === 0 ? 'geomean' : null));
  ratioColumns.forEach((col, k) => {
    const xs = rows.map((r) => cellValue(r[col] ?? null)).filter((v): v is number => typeof v === 'number' && v > 0);
    if (!xs.length) return;
    const g = stats.geomean(xs);
    row[col] = { value: g, mark: '', keepDecimals: true };
    const field = charted[k % charted.length]!.field;
    const beyond = Math.abs(g - 1) * 100 > opts.thresholdPercent;
    const verdictCol = col + (opts.ci ? 3 : 2);
    row[verdictCol] = !beyond ? 'unchanged' : g > 1 === opts.higherIsBetter.has(field) ? 'improved' : 'regressed';
  });
  return row;
}

function compareNotes(opts: CompareOptions): string[] {
  return [
    `B/A: the value of run B divided by that of run A; ${SIGNIFICANT_MARK} significant: two-sided Mann-Whitney U test of the successful samples, alpha ${ALPHA}` +
      (opts.ci ? '; 95% CI: bootstrap interval of the ratio of medians.' : '.'),
    `verdict: improved or regressed only when significant and more than ${opts.thresholdPercent}% away from 1 ` +
      `(smaller is better${opts.higherIsBetter.size ? `, except for ${[...opts.higherIsBetter].join(', ')}` : ''}); ` +
      `the geomean verdict applies the threshold alone.`,
    `p needs at least ${stats.MIN_SAMPLES_FOR_TEST} successful samples on each side ('too few samples' otherwise).`,
  ];
}

/** Per charted field a bar chart of B/A per group and instance. */
export function compareCharts(pair: RunPair, specs: readonly FieldSpec[], labels: { a: string; b: string }): Chart[] {
  return chartedSpecs(specs).map(({ field, aggregation }) => {
    const median = aggregation === 'median';
    const points = ratioPoints(
      pair.groups,
      pair.instances,
      field,
      aggregation,
      (instance) => ({ data: pair.a, instance }),
      (instance) => ({ data: pair.b, instance }),
    );
    return ratioChart(points, {
      name: fileStem('compare', field, aggregation),
      title: `${field}: run B relative to run A`,
      subtitle: [
        `A = ${labels.a}, B = ${labels.b}: ${aggregation} of B divided by that of A per ${pair.groupby}`,
        'dashed line: unchanged; outlined bars: geometric mean',
        (median ? 'whiskers: bootstrap 95% confidence interval; ' : '') + SIGNIFICANCE_LEGEND,
      ],
      yTitle: `${field} ${aggregation}, B / A (ratio)`,
      groupby: pair.groupby,
      groups: pair.groups,
      instances: pair.instances,
      colors: instanceColors(pair.instances, pair.instances),
    });
  });
}
