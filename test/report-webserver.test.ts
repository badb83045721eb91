// The report of a real web-server sweep: nginx built with gcc and clang-22 from its release
// tarball (offline mirror), loaded by wrk at several connection counts; the saturation table,
// the page's sweep charts and the figures are checked against the records the run wrote.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, makeProject, runInfra } from './helpers.ts';
import { countMarks, openInChromium } from './browser.ts';
import { NGINX_SETUP } from './webserver-fixtures.js';

const MIRROR = process.env.INFRA_SOURCE_MIRROR || join(tmpdir(), 'infra-source-mirror');
const shots = process.env.INFRA_SCREENSHOTS ?? join(tmpdir(), 'infra-report-screenshots');

const SETUP = NGINX_SETUP;
const [GCC, CLANG] = ['gcc-O1', 'clang-O1'];
const CONNECTIONS = [1, 4, 16];
let dir = '';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

before(async () => {
  const fetch = spawnSync('sh', [join(REPO, 'scripts/fetch-sources.sh'), MIRROR], { encoding: 'utf8' });
  assert.equal(fetch.status, 0, fetch.stderr);
  dir = makeProject({ 'setup.ts': SETUP }, 'infra-report-webserver-');
  const build = runInfra(dir, ['build', 'nginx', GCC, CLANG, '--parallel', 'proc', '--source-mirror', MIRROR], { timeoutMs: 600_000 });
  assert.equal(build.code, 0, build.stderr);
  const port = await freePort();
  const args = ['--duration', '1', '--connections', ...CONNECTIONS.map(String), '-i', '2', '--port', String(port)];
  const run = runInfra(dir, [
    'run',
    'nginx',
    GCC,
    CLANG,
    '-t',
    'bench',
    ...args,
    '--collect-stats-interval',
    '0.25',
    '--cleanup-time',
    '0.2',
  ]);
  assert.equal(run.code, 0, run.stderr);
});

test('a connections sweep: each instance peak, the server CPU there, the overheads at the baseline peak', () => {
  const records = readFileSync(join(dir, 'results/last/records.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
  assert.equal(records.length, 2 * CONNECTIONS.length * 2);
  const at = (inst: string, c: number, f: string) =>
    median(records.filter((r) => r.instance === inst && r.fields.connections === c).map((r) => r.fields[f]));
  const peak = (inst: string) => CONNECTIONS.reduce((best, c) => (at(inst, c, 'throughput') > at(inst, best, 'throughput') ? c : best));

  const r = runInfra(dir, ['report', 'nginx', 'results/last', '--overhead', GCC, '-f', 'throughput:median', '--groupby', 'connections']);
  assert.equal(r.code, 0, r.stderr);
  const [, saturation] = r.stdout.split(`Saturation: peak throughput per instance, and overheads at the saturation point of ${GCC}\n`);
  assert.ok(saturation, r.stdout);
  const basePeak = peak(GCC);
  const cpu = (inst: string) => (at(inst, peak(inst), 'serverUtilization') * 100).toFixed(3);
  assert.match(
    saturation,
    new RegExp(`│ ${GCC}\\s+│\\s+${basePeak} │\\s+${at(GCC, basePeak, 'throughput').toFixed(3)} │\\s+${cpu(GCC)} │`),
  );
  const ratio = (at(CLANG, basePeak, 'throughput') / at(GCC, basePeak, 'throughput')).toFixed(3);
  const p99 = (at(CLANG, basePeak, 'latencyP99') / at(GCC, basePeak, 'latencyP99')).toFixed(3);
  assert.match(saturation, new RegExp(`│ ${CLANG}\\s+│\\s+${peak(CLANG)} │ .* │\\s+${ratio} │ .*│\\s+${p99} │`));
  assert.match(saturation, new RegExp(`at ${basePeak} connections / ${GCC}`));
  // on loopback with wrk on the same two cores the server does not saturate: said in words
  const base = Math.max(...CONNECTIONS.map((c) => at(GCC, c, 'serverUtilization')));
  if (base < 0.9) {
    assert.match(r.stdout, new RegExp(`the baseline '${GCC}' never reached saturation: its server CPU stayed below 90%`));
    assert.match(saturation, /NO: CPU below 90% everywhere, overhead understated/);
  }
  const low = runInfra(dir, [
    'report',
    'nginx',
    'results/last',
    '--overhead',
    GCC,
    '--groupby',
    'connections',
    '--saturation-threshold',
    '1',
  ]);
  assert.equal(low.code, 0, low.stderr);
  assert.doesNotMatch(low.stdout, /never reached saturation/);
  const bad = runInfra(dir, ['report', 'nginx', 'results/last', '--saturation-threshold', '150']);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /--saturation-threshold must be a percentage above 0 and at most 100, got '150'/);
});

test('the page and the figures of the sweep: throughput, server CPU and latency against connections', async () => {
  const html = join(dir, 'sweep.html');
  const figures = join(dir, 'figures');
  const r = runInfra(dir, [
    'report',
    'nginx',
    'results/last',
    '--overhead',
    GCC,
    '--groupby',
    'connections',
    '--html',
    html,
    '--figures',
    figures,
  ]);
  assert.equal(r.code, 0, r.stderr);
  for (const f of ['saturation.svg', 'latency-percentiles.svg']) assert.ok(existsSync(join(figures, f)), f);
  const svg = readFileSync(join(figures, 'saturation.svg'), 'utf8');
  assert.ok(svg.includes('throughput (requests/s), median'));
  assert.ok(svg.includes(`saturation point of ${GCC}`));
  const opened = await openInChromium(html);
  try {
    assert.deepEqual(opened.errors, []);
    assert.deepEqual(opened.requests, [`file://${html}`]);
    const [sat, latency] = await countMarks(opened.page, [
      'throughput_points',
      'peaks',
      'saturation',
      'cpu_points',
      'threshold',
      'latency_lines',
    ]);
    assert.deepEqual(sat, { throughput_points: 6, peaks: 2, saturation: 1, cpu_points: 6, threshold: 1, latency_lines: 0 });
    // P50, P75, P90, P99: a line per instance each
    assert.equal(latency!.latency_lines, 8);
    mkdirSync(shots, { recursive: true });
    await opened.page.screenshot({ path: join(shots, 'nginx-sweep.png'), fullPage: true });
    const [chart] = await opened.page.$$('figure svg');
    await chart!.screenshot({ path: join(shots, 'nginx-saturation.png') });
  } finally {
    await opened.close();
  }
});
