// Apache httpd end to end: built from its release tarball (offline mirror, filled by
// scripts/fetch-sources.sh) with clang-22 against APR and APR-util packages built from theirs,
// event MPM, served on 127.0.0.1 and loaded by the real wrk and by ab (built from the same
// httpd source). One instance only: httpd is the slowest server to build.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, makeProject, runInfra } from './helpers.ts';
import { checkLoads, freePort, records, serversLeft } from './webserver-fixtures.ts';

const MIRROR = process.env.INFRA_SOURCE_MIRROR || join(tmpdir(), 'infra-source-mirror');

const SETUP = String.raw`
import { Setup, Clang, LLVM, ApacheHttpd, APR, APRUtil, ApacheBench } from 'instrumentation-infra';

const apr = new APR('1.7.2');
const aprUtil = new APRUtil('1.6.3', apr);
const setup = new Setup(import.meta.url);
setup.addTarget(new ApacheHttpd({ apr, aprUtil, uses: [new ApacheBench('2.4.68', apr, aprUtil)] }));
setup.addInstance(new Clang(LLVM.installed({ version: '22' }), { optlevel: 1 }));
await setup.main();
`;

const CLANG = 'clang-O1';
let dir = '';

before(() => {
  const fetch = spawnSync('sh', [join(REPO, 'scripts/fetch-sources.sh'), MIRROR], { encoding: 'utf8' });
  assert.equal(fetch.status, 0, fetch.stderr);
  dir = makeProject({ 'setup.ts': SETUP }, 'infra-apache-');
  const started = Date.now();
  const r = runInfra(dir, ['build', 'apache', CLANG, '-j', '2', '--source-mirror', MIRROR], { timeoutMs: 900_000 });
  assert.equal(r.code, 0, r.stderr);
  process.stderr.write(`# built APR, APR-util, ab and httpd with clang-22 in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
});

test('httpd is built with the instance compiler, the event MPM linked in, against the APR packages', () => {
  const httpd = join(dir, 'build/targets/apache', CLANG, 'install/bin/httpd');
  assert.ok(readFileSync(httpd).includes('clang version 22'));
  const modules = spawnSync(httpd, ['-l'], { encoding: 'utf8' });
  assert.match(modules.stdout, /event\.c/);
  const ldd = spawnSync('ldd', [httpd], { encoding: 'utf8' });
  assert.match(ldd.stdout, /libapr-1\.so\.0 => \S+\/build\/packages\/apr-1\.7\.2\/install\/lib\//);
  assert.match(ldd.stdout, /libaprutil-1\.so\.0 => \S+\/build\/packages\/apr-util-1\.6\.3\/install\/lib\//);
});

test('bench with wrk and with ab: throughput, latency, server statistics; the configuration the options say', async () => {
  for (const client of ['wrk', 'ab']) {
    const port = await freePort();
    const r = runInfra(dir, [
      'run',
      'apache',
      CLANG,
      '--client',
      client,
      '--duration',
      '1',
      '--connections',
      '8',
      '32',
      '--port',
      String(port),
      '--worker-threads',
      '16',
      '--workers',
      '2',
      '--collect-stats-interval',
      '0.25',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const recs = records(dir);
    assert.equal(recs.length, 2);
    checkLoads(recs, client);
    for (const rec of recs) assert.deepEqual([rec.fields.workerThreads, rec.fields.workers], [16, 2]);
    const conf = readFileSync(join(dir, `build/targets/apache/${CLANG}/serve/httpd.conf`), 'utf8');
    assert.match(conf, new RegExp(`Listen 127\\.0\\.0\\.1:${port}\\n`));
    assert.match(conf, /ThreadsPerChild 16\n/);
    assert.match(conf, /MaxRequestWorkers 32\n/);
    assert.deepEqual(serversLeft(dir, 'httpd'), [], 'the server is stopped after the run');
  }
});

test('test role, a bad option value and a stale build', async () => {
  const port = await freePort();
  const ok = runInfra(dir, ['run', 'apache', CLANG, '-t', 'test', '--port', String(port), '--filesize', '1000']);
  assert.equal(ok.code, 0, ok.stderr);
  const out = readFileSync(join(dir, 'results/last', records(dir)[0].stdout), 'utf8');
  assert.match(out, /-> 200, 1000 bytes, ok/);
  assert.match(out, /-missing -> 404, ok/);

  const bad = runInfra(dir, ['run', 'apache', CLANG, '--worker-threads', '0']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--worker-threads must be a positive integer, got '0'/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');

  // a server linked against other library builds than the target's now is not run
  const stampFile = join(dir, `build/targets/apache/${CLANG}/.infra-build`);
  const recorded = readFileSync(stampFile, 'utf8');
  writeFileSync(stampFile, JSON.stringify({ ...JSON.parse(recorded), libraries: ['apr-1.7.0', 'apr-util-1.6.3'] }));
  try {
    const stale = runInfra(dir, ['run', 'apache', CLANG, '-t', 'test', '--port', String(port)]);
    assert.notEqual(stale.code, 0);
    assert.match(
      stale.stderr,
      new RegExp(`apache/${CLANG} is out of date: libraries: .*apr-1\\.7\\.0.*; rebuild it with \`infra build apache ${CLANG}\``),
    );
  } finally {
    writeFileSync(stampFile, recorded);
  }
  assert.deepEqual(serversLeft(dir, 'httpd'), []);
});
