// Fault injection for results, inputs and file systems: runs that fail their checks, resumed
// runs, CPU lists, file-system errors (a full or read-only results directory, a file where a
// directory belongs), interrupted runs in reports, invalid records and outputs of hundreds of MB.
// The benchmarks are shell commands, so nothing needs a compiler. Tests that mount a tmpfs
// need root and skip with a message elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { Context, makePaths } from '../src/core/context.js';
import { Logger } from '../src/core/log.js';
import { parseReportBlocks, readReportBlocks } from '../src/core/report-blocks.js';
import { DEFAULT_STALL_SECONDS, download, MIRROR_INDEX } from '../src/util/download.js';
import { proxyFor } from '../src/util/http.js';
import { UserError } from '../src/core/errors.js';
import { readRecordsFile } from '../src/results/read.js';
import { createRunDirectory, RecordingStopped } from '../src/results/write.js';
import { allowedCpus, checkCpusAllowed, parseCpuList } from '../src/run/cpus.js';
import { makeProject, runInfra, startInfra, waitFor } from './helpers.ts';
import { runMeta } from './run-fixtures.ts';

const SETUP = String.raw`
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Setup, Target, Instance, UserError, type Context, type Runner, type ArgParser } from 'instrumentation-infra';

const BLOCK = "printf '\\n[setup-report] begin sizes\\n[setup-report] lines: 1\\n[setup-report] end sizes\\n'";
const SCRIPTS: Record<string, string> = {
  hello: "printf '[setup-report] begin b\\n[setup-report] value: 7\\n[setup-report] end b\\n'",
  slow: 'sleep 0.3',
  // 20 kB of output per execution: fills a small file system quickly
  chatty: 'head -c 20000 /dev/zero',
  // one line of 600 MB (more than the longest string V8 can make), then a block
  bigout: 'head -c 600000000 /dev/zero; ' + BLOCK,
  bigerr: '{ head -c 600000000 /dev/zero; ' + BLOCK + '; } >&2',
};

class Sinks extends Target {
  readonly name = 'sinks';
  override reportableFields() { return { value: 'printed value', lines: 'lines after the big output' }; }
  override addRunArgs(p: ArgParser) {
    p.option('--benchmarks <names...>', 'which scripts to run', { default: ['hello'] });
  }
  isFetched() { return true; }
  fetch() {}
  build(ctx: Context, instance: Instance) {
    mkdirSync(this.path(ctx, instance.name), { recursive: true });
    writeFileSync(this.path(ctx, instance.name, 'built'), '');
  }
  run(ctx: Context, instance: Instance, runner: Runner) {
    if (!existsSync(this.path(ctx, instance.name, 'built'))) throw new UserError('sinks is not built with ' + instance.name + '; run infra build sinks ' + instance.name);
    for (const n of ctx.args.benchmarks as string[]) {
      if (!(n in SCRIPTS)) throw new UserError('unknown benchmark ' + n + '; valid: ' + Object.keys(SCRIPTS).join(', '));
      // in the build directory, not the project: log paths must not depend on the working directory
      runner.submit(ctx, { benchmark: n, argv: ['sh', '-c', SCRIPTS[n]], cwd: this.path(ctx, instance.name) });
    }
  }
}

class Plain extends Instance {
  constructor(readonly name: string) { super(); }
}

const setup = new Setup(import.meta.url);
setup.addTarget(new Sinks());
setup.addInstance(new Plain('base'));
setup.addInstance(new Plain('unbuilt'));
await setup.main();
`;

function project(): string {
  const dir = makeProject({ 'setup.ts': SETUP }, 'infra-faults-');
  const r = runInfra(dir, ['build', 'sinks', 'base']);
  assert.equal(r.code, 0, r.stderr);
  return dir;
}

function runDirs(dir: string): string[] {
  return existsSync(join(dir, 'results')) ? readdirSync(join(dir, 'results')).filter((n) => n.startsWith('run.')) : [];
}

