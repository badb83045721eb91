// End-to-end tests of `infra run` and `infra report` through the CLI, with real C programs that
// succeed, crash, hang, fork, or print a wrong answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, readlinkSync, appendFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, runInfra, startInfra, waitFor } from './helpers.ts';
import { blocksDescribing } from '../src/results/columns-blocks.ts';

/** The byte ranges of a run's records.jsonl its column blocks describe, and the file's size. */
function blockRanges(file: string): { ranges: number[][]; size: number } {
  const stat = statSync(file);
  return { ranges: blocksDescribing(file, stat).map((b) => [b.from, b.to]), size: stat.size };
}

const PROGRAMS: Record<string, string> = {
  // a dependency chain that -O2 keeps in registers and -O0 spills on every step
  'src/ok.c':
    '#include <stdio.h>\nint main(void){ unsigned long s=1; for (unsigned long i=0;i<150000000UL;i++) s = s*31 + (i ^ (s>>7)); printf("%lu\\n", s); return 0; }\n',
  'src/segv.c': 'int main(void){ volatile int *p = 0; return *p; }\n',
  'src/hang.c': '#include <unistd.h>\nint main(void){ if (fork()==0) { sleep(60); return 0; } sleep(60); return 0; }\n',
  // the parent exits at once; its child allocates and touches 50 MB, then exits
  'src/forker.c':
    '#include <stdlib.h>\n#include <string.h>\n#include <unistd.h>\nint main(void){ if (fork()==0) { char *p = malloc(50<<20); memset(p, 1, 50<<20); usleep(200000); return p[100]-1; } return 0; }\n',
  'src/answer.c':
    '#include <stdio.h>\n#include <stdlib.h>\nint main(int c, char **v){ printf("answer %d\\n", c > 1 ? atoi(v[1]) : 42); printf("[setup-report] begin answer\\n[setup-report] value: %d\\n[setup-report] end answer\\n", c > 1 ? atoi(v[1]) : 42); return 0; }\n',
  'src/slow.c': '#include <unistd.h>\nint main(void){ usleep(400000); return 0; }\n',
  // leaves a daemon behind: a child in its own session that sleeps for a minute
  'src/daemon.c': '#include <unistd.h>\nint main(void){ if (fork()==0) { setsid(); sleep(60); return 0; } return 0; }\n',
};

const SETUP = String.raw`
import { existsSync, readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Setup, Target, Instance, UserError, run, type Context, type Runner, type ArgParser } from 'instrumentation-infra';

const src = join(import.meta.dirname, 'src');
const names = ['ok', 'segv', 'hang', 'forker', 'answer', 'slow', 'daemon'];

class Faults extends Target {
  readonly name = 'faults';
  override reportableFields() { return { value: 'the answer the program printed' }; }
  override addRunArgs(p: ArgParser) {
    p.option('--benchmarks <names...>', 'which programs to run', { default: ['ok'] });
    p.option('--answer <n>', 'argument for the answer program', { default: '42' });
  }
  isFetched() { return true; }
  fetch() {}
  async build(ctx: Context, instance: Instance) {
    const out = this.path(ctx, instance.name);
    mkdirSync(out, { recursive: true });
    for (const n of names) await run(ctx, [ctx.cc, ...ctx.cflags, join(src, n + '.c'), '-o', join(out, n)]);
  }
  run(ctx: Context, instance: Instance, runner: Runner) {
    if (!existsSync(this.path(ctx, instance.name, 'ok'))) throw new UserError('faults is not built with ' + instance.name);
    for (const n of ctx.args.benchmarks as string[]) {
      if (!names.includes(n)) throw new Error('bad benchmark ' + n);
      runner.submit(ctx, {
        benchmark: n,
        argv: [this.path(ctx, instance.name, n), ...(n === 'answer' ? [ctx.args.answer] : [])],
        timeout: n === 'hang' ? 1 : undefined,
        check: n === 'answer' ? (r) => {
          const out = readFileSync(r.stdoutPath, 'utf8');
          if (!out.includes('answer 42')) return { failure: 'wrong answer: ' + out.split('\n')[0] };
        } : undefined,
      });
    }
  }
}

class Cc extends Instance {
  constructor(readonly name: string, private cc: string, private opt: string) { super(); }
  override configure(ctx: Context) { ctx.cc = this.cc; ctx.addCFlag(this.opt); }
}

const setup = new Setup(import.meta.url);
setup.addTarget(new Faults());
setup.addInstance(new Cc('base', 'gcc', '-O2'));
setup.addInstance(new Cc('slow', 'gcc', '-O0'));
setup.addInstance(new Cc('fresh', 'gcc', '-O1'));
await setup.main();
`;

