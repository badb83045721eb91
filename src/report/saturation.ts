/**
 * The saturation point of a web-server sweep. Overheads of a server only mean something where
 * the baseline is CPU-bound: a server with idle cores absorbs extra work and its throughput
 * hides it. From the loads of a `--connections` sweep this finds, per instance, the connection
 * count of peak throughput and the server's CPU utilisation there, and the overhead of every
 * instance at the baseline's peak (throughput and latency percentile ratios), saying in words
 * when the baseline never saturated.
 *
 * It works from field names, not from a target: any target whose records have `connections`
 * and `throughput` (and, when sampled, `serverUtilization` and `latencyP*`) is a sweep.
 */
import { UserError } from '../core/errors.js';
import type { ExecutionRecord } from '../results/schema.js';
import { aggregateCell } from './aggregated.js';
import { groupRecords, type Grouped } from './select.js';
import type { Cell, Column, ReportTable } from './table.js';

export const SWEPT = 'connections';
export const THROUGHPUT = 'throughput';
export const UTILIZATION = 'serverUtilization';
/** Latency percentiles compared at the saturation point, in this order when present. */
export const LATENCY_PERCENTILES = ['latencyP50', 'latencyP75', 'latencyP90', 'latencyP99'];
/** Default share of its cores a server must use at some load to count as saturated. */
export const DEFAULT_SATURATION_THRESHOLD = 0.9;

/** `--saturation-threshold 90` gives 0.9. */
export function parseThreshold(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 100)
    throw new UserError(`--saturation-threshold must be a percentage above 0 and at most 100, got '${value}'`);
  return n / 100;
}

/** One instance at one connection count: medians over its successful loads. */
export interface SweepLoad {
  connections: number;
  throughput: number;
  /** Share of the server's cores used (1 = saturated); null when CPU was not sampled. */
  utilization: number | null;
  latency: Record<string, number>;
}

export interface InstanceSaturation {
  instance: string;
  loads: SweepLoad[];
  /** The load of peak throughput. */
  peak: SweepLoad;
  /** Highest utilisation at any load; null when CPU was not sampled. */
  maxUtilization: number | null;
  /** Some load used at least the threshold of the server's cores (null: not sampled). */
  saturated: boolean | null;
}

/** An instance's overhead at the baseline's peak connection count. */
export interface OverheadAtPoint {
  instance: string;
  /** instance / baseline throughput (below 1: slower); null without a load at that count. */
  throughputRatio: number | null;
  /** instance / baseline per latency percentile (above 1: slower). */
  latencyRatios: Record<string, number | null>;
}

export interface SaturationAnalysis {
  threshold: number;
  /** Per instance, in the report's order. */
  instances: InstanceSaturation[];
  latencyFields: string[];
  baseline?: {
    instance: string;
    /** The baseline's peak connection count: the saturation point overheads are measured at. */
    connections: number;
    overheads: OverheadAtPoint[];
  };
}

const median = (data: Grouped, group: string, instance: string, field: string): number | null => {
  const v = aggregateCell(data, group, instance, field, 'median');
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

/**
 * The saturation analysis of a sweep, or null when the records are not one (no numeric
 * `connections` and `throughput`, or fewer than two connection counts).
 */
export function analyzeSaturation(
  records: readonly ExecutionRecord[],
  instances: readonly string[],
  opts: { baseline?: string; threshold?: number } = {},
): SaturationAnalysis | null {
  const sweep = records.filter((r) => typeof r.fields[SWEPT] === 'number' && typeof r.fields[THROUGHPUT] === 'number');
  const data = groupRecords(sweep, SWEPT, [...instances]);
  if (data.groups.length < 2) return null;
  const threshold = opts.threshold ?? DEFAULT_SATURATION_THRESHOLD;
  const latencyFields = LATENCY_PERCENTILES.filter((f) => sweep.some((r) => typeof r.fields[f] === 'number'));

  const analyzed: InstanceSaturation[] = [];
  for (const instance of instances) {
    const loads: SweepLoad[] = [];
    for (const group of data.groups) {
      const throughput = median(data, group, instance, THROUGHPUT);
      if (throughput === null) continue;
      const latency: Record<string, number> = {};
      for (const f of latencyFields) {
        const v = median(data, group, instance, f);
        if (v !== null) latency[f] = v;
      }
      loads.push({ connections: Number(group), throughput, utilization: median(data, group, instance, UTILIZATION), latency });
    }
    if (!loads.length) continue;
    const peak = loads.reduce((best, l) => (l.throughput > best.throughput ? l : best));
    const sampled = loads.map((l) => l.utilization).filter((u): u is number => u !== null);
    const maxUtilization = sampled.length ? Math.max(...sampled) : null;
    analyzed.push({ instance, loads, peak, maxUtilization, saturated: maxUtilization === null ? null : maxUtilization >= threshold });
  }
  if (!analyzed.length) return null;

  const out: SaturationAnalysis = { threshold, instances: analyzed, latencyFields };
  const base = analyzed.find((a) => a.instance === opts.baseline);
  if (base) {
    const at = base.peak.connections;
    const overheads = analyzed
      .filter((a) => a !== base)
      .map((a): OverheadAtPoint => {
        const load = a.loads.find((l) => l.connections === at);
        const ratio = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined || y === 0 ? null : x / y);
        return {
          instance: a.instance,
          throughputRatio: ratio(load?.throughput, base.peak.throughput),
          latencyRatios: Object.fromEntries(latencyFields.map((f) => [f, ratio(load?.latency[f], base.peak.latency[f])])),
        };
      });
    out.baseline = { instance: base.instance, connections: at, overheads };
  }
  return out;
}

