// Many executions per cluster job and per ssh session: the batch size, the stream the ssh
// sessions send back, and end-to-end runs against the real sshd and single-node Slurm on this
// machine (scripts/start-test-services.sh), and prun through the fixture that imitates it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeProject, REPO, runInfra, startInfra, waitFor } from './helpers.ts';
import { batchSizeFor, MAX_AUTO_BATCH } from '../src/parallel/batch.ts';
import { TarStreamReader } from '../src/parallel/tar-stream.ts';
import { printfFormat } from '../src/parallel/ssh-session.ts';
import { checkModeOptions } from '../src/parallel/backends.ts';
import { Progress } from '../src/parallel/progress.ts';

const isRoot = process.getuid?.() === 0;
const SKIP = isRoot ? false : 'needs root to start sshd and Slurm (scripts/start-test-services.sh); CI runs as root';

test('the batch size: one per job until a duration is known, then jobs of 30 s to 5 min, shared by the slots', () => {
  assert.equal(batchSizeFor(1000, 64, undefined, undefined), 1, 'nothing measured yet');
  assert.equal(batchSizeFor(1000, 2, undefined, 0.001), MAX_AUTO_BATCH, 'trivial executions: as many as allowed');
  assert.equal(batchSizeFor(50, 2, undefined, 0.001), 50, 'never more than are waiting');
  assert.equal(batchSizeFor(1000, 64, undefined, 10), 16, 'ten-second executions: the waiting ones shared by 64 jobs');
  assert.equal(batchSizeFor(10, 64, undefined, 10), 3, 'but a job lasts at least 30 s');
  assert.equal(batchSizeFor(1000, 4, undefined, 60), 5, 'and at most 5 minutes');
  assert.equal(batchSizeFor(1000, 4, undefined, 900), 1, 'a long execution is a job of its own');
  assert.equal(batchSizeFor(12, 64, 5, undefined), 5, '--batch-size is taken as given');
  assert.equal(batchSizeFor(2, 64, 5, 0.001), 2);
  assert.equal(batchSizeFor(0, 4, undefined, 1), 0);
});

test('the progress display tells the executions that run from those waiting in a batch', () => {
  let out = '';
  const stream = { write: (t: string) => ((out += t), true), isTTY: true, columns: 100 } as unknown as NodeJS.WriteStream;
  const progress = new Progress({ stream, live: true, color: false, runningAtOnce: 2, now: () => 1000 });
  for (let i = 0; i < 7; i++) {
    progress.jobAdded(`cc/b.${i}`);
    progress.jobStarted(`cc/b.${i}`);
  }
  progress.message('-');
  progress.close();
  const block = out.slice(out.lastIndexOf('-\n'));
  assert.match(block, /running cc\/b\.0 /);
  assert.match(block, /running cc\/b\.1 /);
  assert.doesNotMatch(block, /running cc\/b\.2/);
  assert.match(block, /\.\.\. and 5 more waiting to start/);
});

test('--batch-size is refused without a cluster mode', () => {
  assert.throws(() => checkModeOptions('ssh', { batchSize: 4 }), /^UserError: --batch-size is only used with --parallel slurm or prun/);
  checkModeOptions('slurm', { batchSize: 4 });
  checkModeOptions('prun', { batchSize: 4 });
});

test('printf formats carry any bytes through the shell unchanged', () => {
  const text = "A=1\u0000B=it's 100% \\n\nnew line\u0000C=ünï\u0000";
  for (const sh of ['sh', 'bash']) {
    const out = execFileSync(sh, ['-c', `printf ${printfFormat(text)}`]);
    assert.equal(out.toString('utf8'), text, sh);
  }
  assert.match(printfFormat(text), /^'[\x20-\x7e]*'$/, 'one line of plain ASCII');
});

