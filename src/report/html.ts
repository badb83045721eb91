/**
 * The report as one self-contained HTML page: charts as inline SVG, styles inline, no
 * scripts, fonts or anything else fetched when it is opened.
 */
import type { RunInfo } from '../results/meta.js';
import type { RunMeta } from '../results/schema.js';
import { cellText, groupSpans, numericColumns, type ReportTable } from './table.js';

export interface HtmlFigure {
  svg: string;
  caption: string;
}

export interface HtmlPage {
  title: string;
  /** Sentences under the title: what is compared with what. */
  intro: string[];
  warnings: string[];
  /** Charts shown first (overheads, comparisons). */
  figures: HtmlFigure[];
  tables: Array<{ heading: string; table: ReportTable }>;
  /** Charts shown after the tables (distributions of the samples). */
  detailFigures: HtmlFigure[];
  runs: RunInfo[];
  precision: number;
}

const STYLE = `
body { font: 14px/1.45 Helvetica, Arial, sans-serif; color: #222; margin: 2em auto; max-width: 1200px; padding: 0 1.5em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { font-size: 1.25em; margin-top: 2em; border-bottom: 1px solid #ccc; }
h3 { font-size: 1.05em; margin: 1.2em 0 .4em; }
.intro { color: #444; margin-top: 0; }
.warnings { background: #fff6e0; border-left: 4px solid #e0a000; padding: .6em 1em .6em 2em; }
.warnings li { margin: .2em 0; }
figure { margin: 1.2em 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .9em; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin: .5em 0; }
th, td { padding: 3px 8px; border-bottom: 1px solid #e4e4e4; white-space: nowrap; }
thead th { border-bottom: 2px solid #888; text-align: left; }
th.group { text-align: center; border-bottom: 1px solid #888; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody.summary td { border-top: 2px solid #888; font-weight: bold; }
.notes { color: #555; font-size: .9em; padding-left: 1.2em; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 2px 1em; margin: .4em 0; }
dl.meta dt { color: #555; } dl.meta dd { margin: 0; font-family: ui-monospace, monospace; font-size: 12.5px; word-break: break-all; }
pre { background: #f4f4f4; padding: .5em .8em; white-space: pre-wrap; word-break: break-all; }
`;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export function renderHtml(page: HtmlPage): string {
  const parts = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(page.title)}</title>`,
    `<style>${STYLE}</style></head><body>`,
    `<h1>${escapeHtml(page.title)}</h1>`,
    ...page.intro.map((s) => `<p class="intro">${escapeHtml(s)}</p>`),
  ];
  if (page.warnings.length) {
    parts.push('<h2 id="warnings">Warnings</h2><ul class="warnings">');
    parts.push(...page.warnings.map((w) => `<li>${escapeHtml(w)}</li>`), '</ul>');
  }
  if (page.figures.length) parts.push('<h2 id="charts">Charts</h2>', ...page.figures.map(figureHtml));
  if (page.tables.length) {
    parts.push('<h2 id="tables">Tables</h2>');
    for (const t of page.tables) parts.push(`<h3>${escapeHtml(t.heading)}</h3>`, tableHtml(t.table, page.precision));
  }
  if (page.detailFigures.length) parts.push('<h2 id="samples">Samples</h2>', ...page.detailFigures.map(figureHtml));
  if (page.runs.length) parts.push('<h2 id="runs">Runs</h2>', ...page.runs.map(runHtml));
  parts.push('</body></html>\n');
  return parts.join('\n');
}

function figureHtml(f: HtmlFigure): string {
  // the XML prolog is not valid inside an HTML document
  const svg = f.svg.replace(/^<\?xml[^>]*>\s*/, '');
  return `<figure><div class="scroll">${svg}</div><figcaption>${escapeHtml(f.caption)}</figcaption></figure>`;
}

/** A report table with the instance headers spanning their columns and the summary rows apart. */
export function tableHtml(table: ReportTable, precision: number): string {
  const numeric = numericColumns(table);
  const out = ['<div class="scroll"><table><thead>'];
  if (table.columns.some((c) => c.group)) {
    out.push(
      '<tr>' +
        groupSpans(table.columns)
          .map((s) => `<th${s.label ? ' class="group"' : ''} colspan="${s.to - s.from + 1}">${escapeHtml(s.label)}</th>`)
          .join('') +
        '</tr>',
    );
  }
  out.push('<tr>' + table.columns.map((c) => `<th>${escapeHtml(c.name)}</th>`).join('') + '</tr></thead>');
  const body = (rows: ReportTable['rows']) =>
    rows
      .map(
        (r) =>
          '<tr>' +
          r.map((c, i) => `<td${numeric[i] ? ' class="num"' : ''}>${escapeHtml(cellText(c, precision, true))}</td>`).join('') +
          '</tr>',
      )
      .join('');
  out.push(`<tbody>${body(table.rows)}</tbody>`);
  if (table.summary.length) out.push(`<tbody class="summary">${body(table.summary)}</tbody>`);
  out.push('</table></div>');
  const notes = table.notes.filter((n) => !n.startsWith('warning: '));
  if (notes.length) out.push('<ul class="notes">' + notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('') + '</ul>');
  return out.join('');
}

function definitions(entries: Array<[string, unknown]>): string {
  const shown = entries.filter(([, v]) => v !== undefined && v !== null && v !== '');
  return (
    '<dl class="meta">' +
    shown.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(typeof v === 'string' ? v : JSON.stringify(v))}</dd>`).join('') +
    '</dl>'
  );
}

