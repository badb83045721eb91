// The machine's load during a run: recorded in meta.json by a real run, read back by report,
// which warns when the machine was loaded and lists the busy processes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { reportText } from '../src/commands/report.js';
import { loadFindings } from '../src/report/load-warnings.js';
import { endLoad, parsePidStat, parsePressure, parseProcStat } from '../src/results/load.js';
import type { LoadSnapshot } from '../src/results/load-types.js';
import type { RunMeta } from '../src/results/schema.js';
import { makeProject, runInfra } from './helpers.ts';
import { napsProject, quietContext, Toy, toyRecords, writeToyRun } from './report-fixtures.js';

const snapshot = (at: string, more: Partial<LoadSnapshot> = {}): LoadSnapshot => ({
  at,
  loadavg: [0.1, 0.2, 0.3],
  cpuPressure: { avg10: 0, avg60: 0, totalUs: 0 },
  machineBusy: 100,
  machineTotal: 1000,
  own: 10,
  busy: [],
  ...more,
});

test('/proc parsers: machine CPU, pressure, a process with parentheses in its name', () => {
  assert.deepEqual(parseProcStat('cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3 4\n'), { busy: 1.5, total: 10 });
  assert.equal(parseProcStat('intr 1 2\n'), null);
  assert.deepEqual(parsePressure('some avg10=12.50 avg60=3.00 avg300=1.00 total=12345\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n'), {
    avg10: 12.5,
    avg60: 3,
    totalUs: 12345,
  });
  assert.equal(parsePressure(null), null);
  const stat = '42 (my (odd) prog) R 1 42 42 0 -1 4194304 100 0 0 0 250 50 30 20 20 0 1 0 100 1000 100';
  assert.deepEqual(parsePidStat(stat), { command: 'my (odd) prog', cpu: 3 });
  assert.deepEqual(parsePidStat(stat, true), { command: 'my (odd) prog', cpu: 3.5 });
});

test("between start and end: the cores other processes used (the run's own CPU left out) and the time tasks waited", () => {
  const start = snapshot('2026-01-01T00:00:00.000Z');
  // 10 s; the machine was busy 25 CPU seconds, this run's own processes 10 of them; tasks waited 4 s
  const end = endLoad(
    start,
    snapshot('2026-01-01T00:00:10.000Z', { machineBusy: 125, own: 20, cpuPressure: { avg10: 40, avg60: 40, totalUs: 4e6 } }),
    2,
  );
  assert.equal(end.otherCores, 1.5);
  assert.equal(end.cpuStallShare, 0.4);
  const loaded = loadFindings({
    cores: 2,
    start: { ...start, loadavg: [3.5, 2, 1] },
    end: { ...end, busy: [{ pid: 7, command: 'cc1', cpuPercent: 95 }] },
  });
  assert.deepEqual(loaded, [
    'load average 3.5 on 2 cores at its start',
    'other processes used 1.5 of 2 cores on average while it ran',
    'some task waited for a CPU 40% of the time (/proc/pressure/cpu)',
    'busy: cc1 (pid 7, 95% of a core)',
  ]);
  const idle = endLoad(start, snapshot('2026-01-01T00:00:10.000Z', { machineBusy: 111, own: 20 }), 2);
  assert.deepEqual(loadFindings({ cores: 2, start, end: idle }), []);
  // a load average left by a build that just ended, with nothing busy then or while it ran, is not load
  assert.deepEqual(loadFindings({ cores: 2, start: { ...start, loadavg: [1.9, 1.2, 0.8] }, end: idle }), []);
  // the same load average with a busy process at the start, or with no end to compare (interrupted), is
  const busyStart = { ...start, loadavg: [1.9, 1.2, 0.8], busy: [{ pid: 9, command: 'stress', cpuPercent: 100 }] };
  assert.deepEqual(loadFindings({ cores: 2, start: busyStart, end: idle }), [
    'load average 1.9 on 2 cores at its start',
    'busy: stress (pid 9, 100% of a core)',
  ]);
  assert.deepEqual(loadFindings({ cores: 2, start: { ...start, loadavg: [1.9, 1.2, 0.8] } }), ['load average 1.9 on 2 cores at its start']);
});

