// Fault injection for processes, locks and concurrency: a project whose package install is slow
// and whose benchmarks sleep, fork and look at their parents, driven through the real CLI and
// killed with SIGKILL at the worst moment.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeProject, REPO, runInfra, startInfra, waitFor } from './helpers.ts';
import { processExists, processStartTime } from '../src/util/process.ts';

const SETUP = String.raw`
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Setup, Target, Instance, Package, run, writeOutput, type Context, type Runner, type ArgParser } from 'instrumentation-infra';

const root = import.meta.dirname;

/**
 * Its install writes LINES lines, one every 0.1 s, noting the installing shell's pid first (and
 * its errors go to a file: a broken pipe to a dead infra must not be what stops it).
 */
class Slow extends Package {
  ident() { return 'slow-1'; }
  isFetched() { return true; }
  fetch() {}
  isBuilt() { return true; }
  build() {}
  isInstalled(ctx: Context) { return existsSync(this.path(ctx, 'install', 'lines.txt')); }
  async install(ctx: Context) {
    await run(ctx, ['sh', '-c', 'exec 2>>"$2/install.err"; mkdir -p "$1" && echo $$ > "$2/install.pid" && i=0; ' +
      'while [ $i -lt "$LINES" ]; do echo "line $i" >> "$1/lines.txt"; i=$((i + 1)); sleep 0.1; done',
      'sh', this.path(ctx, 'install'), root], { env: { LINES: process.env.LINES ?? '3' } });
  }
}
const slow = new Slow();

/** Benchmarks are shell scripts: 'sleep' forks a child and notes pids; 'slow' takes 0.3 s. */
const SCRIPTS: Record<string, string> = {
  sleep: 'echo "$$ $PPID" > "$PIDS/bench"; sleep 60 & echo $! > "$PIDS/child"; wait',
  slow: 'sleep 0.3',
  long: 'sleep 30',
  // what its parents' command lines show, and whether the token reached it
  secret: 'echo "token=$API_TOKEN"; p=$$; while [ "$p" -gt 1 ]; do tr "\\\\0" " " < /proc/$p/cmdline; echo; ' +
    'p=$(sed "s/.*) //" /proc/$p/stat | cut -d" " -f2); done > "$PIDS/chain.$$"',
};

class Prog extends Target {
  readonly name = 'prog';
  override dependencies() { return [slow]; }
  override addRunArgs(p: ArgParser) {
    p.option('--benchmarks <names...>', 'which scripts to run', { default: ['slow'] });
  }
  isFetched() { return true; }
  fetch() {}
  async build(ctx: Context, instance: Instance) {
    for (const [name, body] of Object.entries(SCRIPTS)) {
      const file = this.path(ctx, instance.name, name);
      writeOutput(ctx, file, '#!/bin/sh\n' + body + '\n');
      await run(ctx, ['chmod', '+x', file]);
    }
  }
  run(ctx: Context, instance: Instance, runner: Runner) {
    for (const name of ctx.args.benchmarks as string[]) {
      ctx.runenv.PIDS = join(root, 'pids');
      runner.submit(ctx, { benchmark: name, argv: [this.path(ctx, instance.name, name)] });
    }
  }
}

class Base extends Instance {
  readonly name = 'base';
}

const setup = new Setup(import.meta.url);
setup.addTarget(new Prog());
setup.addInstance(new Base());
await setup.main();
`;

function project(): string {
  const dir = makeProject({ 'setup.ts': SETUP }, 'infra-faults-proc-');
  mkdirSync(join(dir, 'pids'));
  return dir;
}

const pidIn = (file: string) => Number(readFileSync(file, 'utf8').trim().split(' ')[0]);
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
const gone = (pid: number) => !processExists(pid) || /^\S+ \S+ Z/.test(stat(pid));
function stat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^\d+ \(.*\) /, `${pid} x `);
  } catch {
    return '';
  }
}
function killIfAlive(...pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
}

