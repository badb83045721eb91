// End-to-end tests of the remote execution backends against real services on this machine:
// sshd on 127.0.0.1:2222 and a single-node Slurm cluster (started by
// scripts/start-test-services.sh), and prun through a fixture that imitates it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { makeProject, REPO, runInfra } from './helpers.ts';
import { clockTime, splitWords } from '../src/parallel/remote.ts';
import { checkModeOptions, createBackend } from '../src/parallel/backends.ts';
import { UserError } from '../src/core/errors.ts';
import { Logger } from '../src/core/log.ts';

const isRoot = process.getuid?.() === 0;
const SKIP = isRoot ? false : 'needs root to start sshd and Slurm (scripts/start-test-services.sh); CI runs as root';

const PROGRAMS: Record<string, string> = {
  // prints a result block with its argument and an environment variable set by the instance
  'src/probe.c': String.raw`#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  unsigned long s = 1;
  for (unsigned long i = 0; i < 20000000UL; i++) s = s * 31 + (i ^ (s >> 7));
  const char *g = getenv("PROBE_GREETING");
  printf("checksum %lu\n", s & 0xff);
  printf("[setup-report] begin probe\n[setup-report] value: %d\n[setup-report] greeting: %s\n[setup-report] end probe\n",
         argc > 1 ? atoi(argv[1]) : 7, g ? g : "none");
  fprintf(stderr, "probe done\n");
  return 0;
}
`,
  'src/fail.c': 'int main(void){ return 3; }\n',
};

const SETUP = String.raw`
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Setup, Target, Instance, run, type Context, type Runner, type ArgParser } from 'instrumentation-infra';

const src = join(import.meta.dirname, 'src');

class Probe extends Target {
  readonly name = 'probe';
  override reportableFields() { return { value: 'the number printed', greeting: 'PROBE_GREETING as seen' }; }
  override addRunArgs(p: ArgParser) { p.option('--benchmarks <names...>', 'programs to run', { default: ['probe'] }); }
  isFetched() { return true; }
  fetch() {}
  async build(ctx: Context, instance: Instance) {
    mkdirSync(this.path(ctx, instance.name), { recursive: true });
    for (const n of ['probe', 'fail']) await run(ctx, [ctx.cc, '-O1', join(src, n + '.c'), '-o', this.path(ctx, instance.name, n)]);
  }
  run(ctx: Context, instance: Instance, runner: Runner) {
    for (const n of ctx.args.benchmarks as string[]) {
      runner.submit(ctx, { benchmark: n, argv: [this.path(ctx, instance.name, n), ...(n === 'probe' ? ['42'] : [])] });
    }
  }
}

class Cc extends Instance {
  readonly name = 'cc';
  override configure(ctx: Context) { ctx.cc = 'gcc'; ctx.runenv.PROBE_GREETING = 'hello from the instance'; }
}

const setup = new Setup(import.meta.url);
setup.addTarget(new Probe());
setup.addInstance(new Cc());
await setup.main();
`;

