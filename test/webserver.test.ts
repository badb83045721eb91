// Web server benchmarking end to end: nginx built from its release tarball (offline mirror,
// filled by scripts/fetch-sources.sh) with gcc and clang-22, served on 127.0.0.1 and loaded by
// the real wrk; plus the wrk output parser and the /proc sampler on their own. The instances
// compile at -O1: the same build and server as at the default -O2, for less compiling.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, makeProject, runInfra } from './helpers.ts';
import { parseWrkOutput, parseWrkTime, parseWrkBytes, wrkArgv } from '../src/targets/webserver/wrk.ts';
import { countCpus, parseSamplerOutput, summarize } from '../src/targets/webserver/stats.ts';
import { fileContent, renderTemplate } from '../src/targets/webserver/webserver.ts';
import { NGINX_SETUP } from './webserver-fixtures.js';

const MIRROR = process.env.INFRA_SOURCE_MIRROR || join(tmpdir(), 'infra-source-mirror');

const SETUP = NGINX_SETUP;

const WRK_OUTPUT = `Running 1s test @ http://127.0.0.1:20111/file
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   206.14us  285.14us   1.02s    97.93%
    Req/Sec    45.28k   612.56    46.10k    70.00%
  Latency Distribution
     50%  174.00us
     75%  175.00us
     90%  184.00us
     99%    1.75ms
  45008 requests in 1.00s, 13.52MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
Requests/sec:  44981.24
Transfer/sec:     13.51MB
`;

const [GCC, CLANG] = ['gcc-O1', 'clang-O1'];
let dir = '';