test('kill -9 of infra build: the install dies with it; the rerun starts the install afresh', async () => {
  const dir = project();
  const installed = join(dir, 'build/packages/slow-1/install/lines.txt');
  const p = startInfra(dir, ['build', 'prog', 'base'], { env: { LINES: '30' } });
  await waitFor(() => lines(installed).length >= 3, 20_000, 'the install to be under way');
  const installer = pidIn(join(dir, 'install.pid'));
  p.child.kill('SIGKILL');
  await p.done;
  // at once, as a user pressing up-arrow and enter would
  const again = startInfra(dir, ['build', 'prog', 'base'], { env: { LINES: '5' } });
  try {
    await waitFor(() => gone(installer), 10_000, 'the install step of the killed build to die');
  } finally {
    killIfAlive(installer);
  }
  const r = await again.done;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(lines(installed), ['line 0', 'line 1', 'line 2', 'line 3', 'line 4'], 'one whole install, nothing of the killed one');
  assert.ok(!existsSync(join(dir, 'build/.infra/lock')), 'the lock is released');
});

test('kill -9 of infra run: the measurement helper, the benchmark and its child die with it', async () => {
  const dir = project();
  assert.equal(runInfra(dir, ['build', 'prog', 'base']).code, 0);
  const p = startInfra(dir, ['run', 'prog', 'base', '--benchmarks', 'sleep']);
  await waitFor(() => existsSync(join(dir, 'pids/child')), 20_000, 'the benchmark to start its child');
  const [bench, helper] = readFileSync(join(dir, 'pids/bench'), 'utf8').trim().split(' ').map(Number) as [number, number];
  const child = pidIn(join(dir, 'pids/child'));
  p.child.kill('SIGKILL');
  await p.done;
  try {
    await waitFor(() => gone(helper) && gone(bench) && gone(child), 10_000, 'the helper, benchmark and child to die');
  } finally {
    killIfAlive(helper, bench, child);
  }
});

test('a lock that can never clear: an empty lock file is reported with the path to remove', () => {
  const dir = project();
  mkdirSync(join(dir, 'build/.infra'), { recursive: true });
  const lock = join(dir, 'build/.infra/lock');
  writeFileSync(lock, '');
  const r = runInfra(dir, ['build', 'prog', 'base'], { timeoutMs: 20_000 });
  assert.equal(r.code, 1, r.stderr);
  assert.ok(r.stderr.includes(`the lock file ${lock} is empty`), r.stderr);
  assert.ok(r.stderr.includes(`remove it: rm ${lock}`), r.stderr);
  assert.doesNotMatch(r.stderr, /internal error/);
});

test('a lock naming a live process that is not its holder (a reused pid) is taken over', async () => {
  const dir = project();
  mkdirSync(join(dir, 'build/.infra'), { recursive: true });
  const lock = join(dir, 'build/.infra/lock');
  const unrelated = spawn('sleep', ['60'], { stdio: 'ignore' });
  try {
    const pid = unrelated.pid!;
    // with the start time of the holder recorded: the running process started at another time
    writeFileSync(lock, JSON.stringify({ pid, start: 1, host: hostname(), command: 'build prog base' }));
    let r = runInfra(dir, ['build', 'prog', 'base', '--deps-only'], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`removed the stale lock of process ${pid}`));
    // a lock without a start time (older infra), written before the process started
    writeFileSync(lock, JSON.stringify({ pid, host: hostname(), command: 'build prog base' }));
    const before = new Date(Date.now() - 3600_000);
    utimesSync(lock, before, before);
    r = runInfra(dir, ['build', 'prog', 'base'], { timeoutMs: 20_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`removed the stale lock of process ${pid}`));
  } finally {
    unrelated.kill('SIGKILL');
  }
});