/** Every line of records.jsonl parsed (a torn line fails the test). */
function records(runDir: string): any[] {
  return readFileSync(join(runDir, 'records.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** A user error: exit 1, a message, no stack trace. */
function assertUserError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /internal error|    at /);
}

const isRoot = process.getuid?.() === 0;

/** Mounts a tmpfs at `dir` (root only); returns an unmount function, or null with the reason. */
function mountTmpfs(dir: string, options: string): (() => void) | string {
  if (!isRoot) return 'needs root to mount a tmpfs';
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return `cannot mount a tmpfs here: ${r.stderr.trim() || r.error?.message}`;
  return () => {
    spawnSync('umount', ['-l', dir]);
  };
}

test('a run that fails its checks (unknown benchmark, target not built) writes nothing and keeps results/last', () => {
  const dir = project();
  const good = runInfra(dir, ['run', 'sinks', 'base']);
  assert.equal(good.code, 0, good.stderr);
  const last = readlinkSync(join(dir, 'results/last'));

  assertUserError(runInfra(dir, ['run', 'sinks', 'base', '--benchmarks', 'nope']), /unknown benchmark nope/);
  assertUserError(runInfra(dir, ['run', 'sinks', 'unbuilt']), /sinks is not built with unbuilt/);
  assert.deepEqual(runDirs(dir), [last], 'no new run directory');
  assert.equal(readlinkSync(join(dir, 'results/last')), last, 'results/last still names the good run');
});

test('--cpus is checked against the CPUs this process may use before anything is written', () => {
  const dir = project();
  const allowed = allowedCpus();
  assert.ok(allowed?.length, 'Cpus_allowed_list is readable');
  assertUserError(
    runInfra(dir, ['run', 'sinks', 'base', '--cpus', '99']),
    /--cpus 99: CPU 99 cannot be used here; this process may run on CPUs \d/,
  );
  assertUserError(
    runInfra(dir, ['run', 'sinks', 'base', '--cpus', 'abc']),
    /--cpus must be a list of CPU numbers such as 1 or 0,2-3, got 'abc'/,
  );
  assert.ok(!existsSync(join(dir, 'results')), 'no results directory');
  const ok = runInfra(dir, ['run', 'sinks', 'base', '--cpus', String(allowed[0])]);
  assert.equal(ok.code, 0, ok.stderr);
});

test('CPU lists: parsed, compared with an affinity list', () => {
  assert.deepEqual(parseCpuList('0,2-3,2'), [0, 2, 3]);
  for (const bad of ['', 'abc', '3-1', '1,', '-1', '1.5']) assert.throws(() => parseCpuList(bad), UserError, bad);
  const status = join(makeProject({ status: 'Name:\tx\nCpus_allowed:\t5\nCpus_allowed_list:\t0,2-3\n' }), 'status');
  assert.deepEqual(allowedCpus(status), [0, 2, 3]);
  assert.equal(allowedCpus('/nonexistent'), null);
  checkCpusAllowed('2-3', [0, 2, 3]);
  assert.throws(() => checkCpusAllowed('1-2', [0, 2, 3]), /CPU 1 cannot be used here; this process may run on CPUs 0,2-3/);
});

test('Ctrl-C, report of the interrupted run, then the printed --resume command (a relative path) completes it', async () => {
  const dir = project();
  const p = startInfra(dir, ['run', 'sinks', 'base', '--benchmarks', 'slow', '-i', '6']);
  const file = join(dir, 'results/last/records.jsonl');
  await waitFor(() => existsSync(file) && readFileSync(file, 'utf8').split('\n').filter(Boolean).length >= 2, 30_000, 'two records');
  p.child.kill('SIGINT');
  const r = await p.done;
  assert.equal(r.code, 130, r.stderr);
  const runName = readlinkSync(join(dir, 'results/last'));
  const printed = /complete the run with: infra (.*)$/m.exec(r.stderr)?.[1];
  assert.equal(printed, `run sinks base --resume results/${runName}`, r.stderr);
  const recorded = records(join(dir, 'results', runName)).length;

  const rep = runInfra(dir, ['report', 'sinks', 'results/last']);
  assert.equal(rep.code, 0, rep.stderr);
  const warning = `results/${runName}: ${recorded} of 6 executions recorded (run interrupted; complete it with infra run sinks base --resume results/${runName})`;
  assert.ok(rep.stdout.includes(warning), 'the warning is under the table');
  assert.ok(!rep.stderr.includes(warning), 'and printed once, not again on stderr');

  const again = runInfra(dir, printed.split(' '));
  assert.equal(again.code, 0, again.stderr);
  const all = records(join(dir, 'results', runName));
  // only the execution cut short by Ctrl-C (if any) did not succeed
  assert.deepEqual(
    all.filter((x) => x.status !== 'ok' && !/interrupt/.test(x.reason)),
    [],
    'no error records',
  );
  assert.deepEqual(
    all
      .filter((x) => x.status === 'ok')
      .map((x) => x.iteration)
      .sort(),
    [0, 1, 2, 3, 4, 5],
  );
  const done = runInfra(dir, ['report', 'sinks', 'results/last']);
  assert.equal(done.code, 0, done.stderr);
  assert.doesNotMatch(done.stderr, /interrupted/);
});

test('file-system errors are clear user errors and leave nothing half made', () => {
  const dir = project();
  mkdirSync(join(dir, 'results/last'), { recursive: true });
  assertUserError(runInfra(dir, ['run', 'sinks', 'base']), /results\/last at a new run: it is a directory, not the symbolic link/);
  assert.deepEqual(runDirs(dir), [], 'no run directory left behind');
  rmSync(join(dir, 'results'), { recursive: true });

  writeFileSync(join(dir, 'results'), 'not a directory');
  assertUserError(runInfra(dir, ['run', 'sinks', 'base']), /cannot write results to .*results: it is a file, not a directory/);
  rmSync(join(dir, 'results'));

  const ok = runInfra(dir, ['run', 'sinks', 'base']);
  assert.equal(ok.code, 0, ok.stderr);
  // under a file: ENOTDIR, whoever runs the test
  const rep = runInfra(dir, ['report', 'sinks', 'results/last', '-o', 'setup.ts/report.txt']);
  assertUserError(
    rep,
    /cannot write the report to setup\.ts\/report\.txt: a file that is not a directory is in the way \((EEXIST|ENOTDIR)\)/,
  );
});

test('a read-only results directory and report -o to a read-only file system', (t) => {
  const dir = project();
  const ro = mountTmpfs(join(dir, 'results'), 'ro,size=1m');
  if (typeof ro === 'string') return t.skip(ro);
  try {
    assertUserError(
      runInfra(dir, ['run', 'sinks', 'base']),
      /cannot write results to .*results: the file system is mounted read-only \(EROFS\)/,
    );
  } finally {
    ro();
  }
  assert.equal(runInfra(dir, ['run', 'sinks', 'base']).code, 0);
  const out = mountTmpfs(join(dir, 'out'), 'ro,size=1m');
  if (typeof out === 'string') return t.skip(out);
  try {
    const rep = runInfra(dir, ['report', 'sinks', 'results/last', '-o', 'out/report.txt']);
    assertUserError(
      rep,
      /cannot write the report to out\/report\.txt: the file system is mounted read-only \(EROFS\) \(the tmpfs file system mounted at/,
    );
  } finally {
    out();
  }
});

test('records with wrong types or absurd measurements are skipped with a warning naming file:line', () => {
  const root = makeProject({});
  const file = join(root, 'records.jsonl');
  const base = { schema: 1, target: 'demo', instance: 'plain', benchmark: 'b', host: 'h', status: 'ok', exitCode: 0, signal: null };
  const lines = [
    { ...base, iteration: 0, fields: { runtime: 1.5 } },
    { ...base, iteration: 'one', fields: { runtime: 9 } },
    { ...base, iteration: 1, fields: { runtime: -1 } },
    { ...base, iteration: 2, fields: { runtime: 1e12 } },
    { ...base, iteration: 3, fields: { runtime: '2' } },
    { ...base, iteration: 4, fields: { runtime: 1, score: { nested: true } } },
    { ...base, iteration: 5.5, fields: { runtime: 1 } },
    { ...base, iteration: 6, exitCode: 'zero', fields: { runtime: 1 } },
    { ...base, iteration: 7, fields: { runtime: 2, maxrss: 1000 } },
  ];
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const warnings: string[] = [];
  const log = new Logger('warning');
  log.warning = (m: string) => void warnings.push(m);
  const read = readRecordsFile(file, log);
  assert.deepEqual(
    read.records.map((r) => [r.iteration, r.fields.runtime]),
    [
      [0, 1.5],
      [7, 2],
    ],
  );
  assert.deepEqual(read.badLines, [2, 3, 4, 5, 6, 7, 8]);
  assert.match(warnings[0]!, new RegExp(`^${file}:2: skipped a corrupt record \\('iteration' is "one", not an iteration number\\)`));
  assert.match(warnings[1]!, /:3: skipped .*measured field 'runtime' is -1/);
  assert.match(warnings[2]!, /:4: skipped .*measured field 'runtime' is 1000000000000/);
});

test('a record is appended whole or not at all on a full file system (short write rolled back)', (t) => {
  const root = makeProject({});
  const mnt = join(root, 'small');
  const umount = mountTmpfs(mnt, 'size=256k');
  if (typeof umount === 'string') return t.skip(umount);
  try {
    const dir = createRunDirectory(join(mnt, 'results'), runMeta(root));
    const record = (iteration: number, pad: string) => ({
      schema: 1 as const,
      target: 'demo',
      instance: 'plain',
      benchmark: 'b',
      iteration,
      host: 'h',
      status: 'ok' as const,
      exitCode: 0,
      signal: null,
      start: '',
      stdout: '',
      stderr: '',
      fields: { runtime: 1, pad },
    });
    dir.append(record(0, 'x'));
    fill(join(mnt, 'ballast'));
    const before = statSync(join(dir.path, 'records.jsonl')).size;
    // larger than the rest of the file's last page: the write is cut short by ENOSPC
    assert.throws(
      () => dir.append(record(1, 'y'.repeat(64 * 1024))),
      (e: unknown) => {
        assert.ok(e instanceof RecordingStopped);
        assert.match(e.message, /records\.jsonl: no space left on the file system \(ENOSPC\) \(the tmpfs file system mounted at .*small/);
        return true;
      },
    );
    assert.equal(statSync(join(dir.path, 'records.jsonl')).size, before, 'the short write was rolled back');
    assert.equal(records(dir.path).length, 1);
    assert.ok(dir.noSpaceLeft(), 'the full file system is noticed');
    assert.throws(() => dir.saveMeta(), RecordingStopped);
    assert.deepEqual(
      readdirSync(dir.path).filter((n) => n.includes('.tmp-')),
      [],
      'no meta.json.tmp-* left',
    );
    assert.equal(JSON.parse(readFileSync(join(dir.path, 'meta.json'), 'utf8')).interrupted, true);
  } finally {
    umount();
  }
});

/** Writes zeros to `file` until the file system is full. */
function fill(file: string): void {
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096);
  try {
    for (;;) writeSync(fd, block);
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
}

test('disk full while recording stops the run at once; meta.json stays valid; --resume completes it', (t) => {
  const dir = project();
  const umount = mountTmpfs(join(dir, 'results'), 'size=2m');
  if (typeof umount === 'string') return t.skip(umount);
  try {
    // leave room for a few executions' output only
    const ballast = join(dir, 'results', 'ballast');
    fill(ballast);
    truncateSync(ballast, statSync(ballast).size - 120 * 1024);
    const r = runInfra(dir, ['run', 'sinks', 'base', '--benchmarks', 'chatty', '-i', '30']);
    assertUserError(r, /no space left .*the tmpfs file system mounted at .*results/);
    const runName = readlinkSync(join(dir, 'results/last'));
    const resume = /free space \(or make it writable\), then complete the run with: infra (.*)$/m.exec(r.stderr)?.[1];
    assert.equal(resume, `run sinks base --resume results/${runName}`, r.stderr);
    const runDir = join(dir, 'results', runName);
    const meta = JSON.parse(readFileSync(join(runDir, 'meta.json'), 'utf8'));
    assert.equal(meta.interrupted, true);
    assert.equal(meta.executions, 30);
    assert.deepEqual(
      readdirSync(runDir).filter((n) => n.includes('.tmp-')),
      [],
    );
    const first = records(runDir);
    assert.ok(first.length < 30, `${first.length} records`);
    assert.ok(!/executions failed/.test(r.stderr), 'the run did not go on to the end');

    rmSync(ballast);
    const again = runInfra(dir, resume.split(' '));
    assert.equal(again.code, 0, again.stderr);
    const all = records(runDir).filter((x) => x.status === 'ok');
    assert.equal(new Set(all.map((x) => x.iteration)).size, 30);
    assert.equal(JSON.parse(readFileSync(join(runDir, 'meta.json'), 'utf8')).interrupted, undefined);
  } finally {
    umount();
  }
});

test('outputs of 600 MB on stdout and stderr are measured, kept and parsed in bounded memory', () => {
  const dir = project();
  // GNU time reports the peak RSS of infra (the largest single process of its tree)
  const r = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      'maxrss %M',
      process.execPath,
      join(import.meta.dirname, '..', 'bin/infra.js'),
      'run',
      'sinks',
      'base',
      '--benchmarks',
      'bigout',
      'bigerr',
    ],
    {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const runDir = join(dir, 'results', readlinkSync(join(dir, 'results/last')));
  const recs = records(runDir);
  for (const name of ['bigout', 'bigerr']) {
    const rec = recs.find((x) => x.benchmark === name)!;
    assert.equal(rec.status, 'ok', JSON.stringify(rec));
    assert.equal(typeof rec.fields.runtime, 'number');
    const log = join(runDir, name === 'bigout' ? rec.stdout : rec.stderr);
    assert.ok(statSync(log).size > 600_000_000, 'the output is kept');
    rmSync(log);
  }
  assert.equal(recs.find((x) => x.benchmark === 'bigout').fields.lines, 1, 'the block at the end of stdout');
  assert.equal(recs.find((x) => x.benchmark === 'bigerr').fields.lines, 1, 'the block at the end of stderr');
  const rss = Number(/maxrss (\d+)/.exec(r.stderr)?.[1]);
  assert.ok(rss > 0 && rss < 400_000, `infra's peak RSS ${rss} KiB`);
});

test('report blocks are read from a stream: across read chunks, after overlong lines, without a final newline', async () => {
  const dir = makeProject({});
  const block = (name: string, v: number) => `[setup-report] begin ${name}\n[setup-report] v: ${v}\n[setup-report] end ${name}`;
  const chunk = 1 << 20;
  const file = join(dir, 'out');
  // the first block's prefix straddles the first chunk boundary; the second follows 3 MB on one line
  writeFileSync(
    file,
    `${'a'.repeat(chunk - 5)}\n${block('one', 1)}\n${'b'.repeat(3 * chunk)}${block('two', 2)}\nnoise\n${block('three', 3)}`,
  );
  assert.deepEqual(
    (await readReportBlocks(file)).map((b) => [b.name, b.fields.v]),
    [
      ['one', 1],
      ['two', 2],
      ['three', 3],
    ],
  );
  assert.deepEqual(await readReportBlocks(file), parseReportBlocks(readFileSync(file, 'utf8')));
});

// Downloads: a stale mirror index, proxies, retries and stalls, against servers in this process.

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const payload = Buffer.from('the real tarball\n'.repeat(1000));
const impostor = Buffer.from('an impostor file\n'.repeat(1000));

function downloadCtx(dir: string, warnings: string[] = []): Context {
  const log = new Logger('error');
  log.warning = (m: string) => void warnings.push(m);
  return new Context(makePaths(dir, join(dir, 'setup.ts'), 'test'), log);
}

/** A server on 127.0.0.1 (closed when the test ends); `handle` answers every request. */
async function serve(t: { after: (fn: () => void) => void }, handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handle);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Runs `fn` with exactly these proxy variables set (the others unset). */
async function withProxyEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const names = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY'];
  const saved = names.map((n) => [n, process.env[n]] as const);
  for (const n of names) delete process.env[n];
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [n, v] of saved) {
      if (v === undefined) delete process.env[n];
      else process.env[n] = v;
    }
  }
}

