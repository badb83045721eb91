// lighttpd end to end: built from its release tarball (offline mirror, filled by
// scripts/fetch-sources.sh) with gcc and clang-22, served on 127.0.0.1 and loaded by the real
// wrk and by ab, built from httpd's source against APR and APR-util packages built here too.
// Plus ab's report parser on its own. The instances compile at -O1 (less compiling).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, makeProject, runInfra } from './helpers.ts';
import { abArgv, parseAbOutput } from '../src/targets/webserver/ab.ts';
import { checkLoads, freePort, records, serversLeft } from './webserver-fixtures.ts';

const MIRROR = process.env.INFRA_SOURCE_MIRROR || join(tmpdir(), 'infra-source-mirror');

const SETUP = String.raw`
import { Setup, Gcc, Clang, LLVM, Lighttpd, APR, APRUtil, ApacheBench } from 'instrumentation-infra';

const apr = new APR('1.7.2');
const setup = new Setup(import.meta.url);
setup.addTarget(new Lighttpd({ uses: [new ApacheBench('2.4.68', apr, new APRUtil('1.6.3', apr))] }));
setup.addInstance(new Gcc({ optlevel: 1 }));
setup.addInstance(new Clang(LLVM.installed({ version: '22' }), { optlevel: 1 }));
await setup.main();
`;

const AB_OUTPUT = `Server Software:        lighttpd/1.4.69
Server Hostname:        127.0.0.1
Server Port:            20931

Document Path:          /file
Document Length:        64 bytes

Concurrency Level:      8
Time taken for tests:   1.005 seconds
Complete requests:      12299
Failed requests:        3
   (Connect: 0, Receive: 1, Length: 2, Exceptions: 0)
Write errors:           1
Keep-Alive requests:    12299
Total transferred:      2090830 bytes
HTML transferred:       787136 bytes
Requests per second:    12240.87 [#/sec] (mean)
Time per request:       0.654 [ms] (mean)
Time per request:       0.082 [ms] (mean, across all concurrent requests)
Transfer rate:          2032.18 [Kbytes/sec] received

Connection Times (ms)
              min  mean[+/-sd] median   max
Connect:        0    0   0.1      0      10
Processing:     0    1   1.8      0      38
Waiting:        0    1   1.8      0      38
Total:          0    1   1.8      0      38

Percentage of the requests served within a certain time (ms)
  50%      0
  66%      0
  75%      1
  80%      1
  90%      2
  95%      4
  98%      6
  99%      8
 100%     38 (longest request)
`;

const [GCC, CLANG] = ['gcc-O1', 'clang-O1'];
let dir = '';

test('ab output: throughput, transfer rate, errors; percentiles from the CSV, else whole ms from the table', () => {
  const table = parseAbOutput(AB_OUTPUT);
  assert.equal(table.throughput, 12240.87);
  assert.equal(table.transferRate, 2032.18 * 1024);
  assert.equal(table.requests, 12299);
  assert.equal(table.elapsed, 1.005);
  assert.equal(table.bytesRead, 2090830);
  assert.equal(table.latencyAvg, 0.654);
  assert.equal(table.latencyStdev, 1.8);
  assert.deepEqual([table.latencyP50, table.latencyP75, table.latencyP90, table.latencyP99, table.latencyMax], [0, 1, 2, 8, 38]);
  assert.equal(table.socketErrors, 4);
  assert.equal(table.badResponses, 0);
  const bad = AB_OUTPUT.replace('Keep-Alive requests', 'Non-2xx responses:      5\nKeep-Alive requests');
  assert.equal(parseAbOutput(bad).badResponses, 5);
  const csv = ['Percentage served,Time in ms', ...Array.from({ length: 101 }, (_, i) => `${i},${(0.1 + i / 100).toFixed(3)}`)].join('\n');
  const fine = parseAbOutput(AB_OUTPUT, csv);
  assert.deepEqual([fine.latencyP50, fine.latencyP75, fine.latencyP90, fine.latencyP99, fine.latencyMax], [0.6, 0.85, 1, 1.09, 1.1]);
  assert.throws(() => parseAbOutput('apr_socket_connect(): Connection refused (111)\n'), /ab output has no 'Time taken for tests' line/);
  // -n after -t: -t alone would stop ab after 50000 requests
  const argv = abArgv({ url: 'http://127.0.0.1:1/f', duration: 3, connections: 16, threads: 4 }, '/tmp/p.csv');
  assert.deepEqual(argv, ['ab', '-q', '-r', '-k', '-t', '3', '-n', '600000', '-c', '16', '-e', '/tmp/p.csv', 'http://127.0.0.1:1/f']);
});