function project(): string {
  const dir = makeProject({ 'setup.ts': SETUP, ...PROGRAMS });
  const r = runInfra(dir, ['build', 'faults', 'base', 'slow']);
  assert.equal(r.code, 0, r.stderr);
  return dir;
}

function records(dir: string, run = 'last'): any[] {
  const text = readFileSync(join(dir, 'results', run, 'records.jsonl'), 'utf8');
  // a torn line (from a killed writer) stays in the file; readers skip it
  return text
    .split('\n')
    .filter(Boolean)
    .flatMap((l) => {
      try {
        return [JSON.parse(l)];
      } catch {
        return [];
      }
    });
}

test('run measures and records every execution; report shows overheads', () => {
  const dir = project();
  const r = runInfra(dir, [
    'run',
    'faults',
    'base',
    'slow',
    '-i',
    '4',
    '--parallel',
    'proc',
    '--parallelmax',
    '2',
    '--benchmarks',
    'ok',
    'answer',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /16 ok \(of 16 executions\) in \S+; results in results\/run\./);
  const recs = records(dir);
  assert.equal(recs.length, 16);
  for (const rec of recs) {
    assert.equal(rec.status, 'ok');
    assert.ok(rec.fields.runtime > 0 && rec.fields.maxrss > 0, JSON.stringify(rec));
  }
  assert.deepEqual(
    recs.filter((x) => x.benchmark === 'answer').map((x) => x.fields.value),
    [42, 42, 42, 42, 42, 42, 42, 42],
  );
  const meta = JSON.parse(readFileSync(join(dir, 'results/last/meta.json'), 'utf8'));
  assert.equal(meta.target, 'faults');
  assert.equal(meta.settings.iterations, 4);
  assert.equal(meta.iterations, undefined, 'stored once, in settings');
  assert.deepEqual(
    meta.instances.map((i: any) => i.name),
    ['base', 'slow'],
  );
  assert.match(meta.instances[0].ccVersion, /gcc/);
  assert.deepEqual(meta.instances[1].cflags, ['-O0']);
  assert.ok(meta.host.cpuModel && meta.host.kernel && meta.finishedAt && !meta.interrupted);
  assert.ok(readlinkSync(join(dir, 'results/last')).startsWith('run.'));
  assert.ok(existsSync(join(dir, 'results/last/logs/faults/base/answer.0.stdout')));
  const blocks = blockRanges(join(dir, 'results/last/records.jsonl'));
  assert.deepEqual(blocks.ranges, [[0, blocks.size]], 'the run left its records as columns too, for the first report');
  const rep = runInfra(dir, ['report', 'faults', 'results/last', '-f', 'runtime:median', '--overhead', 'base', '--table', 'csv']);
  assert.equal(rep.code, 0, rep.stderr);
  const okRow = rep.stdout.split('\n').find((l) => l.startsWith('ok,'));
  assert.ok(okRow, rep.stdout);
  // a ratio per benchmark (timings themselves are not asserted: the machine may be busy)
  const ratio = Number(okRow!.split(',')[2]!.replace('*', ''));
  assert.ok(Number.isFinite(ratio) && ratio > 0, `ratio ${ratio} in ${rep.stdout}`);
  assert.match(rep.stdout, /geomean/);
});

test('crashes, timeouts and wrong outputs are recorded failures; the run exits non-zero', () => {
  const dir = project();
  const r = runInfra(dir, ['run', 'faults', 'base', '--benchmarks', 'segv', 'hang', 'forker', 'answer', '--answer', '41']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /3 executions failed/);
  assert.match(r.stderr, /base\/segv\.0: crashed \(.*SIGSEGV/);
  assert.match(r.stderr, /base\/hang\.0: timeout/);
  assert.match(r.stderr, /base\/answer\.0: failed \(wrong answer: answer 41\)/);
  const recs = records(dir);
  const by = Object.fromEntries(recs.map((x) => [x.benchmark, x]));
  assert.equal(by.segv.status, 'crashed');
  assert.equal(by.segv.signal, 'SIGSEGV');
  assert.equal(by.hang.status, 'timeout');
  assert.ok(by.hang.fields.runtime < 10, 'the timeout killed the process tree promptly');
  assert.equal(by.forker.status, 'ok');
  assert.ok(by.forker.fields.maxrss > 50 * 1024, `maxrss covers the forked child: ${by.forker.fields.maxrss} KiB`);
  assert.equal(by.answer.status, 'failed');
  // failures are shown by report, not dropped
  const rep = runInfra(dir, ['report', 'faults', 'results/last', '-f', 'runtime:median', 'status:count']);
  assert.equal(rep.code, 0, rep.stderr);
  assert.match(rep.stdout + rep.stderr, /failed|crashed|timeout/);
});

test('Ctrl-C mid-run keeps finished records; the printed --resume command completes the same experiment', async () => {
  const dir = project();
  const p = startInfra(dir, ['run', 'faults', 'base', '--benchmarks', 'slow', '-i', '6']);
  await waitFor(
    () => {
      const f = join(dir, 'results/last/records.jsonl');
      return existsSync(f) && readFileSync(f, 'utf8').split('\n').filter(Boolean).length >= 2;
    },
    30_000,
    'two finished executions',
  );
  p.child.kill('SIGINT');
  const r = await p.done;
  assert.equal(r.code, 130, r.stderr);
  const runName = readlinkSync(join(dir, 'results/last'));
  const resume = /complete the run with: infra (.*)$/m.exec(r.stderr);
  assert.ok(resume, r.stderr);
  assert.deepEqual(resume[1]!.split(' '), ['run', 'faults', 'base', '--resume', `results/${runName}`]);
  const before = records(dir, runName);
  assert.ok(before.length >= 2 && before.length < 6, `${before.length} records`);
  assert.equal(JSON.parse(readFileSync(join(dir, 'results', runName, 'meta.json'), 'utf8')).interrupted, true);
  const blocks = blockRanges(join(dir, 'results', runName, 'records.jsonl'));
  assert.deepEqual(blocks.ranges, [[0, blocks.size]], 'an interrupted run writes its last column block too');

  // options that contradict the run are refused before anything runs
  const at = ['--resume', `results/${runName}`];
  const bad = runInfra(dir, ['run', 'faults', 'base', '-i', '3', ...at]);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /--iterations 3 \(the run used 6\)/);
  // the other refusals (-i 1, target options, other instances) are tested in run-settings.test.ts
  assert.equal(records(dir, runName).length, before.length, 'the refused resumes ran nothing');

  const again = runInfra(dir, resume[1]!.split(' '));
  assert.equal(again.code, 0, again.stderr);
  const all = records(dir, runName);
  assert.deepEqual([...new Set(all.map((x) => `${x.instance}/${x.benchmark}`))], ['base/slow'], 'nothing else was run');
  const ok = all.filter((x) => x.status === 'ok');
  assert.deepEqual(
    ok.map((x) => x.iteration).sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5],
  );
  assert.equal(readdirSync(join(dir, 'results')).filter((n) => n.startsWith('run.')).length, 1, 'no new run directory');
  // the execution cut short by Ctrl-C (if any) is replaced by its re-run in reports
  const rep = runInfra(dir, ['report', 'faults', `results/${runName}`, '--raw', '-f', 'iteration', 'status', '--table', 'csv']);
  assert.equal(rep.code, 0, rep.stderr);
  const rows = rep.stdout.trim().split('\n').slice(1);
  assert.equal(rows.length, 6, rep.stdout);
  assert.ok(
    rows.every((row) => row.endsWith(',ok')),
    rep.stdout,
  );
});