test('a stale mirror index (same size and mtime, other content): re-indexed, other mirror files, then the URL', async (t) => {
  const dir = makeProject({});
  const mirror = join(dir, 'mirror');
  mkdirSync(mirror);
  const file = join(mirror, 'pkg-1.0.tar.gz');
  const when = new Date('2024-01-01T00:00:00Z');
  writeFileSync(file, payload);
  utimesSync(file, when, when);
  const url = `http://127.0.0.1:9/pkg-1.0.tar.gz`;
  await download(downloadCtx(dir), url, { sha256: sha(payload), outfile: 'first', mirrors: [mirror] });
  assert.equal(JSON.parse(readFileSync(join(mirror, MIRROR_INDEX), 'utf8')).files['pkg-1.0.tar.gz'].sha256, sha(payload));

  // replaced behind the index's back: same size, same mtime
  writeFileSync(file, impostor);
  utimesSync(file, when, when);
  writeFileSync(join(mirror, 'pkg_1.0.orig.tar.gz'), payload);
  const warnings: string[] = [];
  const out = await download(downloadCtx(dir, warnings), url, { sha256: sha(payload), outfile: 'second', mirrors: [mirror] });
  assert.deepEqual(readFileSync(out), payload);
  assert.match(
    warnings.join('\n'),
    /mirror file .*pkg-1\.0\.tar\.gz does not have the sha256 its index says .* trying the other mirror files, then http/,
  );
  assert.equal(JSON.parse(readFileSync(join(mirror, MIRROR_INDEX), 'utf8')).files['pkg-1.0.tar.gz'].sha256, sha(impostor), 're-indexed');

  // no other copy: the URL
  rmSync(join(mirror, 'pkg_1.0.orig.tar.gz'));
  writeFileSync(join(mirror, MIRROR_INDEX), readFileSync(join(mirror, MIRROR_INDEX), 'utf8').replace(sha(impostor), sha(payload)));
  const { url: base } = await serve(t, (_req, res) => res.end(payload));
  const fetched = await download(downloadCtx(dir), `${base}/pkg-1.0.tar.gz`, { sha256: sha(payload), outfile: 'third', mirrors: [mirror] });
  assert.deepEqual(readFileSync(fetched), payload);
});