before(() => {
  const fetch = spawnSync('sh', [join(REPO, 'scripts/fetch-sources.sh'), MIRROR], { encoding: 'utf8' });
  assert.equal(fetch.status, 0, fetch.stderr);
  dir = makeProject({ 'setup.ts': SETUP }, 'infra-lighttpd-');
  const started = Date.now();
  const r = runInfra(dir, ['build', 'lighttpd', GCC, CLANG, '-j', '2', '--source-mirror', MIRROR], { timeoutMs: 900_000 });
  assert.equal(r.code, 0, r.stderr);
  process.stderr.write(`# built APR, APR-util, ab and lighttpd with gcc and clang-22 in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
});

test('lighttpd is built per instance with its compiler; ab and APR are packages', () => {
  const binary = (inst: string) => readFileSync(join(dir, 'build/targets/lighttpd', inst, 'install/sbin/lighttpd'));
  assert.ok(binary(GCC).includes('GCC: (Debian'));
  assert.ok(binary(CLANG).includes('clang version 22'));
  const again = runInfra(dir, ['build', 'lighttpd', GCC, '-v', '--source-mirror', MIRROR]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, new RegExp(`lighttpd/${GCC} is up to date`));
  const pc = runInfra(dir, ['pkg-config', 'apr-1.7.2', '--cflags']);
  assert.equal(pc.code, 0, pc.stderr);
  assert.match(pc.stdout, /-I\S+\/build\/packages\/apr-1\.7\.2\/install\/include\/apr-1/);
  const config = runInfra(dir, ['pkg-config', 'apr-util-1.6.3', '--config']);
  assert.equal(config.code, 0, config.stderr);
  const libs = spawnSync(config.stdout.trim(), ['--link-ld'], { encoding: 'utf8' });
  assert.match(libs.stdout, /-laprutil-1/);
  const ab = spawnSync(join(dir, 'build/packages/ab-2.4.68/install/bin/ab'), ['-V'], { encoding: 'utf8' });
  assert.match(ab.stdout, /This is ApacheBench/);
});

test('bench with wrk and with ab: the same fields, server statistics, the configuration the options say', async () => {
  for (const client of ['wrk', 'ab']) {
    const port = await freePort();
    const r = runInfra(dir, [
      'run',
      'lighttpd',
      client === 'wrk' ? GCC : CLANG,
      '-t',
      'bench',
      '--client',
      client,
      '--duration',
      '1',
      '--connections',
      '8',
      '32',
      '--port',
      String(port),
      '--server-connections',
      '512',
      '--collect-stats-interval',
      '0.25',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const recs = records(dir);
    assert.equal(recs.length, 2);
    checkLoads(recs, client);
    for (const rec of recs) assert.equal(rec.fields.serverConnections, 512);
    const conf = readFileSync(join(dir, `build/targets/lighttpd/${client === 'wrk' ? GCC : CLANG}/serve/lighttpd.conf`), 'utf8');
    assert.match(conf, new RegExp(`server.port = ${port}\\n`));
    assert.match(conf, /server.max-connections = 512\n/);
    assert.deepEqual(serversLeft(dir, 'lighttpd'), [], 'the server is stopped after the run');
  }
});

test('test role, a bad option value and a stale build', async () => {
  const port = await freePort();
  const ok = runInfra(dir, ['run', 'lighttpd', GCC, '-t', 'test', '--port', String(port), '--filesize', '1000']);
  assert.equal(ok.code, 0, ok.stderr);
  const out = readFileSync(join(dir, 'results/last', records(dir)[0].stdout), 'utf8');
  assert.match(out, /-> 200, 1000 bytes, ok/);
  assert.match(out, /-missing -> 404, ok/);

  const badClient = runInfra(dir, ['run', 'lighttpd', GCC, '--client', 'siege']);
  assert.notEqual(badClient.code, 0);
  assert.match(badClient.stderr, /--client.*siege.*(wrk, ab|wrk.*ab)/s);
  const badConnections = runInfra(dir, ['run', 'lighttpd', GCC, '--server-connections', 'lots']);
  assert.notEqual(badConnections.code, 0);
  assert.match(badConnections.stderr, /--server-connections must be a positive integer, got 'lots'/);
  assert.doesNotMatch(badConnections.stderr, /\n\s+at /, 'no stack trace');

  const stampFile = join(dir, `build/targets/lighttpd/${GCC}/.infra-build`);
  const recorded = readFileSync(stampFile, 'utf8');
  writeFileSync(stampFile, JSON.stringify({ ...JSON.parse(recorded), cflags: '-O0' }));
  try {
    const stale = runInfra(dir, ['run', 'lighttpd', GCC, '-t', 'test', '--port', String(port)]);
    assert.notEqual(stale.code, 0);
    assert.match(
      stale.stderr,
      new RegExp(`lighttpd/${GCC} is out of date: cflags: '-O0' -> '[^']*-O1[^']*'; rebuild it with \`infra build lighttpd ${GCC}\``),
    );
  } finally {
    writeFileSync(stampFile, recorded);
  }
  assert.deepEqual(serversLeft(dir, 'lighttpd'), []);
});