function records(run = 'last'): any[] {
  const text = readFileSync(join(dir, 'results', run, 'records.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** nginx processes serving from this project (none may outlive a command). */
function serversLeft(): string[] {
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
  return ps.split('\n').filter((l) => l.includes('nginx') && l.includes(dir));
}

test('wrk output: throughput, transfer rate, latency percentiles in ms, errors', () => {
  const r = parseWrkOutput(WRK_OUTPUT);
  assert.equal(r.throughput, 44981.24);
  assert.equal(r.transferRate, 13.51 * 1024 * 1024);
  assert.equal(r.requests, 45008);
  assert.equal(r.elapsed, 1);
  assert.equal(r.latencyAvg, 0.20614);
  assert.equal(r.latencyMax, 1020);
  assert.deepEqual([r.latencyP50, r.latencyP75, r.latencyP90, r.latencyP99], [0.174, 0.175, 0.184, 1.75]);
  assert.equal(r.socketErrors, 5);
  assert.equal(r.badResponses, 0);
  assert.equal(parseWrkOutput(WRK_OUTPUT + '  Non-2xx or 3xx responses: 7\n').badResponses, 7);
  assert.equal(parseWrkTime('2.50m'), 150_000);
  assert.equal(parseWrkBytes('512.00B'), 512);
  assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n'), /wrk output has no latency/);
  assert.deepEqual(wrkArgv({ url: 'http://127.0.0.1:1/f', duration: 3, connections: 1, threads: 4 }), [
    'wrk',
    '--duration',
    '3s',
    '--connections',
    '1',
    '--threads',
    '1',
    '--latency',
    'http://127.0.0.1:1/f',
  ]);
});

test('server statistics: median CPU over intervals, peak RSS, a short last interval ignored', () => {
  const samples = [
    { at: 0, cpu: 0, rss: 1000 },
    { at: 1000, cpu: 0.5, rss: 3000 },
    { at: 2000, cpu: 1.4, rss: 2000 },
    { at: 3000, cpu: 2.2, rss: 2500 },
    { at: 3100, cpu: 2.3, rss: 2500 }, // 100% over a tenth of the interval: ignored
  ];
  const s = summarize(samples, ['cpu', 'rss'], 1);
  assert.equal(s.serverCpu, 80);
  assert.equal(s.serverCpuMean, 74.2);
  assert.equal(s.serverMaxRss, 3000);
  assert.equal(summarize(samples, ['rss'], 1).serverCpu, null);
  assert.equal(fileContent(100).length, 100);
});

test("the sampler's output: process tree CPU and memory, the machine's CPU, per-process CPU, its own CPU", () => {
  const out = parseSamplerOutput([
    'host son 4096 0-1',
    's 100.00 10:100:256:1024 11:50:512:2048 sys:1000:2000',
    'times0',
    '0m0.01s 0m0.00s',
    '0m0.02s 0m0.01s',
    's 101.00 10:100:256:1024 11:140:768:2048 12:0:0:0 sys:1180:2200',
    'times',
    '0m0.01s 0m0.01s',
    '0m0.03s 0m0.01s',
  ]);
  assert.equal(out.host, 'son');
  assert.equal(out.cpus, 2);
  assert.equal(out.samples.length, 2);
  assert.ok(Math.abs(out.samplerSeconds! - 0.02) < 1e-9);
  const s = summarize(out.samples, ['cpu', 'cpu-proc', 'rss', 'vms'], 1);
  assert.equal(s.serverCpu, 90);
  assert.equal(s.serverHostUtilization, 0.9);
  assert.equal(s.serverMaxRss, 4096);
  assert.equal(s.serverMaxVms, 12288);
  assert.deepEqual([s.serverProcCpuMax, s.serverProcCpuMin, s.serverProcesses], [90, 0, 3]);
  // idle margins around the load (starting wrk, collecting its output) do not count
  const margins = [0, 0, 0, 0.9, 1.8, 1.8].map((cpu, i) => ({ at: i * 1000, cpu, rss: 1 }));
  assert.equal(summarize(margins, ['cpu'], 1).serverCpu, 0);
  assert.equal(summarize(margins, ['cpu'], 1, 2).serverCpu, 90);
  assert.equal(countCpus('0-3,8'), 5);
  assert.equal(renderTemplate('listen {{listen}};', { listen: '1.2.3.4:80' }, 't'), 'listen 1.2.3.4:80;');
  assert.throws(
    () => renderTemplate('a\nroot {{docrot}};', { docroot: '/x' }, 'my.conf'),
    /my\.conf:2: unknown placeholder \{\{docrot\}\}; known: \{\{docroot\}\}/,
  );
});

before(() => {
  const fetch = spawnSync('sh', [join(REPO, 'scripts/fetch-sources.sh'), MIRROR], { encoding: 'utf8' });
  assert.equal(fetch.status, 0, fetch.stderr);
  dir = makeProject({ 'setup.ts': SETUP }, 'infra-webserver-');
  const started = Date.now();
  const r = runInfra(dir, ['build', 'nginx', GCC, CLANG, '--parallel', 'proc', '--source-mirror', MIRROR], { timeoutMs: 300_000 });
  assert.equal(r.code, 0, r.stderr);
  process.stderr.write(`# built nginx with gcc and clang-22 in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
});

test('nginx is built per instance with its compiler', () => {
  const binary = (inst: string) => readFileSync(join(dir, 'build/targets/nginx', inst, 'install/sbin/nginx'));
  assert.ok(binary(GCC).includes('GCC: (Debian'));
  assert.ok(binary(CLANG).includes('clang version 22'));
  const again = runInfra(dir, ['build', 'nginx', GCC, '-v', '--source-mirror', MIRROR]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, new RegExp(`nginx/${GCC} is up to date`));
  assert.doesNotMatch(again.stderr, /building nginx 1\.22\.1/);
});

test('bench: one wrk load per connection count and iteration, with throughput, latency and server stats', async () => {
  const port = await freePort();
  const r = runInfra(dir, [
    'run',
    'nginx',
    GCC,
    '-t',
    'bench',
    '--duration',
    '1',
    '--connections',
    '8',
    '16',
    '-i',
    '2',
    '--port',
    String(port),
    '--collect-stats-interval',
    '0.25',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const recs = records();
  assert.equal(recs.length, 4);
  assert.deepEqual(recs.map((x) => x.fields.connections).sort(), [16, 16, 8, 8]);
  for (const rec of recs) {
    assert.equal(rec.status, 'ok', JSON.stringify(rec));
    const f = rec.fields;
    assert.ok(f.throughput > 1000, `throughput ${f.throughput}`);
    assert.ok(f.transferRate > f.throughput * 64, `transfer rate ${f.transferRate}`);
    assert.ok(
      f.latencyP50 > 0 && f.latencyP50 <= f.latencyP75 && f.latencyP75 <= f.latencyP90 && f.latencyP90 <= f.latencyP99,
      JSON.stringify(f),
    );
    assert.ok(f.latencyAvg > 0 && f.latencyAvg < 1000);
    assert.ok(f.serverCpu > 5 && f.serverCpu <= 100 * f.workers + 10, `server CPU ${f.serverCpu}`);
    assert.ok(f.serverMaxRss > 500, `server RSS ${f.serverMaxRss}`);
    assert.equal(f.filesize, 64);
    assert.equal(f.workerConnections, 1024);
  }
  // the generated configuration is what the options say
  const conf = readFileSync(join(dir, `build/targets/nginx/${GCC}/serve/nginx.conf`), 'utf8');
  assert.match(conf, new RegExp(`listen 127\\.0\\.0\\.1:${port};`));
  assert.match(conf, /access_log off;/);
  assert.match(conf, /worker_connections 1024;/);
  assert.deepEqual(serversLeft(), [], 'the server is stopped after the run');

  const report = runInfra(dir, ['report', 'nginx', 'results/last', '-f', 'throughput:median', '--groupby', 'connections']);
  assert.equal(report.code, 0, report.stderr);
  assert.match(report.stdout, /throughput:median/);
  // The median of two iterations can be a whole number of requests per second.
  assert.match(report.stdout, /│ 8\s+│\s+\d+(\.\d+)? │/);
  assert.match(report.stdout, /│ 16\s+│\s+\d+(\.\d+)? │/);
});

test('test: both instances serve the file with the right content, one server at a time', async () => {
  const port = await freePort();
  const r = runInfra(dir, ['run', 'nginx', GCC, CLANG, '-t', 'test', '--port', String(port), '--filesize', '1000']);
  assert.equal(r.code, 0, r.stderr);
  const recs = records();
  assert.deepEqual(recs.map((x) => `${x.instance}/${x.benchmark}/${x.status}`).sort(), [`${CLANG}/test/ok`, `${GCC}/test/ok`]);
  const out = readFileSync(join(dir, 'results/last', recs[0].stdout), 'utf8');
  assert.match(out, /-> 200, 1000 bytes, ok/);
  assert.match(out, /-missing -> 404, ok/);
  assert.deepEqual(serversLeft(), []);
});

test('a server that cannot start, a busy port, a missing and a stale build are clear errors', async () => {
  const binary = join(dir, `build/targets/nginx/${GCC}/install/sbin/nginx`);
  const port = await freePort();
  renameSync(binary, `${binary}.real`);
  try {
    writeFileSync(binary, '#!/bin/sh\necho "nginx: [emerg] cannot start today" >&2\nexit 3\n');
    chmodSync(binary, 0o755);
    const crash = runInfra(dir, ['run', 'nginx', GCC, '--duration', '1', '--connections', '8', '--port', String(port)]);
    assert.notEqual(crash.code, 0);
    assert.match(crash.stderr, new RegExp(`nginx \\(${GCC}\\) exited \\(exit status 3\\) before accepting connections`));
    assert.match(crash.stderr, /cannot start today/);
    assert.doesNotMatch(crash.stderr, /\n\s+at /, 'no stack trace');
  } finally {
    renameSync(`${binary}.real`, binary);
  }

  const busy = createServer(() => {});
  await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve));
  try {
    const r = runInfra(dir, ['run', 'nginx', GCC, '-t', 'test', '--port', String(port)]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use; choose another with --port`));
  } finally {
    await new Promise((resolve) => busy.close(resolve));
  }

  renameSync(binary, `${binary}.real`);
  try {
    const missing = runInfra(dir, ['run', 'nginx', GCC, '-t', 'test', '--port', String(port)]);
    assert.notEqual(missing.code, 0);
    assert.match(
      missing.stderr,
      new RegExp(`nginx: .*install/sbin/nginx is not built for ${GCC}; build it first \\(or use run --build\\)`),
    );
    assert.doesNotMatch(missing.stderr, /\n\s+at /);
  } finally {
    renameSync(`${binary}.real`, binary);
  }

  // a server built with other flags than the instance's now is not run either
  const stampFile = join(dir, `build/targets/nginx/${GCC}/.infra-build`);
  const recorded = readFileSync(stampFile, 'utf8');
  writeFileSync(stampFile, JSON.stringify({ ...JSON.parse(recorded), cflags: '-O0' }));
  try {
    const stale = runInfra(dir, ['run', 'nginx', GCC, '-t', 'test', '--port', String(port)]);
    assert.notEqual(stale.code, 0);
    assert.match(
      stale.stderr,
      new RegExp(
        `nginx/${GCC} is out of date: cflags: '-O0' -> '[^']*-O1[^']*'; rebuild it with \`infra build nginx ${GCC}\` \\(or use run --build\\)`,
      ),
    );
  } finally {
    writeFileSync(stampFile, recorded);
  }
  assert.deepEqual(serversLeft(), []);
});