test('a lock is not taken over while the processes of its dead holder still run', async () => {
  const dir = project();
  mkdirSync(join(dir, 'build/.infra'), { recursive: true });
  // the holder is gone; its supervisor (here: a sleep that the test ends) is still killing its children
  const dead = spawnSync('true').pid!;
  const sup = spawn('sleep', ['60'], { stdio: 'ignore' });
  const supervisor = { pid: sup.pid!, start: processStartTime(sup.pid!) };
  writeFileSync(join(dir, 'build/.infra/lock'), JSON.stringify({ pid: dead, host: hostname(), command: 'build prog base', supervisor }));
  const p = startInfra(dir, ['build', 'prog', 'base', '--deps-only']);
  try {
    await waitFor(() => p.output().includes('waiting for the processes it started to end'), 20_000, 'the build to wait');
    assert.ok(!existsSync(join(dir, 'build/packages/slow-1/install')), 'nothing was installed while it waited');
  } finally {
    sup.kill('SIGKILL');
  }
  const r = await p.done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(
      `process ${dead} \\(build prog base\\) died while holding the lock of the build directory; waiting for the processes it started to end`,
    ),
  );
  assert.match(r.stderr, new RegExp(`removed the stale lock of process ${dead}`));
  assert.ok(existsSync(join(dir, 'build/packages/slow-1/install/lines.txt')), 'then it built');
});

/** Starts a run of 'slow' that takes a few seconds and waits until its first record is written. */
async function runInProgress(dir: string, iterations = 8) {
  assert.equal(runInfra(dir, ['build', 'prog', 'base']).code, 0);
  const p = startInfra(dir, ['run', 'prog', 'base', '-i', String(iterations)]);
  await waitFor(() => lines(join(dir, 'results/last/records.jsonl')).length >= 1, 20_000, 'the first record');
  return p;
}

const records = (dir: string) =>
  lines(join(dir, 'results/last/records.jsonl')).map((l) => JSON.parse(l) as { iteration: number; status: string });

test('--resume of a run that is still being written is refused, naming its process', async () => {
  const dir = project();
  const first = await runInProgress(dir);
  const resume = runInfra(dir, ['run', 'prog', 'base', '-i', '8', '--resume', 'results/last']);
  const r = await first.done;
  assert.equal(resume.code, 1, resume.stderr);
  assert.match(resume.stderr, new RegExp(`is in use by process ${first.child.pid} \\(infra run prog base -i 8\\)`));
  assert.equal(r.code, 0, r.stderr);
  const recs = records(dir);
  assert.deepEqual(
    recs.map((x) => x.iteration).sort((a, b) => a - b),
    [0, 1, 2, 3, 4, 5, 6, 7],
    'each execution once',
  );
  // once the run is over, the directory is free again
  const after = runInfra(dir, ['run', 'prog', 'base', '-i', '8', '--resume', 'results/last']);
  assert.equal(after.code, 0, after.stderr);
  assert.ok(!existsSync(join(dir, 'results/last/.lock')));
});