const percent = (u: number) => `${(u * 100).toFixed(0)}%`;

/** In words: whether the baseline saturated, and what that means for the overheads. */
export function saturationVerdict(a: SaturationAnalysis): string | null {
  if (!a.baseline) return null;
  const base = a.instances.find((i) => i.instance === a.baseline!.instance)!;
  const where = `${a.baseline.connections} connections`;
  if (base.saturated === null)
    return `server CPU was not sampled (run with --collect-stats cpu): whether '${base.instance}' saturated at its peak (${where}) is unknown, so the overheads there may be understated`;
  if (!base.saturated)
    return (
      `the baseline '${base.instance}' never reached saturation: its server CPU stayed below ${percent(a.threshold)} of its cores at every ` +
      `connection count (at most ${percent(base.maxUtilization!)}), so idle CPU hides overhead and the ratios at its peak (${where}) understate it`
    );
  return `the baseline '${base.instance}' peaks at ${where} with its server CPU at ${base.peak.utilization === null ? 'an unknown share' : percent(base.peak.utilization)} of its cores (saturated: at least ${percent(a.threshold)} at some load)`;
}

/**
 * The analysis as a table: a row per instance with its peak (connections, throughput, server
 * CPU there) and, for the others, their ratios to the baseline at the baseline's peak, with
 * whether that point was saturated said next to them.
 */
export function saturationTable(a: SaturationAnalysis): ReportTable {
  const at = a.baseline ? `at ${a.baseline.connections}` : '';
  const columns: Column[] = [
    { name: 'instance' },
    { group: 'peak', name: 'connections', key: 'peak.connections' },
    { group: 'peak', name: 'throughput', key: 'peak.throughput', field: THROUGHPUT },
    { group: 'peak', name: 'server CPU %', key: 'peak.serverUtilization.percent', unit: 'percent' },
    { group: 'peak', name: 'saturated', key: 'saturated' },
  ];
  if (a.baseline) {
    const group = `${at} connections / ${a.baseline.instance}`;
    columns.push({ group, name: 'throughput', key: 'overhead.throughput', unit: 'ratio' });
    for (const f of a.latencyFields) columns.push({ group, name: f, key: `overhead.${f}`, unit: 'ratio' });
    columns.push({ group, name: 'baseline saturated there', key: 'overhead.baselineSaturated' });
  }
  const base = a.instances.find((i) => i.instance === a.baseline?.instance);
  const baseWords =
    base?.saturated === null
      ? 'unknown (CPU not sampled)'
      : base?.saturated
        ? 'yes'
        : `NO: CPU below ${percent(a.threshold)} everywhere, overhead understated`;
  // every number of a column with the same decimals, whole or not
  const fixed = (x: number): Cell => ({ value: x, mark: '', keepDecimals: true });
  const ratio = (x: number | null): Cell => (x === null ? null : fixed(x));
  const rows = a.instances.map((i) => {
    const row: Cell[] = [
      i.instance,
      i.peak.connections,
      fixed(i.peak.throughput),
      i.peak.utilization === null ? null : fixed(i.peak.utilization * 100),
      i.saturated === null ? 'not sampled' : i.saturated ? 'yes' : 'no',
    ];
    if (a.baseline) {
      const o = a.baseline.overheads.find((x) => x.instance === i.instance);
      if (!o) row.push('baseline', ...a.latencyFields.map(() => null), baseWords);
      else row.push(ratio(o.throughputRatio), ...a.latencyFields.map((f) => ratio(o.latencyRatios[f] ?? null)), baseWords);
    }
    return row;
  });
  const notes = [
    `Peak: the connection count of highest median throughput per instance and the server's CPU there (% of the cores it was given); ` +
      `saturated: at least ${percent(a.threshold)} at some load (--saturation-threshold).`,
  ];
  if (a.baseline) {
    notes.push(
      `Overheads at the baseline's saturation point (${a.baseline.connections} connections): throughput ratio below 1 and latency ratios above 1 mean slower than '${a.baseline.instance}'.`,
    );
  } else {
    notes.push("Give --overhead BASELINE for the overheads at the baseline's saturation point.");
  }
  return { columns, rows, summary: [], notes };
}
