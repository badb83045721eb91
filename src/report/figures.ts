import { getAggregation } from './aggregate.js';
import { aggregateCell, numericValues } from './aggregated.js';
import {
  distributionChart,
  fileStem,
  instanceColors,
  ratioChart,
  sweepChart,
  type Chart,
  type RatioPoint,
  type Sample,
  type SweepPoint,
} from './charts.js';
import { RECORD_KEYS, type FieldSpec } from './fields.js';
import { ALPHA, compare } from './overhead.js';
import type { Grouped } from './select.js';
import { axisTitle } from './units.js';
import * as stats from './stats.js';

/** The specs a chart can be drawn for: numeric fields with an aggregation on their own scale. */
export function chartedSpecs(specs: readonly FieldSpec[]): Array<{ field: string; aggregation: string }> {
  const out: Array<{ field: string; aggregation: string }> = [];
  for (const s of specs) {
    if (s.field in RECORD_KEYS) continue;
    const a = s.aggregations.find((x) => getAggregation(x).scaled && x !== 'same' && x !== 'one' && x !== 'first');
    if (a && !out.some((o) => o.field === s.field)) out.push({ field: s.field, aggregation: a });
  }
  return out;
}

export const SIGNIFICANCE_LEGEND = `* significant (two-sided Mann-Whitney U test, alpha ${ALPHA})`;

/** Where one side of a ratio comes from: a run's grouped data and an instance in it. */
export type Side = (instance: string) => { data: Grouped; instance: string };

/**
 * The ratio of the `other` side to the `ref` side per group and instance for one field and
 * aggregation, with significance and (for medians) the bootstrap interval, and a
 * geometric-mean point per instance.
 */
export function ratioPoints(
  groups: readonly string[],
  instances: readonly string[],
  field: string,
  aggregation: string,
  ref: Side,
  other: Side,
): RatioPoint[] {
  const points: RatioPoint[] = [];
  for (const instance of instances) {
    const r = ref(instance);
    const o = other(instance);
    const ratios: number[] = [];
    for (const group of groups) {
      const a = aggregateCell(r.data, group, r.instance, field, aggregation);
      const b = aggregateCell(o.data, group, o.instance, field, aggregation);
      if (typeof a !== 'number' || typeof b !== 'number' || a === 0 || !Number.isFinite(b / a)) continue;
      const ratio = b / a;
      const base = numericValues(r.data.cells.get(group)?.get(r.instance), field);
      const c = compare(base, numericValues(o.data.cells.get(group)?.get(o.instance), field), aggregation === 'median');
      points.push({ group, instance, ratio, significant: c.significant, ...(c.ci ? { lo: c.ci[0], hi: c.ci[1] } : {}) });
      if (ratio > 0) ratios.push(ratio);
    }
    if (ratios.length) points.push({ group: 'geomean', instance, ratio: stats.geomean(ratios), significant: false, summary: true });
  }
  return points;
}

/**
 * When the groups are numbers (a sweep of connections, sizes, threads...), the aggregated
 * value of each instance at each of them; null otherwise or with fewer than 2 groups.
 */
export function sweepPoints(data: Grouped, field: string, aggregation: string): SweepPoint[] | null {
  if (data.groups.length < 2 || !data.groups.every((g) => g.trim() !== '' && Number.isFinite(Number(g)))) return null;
  const out: SweepPoint[] = [];
  for (const group of data.groups) {
    for (const instance of data.instances) {
      const v = aggregateCell(data, group, instance, field, aggregation);
      if (typeof v === 'number' && Number.isFinite(v)) out.push({ x: Number(group), instance, value: v });
    }
  }
  return out.length ? out : null;
}

/** Every sample of a field, per group and instance (successful executions only). */
export function samples(data: Grouped, field: string): Sample[] {
  const out: Sample[] = [];
  for (const group of data.groups) {
    for (const instance of data.instances) {
      for (const value of numericValues(data.cells.get(group)?.get(instance), field)) out.push({ group, instance, value });
    }
  }
  return out;
}

/**
 * The charts of a report: per charted field an overhead chart (with a baseline) and the
 * distribution of the samples.
 */
export function reportCharts(data: Grouped, specs: readonly FieldSpec[], known: Map<string, string>, baseline?: string): Chart[] {
  const charts: Chart[] = [];
  for (const { field, aggregation } of chartedSpecs(specs)) {
    const yTitle = axisTitle(field, known.get(field));
    if (baseline) {
      const others = data.instances.filter((i) => i !== baseline);
      const median = aggregation === 'median';
      const points = ratioPoints(
        data.groups,
        others,
        field,
        aggregation,
        () => ({ data, instance: baseline }),
        (instance) => ({ data, instance }),
      );
      if (points.length) {
        charts.push(
          ratioChart(points, {
            name: fileStem('overhead', field, aggregation),
            title: `${field} of ${others.join(', ')} relative to ${baseline}`,
            subtitle: [
              `${aggregation} per ${data.groupby} divided by the ${aggregation} of ${baseline}`,
              `dashed line: same as ${baseline}; outlined bars: geometric mean`,
              (median ? 'whiskers: bootstrap 95% confidence interval; ' : '') + SIGNIFICANCE_LEGEND,
            ],
            yTitle: `${field} ${aggregation} / ${baseline} (ratio)`,
            groupby: data.groupby,
            groups: data.groups,
            instances: others,
            colors: instanceColors(data.instances, others),
          }),
        );
      }
    }
    const sweep = sweepPoints(data, field, aggregation);
    if (sweep) {
      charts.push(
        sweepChart(sweep, {
          name: fileStem('sweep', field, aggregation),
          title: `${field} against ${data.groupby}`,
          subtitle: [`${aggregation} of every ${data.groupby} value per instance`],
          yTitle: `${yTitle}, ${aggregation}`,
          groupby: data.groupby,
          groups: data.groups,
          instances: data.instances,
          colors: instanceColors(data.instances, data.instances),
        }),
      );
    }
    const values = samples(data, field);
    if (values.length) {
      charts.push(
        distributionChart(values, {
          name: fileStem('samples', field),
          title: `${field}: every sample per ${data.groupby} and instance`,
          subtitle: [
            'points: one per successful execution; box: quartiles and median, whiskers up to 1.5 IQR',
            'each panel has its own scale',
          ],
          yTitle,
          groupby: data.groupby,
          groups: data.groups,
          instances: data.instances,
          colors: instanceColors(data.instances, data.instances),
        }),
      );
    }
  }
  return charts;
}
