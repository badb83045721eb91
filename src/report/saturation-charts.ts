/**
 * Charts of a web-server sweep: throughput and the server's CPU utilisation against
 * connections per instance, with each instance's peak and the baseline's saturation point
 * marked, and the latency percentiles against connections.
 */
import { CONFIG, fileStem, instanceColors, SCHEMA, type Chart, type ChartSpec } from './charts.js';
import type { SaturationAnalysis } from './saturation.js';

const WIDTH = 460;
const THROUGHPUT_HEIGHT = 230;
/** A rule at a constant is drawn once per row of its data: one row (per panel) draws it once. */
const ONE_ROW = [{ aggregate: [{ op: 'count', as: 'rows' }] }];

/** Connection counts of a sweep usually double: a log-2 axis spaces them evenly. */
function xScale(a: SaturationAnalysis): Record<string, unknown> {
  const xs = a.instances.flatMap((i) => i.loads.map((l) => l.connections));
  const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
  return lo > 0 && hi / lo >= 8 ? { type: 'log', base: 2, nice: false } : { zero: false };
}

/** The vertical rule at the baseline's saturation point, labelled, for a layer list. */
function saturationLayers(a: SaturationAnalysis, x: Record<string, unknown>, name: string, label: boolean): ChartSpec[] {
  if (!a.baseline) return [];
  const at = { datum: a.baseline.connections, type: 'quantitative', scale: x.scale };
  const layers: ChartSpec[] = [
    { name, transform: ONE_ROW, mark: { type: 'rule', strokeDash: [6, 3], color: '#555', strokeWidth: 1.5 }, encoding: { x: at } },
  ];
  if (label) {
    // right of the middle of the axis the label goes left of the line, so it stays inside the chart
    const xs = a.instances.flatMap((i) => i.loads.map((l) => l.connections));
    const position = (v: number) => ((x.scale as { type?: string }).type === 'log' ? Math.log(v) : v);
    const [lo, hi] = [position(Math.min(...xs)), position(Math.max(...xs))];
    const atEnd = hi > lo && (position(a.baseline.connections) - lo) / (hi - lo) > 0.6;
    layers.push({
      name: `${name}_label`,
      transform: ONE_ROW,
      mark: { type: 'text', align: atEnd ? 'right' : 'left', dx: atEnd ? -4 : 4, dy: -4, baseline: 'bottom', fontSize: 11, color: '#333' },
      encoding: {
        x: at,
        y: { value: THROUGHPUT_HEIGHT },
        text: { value: `saturation point of ${a.baseline.instance}: ${a.baseline.connections}` },
      },
    });
  }
  return layers;
}

/**
 * Throughput (top) and server CPU utilisation (bottom) against connections on a shared axis:
 * a line per instance, a ring around each instance's peak, a dashed line at the baseline's
 * saturation point, and the saturation threshold on the CPU panel.
 */