/** A shell-like rendering of argv, quoting what a shell would split. */
export function commandLine(argv: readonly string[]): string {
  return ['infra', ...argv].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function runHtml(run: RunInfo): string {
  const m = run.meta;
  const out = [`<h3>${escapeHtml(run.dir)}</h3>`];
  if (!m) return out.concat('<p>No meta.json: the platform of this run is unknown.</p>').join('');
  out.push(`<pre>${escapeHtml(commandLine(m.argv))}</pre>`);
  out.push(
    definitions([
      ['target', m.target],
      ['started', m.startedAt],
      ['finished', m.finishedAt ?? (m.interrupted ? 'interrupted' : 'unknown')],
      ['working directory', m.cwd],
      ['commit', projectCommit(m)],
      ['tool', `${m.tool.name} ${m.tool.version}`],
      ['host', m.host.hostname],
      ['CPU', `${m.host.cpuModel} (${m.host.cores} cores available)`],
      ['memory', `${(m.host.memoryBytes / 2 ** 30).toFixed(1)} GiB`],
      ['kernel', m.host.kernel],
      ['transparent huge pages', m.host.thp ?? 'unknown'],
      ['ASLR (randomize_va_space)', m.host.aslr ?? 'unknown'],
      ['CPU frequency governor', m.host.governor ?? 'unknown'],
      ...loadEntries(m),
      ...(m.settings ? Object.entries(m.settings).map(([k, v]) => [`setting ${k}`, v] as [string, unknown]) : []),
    ]),
  );
  for (const inst of m.instances) {
    out.push(`<h3>instance ${escapeHtml(inst.name)}</h3>`, definitions(Object.entries(inst).filter(([k]) => k !== 'name')));
  }
  return out.join('');
}

/** The machine's load during the run, from meta.json (runs recorded before it was kept have none). */
function loadEntries(m: RunMeta): Array<[string, unknown]> {
  const load = m.load;
  if (!load?.start) return [];
  const busy = (ps: NonNullable<RunMeta['load']>['start']['busy']) =>
    ps.map((p) => `${p.command} (pid ${p.pid}) ${p.cpuPercent}%`).join(', ') || 'none';
  const psi = (s: NonNullable<RunMeta['load']>['start']) => (s.cpuPressure ? `, CPU pressure avg10 ${s.cpuPressure.avg10}%` : '');
  const out: Array<[string, unknown]> = [
    ['load at start', `load average ${load.start.loadavg.join(' ')}${psi(load.start)}; busy: ${busy(load.start.busy)}`],
  ];
  const end = load.end;
  if (end) {
    out.push(['load at end', `load average ${end.loadavg.join(' ')}${psi(end)}; busy: ${busy(end.busy)}`]);
    const parts = [
      end.otherCores === null ? null : `other processes used ${end.otherCores} of ${load.cores} cores on average`,
      end.cpuStallShare === null ? null : `some task waited for a CPU ${(end.cpuStallShare * 100).toFixed(0)}% of the time`,
    ].filter(Boolean);
    if (parts.length) out.push(['load during the run', parts.join('; ')]);
  }
  return out;
}

export function projectCommit(m: RunMeta): string {
  const c = m.project.gitCommit;
  if (!c) return 'not a git checkout';
  return c + (m.project.gitDirty ? ' (with uncommitted changes)' : '');
}