test('infra clean while infra run executes the binaries waits for the run, naming it', async () => {
  const dir = project();
  const run = await runInProgress(dir);
  const clean = startInfra(dir, ['clean', '--targets', 'prog']);
  await waitFor(() => clean.output().includes('waiting'), 20_000, 'clean to wait');
  const [r, c] = await Promise.all([run.done, clean.done]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(
    records(dir).every((x) => x.status === 'ok'),
    'every execution found its binary',
  );
  assert.equal(c.code, 0, c.stderr);
  assert.match(
    c.stderr,
    new RegExp(`in use by process ${run.child.pid} \\(infra run prog base -i 8\\), which runs programs built there; waiting`),
  );
  assert.ok(!existsSync(join(dir, 'build/targets/prog')), 'clean did its work after the run');
  assert.deepEqual(readdirSync(join(dir, 'build/.infra/lock.shared')), [], 'the run left no shared hold');
});

const isRoot = process.getuid?.() === 0;

/**
 * Scans every process's command line for a value until stopped (the value comes through the
 * environment, so the scanner's own command line does not show it).
 */
const SCANNER = String.raw`#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static volatile sig_atomic_t stop;
static void on_term(int s) { (void)s; stop = 1; }
int main(void) {
    const char *needle = getenv("NEEDLE");
    size_t nl = strlen(needle);
    char buf[65536], path[64], self[32];
    snprintf(self, sizeof self, "%d", (int)getpid());
    signal(SIGTERM, on_term);
    while (!stop) {
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] < '0' || e->d_name[0] > '9' || strcmp(e->d_name, self) == 0) continue;
            snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
            int fd = open(path, O_RDONLY);
            if (fd < 0) continue;
            ssize_t n = read(fd, buf, sizeof buf - 1);
            close(fd);
            for (ssize_t i = 0; i + (ssize_t)nl <= n; i++)
                if (memcmp(buf + i, needle, nl) == 0) {
                    for (ssize_t j = 0; j < n; j++) if (!buf[j]) buf[j] = ' ';
                    buf[n] = 0;
                    printf("%s: %s\n", e->d_name, buf);
                    fflush(stdout);
                    break;
                }
        }
        if (d) closedir(d);
    }
    return 0;
}
`;

describe(
  'the environment never appears in a command line on the remote node',
  { skip: isRoot ? false : 'needs root to start sshd and Slurm' },
  () => {
    let dir: string;
    let scanner: string;
    let slurmEnv: Record<string, string>;
    const token = `tok-${Math.random().toString(36).slice(2)}`;

    before(() => {
      const s = spawnSync('bash', [join(REPO, 'scripts', 'start-test-services.sh')], { encoding: 'utf8', timeout: 90_000 });
      assert.equal(s.status, 0, `start-test-services.sh failed:\n${s.stdout}\n${s.stderr}`);
      slurmEnv = { SLURM_CONF: /export SLURM_CONF=(\S+)/.exec(s.stdout)![1]! };
      dir = project();
      assert.equal(runInfra(dir, ['build', 'prog', 'base']).code, 0);
      writeFileSync(join(dir, 'scanner.c'), SCANNER);
      scanner = join(dir, 'scanner');
      assert.equal(spawnSync('cc', ['-O2', '-o', scanner, join(dir, 'scanner.c')]).status, 0);
      // a slow 'env' first on PATH (which sbatch passes to the job): a command line that holds the
      // environment then lives long enough for the scanner to see it for sure
      mkdirSync(join(dir, 'slow-bin'));
      writeFileSync(join(dir, 'slow-bin', 'env'), '#!/bin/sh\nsleep 0.5\nexec /usr/bin/env "$@"\n', { mode: 0o755 });
    });

    async function runScanned(args: string[], env: Record<string, string>) {
      const scan = spawn(scanner, [], { env: { NEEDLE: token }, stdio: ['ignore', 'pipe', 'inherit'] });
      let seen = '';
      scan.stdout.on('data', (c) => (seen += c));
      const p = startInfra(dir, args, { env: { API_TOKEN: token, PATH: `${join(dir, 'slow-bin')}:${process.env.PATH}`, ...env } });
      const r = await p.done;
      scan.kill('SIGTERM');
      await new Promise((res) => scan.once('close', res));
      return { r, seen };
    }

    for (const mode of ['ssh', 'slurm'] as const) {
      test(`--parallel ${mode}`, async () => {
        for (const f of readdirSync(join(dir, 'pids'))) rmSync(join(dir, 'pids', f));
        const how = mode === 'ssh' ? ['--ssh-nodes', '127.0.0.1:2222'] : [];
        const { r, seen } = await runScanned(
          ['run', 'prog', 'base', '--benchmarks', 'secret', '-i', '3', '--parallel', mode, ...how],
          mode === 'slurm' ? slurmEnv : {},
        );
        assert.equal(r.code, 0, r.stderr);
        assert.equal(seen, '', `a process showed the token in its command line: ${seen.split('\n')[0]!.slice(0, 300)}`);
        const chains = readdirSync(join(dir, 'pids')).filter((f) => f.startsWith('chain.'));
        assert.equal(chains.length, 3);
        for (const c of chains)
          assert.ok(!readFileSync(join(dir, 'pids', c), 'utf8').includes(token), readFileSync(join(dir, 'pids', c), 'utf8'));
        const out = readdirSync(join(dir, 'results/last/logs/prog/base')).filter((f) => f.endsWith('.stdout'));
        for (const f of out)
          assert.equal(
            readFileSync(join(dir, 'results/last/logs/prog/base', f), 'utf8'),
            `token=${token}\n`,
            'the benchmark got the token',
          );
        // nothing holding the environment is left behind
        assert.deepEqual(
          readdirSync(join(dir, 'build/.infra')).filter((f) => f.startsWith('slurm-jobs-')),
          [],
        );
      });
    }

    test('kill -9 of a remote run: the next run cancels its Slurm jobs, infra clean stops its ssh connections', async () => {
      const jobsDirs = () => readdirSync(join(dir, 'build/.infra')).filter((f) => f.startsWith('slurm-jobs-'));
      const slurm = startInfra(
        dir,
        ['run', 'prog', 'base', '--benchmarks', 'long', '-i', '2', '--parallel', 'slurm', '--parallelmax', '2'],
        {
          env: slurmEnv,
        },
      );
      const jobsFile = () => jobsDirs().map((d) => join(dir, 'build/.infra', d, 'jobs'))[0];
      await waitFor(() => lines(jobsFile() ?? '/nonexistent').length === 2, 30_000, 'two jobs submitted');
      const jobs = lines(jobsFile()!);
      slurm.child.kill('SIGKILL');
      await slurm.done;

      const ssh = startInfra(dir, ['run', 'prog', 'base', '--benchmarks', 'long', '--parallel', 'ssh', '--ssh-nodes', '127.0.0.1:2222'], {
        env: slurmEnv,
      });
      const ownedBySsh = () =>
        readdirSync(tmpdir())
          .filter((f) => f.startsWith('infra-ssh-'))
          .map((f) => join(tmpdir(), f))
          .find((d) => existsSync(join(d, '.owner')) && readFileSync(join(d, '.owner'), 'utf8').includes(`"pid":${ssh.child.pid},`));
      await waitFor(
        () => existsSync(join(dir, 'pids')) && ownedBySsh() !== undefined && readdirSync(ownedBySsh()!).length > 1,
        30_000,
        'the ssh connection',
      );
      const controlDir = ownedBySsh()!;
      ssh.child.kill('SIGKILL');
      // the next run (this one) cancelled the jobs of the killed one
      const sshRun = await ssh.done;
      assert.match(sshRun.stderr, new RegExp(`a killed run left \\S+slurm-jobs-\\S+: cancelled its jobs ${jobs.join(', ')}; removed it`));
      const masters = () =>
        spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
          .stdout.split('\n')
          .filter((l) => l.includes(controlDir));

      const clean = runInfra(dir, ['clean'], { env: slurmEnv });
      assert.equal(clean.code, 0, clean.stderr);
      assert.match(clean.stderr, new RegExp(`a killed run left ${controlDir}: stopped its ssh connection; removed it`));
      assert.deepEqual(jobsDirs(), []);
      assert.ok(!existsSync(controlDir));
      const queue = spawnSync('squeue', ['--noheader', '--states=all', '--format=%i %T', `--jobs=${jobs.join(',')}`], {
        encoding: 'utf8',
        env: { ...process.env, ...slurmEnv },
      });
      for (const line of queue.stdout.trim().split('\n').filter(Boolean)) assert.match(line, /CANCELLED|COMPLETING/, queue.stdout);
      await waitFor(() => masters().length === 0, 10_000, 'the ssh connection to end');
    });
  },
);