function records(dir: string): any[] {
  return readFileSync(join(dir, 'results', 'last', 'records.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .sort((a, b) => a.benchmark.localeCompare(b.benchmark) || a.iteration - b.iteration);
}

/** What must not differ between backends: record keys, field names, the log files. */
function layout(dir: string) {
  const recs = records(dir);
  const logs = readdirSync(join(dir, 'results', 'last', 'logs', 'probe', 'cc')).sort();
  return {
    keys: recs.map((r) => Object.keys(r).sort().join(' ')),
    fields: recs.map((r) => Object.keys(r.fields).sort().join(' ')),
    paths: recs.map((r) => `${r.stdout} ${r.stderr}`),
    logs,
    meta: Object.keys(JSON.parse(readFileSync(join(dir, 'results', 'last', 'meta.json'), 'utf8'))).sort(),
  };
}

/** Three probe executions recorded as ok, measured, with the program's own fields. */
function assertThreeOk(dir: string, host: string) {
  const recs = records(dir);
  assert.equal(recs.length, 3, JSON.stringify(recs));
  for (const r of recs) {
    assert.equal(r.status, 'ok', JSON.stringify(r));
    assert.equal(r.host, host);
    assert.ok(r.fields.runtime > 0 && r.fields.utime >= 0 && r.fields.maxrss > 0, JSON.stringify(r.fields));
    assert.equal(r.fields.value, 42);
    assert.equal(r.fields.greeting, 'hello from the instance');
    assert.match(readFileSync(join(dir, 'results', 'last', r.stdout), 'utf8'), /^checksum \d+$/m);
    assert.equal(readFileSync(join(dir, 'results', 'last', r.stderr), 'utf8'), 'probe done\n');
  }
  assert.deepEqual(
    recs.map((r) => r.iteration),
    [0, 1, 2],
  );
}

test('option strings are split like a shell would, without expanding anything', () => {
  assert.deepEqual(splitWords(` --partition=fast  -t 30:00 --comment "two words" 'it''s' a\\ b $HOME `, '--slurm-opts'), [
    '--partition=fast',
    '-t',
    '30:00',
    '--comment',
    'two words',
    'its',
    'a b',
    '$HOME',
  ]);
  assert.deepEqual(splitWords('', '--prun-opts'), []);
  assert.throws(() => splitWords('--comment "open', '--slurm-opts'), /--slurm-opts: unterminated " quote/);
  assert.equal(clockTime(100.2), '0:01:41');
  assert.equal(clockTime(3 * 3600 + 5), '3:00:05');
});

test('remote options are refused without their mode; ssh without nodes says what it needs', async () => {
  const userError = (re: RegExp) => (err: unknown) => err instanceof UserError && re.test(err.message);
  assert.throws(
    () => checkModeOptions(undefined, { sshNodes: ['127.0.0.1:2222'] }),
    userError(/^--ssh-nodes is only used with --parallel ssh \(this command has no --parallel\)$/),
  );
  assert.throws(
    () => checkModeOptions('proc', { slurmOpts: '--exclusive' }),
    userError(/^--slurm-opts is only used with --parallel slurm \(this command has --parallel proc\)$/),
  );
  assert.throws(() => checkModeOptions('slurm', { prunOpts: '-asocial' }), userError(/^--prun-opts is only used with --parallel prun/));
  checkModeOptions('ssh', { sshNodes: ['127.0.0.1:2222'] });
  checkModeOptions(undefined, {});
  await assert.rejects(
    createBackend('ssh', { buildroot: REPO, parallelmax: 1, log: new Logger('warning') }),
    userError(/^--parallel ssh needs the machines to run on: --ssh-nodes/),
  );
});

describe('remote execution backends', { skip: SKIP }, () => {
  let dir: string;
  let slurmEnv: Record<string, string>;
  let localLayout: ReturnType<typeof layout>;

  before(() => {
    const s = spawnSync('bash', [join(REPO, 'scripts', 'start-test-services.sh')], { encoding: 'utf8', timeout: 90_000 });
    assert.equal(s.status, 0, `start-test-services.sh failed:\n${s.stdout}\n${s.stderr}`);
    const conf = /export SLURM_CONF=(\S+)/.exec(s.stdout)?.[1];
    assert.ok(conf, s.stdout);
    slurmEnv = { SLURM_CONF: conf };
    dir = makeProject({ 'setup.ts': SETUP, ...PROGRAMS }, 'infra-remote-');
    const b = runInfra(dir, ['build', 'probe', 'cc']);
    assert.equal(b.code, 0, b.stderr);
    const r = runInfra(dir, ['run', 'probe', 'cc', '-i', '3', '--parallel', 'proc']);
    assert.equal(r.code, 0, r.stderr);
    assertThreeOk(dir, hostname());
    localLayout = layout(dir);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('--parallel ssh runs every iteration on the node and records it like a local run', () => {
    const r = runInfra(dir, ['run', 'probe', 'cc', '-i', '3', '--parallel', 'ssh', '--ssh-nodes', '127.0.0.1:2222', '--parallelmax', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /3 ok \(of 3 executions\)/);
    assertThreeOk(dir, hostname());
    assert.deepEqual(layout(dir), localLayout);
    const meta = JSON.parse(readFileSync(join(dir, 'results', 'last', 'meta.json'), 'utf8'));
    assert.equal(meta.settings.parallel, 'ssh');
    // nothing of the transfer is left beside the logs
    assert.ok(!readdirSync(join(dir, 'results', 'last', 'logs', 'probe', 'cc')).some((f) => f.startsWith('.remote-')));
  });

  test('--parallel ssh records an unreachable node as error records and exits non-zero', () => {
    const r = runInfra(dir, ['run', 'probe', 'cc', '-i', '3', '--parallel', 'ssh', '--ssh-nodes', '127.0.0.1:1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ssh node 127\.0\.0\.1:1 is not used: cannot connect: .*Connection refused/);
    assert.match(r.stderr, /3 executions failed/);
    const recs = records(dir);
    assert.equal(recs.length, 3);
    for (const rec of recs) {
      assert.equal(rec.status, 'error');
      assert.equal(rec.host, '127.0.0.1:1');
      assert.match(rec.reason, /no ssh node could be used \(127\.0\.0\.1:1: cannot connect: .*port 1: Connection refused\)/);
    }
    // the run is completed on a node that works, in the same results directory
    const run = readdirSync(join(dir, 'results'))
      .filter((f) => f.startsWith('run.'))
      .sort()
      .at(-1)!;
    const resumed = runInfra(dir, ['run', 'probe', 'cc', '--resume', join('results', run), '--ssh-nodes', '127.0.0.1:2222']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const last = new Map(records(dir).map((x) => [x.iteration, x]));
    assert.deepEqual([...last.values()].map((x) => `${x.iteration} ${x.status} ${x.host}`).sort(), [
      '0 ok ' + hostname(),
      '1 ok ' + hostname(),
      '2 ok ' + hostname(),
    ]);
  });

  test('--parallel ssh with one dead node runs everything on the live one', () => {
    const r = runInfra(dir, ['run', 'probe', 'cc', '-i', '3', '--parallel', 'ssh', '--ssh-nodes', '127.0.0.1:1', 'root@127.0.0.1:2222']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /127\.0\.0\.1:1 is not used/);
    assertThreeOk(dir, hostname());
  });

  test('--parallel slurm runs every iteration as a batch job', () => {
    const r = runInfra(
      dir,
      [
        'run',
        'probe',
        'cc',
        '-i',
        '3',
        '--benchmarks',
        'probe',
        'fail',
        '--parallel',
        'slurm',
        '--parallelmax',
        '4',
        '--slurm-opts',
        '--job-name "infra test"',
      ],
      { env: slurmEnv },
    );
    assert.notEqual(r.code, 0, 'the failing program fails the run');
    assert.match(r.stderr, /3 executions failed/);
    const recs = records(dir);
    const probe = recs.filter((x) => x.benchmark === 'probe');
    const fail = recs.filter((x) => x.benchmark === 'fail');
    assert.equal(fail.length, 3);
    for (const f of fail) {
      assert.equal(f.status, 'failed', JSON.stringify(f));
      assert.equal(f.exitCode, 3);
      assert.equal(f.reason, 'exit status 3');
      assert.ok(f.fields.runtime >= 0);
    }
    assert.equal(probe.length, 3);
    for (const p of probe) {
      assert.equal(p.status, 'ok', JSON.stringify(p));
      assert.equal(p.host, hostname());
      assert.equal(p.fields.greeting, 'hello from the instance', "the benchmark gets the instance environment, not the job's");
    }
    // job files are removed when the run ends
    assert.deepEqual(
      readdirSync(join(dir, 'build', '.infra')).filter((f) => f.startsWith('slurm-jobs-')),
      [],
    );
  });

  test('--parallel slurm: the same three ok records as a local run', () => {
    const r = runInfra(dir, ['run', 'probe', 'cc', '-i', '3', '--parallel', 'slurm', '--parallelmax', '3'], { env: slurmEnv });
    assert.equal(r.code, 0, r.stderr);
    assertThreeOk(dir, hostname());
    assert.deepEqual(layout(dir), localLayout);
  });

  test('--parallel prun (through a prun fixture, not a real cluster) reserves one node per execution', () => {
    const log = join(dir, 'prun-calls.log');
    const env = { PATH: `${join(REPO, 'test', 'fixtures')}:${process.env.PATH}`, PRUN_FIXTURE_LOG: log };
    const r = runInfra(
      dir,
      ['run', 'probe', 'cc', '-i', '3', '--parallel', 'prun', '--parallelmax', '2', '--timeout', '30', '--prun-opts', '-asocial -no-panda'],
      { env },
    );
    assert.equal(r.code, 0, r.stderr);
    assertThreeOk(dir, hostname());
    assert.deepEqual(layout(dir), localLayout);
    const calls = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => l.includes('/bin/sh'));
    assert.equal(calls.length, 3);
    for (const c of calls) assert.match(c, /^-np 1 -t 0:01:40 -asocial -no-panda \/bin\/sh \S+\/job\.sh$/);
  });

  test('remote options are refused without their mode', () => {
    const r = runInfra(dir, ['run', 'probe', 'cc', '--ssh-nodes', '127.0.0.1:2222']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--ssh-nodes is only used with --parallel ssh/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'a user error, no stack trace');
  });
});
