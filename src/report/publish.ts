import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from '../core/context.js';
import { renderSvg, type Chart } from './charts.js';
import { reportCharts } from './figures.js';
import { detectionChart, detectionRates, hasVerdicts } from './detection.js';
import { renderHtml, type HtmlFigure } from './html.js';
import { latencyChart, saturationChart } from './saturation-charts.js';
import { writeOutput, type BuiltReport } from './publish-options.js';

export interface PublishOptions {
  html?: string;
  figures?: string;
  precision?: number;
  /** The page's heading. */
  title: string;
  /** Sentences under the heading (default: what was read and what is compared). */
  intro?: string[];
  /** Charts drawn instead of the report's own (compare draws ratios between runs). */
  charts?: Chart[];
  /** Warnings besides those among the table's notes. */
  warnings?: string[];
  /** The heading over the table (default: what the report's table shows). */
  tableHeading?: string;
}

const WARNING = 'warning: ';

/** Writes the HTML page and/or the SVG figures of a built report. */
export async function writeReportPublications(ctx: Context, built: BuiltReport, opts: PublishOptions): Promise<void> {
  const charts = opts.charts ?? [
    ...extraCharts(built),
    ...(built.data && built.specs ? reportCharts(built.data, built.specs, built.known, built.baseline) : []),
  ];
  const rendered = await Promise.all(charts.map(async (chart) => ({ chart, svg: await renderSvg(chart) })));
  if (opts.figures) {
    await mkdir(opts.figures, { recursive: true });
    for (const { chart, svg } of rendered) await writeFile(join(opts.figures, `${chart.name}.svg`), svg);
    ctx.log.info(`${rendered.length} figure${rendered.length === 1 ? '' : 's'} written to ${opts.figures}`);
  }
  if (!opts.html) return;
  const figure = ({ chart, svg }: { chart: Chart; svg: string }): HtmlFigure => ({
    svg,
    caption: `${chart.title} (${chart.name}.svg with --figures)`,
  });
  const warnings = [
    ...(opts.warnings ?? []),
    ...[built.table, ...(built.extraTables ?? []).map((t) => t.table)]
      .flatMap((t) => t.notes)
      .filter((n) => n.startsWith(WARNING))
      .map((n) => n.slice(WARNING.length)),
  ];
  const html = renderHtml({
    title: opts.title,
    intro: opts.intro ?? defaultIntro(built),
    warnings,
    figures: rendered.filter((r) => !r.chart.name.startsWith('samples-')).map(figure),
    tables: [{ heading: opts.tableHeading ?? tableHeading(built), table: built.table }, ...(opts.charts ? [] : (built.extraTables ?? []))],
    detailFigures: rendered.filter((r) => r.chart.name.startsWith('samples-')).map(figure),
    runs: built.runs,
    precision: opts.precision ?? 3,
  });
  await writeOutput(ctx, html, opts.html, 'HTML report');
}

/** Charts drawn from the records themselves: a web-server sweep's saturation, a test suite's detection rates. */
function extraCharts(built: BuiltReport): Chart[] {
  const out: Chart[] = [];
  const all = built.instances ?? built.data?.instances ?? [];
  if (built.saturation) {
    out.push(saturationChart(built.saturation, all));
    const latency = latencyChart(built.saturation, all);
    if (latency) out.push(latency);
  }
  // a suite's records have a verdict field: only then are they read as objects
  if (built.results?.fields.has('verdict') && built.groupby && hasVerdicts(built.results.records())) {
    const rates = detectionRates(built.results.records(), built.groupby, all);
    if (rates.length) out.push(detectionChart(rates, built.groupby, all));
  }
  return out;
}

function tableHeading(built: BuiltReport): string {
  if (built.baseline) return `Overheads relative to ${built.baseline} (the same numbers as infra report prints)`;
  return built.data ? `Results per ${built.data.groupby} and instance` : 'Every execution';
}

function defaultIntro(built: BuiltReport): string[] {
  const runs = built.runs.map((r) => r.dir).join(', ');
  const out = [`Results read from ${runs || 'the given files'}.`];
  if (built.data) {
    out.push(
      `Grouped by ${built.data.groupby} (${built.data.groups.length} value${built.data.groups.length === 1 ? '' : 's'}); ` +
        `instances ${built.data.instances.join(', ')}` +
        (built.baseline ? `; overheads are relative to ${built.baseline}.` : '.'),
    );
  }
  return out;
}