test('downloads go through HTTP_PROXY, HTTPS through the proxy with CONNECT, NO_PROXY bypasses it', async (t) => {
  const dir = makeProject({});
  const seen: string[] = [];
  const { server, url: proxy } = await serve(t, (req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.end(payload);
  });
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    seen.push(`CONNECT ${req.url}`);
    socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
  });
  // a host that does not resolve: only the proxy can fetch it
  const out = await withProxyEnv({ HTTP_PROXY: proxy }, () =>
    download(downloadCtx(dir), 'http://files.invalid/pkg.tar.gz', { sha256: sha(payload), outfile: 'via-proxy' }),
  );
  assert.deepEqual(readFileSync(out), payload);
  assert.deepEqual(seen, ['GET http://files.invalid/pkg.tar.gz']);

  await withProxyEnv({ https_proxy: proxy.replace('http://', '') }, () =>
    assert.rejects(
      download(downloadCtx(dir), 'https://files.invalid/pkg.tar.gz', { sha256: sha(payload), outfile: 'tls' }),
      /could not download https:\/\/files\.invalid\/pkg\.tar\.gz: the proxy 127\.0\.0\.1:\d+ refused to connect to files\.invalid:443: HTTP 403/,
    ),
  );
  assert.equal(seen[1], 'CONNECT files.invalid:443');

  await withProxyEnv({ HTTP_PROXY: proxy, NO_PROXY: 'example.org, .invalid' }, () =>
    assert.rejects(download(downloadCtx(dir), 'http://files.invalid/pkg.tar.gz', { sha256: sha(payload), outfile: 'direct' }), /ENOTFOUND/),
  );
  assert.equal(seen.length, 2, 'NO_PROXY: the proxy was not asked');
  assert.equal(proxyFor(new URL('http://a.b.example.org:8080/x'), { http_proxy: proxy, no_proxy: 'example.org:8080' }), null);
  assert.equal(proxyFor(new URL('http://example.org/x'), { http_proxy: proxy, no_proxy: 'example.org:8080' })?.href, `${proxy}/`);
});