test('report warns about a run measured on a loaded machine, naming the busy processes; an idle one is not', async () => {
  const root = mkdtempSync(join(tmpdir(), 'infra-load-'));
  const busy = { pid: 4242, command: 'stress-ng', cpuPercent: 180 };
  const dir = writeToyRun(join(root, 'run.1'), toyRecords(4), (m: RunMeta) => {
    const start = snapshot(m.startedAt, { loadavg: [4, 3, 2], busy: [busy] });
    m.load = { cores: 2, start, end: { ...snapshot(m.startedAt), otherCores: 1.8, cpuStallShare: 0.5 } };
  });
  const idle = writeToyRun(join(root, 'run.2'), toyRecords(4), (m: RunMeta) => {
    m.load = { cores: 2, start: snapshot(m.startedAt), end: { ...snapshot(m.startedAt), otherCores: 0, cpuStallShare: 0 } };
  });
  const { ctx } = quietContext(root);
  const text = await reportText(ctx, new Toy(), { rundirs: [dir], overhead: 'clang' });
  assert.match(
    text,
    new RegExp(
      `warning: ${dir.replace(/[.]/g, '\\.')} ran on a loaded machine: load average 4 on 2 cores at its start; other processes used 1\\.8 of 2 cores ` +
        'on average while it ran; some task waited for a CPU 50% of the time \\(/proc/pressure/cpu\\); busy: stress-ng \\(pid 4242, 180% of a core\\)',
    ),
  );
  assert.doesNotMatch(await reportText(ctx, new Toy(), { rundirs: [idle], overhead: 'clang' }), /loaded machine/);
});

test('a real run records the load at its start and end in meta.json', async () => {
  const dir = makeProject({ 'setup.ts': napsProject(2) }, 'infra-load-run-');
  // a process that spins while the run measures: other load, which the run must not count as its own
  const spinner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  try {
    const r = runInfra(dir, ['run', 'naps', 'fast', 'slow', '-i', '3']);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    spinner.kill('SIGKILL');
  }
  const meta = JSON.parse(readFileSync(join(dir, 'results/last/meta.json'), 'utf8')) as RunMeta;
  const load = meta.load!;
  assert.ok(load.cores >= 1);
  for (const s of [load.start, load.end!]) {
    assert.equal(s.loadavg.length, 3);
    assert.ok(s.machineBusy! > 0 && s.machineTotal! >= s.machineBusy!);
    assert.ok(Array.isArray(s.busy));
  }
  assert.ok(Date.parse(load.end!.at) > Date.parse(load.start.at));
  // the spinner's core is the other load: far more than nothing, at most every core
  assert.ok(load.end!.otherCores! > 0.1 && load.end!.otherCores! <= load.cores, JSON.stringify(load.end));
  if (load.start.cpuPressure) assert.ok(load.end!.cpuStallShare! >= 0 && load.end!.cpuStallShare! <= 1);
  // the report says what it found, or nothing, as the findings say
  const report = runInfra(dir, ['report', 'naps', 'results/last']);
  assert.equal(report.code, 0, report.stderr);
  const expected = loadFindings(load);
  if (expected.length) assert.ok(report.stdout.includes(expected.join('; ')), report.stdout);
  else assert.doesNotMatch(report.stdout, /loaded machine/);
});

test("the run's own CPU time includes its benchmarks', so they are never counted as other load", () => {
  const spin = String.raw`
import { Setup, Target, Instance, type Context, type Runner } from 'instrumentation-infra';
class Spin extends Target {
  name = 'spin';
  isFetched() { return true; }
  fetch() {}
  build() {}
  run(ctx: Context, _instance: Instance, runner: Runner) {
    runner.submit(ctx, { benchmark: 'busy', argv: [process.execPath, '-e', 'const t = Date.now(); while (Date.now() - t < 400) {}'] });
  }
}
class Plain extends Instance { name = 'plain'; }
const setup = new Setup(import.meta.url);
setup.addTarget(new Spin());
setup.addInstance(new Plain());
await setup.main();
`;
  const dir = makeProject({ 'setup.ts': spin }, 'infra-load-own-');
  const r = runInfra(dir, ['run', 'spin', 'plain', '-i', '3']);
  assert.equal(r.code, 0, r.stderr);
  const meta = JSON.parse(readFileSync(join(dir, 'results/last/meta.json'), 'utf8')) as RunMeta;
  const { start, end } = meta.load!;
  const records = readFileSync(join(dir, 'results/last/records.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { fields: { utime: number; stime: number } }).fields);
  const benchmarks = records.reduce((sum, x) => sum + x.utime + x.stime, 0);
  assert.ok(benchmarks > 0.5, `the benchmarks spun: ${benchmarks} s`);
  // tick rounding of /proc/self/stat: a few hundredths of a second
  assert.ok(end!.own! - start.own! >= benchmarks - 0.05, `own ${end!.own! - start.own!} s, benchmarks ${benchmarks} s`);
});