test('a stream of tar archives and @ lines is read back one execution at a time, however it is split', () => {
  const dir = mkdtempSync(join(tmpdir(), 'infra-tar-'));
  try {
    writeFileSync(join(dir, 's'), '0\n');
    writeFileSync(join(dir, 'o'), 'x'.repeat(1300));
    writeFileSync(join(dir, 'e'), '');
    const archive = execFileSync('tar', ['-cf', '-', '-C', dir, 's', 'o', 'e']);
    const stream = Buffer.concat([archive, Buffer.from('@0 {"runtime":1}\n'), archive, Buffer.from('@3 \n')]);
    for (const step of [stream.length, 1, 7, 511, 513, 4096]) {
      const seen: string[] = [];
      let size = 0;
      const reader = new TarStreamReader({
        file: (name, n) => seen.push(`file ${name} ${n}`),
        data: (c) => (size += c.length),
        archiveEnd: () => seen.push('end'),
        line: (text) => seen.push(`line ${text}`),
      });
      for (let at = 0; at < stream.length; at += step) reader.write(stream.subarray(at, at + step));
      assert.deepEqual(
        seen,
        ['file s 2', 'file o 1300', 'file e 0', 'end', 'line 0 {"runtime":1}', 'file s 2', 'file o 1300', 'file e 0', 'end', 'line 3 '],
        `chunks of ${step}`,
      );
      assert.equal(size, 2 * 1302);
      assert.equal(reader.midArchive, false);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const PROGRAMS: Record<string, string> = {
  // prints what it was given, so each record can be matched to its execution
  'src/probe.c': String.raw`#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  printf("[setup-report] begin probe\n[setup-report] value: %d\n[setup-report] end probe\n", argc > 1 ? atoi(argv[1]) : 7);
  fprintf(stderr, "probe done\n");
  return 0;
}
`,
  'src/quiet.c': 'int main(void){ return 0; }\n',
  'src/fail.c': 'int main(void){ return 3; }\n',
  // takes a while, then notes in NAP_LOG when it finished (milliseconds since the epoch)
  'src/nap.c': String.raw`#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int main(void) {
  struct timespec t = { 0, 600 * 1000 * 1000 };
  nanosleep(&t, 0);
  FILE *f = fopen(getenv("NAP_LOG"), "a");
  if (!f) return 9;
  clock_gettime(CLOCK_REALTIME, &t);
  fprintf(f, "%lld\n", (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000);
  fclose(f);
  return 0;
}
`,
};

const SETUP = String.raw`
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Setup, Target, Instance, run, type Context, type Runner, type ArgParser } from 'instrumentation-infra';

const src = join(import.meta.dirname, 'src');
const NAMES = ['probe', 'quiet', 'fail', 'nap'];

class Many extends Target {
  readonly name = 'many';
  override reportableFields() { return { value: 'the number printed' }; }
  override addRunArgs(p: ArgParser) { p.option('--benchmarks <names...>', 'programs to run', { default: ['probe'] }); }
  isFetched() { return true; }
  fetch() {}
  async build(ctx: Context, instance: Instance) {
    mkdirSync(this.path(ctx, instance.name), { recursive: true });
    for (const n of NAMES) await run(ctx, [ctx.cc, '-O1', join(src, n + '.c'), '-o', this.path(ctx, instance.name, n)]);
  }
  run(ctx: Context, instance: Instance, runner: Runner) {
    for (const n of ctx.args.benchmarks as string[]) {
      runner.submit(ctx, {
        benchmark: n,
        argv: [this.path(ctx, instance.name, n), ...(n === 'probe' ? ['42'] : [])],
        env: { NAP_LOG: join(import.meta.dirname, 'nap.log') },
      });
    }
  }
}

class Cc extends Instance {
  readonly name = 'cc';
  override configure(ctx: Context) { ctx.cc = 'gcc'; }
}

const setup = new Setup(import.meta.url);
setup.addTarget(new Many());
setup.addInstance(new Cc());
await setup.main();
`;

function newestRun(dir: string): string {
  const runs = readdirSync(join(dir, 'results'))
    .filter((f) => f.startsWith('run.'))
    .sort();
  return join(dir, 'results', runs.at(-1)!);
}

function records(run: string): any[] {
  const file = join(run, 'records.jsonl');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .sort((a, b) => a.benchmark.localeCompare(b.benchmark) || a.iteration - b.iteration);
}

/** The latest record of each execution (a resumed run appends new ones). */
function latest(run: string): Map<string, any> {
  const out = new Map<string, any>();
  for (const line of readFileSync(join(run, 'records.jsonl'), 'utf8').split('\n').filter(Boolean)) {
    const r = JSON.parse(line);
    out.set(`${r.benchmark}.${r.iteration}`, r);
  }
  return out;
}

/** When each nap finished (ms since the epoch). */
function naps(dir: string): number[] {
  const log = join(dir, 'nap.log');
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map(Number) : [];
}

function napsDone(dir: string): number {
  return naps(dir).length;
}

/**
 * Every nap that finished before `stoppedAt` has an ok record; none that did not finish has
 * one (a nap that ends while it is being stopped may go either way).
 */
function assertFinishedKept(dir: string, okRecords: number, stoppedAt: number): void {
  const finished = naps(dir);
  const before = finished.filter((t) => t < stoppedAt).length;
  assert.ok(okRecords >= before, `${okRecords} ok records, but ${before} naps had finished before the stop`);
  assert.ok(okRecords <= finished.length, `${okRecords} ok records, but only ${finished.length} naps finished`);
}

function jobsNamed(name: string, env: Record<string, string>): string[] {
  const r = spawnSync('squeue', ['--noheader', '--states=PENDING,RUNNING', '--format=%i %j'], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, n]) => n === name)
    .map(([id]) => id!);
}

describe('batches of executions on remote backends', { skip: SKIP }, () => {
  let dir: string;
  let slurmEnv: Record<string, string>;

  before(() => {
    const s = spawnSync('bash', [join(REPO, 'scripts', 'start-test-services.sh')], { encoding: 'utf8', timeout: 90_000 });
    assert.equal(s.status, 0, `start-test-services.sh failed:\n${s.stdout}\n${s.stderr}`);
    slurmEnv = { SLURM_CONF: /export SLURM_CONF=(\S+)/.exec(s.stdout)![1]! };
    dir = makeProject({ 'setup.ts': SETUP, ...PROGRAMS }, 'infra-batch-');
    const b = runInfra(dir, ['build', 'many', 'cc']);
    assert.equal(b.code, 0, b.stderr);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('--parallel slurm --batch-size 5 runs 12 executions in 3 jobs, each measured and recorded on its own', () => {
    const r = runInfra(dir, ['run', 'many', 'cc', '-v', '-i', '12', '--parallel', 'slurm', '--parallelmax', '2', '--batch-size', '5'], {
      env: slurmEnv,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([...r.stderr.matchAll(/Slurm job \d+: (\d+) execution/g)].map((m) => Number(m[1])).sort(), [2, 5, 5]);
    assert.match(r.stderr, /--parallel slurm: 3 job\(s\) submitted/);
    const run = newestRun(dir);
    const recs = records(run);
    assert.deepEqual(
      recs.map((x) => x.iteration),
      [...Array(12).keys()],
    );
    for (const x of recs) {
      assert.equal(x.status, 'ok', JSON.stringify(x));
      assert.equal(x.host, hostname());
      assert.equal(x.fields.value, 42);
      assert.ok(x.fields.runtime > 0 && x.fields.maxrss > 0, JSON.stringify(x.fields));
      assert.equal(readFileSync(join(run, x.stderr), 'utf8'), 'probe done\n');
    }
    // each execution was measured by a helper of its own: their resource counters differ
    assert.ok(new Set(recs.map((x) => x.fields.runtime)).size > 1);
  });

  test('--parallel slurm without --batch-size packs short executions once the first are measured', () => {
    const r = runInfra(dir, ['run', 'many', 'cc', '-v', '-i', '40', '--benchmarks', 'quiet', '--parallel', 'slurm', '--parallelmax', '2'], {
      env: slurmEnv,
    });
    assert.equal(r.code, 0, r.stderr);
    const jobs = Number(/--parallel slurm: (\d+) job\(s\) submitted/.exec(r.stderr)?.[1]);
    assert.ok(jobs >= 2 && jobs <= 4, `${jobs} jobs for 40 executions:\n${r.stderr}`);
    assert.equal(records(newestRun(dir)).filter((x) => x.status === 'ok').length, 40);
  });

  test('a Slurm job cancelled mid-batch: what finished is recorded as it finished, the rest is run by --resume', async () => {
    rmSync(join(dir, 'nap.log'), { force: true });
    const infra = startInfra(
      dir,
      ['run', 'many', 'cc', '-i', '6', '--benchmarks', 'nap', '--parallel', 'slurm', '--parallelmax', '1', '--batch-size', '6'],
      { env: slurmEnv },
    );
    // the job name comes from the program; one job holds all six
    await waitFor(() => napsDone(dir) >= 2, 60_000, 'two naps done');
    await waitFor(() => existsSync(join(dir, 'results')) && records(newestRun(dir)).length >= 2, 10_000, 'records of finished executions');
    const ids = jobsNamed('infra-nap', slurmEnv);
    assert.equal(ids.length, 1, `one job running: ${ids.join(' ')}`);
    assert.ok(records(newestRun(dir)).length < 6, 'records appeared while the job was running');
    const stoppedAt = Date.now();
    execFileSync('scancel', [ids[0]!], { env: { ...process.env, ...slurmEnv } });
    const r = await infra.done;
    assert.notEqual(r.code, 0);
    const run = newestRun(dir);
    const recs = records(run);
    assert.equal(recs.length, 6, r.stderr);
    const ok = recs.filter((x) => x.status === 'ok');
    assert.ok(ok.length >= 2 && ok.length < 6, JSON.stringify(recs.map((x) => x.status)));
    assertFinishedKept(dir, ok.length, stoppedAt);
    const notStarted = recs.filter((x) => /before this execution started/.test(x.reason ?? ''));
    assert.ok(notStarted.length >= 1, JSON.stringify(recs.map((x) => x.reason)));
    for (const x of notStarted) assert.match(x.reason, new RegExp(`^Slurm job ${ids[0]} ended CANCELLED before this execution started`));

    const napsBefore = napsDone(dir);
    const resumed = runInfra(dir, ['run', 'many', 'cc', '--resume', run], { env: slurmEnv });
    assert.equal(resumed.code, 0, resumed.stderr);
    const final = latest(run);
    assert.equal(final.size, 6);
    for (const x of final.values()) assert.equal(x.status, 'ok', JSON.stringify(x));
    assert.equal(napsDone(dir), napsBefore + 6 - ok.length, 'the resumed run ran only what was not recorded as ok');
  });

  test('infra interrupted during a Slurm batch keeps every execution that finished', async () => {
    rmSync(join(dir, 'nap.log'), { force: true });
    const infra = startInfra(
      dir,
      ['run', 'many', 'cc', '-i', '8', '--benchmarks', 'nap', '--parallel', 'slurm', '--parallelmax', '1', '--batch-size', '8'],
      { env: slurmEnv },
    );
    await waitFor(() => napsDone(dir) >= 3, 60_000, 'three naps done');
    const stoppedAt = Date.now();
    infra.child.kill('SIGINT');
    const r = await infra.done;
    assert.notEqual(r.code, 0);
    const recs = records(newestRun(dir));
    const ok = recs.filter((x) => x.status === 'ok').length;
    assert.ok(ok >= 3, r.stderr);
    assertFinishedKept(dir, ok, stoppedAt);
    assert.deepEqual(jobsNamed('infra-nap', slurmEnv), [], 'the job was cancelled');
    assert.deepEqual(
      readdirSync(join(dir, 'build', '.infra')).filter((f) => f.startsWith('slurm-jobs-')),
      [],
    );
  });

  test('--parallel prun --batch-size 3: one reservation for three executions, each recorded', () => {
    const log = join(dir, 'prun-calls.log');
    rmSync(log, { force: true });
    const env = { PATH: `${join(REPO, 'test', 'fixtures')}:${process.env.PATH}`, PRUN_FIXTURE_LOG: log };
    const r = runInfra(
      dir,
      ['run', 'many', 'cc', '-i', '3', '--parallel', 'prun', '--batch-size', '3', '--timeout', '30', '--prun-opts', '-asocial'],
      {
        env,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const calls = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.includes('/bin/sh'));
    // three executions of at most 30 s + 10 s linger each, one after another, plus a minute
    assert.deepEqual(
      calls.map((c) => c.replace(/\S+\/job\.sh$/, 'JOB')),
      ['-np 1 -t 0:03:00 -asocial /bin/sh JOB'],
    );
    const recs = records(newestRun(dir));
    assert.equal(recs.length, 3);
    for (const x of recs) {
      assert.equal(x.status, 'ok', JSON.stringify(x));
      assert.equal(x.fields.value, 42);
      assert.equal(x.host, hostname());
    }
  });

  test('--parallel prun with -np 2 in --prun-opts spreads each batch over two nodes', () => {
    const log = join(dir, 'prun-calls.log');
    rmSync(log, { force: true });
    const env = { PATH: `${join(REPO, 'test', 'fixtures')}:${process.env.PATH}`, PRUN_FIXTURE_LOG: log };
    const r = runInfra(
      dir,
      ['run', 'many', 'cc', '-i', '4', '--benchmarks', 'probe', 'fail', '--parallel', 'prun', '--batch-size', '8', '--prun-opts', '-np 2'],
      { env },
    );
    assert.notEqual(r.code, 0, 'the failing program fails the run');
    const calls = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.includes('/bin/sh'));
    assert.deepEqual(
      calls.map((c) => c.replace(/\S+\/job\.sh$/, 'JOB')),
      ['-np 2 /bin/sh JOB'],
    );
    const recs = records(newestRun(dir));
    assert.deepEqual(
      recs.map((x) => `${x.benchmark}.${x.iteration} ${x.status} ${x.exitCode}`),
      [
        'fail.0 failed 3',
        'fail.1 failed 3',
        'fail.2 failed 3',
        'fail.3 failed 3',
        'probe.0 ok 0',
        'probe.1 ok 0',
        'probe.2 ok 0',
        'probe.3 ok 0',
      ],
    );
  });

  test('--parallel ssh: many executions over one session each, with and without output, in the local layout', () => {
    const r = runInfra(dir, [
      'run',
      'many',
      'cc',
      '-i',
      '15',
      '--benchmarks',
      'probe',
      'quiet',
      'fail',
      '--parallel',
      'ssh',
      '--ssh-nodes',
      '127.0.0.1:2222',
      '--parallelmax',
      '2',
    ]);
    assert.notEqual(r.code, 0, 'the failing program fails the run');
    assert.match(r.stderr, /15 executions failed/);
    const run = newestRun(dir);
    const recs = records(run);
    assert.equal(recs.length, 45);
    for (const x of recs) {
      assert.equal(x.host, hostname());
      assert.ok(x.fields.runtime >= 0 && x.fields.maxrss > 0, JSON.stringify(x));
      const out = readFileSync(join(run, x.stdout), 'utf8');
      const err = readFileSync(join(run, x.stderr), 'utf8');
      if (x.benchmark === 'probe') {
        assert.equal(x.status, 'ok');
        assert.equal(x.fields.value, 42);
        assert.match(out, /value: 42/);
        assert.equal(err, 'probe done\n');
      } else {
        assert.equal(x.status, x.benchmark === 'fail' ? 'failed' : 'ok', JSON.stringify(x));
        assert.equal(out + err, '', 'empty output files');
      }
    }
    assert.ok(!readdirSync(tmpdir()).some((f) => f.startsWith('infra-session.')), 'the sessions removed their directories');
  });

  test('--parallel ssh interrupted: finished executions are kept and the node stops the running one', async () => {
    rmSync(join(dir, 'nap.log'), { force: true });
    const infra = startInfra(dir, [
      'run',
      'many',
      'cc',
      '-i',
      '20',
      '--benchmarks',
      'nap',
      '--parallel',
      'ssh',
      '--ssh-nodes',
      '127.0.0.1:2222',
    ]);
    await waitFor(() => napsDone(dir) >= 2, 60_000, 'two naps done');
    const stoppedAt = Date.now();
    infra.child.kill('SIGINT');
    const r = await infra.done;
    assert.notEqual(r.code, 0);
    const recs = records(newestRun(dir));
    const ok = recs.filter((x) => x.status === 'ok').length;
    assert.ok(ok >= 2 && ok < 20, r.stderr);
    // the nap that ran at the interrupt is stopped on the node (or finished just then): no more naps end
    await new Promise((res) => setTimeout(res, 1500));
    assertFinishedKept(dir, ok, stoppedAt);
    assert.ok(napsDone(dir) <= ok + 1, `${napsDone(dir)} naps finished, ${ok} recorded`);
    const left = spawnSync('pgrep', ['-f', join(dir, 'build')], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '', 'no benchmark left running on the node');
  });
});
