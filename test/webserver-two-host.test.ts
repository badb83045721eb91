// Web server benchmarks on two machines: two network namespaces on a bridge, each with its own
// sshd and host name, stand in for the client and the server machine (they share this file
// system, as machines with a shared home would). infra on the host drives nginx, built with
// gcc and clang-22, in one and wrk in the other over SSH; the records must say which machine
// did what. Also the two sides started by hand (-t bench-server, -t bench-client).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INFRA, REPO, makeProject, runInfra, startInfra } from './helpers.ts';
import { labUnavailable, makeLab, type Lab } from './netns.ts';
import { NGINX_SETUP } from './webserver-fixtures.js';

const MIRROR = process.env.INFRA_SOURCE_MIRROR || join(tmpdir(), 'infra-source-mirror');
const SKIP = labUnavailable() ?? false;
if (SKIP) process.stderr.write(`# skipping the two-host web server tests: ${SKIP}\n`);

const SETUP = NGINX_SETUP;

const [GCC, CLANG] = ['gcc-O1', 'clang-O1'];
const PORT = '20391';
let dir = '';
let lab: Lab | undefined;

function records(): any[] {
  return readFileSync(join(dir, 'results', 'last', 'records.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** nginx processes serving from this project, in any namespace (none may outlive a command). */
function serversLeft(): string[] {
  const ps = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).stdout;
  return ps.split('\n').filter((l) => l.includes('nginx') && l.includes(dir));
}

function twoHost(...extra: string[]): string[] {
  const { client, server } = lab!;
  return [
    '-t',
    'bench',
    '--parallel',
    'ssh',
    '--ssh-nodes',
    client.node,
    server.node,
    '--server-ip',
    server.address,
    '--port',
    PORT,
    ...extra,
  ];
}

before(async () => {
  if (SKIP) return;
  const fetch = spawnSync('sh', [join(REPO, 'scripts/fetch-sources.sh'), MIRROR], { encoding: 'utf8' });
  assert.equal(fetch.status, 0, fetch.stderr);
  dir = makeProject({ 'setup.ts': SETUP }, 'infra-two-host-');
  const r = runInfra(dir, ['build', 'nginx', GCC, CLANG, '--parallel', 'proc', '--source-mirror', MIRROR], { timeoutMs: 600_000 });
  assert.equal(r.code, 0, r.stderr);
  lab = await makeLab();
  // a failing test file still removes the namespaces, bridge and sshds
  process.on('exit', () => lab?.teardown());
});

after(() => {
  lab?.teardown();
  lab = undefined;
});

test('nginx on the server machine, wrk on the client machine, every load recorded here', { skip: SKIP }, () => {
  const { client, server } = lab!;
  const r = runInfra(dir, [
    'run',
    'nginx',
    GCC,
    CLANG,
    ...twoHost('--duration', '1', '--connections', '8', '16', '--threads', '2', '--workers', '2'),
    ...['--collect-stats', 'cpu', 'cpu-proc', 'rss', 'vms', '--collect-stats-interval', '0.25', '--restart-server-between-runs'],
    ...['--remote-client-host', client.address, '--remote-server-host', server.address],
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /--remote-client-host is not needed: infra controls both machines over the SSH connection/);
  const recs = records();
  assert.deepEqual(recs.map((x) => `${x.instance}/${x.benchmark}`).sort(), [`${CLANG}/c16`, `${CLANG}/c8`, `${GCC}/c16`, `${GCC}/c8`]);
  for (const rec of recs) {
    const f = rec.fields;
    assert.equal(rec.status, 'ok', JSON.stringify(rec));
    // wrk ran on the client (the record's host), the server and its statistics on the server
    assert.equal(rec.host, client.hostname);
    assert.equal(f.serverHost, server.hostname);
    assert.equal(f.serverIp, server.address);
    assert.ok(f.throughput > 100, `throughput ${f.throughput}`);
    assert.ok(
      f.latencyP50 > 0 && f.latencyP50 <= f.latencyP75 && f.latencyP75 <= f.latencyP90 && f.latencyP90 <= f.latencyP99,
      JSON.stringify(f),
    );
    assert.ok(f.serverCpu > 0 && f.serverUtilization > 0, `server CPU ${f.serverCpu}`);
    assert.ok(f.serverMaxRss > 500 && f.serverMaxVms >= f.serverMaxRss, `memory ${f.serverMaxRss} ${f.serverMaxVms}`);
    // master and two workers
    assert.equal(f.serverProcesses, 3);
    assert.ok(f.serverProcCpuMax >= f.serverProcCpuMin);
    assert.ok(f.serverHostUtilization > 0 && f.serverHostUtilization <= 1);
    assert.equal(typeof f.samplerCpu, 'number');
    assert.ok(f.runtime >= 1 && f.runtime < 10);
  }
  // the server listened on the server machine's address only
  const conf = readFileSync(join(dir, `build/targets/nginx/${GCC}/serve/nginx.conf`), 'utf8');
  assert.match(conf, new RegExp(`listen ${server.address.replace(/\./g, '\\.')}:${PORT};`));
  assert.deepEqual(serversLeft(), [], 'no server is left running');
  const report = runInfra(dir, [
    'report',
    'nginx',
    'results/last',
    '-f',
    'throughput:median',
    'serverCpu:median',
    '--groupby',
    'connections',
  ]);
  assert.equal(report.code, 0, report.stderr);
  assert.match(report.stdout, /│ 16\s+│/);
});

test('Ctrl-C during a load stops the server on the server machine and wrk on the client', { skip: SKIP }, async () => {
  const { server } = lab!;
  const run = startInfra(dir, ['run', 'nginx', GCC, ...twoHost('--duration', '30', '--connections', '8', '--disable-warmup')]);
  const wrkLeft = () =>
    spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((l) => l.startsWith('wrk ') && l.includes(server.address));
  const deadline = Date.now() + 60_000;
  while (wrkLeft().length === 0) {
    assert.ok(Date.now() < deadline && run.child.exitCode === null, `the load did not start:\n${run.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(serversLeft().length > 0, true, 'nginx runs while wrk loads it');
  run.child.kill('SIGINT');
  const r = await run.done;
  assert.equal(r.code, 130, r.stderr);
  // the far ends see their connections close and stop what they started
  const gone = Date.now() + 10_000;
  while ((serversLeft().length || wrkLeft().length) && Date.now() < gone) await new Promise((res) => setTimeout(res, 100));
  assert.deepEqual(serversLeft(), []);
  assert.deepEqual(wrkLeft(), []);
});

test('--nofork and a configuration template of your own on the server machine', { skip: SKIP }, () => {
  const template = join(dir, 'my-nginx.conf');
  writeFileSync(
    template,
    [
      '{{user}}',
      'daemon off;',
      'master_process {{master_process}};',
      'worker_processes {{workers}};',
      'pid {{pid_file}};',
      'error_log {{error_log}} info;',
      'events { worker_connections 64; }',
      'http { access_log off; server { listen {{listen}}; root {{docroot}}; add_header X-Mine yes; } }',
      '',
    ].join('\n'),
  );
  const r = runInfra(dir, [
    'run',
    'nginx',
    GCC,
    ...twoHost('--duration', '1', '--connections', '4', '--nofork', '--config', template, '--disable-warmup'),
  ]);
  assert.equal(r.code, 0, r.stderr);
  const [rec] = records();
  assert.equal(rec.status, 'ok', JSON.stringify(rec));
  assert.equal(rec.fields.workers, 1);
  assert.equal(rec.fields.serverProcesses, undefined, 'cpu-proc was not asked for');
  const conf = readFileSync(join(dir, `build/targets/nginx/${GCC}/serve/nginx.conf`), 'utf8');
  assert.match(conf, /master_process off;/);
  assert.match(conf, /add_header X-Mine yes;/);

  writeFileSync(template, 'daemon off;\nhttp { server { listen {{listn}}; } }\n');
  const bad = runInfra(dir, ['run', 'nginx', GCC, ...twoHost('--duration', '1', '--connections', '4', '--config', template)]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /my-nginx\.conf:2: unknown placeholder \{\{listn\}\}; known: .*\{\{listen\}\}/);
  assert.deepEqual(serversLeft(), []);
});

test('wrong machines, roles and a busy port are clear errors', { skip: SKIP }, async () => {
  const { client } = lab!;
  const one = runInfra(dir, ['run', 'nginx', GCC, '-t', 'bench', '--parallel', 'ssh', '--ssh-nodes', client.node]);
  assert.notEqual(one.code, 0);
  assert.match(one.stderr, /--parallel ssh takes two machines for a web server: --ssh-nodes CLIENT SERVER/);
  const role = runInfra(dir, ['run', 'nginx', GCC, ...twoHost('--duration', '1').slice(2), '-t', 'test']);
  assert.notEqual(role.code, 0);
  assert.match(role.stderr, /--parallel ssh runs -t bench on two machines; -t test runs on this machine/);
  // the port is checked on the server machine, where something else listens on it
  const listen = `require('node:net').createServer().listen(${PORT}, '${lab!.server.address}', () => console.log('listening'))`;
  const busy = spawn('ip', ['netns', 'exec', lab!.server.ns, process.execPath, '-e', listen], { stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await new Promise((resolve) => busy.stdout.once('data', resolve));
    const r = runInfra(dir, ['run', 'nginx', GCC, ...twoHost('--duration', '1', '--connections', '4')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, new RegExp(`port ${PORT} on root@[\\d.]+ \\(infra-server\\) is already in use; choose another with --port`));
  } finally {
    busy.kill();
  }
});

test('the two sides started by hand: -t bench-server on one machine, -t bench-client on the other', { skip: SKIP }, async () => {
  const { client, server } = lab!;
  const serverSide = spawn(
    'ip',
    [
      'netns',
      'exec',
      server.ns,
      process.execPath,
      INFRA,
      'run',
      'nginx',
      GCC,
      '-t',
      'bench-server',
      '--server-ip',
      server.address,
      '--port',
      PORT,
    ],
    {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    },
  );
  let serverOut = '';
  serverSide.stderr.on('data', (c: Buffer) => (serverOut += c.toString()));
  serverSide.stdout.on('data', (c: Buffer) => (serverOut += c.toString()));
  const exited = new Promise<number | null>((resolve) => serverSide.on('close', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 30_000;
    // two log lines, which may come in two reads of the pipe: wait for the second
    while (!serverOut.includes('press Ctrl-C') || !serverOut.includes('load it from the client machine')) {
      assert.ok(Date.now() < deadline && serverSide.exitCode === null, `bench-server did not start:\n${serverOut}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.match(serverOut, new RegExp(`-t bench-client --server-ip ${server.address.replace(/\./g, '\\.')} --port ${PORT}`));
    const c = spawnSync(
      'ip',
      [
        'netns',
        'exec',
        client.ns,
        process.execPath,
        INFRA,
        'run',
        'nginx',
        GCC,
        '-t',
        'bench-client',
        '--server-ip',
        server.address,
        '--port',
        PORT,
        '--duration',
        '1',
        '--connections',
        '8',
      ],
      { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 120_000, input: '' },
    );
    // the client records its loads; the server is someone else's: no server statistics
    assert.equal(c.status, 0, c.stderr);
    const recs = records();
    assert.equal(recs.length, 1);
    assert.equal(recs[0].status, 'ok', JSON.stringify(recs[0]));
    assert.ok(recs[0].fields.throughput > 100);
    assert.equal(recs[0].fields.serverCpu, undefined);
  } finally {
    serverSide.kill('SIGINT');
  }
  assert.equal(await exited, 130, serverOut);
  assert.deepEqual(serversLeft(), []);
});
