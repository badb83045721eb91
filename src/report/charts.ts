/**
 * The report's charts as Vega-Lite specifications, rendered to standalone SVG in Node (no
 * browser, no canvas). Vega and Vega-Lite are loaded on first use only, so commands that
 * print tables start as fast as before.
 */

/** A Vega-Lite specification (kept untyped here: the library validates it when compiling). */
export type ChartSpec = Record<string, unknown>;

export interface Chart {
  /** File name stem for `--figures` (letters, digits, `-`, `.`). */
  name: string;
  title: string;
  spec: ChartSpec;
}

/** One bar of a ratio chart: an instance in a group, relative to a reference. */
export interface RatioPoint {
  group: string;
  instance: string;
  ratio: number;
  /** Bootstrap confidence interval of the ratio, when there were enough samples. */
  lo?: number;
  hi?: number;
  significant: boolean;
  /** The geometric-mean bar. */
  summary?: boolean;
}

/** One measured value of one execution. */
export interface Sample {
  group: string;
  instance: string;
  value: number;
}

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
/** Wong's colour-blind safe palette: instances stay distinguishable in print and on screen. */
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'];
const FONT = 'Helvetica, Arial, sans-serif';

export const CONFIG = {
  font: FONT,
  view: { stroke: null },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e6e6e6' },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: 'top' },
  title: { fontSize: 14, subtitleFontSize: 11, subtitleColor: '#555', anchor: 'start' },
};

