// The saturation point of a web-server sweep, from records laid out as the web-server targets
// write them: per instance the peak, and the overheads at the baseline's peak.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { report, reportText } from '../src/commands/report.js';
import { analyzeSaturation, parseThreshold, saturationTable, saturationVerdict } from '../src/report/saturation.js';
import { formatTable } from '../src/report/table.js';
import type { ExecutionRecord } from '../src/results/schema.js';
import { countMarks, openInChromium } from './browser.js';
import { quietContext, Toy, writeToyRun } from './report-fixtures.js';

const shots = process.env.INFRA_SCREENSHOTS ?? join(tmpdir(), 'infra-report-screenshots');
const LAYERS = [
  'throughput_lines',
  'throughput_points',
  'peaks',
  'saturation',
  'cpu_lines',
  'cpu_points',
  'threshold',
  'cpu_saturation',
  'latency_lines',
  'latency_points',
  'latency_saturation',
];

type Curve = Record<number, { throughput: number; utilization?: number; p99?: number }>;

/** Loads of a sweep: per instance and connection count, `iterations` records around the curve. */
function sweepRecords(curves: Record<string, Curve>, iterations = 3): ExecutionRecord[] {
  const out: ExecutionRecord[] = [];
  for (const [instance, curve] of Object.entries(curves)) {
    for (const [c, point] of Object.entries(curve)) {
      for (let i = 0; i < iterations; i++) {
        const wiggle = [0, 1, -1][i % 3]!;
        out.push({
          schema: 1,
          target: 'toy',
          instance,
          benchmark: `c${c}`,
          iteration: i,
          host: 'bench-host',
          status: 'ok',
          exitCode: 0,
          signal: null,
          start: '2026-01-01T00:00:00.000Z',
          fields: {
            connections: Number(c),
            throughput: point.throughput + 10 * wiggle,
            latencyP50: (point.p99 ?? 1) / 4,
            latencyP99: (point.p99 ?? 1) + 0.01 * wiggle,
            ...(point.utilization === undefined ? {} : { serverUtilization: point.utilization }),
          },
          stdout: '',
          stderr: '',
        });
      }
    }
  }
  return out;
}

const SATURATING: Record<string, Curve> = {
  gcc: {
    8: { throughput: 20000, utilization: 0.5, p99: 1 },
    64: { throughput: 50000, utilization: 0.97, p99: 2 },
    256: { throughput: 45000, utilization: 0.99, p99: 8 },
  },
  asan: {
    8: { throughput: 15000, utilization: 0.6, p99: 1.5 },
    64: { throughput: 30000, utilization: 0.98, p99: 4 },
    256: { throughput: 32000, utilization: 0.99, p99: 10 },
  },
};