test('an instance that cannot submit stops the run before any execution', () => {
  const dir = project();
  const started = Date.now();
  const r = runInfra(dir, ['run', 'faults', 'base', 'fresh', '--benchmarks', 'slow', '-i', '5']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /faults is not built with fresh/);
  assert.equal(existsSync(join(dir, 'results')), false, 'no execution of base ran, no run directory was made');
  assert.ok(Date.now() - started < 20_000);
});

test('kill -9 mid-run leaves readable results; a torn record line is skipped with a warning', async () => {
  const dir = project();
  const p = startInfra(dir, ['run', 'faults', 'base', '--benchmarks', 'slow', '-i', '12']);
  await waitFor(
    () => {
      const f = join(dir, 'results/last/records.jsonl');
      return existsSync(f) && readFileSync(f, 'utf8').split('\n').filter(Boolean).length >= 2;
    },
    30_000,
    'two finished executions',
  );
  p.child.kill('SIGKILL');
  await p.done;
  // simulate a torn write on top of the kill
  appendFileSync(join(dir, 'results/last/records.jsonl'), '{"schema":1,"target":"fau');
  const rep = runInfra(dir, ['report', 'faults', 'results/last', '-f', 'runtime:count']);
  assert.equal(rep.code, 0, rep.stderr);
  assert.match(rep.stderr, /records\.jsonl:\d+: skipped a corrupt record/);
  const again = runInfra(dir, ['run', 'faults', 'base', '--benchmarks', 'slow', '-i', '12', '--resume', 'results/last']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(records(dir).filter((x) => x.status === 'ok').length, 12);
});

test('report: bad input gives clear errors', () => {
  const dir = project();
  const r = runInfra(dir, ['run', 'faults', 'base', '--benchmarks', 'ok']);
  assert.equal(r.code, 0, r.stderr);
  let rep = runInfra(dir, ['report', 'faults', 'results/last', '--overhead', 'nosuch']);
  assert.notEqual(rep.code, 0);
  assert.match(rep.stderr, /nosuch/);
  assert.match(rep.stderr, /base/);
  rep = runInfra(dir, ['report', 'faults', 'src']);
  assert.notEqual(rep.code, 0);
  rep = runInfra(dir, ['report', 'faults', 'results/last', '-f', 'runtime:avg']);
  assert.notEqual(rep.code, 0);
  assert.match(rep.stderr, /median/);
  writeFileSync(join(dir, 'results/last/records.jsonl'), 'garbage\n');
  rep = runInfra(dir, ['report', 'faults', 'results/last']);
  assert.notEqual(rep.code, 0);
});

test('--warmup runs unrecorded executions of each benchmark first', () => {
  const dir = project();
  const r = runInfra(dir, ['run', 'faults', 'base', 'slow', '--warmup', '2', '-i', '2', '--benchmarks', 'answer']);
  assert.equal(r.code, 0, r.stderr);
  const recs = records(dir);
  assert.equal(recs.length, 4, 'only the measured executions are recorded');
  assert.deepEqual(recs.map((x) => x.iteration).sort(), [0, 0, 1, 1]);
  const logs = join(dir, 'results/last/logs/faults');
  for (const inst of ['base', 'slow']) {
    assert.ok(existsSync(join(logs, inst, 'answer.warmup1.stdout')) && existsSync(join(logs, inst, 'answer.warmup2.stdout')));
    // the warm-ups ran before the measured executions
    const t = (f: string) => statSync(join(logs, inst, f)).mtimeMs;
    assert.ok(t('answer.warmup2.stdout') <= t('answer.0.stdout'));
  }
  const meta = JSON.parse(readFileSync(join(dir, 'results/last/meta.json'), 'utf8'));
  assert.equal(meta.settings.warmup, 2);
});

test('--linger: a process left running is killed after the grace period and noted', () => {
  const dir = project();
  const t0 = Date.now();
  const r = runInfra(dir, ['run', 'faults', 'base', '--benchmarks', 'daemon', '--linger', '1']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - t0 < 20_000, 'the run did not wait for the daemon');
  const [rec] = records(dir);
  assert.equal(rec.status, 'ok');
  assert.match(rec.reason, /killed 1 process left running 1 s after the main process exited/);
  const meta = JSON.parse(readFileSync(join(dir, 'results/last/meta.json'), 'utf8'));
  assert.equal(meta.settings.linger, 1);
});