export function saturationChart(a: SaturationAnalysis, allInstances: readonly string[]): Chart {
  const instances = a.instances.map((i) => i.instance);
  const colors = instanceColors(allInstances, instances);
  const x = { field: 'connections', type: 'quantitative', title: 'connections (open connections of the load)', scale: xScale(a) };
  const color = { field: 'instance', type: 'nominal', scale: { domain: instances, range: colors }, title: 'instance' };
  const loads = a.instances.flatMap((i) =>
    i.loads.map((l) => ({
      instance: i.instance,
      connections: l.connections,
      throughput: l.throughput,
      cpu: l.utilization === null ? null : l.utilization * 100,
      peak: l === i.peak,
    })),
  );
  const sampled = loads.some((l) => l.cpu !== null);
  const throughput = {
    width: WIDTH,
    height: THROUGHPUT_HEIGHT,
    layer: [
      {
        name: 'throughput_lines',
        mark: { type: 'line', strokeWidth: 2, point: false },
        encoding: {
          x: { ...x, axis: { title: null, labels: true } },
          y: { field: 'throughput', type: 'quantitative', title: 'throughput (requests/s), median' },
          color,
        },
      },
      {
        name: 'throughput_points',
        mark: { type: 'point', filled: true, size: 40 },
        encoding: {
          x,
          y: { field: 'throughput', type: 'quantitative' },
          color,
          tooltip: [{ field: 'instance' }, { field: 'connections' }, { field: 'throughput', format: '.0f' }],
        },
      },
      {
        name: 'peaks',
        transform: [{ filter: 'datum.peak' }],
        mark: { type: 'point', filled: false, size: 260, strokeWidth: 2 },
        encoding: { x, y: { field: 'throughput', type: 'quantitative' }, color },
      },
      ...saturationLayers(a, x, 'saturation', true),
    ],
  };
  const panels: ChartSpec[] = [throughput];
  if (sampled) {
    const y = { field: 'cpu', type: 'quantitative', title: ['server CPU, median', '(% of its cores)'], scale: { domain: [0, 100] } };
    panels.push({
      width: WIDTH,
      height: 150,
      transform: [{ filter: 'isValid(datum.cpu)' }],
      layer: [
        { name: 'cpu_lines', mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y, color } },
        { name: 'cpu_points', mark: { type: 'point', filled: true, size: 40 }, encoding: { x, y, color } },
        {
          name: 'threshold',
          transform: ONE_ROW,
          mark: { type: 'rule', color: '#b00', strokeDash: [2, 2] },
          encoding: { y: { datum: a.threshold * 100, type: 'quantitative' } },
        },
        ...saturationLayers(a, x, 'cpu_saturation', false),
      ],
    });
  }
  const subtitle = [
    "lines: median per connection count and instance; rings: each instance's peak throughput",
    ...(a.baseline ? [`dashed line: the saturation point of ${a.baseline.instance} (its peak), where overheads are measured`] : []),
    ...(sampled ? [`red dotted line: ${a.threshold * 100}% server CPU, the saturation threshold`] : ['server CPU was not sampled']),
  ];
  const spec: ChartSpec = {
    $schema: SCHEMA,
    title: { text: 'Throughput and server CPU against connections', subtitle },
    // beside the panels: above them, the legend of two stacked panels leaves a gap
    config: { ...CONFIG, legend: { ...CONFIG.legend, orient: 'right' } },
    data: { values: loads },
    vconcat: panels,
    resolve: { scale: { x: 'shared' } },
  };
  return { name: 'saturation', title: 'Throughput and server CPU against connections', spec };
}

/** Latency percentiles against connections: a panel per percentile, a line per instance. */
export function latencyChart(a: SaturationAnalysis, allInstances: readonly string[]): Chart | null {
  if (!a.latencyFields.length) return null;
  const instances = a.instances.map((i) => i.instance);
  const colors = instanceColors(allInstances, instances);
  const x = { field: 'connections', type: 'quantitative', title: 'connections', scale: xScale(a) };
  const y = { field: 'latency', type: 'quantitative', title: 'latency (ms), median', scale: { zero: true } };
  const color = { field: 'instance', type: 'nominal', scale: { domain: instances, range: colors }, title: 'instance' };
  const values = a.instances.flatMap((i) =>
    i.loads.flatMap((l) =>
      a.latencyFields
        .filter((f) => l.latency[f] !== undefined)
        .map((f) => ({ instance: i.instance, connections: l.connections, percentile: f.replace(/^latency/, ''), latency: l.latency[f] })),
    ),
  );
  const order = a.latencyFields.map((f) => f.replace(/^latency/, ''));
  const spec: ChartSpec = {
    $schema: SCHEMA,
    title: {
      text: 'Latency percentiles against connections',
      subtitle: [
        'median over the loads of each percentile wrk reported, per connection count and instance; each panel has its own scale',
        ...(a.baseline ? [`dashed line: the saturation point of ${a.baseline.instance}`] : []),
      ],
    },
    config: CONFIG,
    data: { values },
    columns: Math.min(order.length, 4),
    facet: { field: 'percentile', type: 'nominal', sort: order, title: null, header: { labelFontSize: 12, labelFontWeight: 'bold' } },
    spec: {
      width: 210,
      height: 160,
      layer: [
        { name: 'latency_lines', mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y, color } },
        {
          name: 'latency_points',
          mark: { type: 'point', filled: true, size: 30 },
          encoding: { x, y, color, tooltip: [{ field: 'instance' }, { field: 'connections' }, { field: 'latency', format: '.3f' }] },
        },
        ...saturationLayers(a, x, 'latency_saturation', false),
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
  return { name: fileStem('latency', 'percentiles'), title: 'Latency percentiles against connections', spec };
}