/** Makes a name safe for a file: `runtime:median` gives `runtime-median`. */
export function fileStem(...parts: string[]): string {
  return parts
    .join('-')
    .replace(/[^A-Za-z0-9.-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export interface ChartOptions {
  name: string;
  title: string;
  /** Lines under the title explaining the marks. */
  subtitle: string[];
  /** The y axis title, units included. */
  yTitle: string;
  groupby: string;
  groups: string[];
  instances: string[];
  /** The colour of each instance, in order (see {@link instanceColors}). */
  colors: string[];
}

/** Colours of `shown` such that an instance has the same colour in every chart of a report. */
export function instanceColors(all: readonly string[], shown: readonly string[]): string[] {
  return shown.map((name) => PALETTE[Math.max(0, all.indexOf(name)) % PALETTE.length]!);
}

/**
 * Bars of ratios per group and instance (geometric mean last, outlined), whiskers for the
 * confidence interval, `*` over significant differences and a dashed line at 1.0.
 */
export function ratioChart(points: RatioPoint[], o: ChartOptions): Chart {
  const groupOrder = [...o.groups, ...points.filter((p) => p.summary).map((p) => p.group)].filter((g, i, all) => all.indexOf(g) === i);
  const x = { field: 'group', type: 'nominal', sort: groupOrder, title: o.groupby, axis: { labelAngle: groupOrder.length > 6 ? -40 : 0 } };
  const xOffset = { field: 'instance', sort: o.instances };
  const y = { field: 'ratio', type: 'quantitative', title: o.yTitle, scale: { zero: true } };
  const color = { field: 'instance', type: 'nominal', scale: { domain: o.instances, range: o.colors }, title: 'instance' };
  const values = points.map((p) => ({ ...p, top: Math.max(p.ratio, p.hi ?? p.ratio), label: p.summary ? 'geomean' : '' }));
  const spec: ChartSpec = {
    $schema: SCHEMA,
    title: { text: o.title, subtitle: o.subtitle },
    width: Math.max(420, groupOrder.length * (o.instances.length * 18 + 14)),
    height: 260,
    config: CONFIG,
    layer: [
      {
        data: { values },
        layer: [
          {
            name: 'bars',
            mark: { type: 'bar', strokeWidth: 1.5 },
            encoding: {
              x,
              xOffset,
              y,
              color,
              stroke: { condition: { test: 'datum.summary', value: '#000' }, value: null },
              tooltip: [{ field: 'group' }, { field: 'instance' }, { field: 'ratio', format: '.4f' }],
            },
          },
          {
            name: 'whiskers',
            transform: [{ filter: 'isValid(datum.lo) && isValid(datum.hi)' }],
            mark: { type: 'rule', color: '#222', strokeWidth: 1.5 },
            encoding: { x, xOffset, y: { ...y, field: 'lo' }, y2: { field: 'hi' } },
          },
          {
            name: 'significance',
            transform: [{ filter: 'datum.significant' }],
            mark: { type: 'text', text: '*', dy: -4, baseline: 'bottom', fontSize: 15, fontWeight: 'bold' },
            encoding: { x, xOffset, y: { ...y, field: 'top' } },
          },
        ],
      },
      {
        name: 'baseline',
        data: { values: [{ one: 1 }] },
        mark: { type: 'rule', strokeDash: [5, 4], color: '#444' },
        encoding: { y: { ...y, field: 'one' } },
      },
    ],
  };
  return { name: o.name, title: o.title, spec };
}

/** Per group a small panel (own scale): a box plot and every sample as a point, per instance. */
export function distributionChart(samples: Sample[], o: ChartOptions): Chart {
  const x = { field: 'instance', type: 'nominal', sort: o.instances, title: null, axis: { labelAngle: -30 } };
  const y = { field: 'value', type: 'quantitative', title: o.yTitle, scale: { zero: false } };
  const color = { field: 'instance', type: 'nominal', scale: { domain: o.instances, range: o.colors }, title: 'instance' };
  const spec: ChartSpec = {
    $schema: SCHEMA,
    title: { text: o.title, subtitle: o.subtitle },
    config: CONFIG,
    data: { values: samples },
    columns: Math.min(o.groups.length, 5),
    facet: { field: 'group', type: 'nominal', sort: o.groups, title: o.groupby, header: { labelFontSize: 12 } },
    spec: {
      width: Math.max(70, o.instances.length * 32),
      height: 150,
      layer: [
        {
          name: 'boxes',
          mark: { type: 'boxplot', extent: 1.5, size: 16, opacity: 0.35, outliers: false, median: { color: '#000' } },
          encoding: { x, y, color: { ...color, legend: null } },
        },
        {
          name: 'samples',
          mark: { type: 'point', filled: true, size: 22, opacity: 0.8 },
          encoding: { x, y, color, tooltip: [{ field: 'instance' }, { field: 'value', format: '.6g' }] },
        },
      ],
    },
    resolve: { scale: { y: 'independent' } },
  };
  return { name: o.name, title: o.title, spec };
}

/** One aggregated value of a sweep: an instance at one value of the swept parameter. */
export interface SweepPoint {
  x: number;
  instance: string;
  value: number;
}

/**
 * A parameter sweep (e.g. a web server's throughput against connections): per instance a line
 * through the aggregated value at each swept value, with the absolute numbers on the y axis.
 */
export function sweepChart(points: SweepPoint[], o: ChartOptions): Chart {
  const x = { field: 'x', type: 'quantitative', title: o.groupby, scale: { zero: false } };
  const y = { field: 'value', type: 'quantitative', title: o.yTitle, scale: { zero: true } };
  const color = { field: 'instance', type: 'nominal', scale: { domain: o.instances, range: o.colors }, title: 'instance' };
  const spec: ChartSpec = {
    $schema: SCHEMA,
    title: { text: o.title, subtitle: o.subtitle },
    width: 420,
    height: 260,
    config: CONFIG,
    data: { values: points },
    layer: [
      { name: 'lines', mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y, color } },
      {
        name: 'points',
        mark: { type: 'point', filled: true, size: 40 },
        encoding: { x, y, color, shape: { field: 'instance', type: 'nominal', scale: { domain: o.instances }, title: 'instance' } },
      },
    ],
  };
  return { name: o.name, title: o.title, spec };
}

type Vega = typeof import('vega');
type VegaLite = typeof import('vega-lite');
let libraries: Promise<[Vega, VegaLite]> | undefined;

/** Renders a chart to a standalone SVG document. */
export async function renderSvg(chart: Chart): Promise<string> {
  libraries ??= Promise.all([import('vega'), import('vega-lite')]);
  const [vega, vl] = await libraries;
  const compiled = vl.compile(chart.spec as unknown as Parameters<VegaLite['compile']>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
