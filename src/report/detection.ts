/**
 * Detection and false-positive rates of a security test suite (Juliet's convention, open to
 * any target): records with `kind` `bad` (the program has the bug and should be stopped) or
 * `good` (it should exit cleanly) and a `verdict` (`detected` when a bad program was stopped by
 * the instrumentation, `false-positive` when a good one was). A program run several times
 * (a nondeterministic case) counts as the shares of its runs, as in the suite's own table.
 */
import { CONFIG, fileStem, instanceColors, SCHEMA, type Chart, type ChartSpec } from './charts.js';
import { getField } from './fields.js';
import { naturalCompare } from './select.js';
import type { ExecutionRecord } from '../results/schema.js';

/** Verdicts of a bad program that ran to an end, and of a good one. */
const BAD_ENDS = new Set(['detected', 'crashed', 'hung', 'missed']);
const GOOD_ENDS = new Set(['clean', 'false-positive', 'failed']);

export interface DetectionRate {
  group: string;
  instance: string;
  /** Bad programs that ran (shares of runs summed), and how many of them were stopped. */
  bad: number;
  detected: number;
  /** Good programs that ran, and how many of them were stopped. */
  good: number;
  falsePositives: number;
}

/** Whether the records are of a suite of good and bad programs with verdicts. */
export function hasVerdicts(records: readonly ExecutionRecord[]): boolean {
  return records.some((r) => (r.fields.kind === 'bad' || r.fields.kind === 'good') && typeof r.fields.verdict === 'string');
}

/** Per group (a CWE, a flow variant...) and instance, the programs that ran and were stopped. */
export function detectionRates(records: readonly ExecutionRecord[], groupby: string, instances: readonly string[]): DetectionRate[] {
  // runs of each program: group, instance, kind and test case identify it
  const programs = new Map<string, { group: string; instance: string; kind: string; verdicts: string[] }>();
  for (const r of records) {
    const kind = r.fields.kind;
    if (!instances.includes(r.instance) || (kind !== 'bad' && kind !== 'good')) continue;
    const g = getField(r, groupby);
    const group = g === undefined || g === null ? '' : String(g);
    const key = [group, r.instance, kind, String(r.fields.testcase ?? r.benchmark)].join('\u0000');
    let p = programs.get(key);
    if (!p) programs.set(key, (p = { group, instance: r.instance, kind, verdicts: [] }));
    p.verdicts.push(r.status === 'ok' && typeof r.fields.verdict === 'string' ? r.fields.verdict : '');
  }
  const rates = new Map<string, DetectionRate>();
  for (const p of programs.values()) {
    const key = `${p.group}\u0000${p.instance}`;
    let rate = rates.get(key);
    if (!rate) rates.set(key, (rate = { group: p.group, instance: p.instance, bad: 0, detected: 0, good: 0, falsePositives: 0 }));
    const share = 1 / p.verdicts.length;
    for (const v of p.verdicts) {
      if (p.kind === 'bad' && BAD_ENDS.has(v)) {
        rate.bad += share;
        if (v === 'detected') rate.detected += share;
      } else if (p.kind === 'good' && GOOD_ENDS.has(v)) {
        rate.good += share;
        if (v === 'false-positive') rate.falsePositives += share;
      }
    }
  }
  const order = (r: DetectionRate) => instances.indexOf(r.instance);
  return [...rates.values()].sort((a, b) => naturalCompare(a.group, b.group) || order(a) - order(b));
}

/**
 * Detection rate (top) and false-positive rate (bottom) in percent per group and instance, a
 * bar each, with the number of programs behind each bar in its label.
 */
export function detectionChart(rates: readonly DetectionRate[], groupby: string, allInstances: readonly string[]): Chart {
  const instances = allInstances.filter((i) => rates.some((r) => r.instance === i));
  const groups = [...new Set(rates.map((r) => r.group))];
  const color = {
    field: 'instance',
    type: 'nominal',
    scale: { domain: instances, range: instanceColors(allInstances, instances) },
    title: 'instance',
  };
  const x = { field: 'group', type: 'nominal', sort: groups, title: groupby, axis: { labelAngle: groups.length > 6 ? -40 : 0 } };
  const xOffset = { field: 'instance', sort: instances };
  const panel = (name: string, rate: 'detection' | 'falsePositive', title: string, filter: string): ChartSpec => ({
    width: Math.max(360, groups.length * (instances.length * 22 + 16)),
    height: 170,
    transform: [{ filter }],
    layer: [
      {
        name,
        mark: { type: 'bar' },
        encoding: {
          x,
          xOffset,
          y: { field: rate, type: 'quantitative', title, scale: { domain: [0, 100] } },
          color,
          tooltip: [{ field: 'group' }, { field: 'instance' }, { field: rate, format: '.1f' }, { field: `${rate}Label` }],
        },
      },
      {
        name: `${name}_labels`,
        mark: { type: 'text', dy: -3, baseline: 'bottom', fontSize: 9, color: '#333' },
        encoding: { x, xOffset, y: { field: rate, type: 'quantitative' }, text: { field: `${rate}Label` } },
      },
    ],
  });
  const round = (x: number) => Math.round(x * 100) / 100;
  const values = rates.map((r) => ({
    group: r.group,
    instance: r.instance,
    detection: r.bad ? (100 * r.detected) / r.bad : null,
    detectionLabel: `${round(r.detected)}/${round(r.bad)}`,
    falsePositive: r.good ? (100 * r.falsePositives) / r.good : null,
    falsePositiveLabel: `${round(r.falsePositives)}/${round(r.good)}`,
  }));
  const spec: ChartSpec = {
    $schema: SCHEMA,
    title: {
      text: `Detection and false positives per ${groupby} and instance`,
      subtitle: [
        'detection: bad programs (with the bug) stopped by the instrumentation, % of those that ran',
        'false positives: good programs (without the bug) stopped by it, % of those that ran; labels: stopped/ran',
      ],
    },
    config: CONFIG,
    data: { values },
    vconcat: [
      panel('detection_bars', 'detection', 'bad programs stopped (%)', 'isValid(datum.detection)'),
      panel('false_positive_bars', 'falsePositive', 'good programs stopped (%)', 'isValid(datum.falsePositive)'),
    ],
  };
  return { name: fileStem('detection', groupby), title: `Detection and false positives per ${groupby}`, spec };
}
