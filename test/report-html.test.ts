import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { report, reportText } from '../src/commands/report.js';
import { countMarks, openInChromium } from './browser.js';
import { quietContext, Toy, toyRecords, writeToyRun } from './report-fixtures.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'infra-report-html-'));
/** Screenshots are kept here to be looked at (INFRA_SCREENSHOTS=DIR to choose where). */
const shots = process.env.INFRA_SCREENSHOTS ?? join(tmpdir(), 'infra-report-screenshots');

const LAYERS = ['bars', 'whiskers', 'significance', 'baseline', 'samples'];

test('--html: one self-contained page with the charts, tables, warnings and platform of the runs', async () => {
  const root = tmp();
  const dir = writeToyRun(join(root, 'results', 'run.1'), toyRecords(6));
  const { ctx } = quietContext(root);
  const html = join(root, 'report.html');
  const opts = { rundirs: [dir], overhead: 'clang', ci: true, field: ['runtime:median', 'maxrss:median'] };
  await report(ctx, new Toy(), { ...opts, html, figures: join(root, 'figures') });
  const json = JSON.parse(await reportText(ctx, new Toy(), { ...opts, table: 'json' })) as { rows: Array<Record<string, unknown>> };

  const text = readFileSync(html, 'utf8');
  assert.doesNotMatch(text, /<script|<link|@import|url\(/i, 'nothing is loaded when the page is opened');
  for (const expected of [
    'infra run toy clang asan ubsan -i 6',
    'Example CPU @ 3.0GHz',
    '6.1.0-test',
    'madvise',
    'performance',
    '0123456789abcdef0123456789abcdef01234567',
    '-fsanitize=address',
    'geomean',
  ]) {
    assert.ok(text.includes(expected), `the page shows ${expected}`);
  }

  const opened = await openInChromium(html);
  try {
    assert.deepEqual(opened.errors, []);
    assert.deepEqual(opened.requests, [`file://${html}`], 'the page requests nothing but itself');
    const marks = await countMarks(opened.page, LAYERS);
    assert.equal(marks.length, 4, 'an overhead chart and a distribution chart per field');
    // the table's significance marks, per field, are the chart's
    const sigCount = (field: string) =>
      json.rows.reduce((n, r) => n + ['asan', 'ubsan'].filter((i) => (r[`${i}.${field}.p`] as number) < 0.05).length, 0);
    assert.ok(sigCount('runtime') > 0);
    const [runtime, maxrss, runtimeSamples, maxrssSamples] = marks;
    // 3 benchmarks x 2 instances, and a geomean bar per instance
    assert.deepEqual(runtime, { bars: 8, whiskers: 6, significance: sigCount('runtime'), baseline: 1, samples: 0 });
    assert.deepEqual(maxrss, { bars: 8, whiskers: 6, significance: sigCount('maxrss'), baseline: 1, samples: 0 });
    // 3 benchmarks x 3 instances x 6 iterations
    assert.equal(runtimeSamples!.samples, 54);
    assert.equal(maxrssSamples!.samples, 54);
    const headings = await opened.page.$$eval('h2', (hs) => hs.map((h) => h.textContent));
    assert.deepEqual(headings, ['Charts', 'Tables', 'Samples', 'Runs']);
    mkdirSync(shots, { recursive: true });
    await opened.page.screenshot({ path: join(shots, 'report.png'), fullPage: true });
  } finally {
    await opened.close();
  }

  const figures = readdirSync(join(root, 'figures')).sort();
  assert.deepEqual(figures, ['overhead-maxrss-median.svg', 'overhead-runtime-median.svg', 'samples-maxrss.svg', 'samples-runtime.svg']);
  const svg = readFileSync(join(root, 'figures', 'samples-runtime.svg'), 'utf8');
  assert.match(svg, /^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(svg.includes('runtime (seconds)'), 'the axis title names the unit');
});

test('warnings are on the page; a run without meta.json is reported as such', async () => {
  const root = tmp();
  const records = toyRecords(2).filter((r) => !(r.benchmark === 'lua' && r.instance === 'clang'));
  const dir = writeToyRun(join(root, 'run.1'), records);
  rmSync(join(dir, 'meta.json'));
  const { ctx } = quietContext(root);
  const html = join(root, 'out', 'r.html');
  await report(ctx, new Toy(), { rundirs: [dir], overhead: 'clang', html });
  const text = readFileSync(html, 'utf8');
  assert.match(text, /<h2 id="warnings">Warnings<\/h2>/);
  assert.match(text, /baseline &#39;clang&#39; has no results for: lua/);
  assert.match(text, /fewer than 3 successful iterations/);
  assert.match(text, /No meta.json: the platform of this run is unknown/);
  assert.ok(!existsSync(join(root, 'out', 'figures')));
});

test('--table latex: a booktabs table with instance headers, escaped names and the notes as comments', async () => {
  const root = tmp();
  const dir = writeToyRun(join(root, 'run.1'), toyRecords(6));
  const { ctx } = quietContext(root);
  const tex = await reportText(ctx, new Toy(), { rundirs: [dir], overhead: 'clang', field: ['runtime:median'], table: 'latex' });
  const lines = tex.trimEnd().split('\n');
  assert.equal(lines[0], '\\begin{tabular}{lrrrrr}');
  assert.equal(lines[1], '  \\toprule');
  assert.equal(lines[2], '   & clang & \\multicolumn{2}{c}{asan} & \\multicolumn{2}{c}{ubsan} \\\\');
  assert.equal(lines[3], '  \\cmidrule(lr){2-2} \\cmidrule(lr){3-4} \\cmidrule(lr){5-6}');
  assert.equal(lines[4], '  benchmark & runtime:median & runtime:median & runtime p & runtime:median & runtime p \\\\');
  assert.match(tex, /\n {2}bzip2 & 1\.\d{3} & 1\.500\* & 0\.002 \* & /);
  assert.match(tex, /\\midrule\n {2}geomean & {2}& 1\.\d{3} & {2}& 1\.\d{3} & {2}\\\\\n {2}\\bottomrule\n\\end\{tabular\}\n% Overheads:/);
  for (const l of lines.slice(lines.indexOf('\\end{tabular}') + 1)) assert.match(l, /^% /);
});

test('a sweep (groups that are numbers, e.g. connections): throughput and latency against it per instance', async () => {
  const root = tmp();
  // records as the web-server target writes them: one execution per connection count and iteration
  const records = toyRecords(3)
    .filter((r) => r.benchmark === 'bzip2' && r.instance !== 'ubsan')
    .flatMap((r) =>
      [10, 50, 200].map((connections) => ({
        ...r,
        benchmark: `load-${connections}`,
        fields: {
          connections,
          throughput: (r.instance === 'asan' ? 6000 : 9000) * Math.min(1, connections / 50) + r.iteration,
          latencyP99: connections / 10 + r.iteration,
        },
      })),
    );
  const dir = writeToyRun(join(root, 'run.1'), records);
  const { ctx } = quietContext(root);
  const html = join(root, 'sweep.html');
  await report(ctx, new Toy(), {
    rundirs: [dir],
    groupby: 'connections',
    overhead: 'clang',
    field: ['throughput:median', 'latencyP99:median'],
    html,
  });
  const opened = await openInChromium(html);
  try {
    assert.deepEqual(opened.errors, []);
    const marks = await countMarks(opened.page, ['lines', 'points', 'bars']);
    const sweeps = marks.filter((m) => m.lines! > 0);
    // per field: one line per instance through its 3 connection counts
    assert.deepEqual(sweeps, [
      { lines: 2, points: 6, bars: 0 },
      { lines: 2, points: 6, bars: 0 },
    ]);
    await opened.page.screenshot({ path: join(shots, 'sweep.png'), fullPage: true });
  } finally {
    await opened.close();
  }
});