test('peak per instance; overheads at the baseline peak, with the server CPU there', () => {
  const a = analyzeSaturation(sweepRecords(SATURATING), ['gcc', 'asan'], { baseline: 'gcc' })!;
  assert.equal(a.threshold, 0.9);
  assert.deepEqual(
    a.instances.map((i) => [i.instance, i.peak.connections, i.peak.throughput, i.peak.utilization, i.saturated]),
    [
      ['gcc', 64, 50000, 0.97, true],
      ['asan', 256, 32000, 0.99, true],
    ],
  );
  // asan peaks later, but its overhead is taken where the baseline peaks: 64 connections
  assert.equal(a.baseline!.connections, 64);
  assert.deepEqual(a.latencyFields, ['latencyP50', 'latencyP99']);
  const [asan] = a.baseline!.overheads;
  assert.equal(asan!.throughputRatio, 30000 / 50000);
  assert.equal(asan!.latencyRatios.latencyP99, 4 / 2);
  assert.equal(asan!.latencyRatios.latencyP50, 1 / 0.5);
  assert.match(saturationVerdict(a)!, /^the baseline 'gcc' peaks at 64 connections with its server CPU at 97% of its cores \(saturated/);

  const text = formatTable(saturationTable(a), 'fancy', 3);
  assert.match(text, /│ gcc\s+│\s+64 │\s+50000\.000 │\s+97\.000 │ yes\s+│\s+baseline │/);
  assert.match(text, /│ asan\s+│\s+256 │\s+32000\.000 │\s+99\.000 │ yes\s+│\s+0\.600 │\s+2\.000 │\s+2\.000 │ yes/);
});

test('a baseline that never saturated is said to hide overhead, next to the ratios', () => {
  const idle: Record<string, Curve> = {
    gcc: { 8: { throughput: 20000, utilization: 0.4 }, 64: { throughput: 30000, utilization: 0.62 } },
    asan: { 8: { throughput: 19000, utilization: 0.5 }, 64: { throughput: 29000, utilization: 0.7 } },
  };
  const a = analyzeSaturation(sweepRecords(idle), ['gcc', 'asan'], { baseline: 'gcc' })!;
  assert.equal(a.instances[0]!.saturated, false);
  assert.equal(
    saturationVerdict(a),
    "the baseline 'gcc' never reached saturation: its server CPU stayed below 90% of its cores at every connection count " +
      '(at most 62%), so idle CPU hides overhead and the ratios at its peak (64 connections) understate it',
  );
  const text = formatTable(saturationTable(a), 'fancy', 3);
  assert.match(text, /│ asan .* 0\.967 .*│ NO: CPU below 90% everywhere, overhead understated │/);
  // a lower threshold makes the same loads saturated
  const lower = analyzeSaturation(sweepRecords(idle), ['gcc', 'asan'], { baseline: 'gcc', threshold: parseThreshold('60') })!;
  assert.equal(lower.instances[0]!.saturated, true);
  assert.throws(() => parseThreshold('0'), /--saturation-threshold must be a percentage above 0 and at most 100, got '0'/);
  assert.throws(() => parseThreshold('abc'), /got 'abc'/);
});

test('without CPU samples saturation is unknown; one connection count or no throughput is no sweep', () => {
  const unsampled: Record<string, Curve> = { gcc: { 8: { throughput: 100 }, 16: { throughput: 120 } } };
  const a = analyzeSaturation(sweepRecords(unsampled), ['gcc'], { baseline: 'gcc' })!;
  assert.equal(a.instances[0]!.saturated, null);
  assert.match(saturationVerdict(a)!, /server CPU was not sampled \(run with --collect-stats cpu\)/);
  assert.equal(analyzeSaturation(sweepRecords({ gcc: { 8: { throughput: 1 } } }), ['gcc']), null);
  const noThroughput = sweepRecords(SATURATING).map((r) => ({ ...r, fields: { connections: r.fields.connections! } }));
  assert.equal(analyzeSaturation(noThroughput, ['gcc', 'asan']), null);
});

test('report: the saturation table follows the overhead table; the warning is on the terminal once', async () => {
  const root = mkdtempSync(join(tmpdir(), 'infra-saturation-'));
  const idle: Record<string, Curve> = {
    gcc: { 8: { throughput: 20000, utilization: 0.4 }, 64: { throughput: 30000, utilization: 0.62 } },
    asan: { 8: { throughput: 19000, utilization: 0.5 }, 64: { throughput: 29000, utilization: 0.7 } },
  };
  const dir = writeToyRun(join(root, 'run.1'), sweepRecords(idle), (m) => {
    m.instances = [{ name: 'gcc' }, { name: 'asan' }];
  });
  const { ctx } = quietContext(root);
  const opts = { rundirs: [dir], overhead: 'gcc', groupby: 'connections', field: ['throughput:median'] };
  const text = await reportText(ctx, new Toy(), opts);
  const [overhead, saturation] = text.split('\nSaturation: peak throughput per instance, and overheads at the saturation point of gcc\n');
  assert.match(overhead!, /throughput:median/);
  assert.match(saturation!, /│ gcc\s+│\s+64 │\s+30000\.000 │\s+62\.000 │ no\s+│\s+baseline/);
  assert.equal(text.split('never reached saturation').length - 1, 1, 'said once, under the first table');
  // csv holds one table and says which it left out; JSON has the saturation table under `tables`
  const csv = await reportText(ctx, new Toy(), { ...opts, table: 'csv' });
  assert.doesNotMatch(csv, /Saturation/);
  const { ctx: csvCtx, log } = quietContext(root);
  await report(csvCtx, new Toy(), { ...opts, table: 'csv', outfile: join(root, 'report.csv') });
  assert.match(log.join(''), /csv holds one table: 'Saturation: peak throughput per instance, [^']*' is left out \(it is in --json/);
  const json = JSON.parse(await reportText(ctx, new Toy(), { ...opts, table: 'json' })) as {
    rows: unknown[];
    tables: Array<{ heading: string; rows: Array<Record<string, unknown>> }>;
  };
  assert.equal(json.rows.length, 2, 'the overhead table: one row per connection count');
  assert.equal(json.tables.length, 1);
  assert.match(json.tables[0]!.heading, /^Saturation: peak throughput per instance/);
  const gcc = json.tables[0]!.rows.find((r) => Object.values(r).includes('gcc'))!;
  assert.ok(Object.values(gcc).includes(64) && Object.values(gcc).includes(30000), JSON.stringify(gcc));
  // higher threshold from the command line's parser
  const strict = await reportText(ctx, new Toy(), { ...opts, saturationThreshold: 0.5 });
  assert.doesNotMatch(strict, /never reached saturation/);
});

test('--html: throughput and server CPU against connections with the peaks and the saturation point, latency percentiles', async () => {
  const root = mkdtempSync(join(tmpdir(), 'infra-saturation-html-'));
  const dir = writeToyRun(join(root, 'run.1'), sweepRecords(SATURATING), (m) => {
    m.instances = [{ name: 'gcc' }, { name: 'asan' }];
  });
  const { ctx } = quietContext(root);
  const html = join(root, 'sweep.html');
  await report(ctx, new Toy(), { rundirs: [dir], overhead: 'gcc', groupby: 'connections', field: ['throughput:median'], html });
  const opened = await openInChromium(html);
  try {
    assert.deepEqual(opened.errors, []);
    assert.deepEqual(opened.requests, [`file://${html}`]);
    const marks = await countMarks(opened.page, LAYERS);
    // 2 instances x 3 connection counts; one ring per instance; the saturation rule in every panel
    assert.deepEqual(marks[0], {
      throughput_lines: 2,
      throughput_points: 6,
      peaks: 2,
      saturation: 1,
      cpu_lines: 2,
      cpu_points: 6,
      threshold: 1,
      cpu_saturation: 1,
      latency_lines: 0,
      latency_points: 0,
      latency_saturation: 0,
    });
    // a panel per percentile (P50, P99), each a line per instance
    assert.deepEqual(marks[1], {
      ...Object.fromEntries(LAYERS.map((l) => [l, 0])),
      latency_lines: 4,
      latency_points: 12,
      latency_saturation: 2,
    });
    const tables = await opened.page.$$eval('h3', (hs) => hs.map((h) => h.textContent));
    assert.ok(tables.includes('Saturation: peak throughput per instance, and overheads at the saturation point of gcc'));
    mkdirSync(shots, { recursive: true });
    await opened.page.screenshot({ path: join(shots, 'saturation.png'), fullPage: true });
    const [chart, latency] = await opened.page.$$('figure svg');
    await chart!.screenshot({ path: join(shots, 'saturation-chart.png') });
    await latency!.screenshot({ path: join(shots, 'latency-chart.png') });
  } finally {
    await opened.close();
  }
});