test('transient download failures are retried with backoff; a stalled transfer fails naming the URL', async (t) => {
  const dir = makeProject({});
  let requests = 0;
  const { url } = await serve(t, (req, res) => {
    requests++;
    if (req.url === '/flaky' && requests <= 2) {
      res.statusCode = 503;
      return void res.end();
    }
    if (req.url === '/stall') {
      res.writeHead(200, { 'content-length': String(payload.length) });
      return void res.write(payload.subarray(0, 100)); // and then nothing
    }
    if (req.url === '/missing') {
      res.statusCode = 404;
      return void res.end();
    }
    res.end(payload);
  });
  const warnings: string[] = [];
  const out = await download(downloadCtx(dir, warnings), `${url}/flaky`, { sha256: sha(payload), outfile: 'flaky' });
  assert.deepEqual(readFileSync(out), payload);
  assert.equal(requests, 3);
  assert.match(warnings[0]!, /downloading http:\/\/127\.0\.0\.1:\d+\/flaky failed: HTTP 503 Service Unavailable; trying again in 1 s/);
  assert.match(warnings[1]!, /trying again in 2 s/);

  requests = 0;
  await assert.rejects(download(downloadCtx(dir), `${url}/missing`, { sha256: sha(payload), outfile: 'missing' }), /HTTP 404/);
  assert.equal(requests, 1, 'a 404 is not retried');

  assert.ok(DEFAULT_STALL_SECONDS <= 60);
  await assert.rejects(
    download(downloadCtx(dir), `${url}/stall`, { sha256: sha(payload), outfile: 'stall', stallSeconds: 1, retries: 1 }),
    (e: unknown) => {
      assert.ok(e instanceof UserError);
      assert.match(
        e.message,
        /^could not download http:\/\/127\.0\.0\.1:\d+\/stall \(after 2 attempts\): no data for 1 s \(the transfer stalled\); an offline copy/,
      );
      return true;
    },
  );
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.includes('.part-')),
    [],
    'no partial file left',
  );
});
