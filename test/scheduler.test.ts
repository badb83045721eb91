// Scheduling without processes: the pure schedule, and the runner over a fake backend.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';
import { Logger } from '../src/core/log.js';
import type { BenchmarkRun } from '../src/core/runner.js';
import { JobPool } from '../src/parallel/pool.js';
import { readRecords } from '../src/results/read.js';
import { executionKey, type RunMeta } from '../src/results/schema.js';
import { createRunDirectory, openRunForResume, type RunDirectory } from '../src/results/write.js';
import { createRunner, type RunnerOptions } from '../src/run/runner.js';
import { executionLabel, Schedule } from '../src/run/schedule.js';
import { createFakeBackend, type CannedResult, type FakeBackend } from './fake-backend.ts';
import { DemoTarget, makeContext, quiet, runMeta } from './run-fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'infra-scheduler-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

const key = (instance: string, benchmark: string, iteration: number) => executionKey({ target: 'demo', instance, benchmark, iteration });

/** Two instances, benchmarks x and y, three rounds: the instance order rotates every round. */
const INTERLEAVED = [
  'base/x.0',
  'instr/x.0',
  'base/y.0',
  'instr/y.0',
  'instr/x.1',
  'base/x.1',
  'instr/y.1',
  'base/y.1',
  'base/x.2',
  'instr/x.2',
  'base/y.2',
  'instr/y.2',
];
describe('schedule', () => {
  const labels = (s: Schedule<null>) => s.start().map(executionLabel);

  test('interleaves instances per benchmark, rotating their order every round', async () => {
    const s = new Schedule<null>({ target: 'demo', iterations: 3 });
    for (const inst of ['base', 'instr']) for (const b of ['x', 'y']) s.submit(inst, b, undefined, null);
    assert.deepEqual(labels(s), INTERLEAVED);
  });

  test('an instance declared first keeps its place even if it submits later', async () => {
    const s = new Schedule<null>({ target: 'demo', iterations: 1 });
    s.addInstance('base');
    s.submit('instr', 'x', undefined, null);
    s.submit('base', 'x', undefined, null);
    assert.deepEqual(labels(s), ['base/x.0', 'instr/x.0']);
  });

  test('warm-ups come first; a benchmark with its own iterations gets that many', async () => {
    const s = new Schedule<null>({ target: 'demo', iterations: 2, warmup: 2 });
    s.submit('a', 'x', 1, null);
    s.submit('b', 'x', 1, null);
    const planned = s.start();
    assert.deepEqual(planned.map(executionLabel), ['a/x.warmup1', 'b/x.warmup1', 'b/x.warmup2', 'a/x.warmup2', 'a/x.0', 'b/x.0']);
    assert.deepEqual(
      planned.map((p) => p.warmup),
      [true, true, true, true, false, false],
    );
  });

  test('a resumed run skips what it has; no warm-ups when nothing is left to measure', async () => {
    const skipKeys = new Set([key('a', 'x', 0), key('a', 'x', 2), key('a', 'done', 0), key('a', 'done', 1)]);
    const s = new Schedule<null>({ target: 'demo', iterations: 3, warmup: 1, skipKeys });
    assert.deepEqual(s.submit('a', 'x', undefined, null), { ready: [], skipped: 2 });
    assert.deepEqual(s.submit('a', 'done', 2, null), { ready: [], skipped: 2 });
    assert.deepEqual(labels(s), ['a/x.warmup1', 'a/x.1']);
  });

  test('a benchmark submitted twice continues its numbering; after start() submissions are ready at once', async () => {
    const s = new Schedule<string>({ target: 'demo', iterations: 2 });
    s.submit('a', 'x', undefined, 'first');
    assert.deepEqual(
      s.start().map((p) => `${executionLabel(p)}:${p.job}`),
      ['a/x.0:first', 'a/x.1:first'],
    );
    const { ready } = s.submit('a', 'x', undefined, 'second');
    assert.deepEqual(
      ready.map((p) => `${executionLabel(p)}:${p.job}`),
      ['a/x.2:second', 'a/x.3:second'],
    );
    assert.deepEqual(s.start(), [], 'starting again plans nothing');
  });
});

function memoryLog(level: 'debug' | 'warning' = 'warning'): { log: Logger; text: () => string } {
  const s = new PassThrough();
  let out = '';
  s.on('data', (c: Buffer) => (out += c.toString()));
  return { log: new Logger(level, undefined, s as unknown as NodeJS.WriteStream), text: () => out };
}

function fakeRun(name: string, runs: BenchmarkRun[], backend: FakeBackend, extra: Partial<RunnerOptions> & { runDir?: RunDirectory } = {}) {
  const target = new DemoTarget(runs);
  const runDir = extra.runDir ?? createRunDirectory(join(root, name), runMeta(root));
  const pool = extra.pool ?? new JobPool(backend.capacity);
  const runner = createRunner({ runDir, target, backend, pool, settings: { iterations: 3 }, log: quiet(), ...extra });
  return { target, runDir, pool, runner, ctx: makeContext(root) };
}

describe('runner over a fake backend', () => {
  test('nothing runs before start(); instances are interleaved, their order rotating per iteration', async () => {
    const backend = createFakeBackend();
    const { target, runDir, pool, runner, ctx } = fakeRun(
      'interleave',
      [
        { benchmark: 'x', argv: ['true'] },
        { benchmark: 'y', argv: ['true'], exclusive: true },
      ],
      backend,
    );
    await target.run(ctx, undefined, runner.forInstance('base'));
    await target.run(ctx, undefined, runner.forInstance('instr'));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(pool.activeCount + pool.pendingCount, 0, 'submissions are staged');
    assert.equal(backend.started.length, 0);
    const summary = await runner.finish();
    assert.equal(summary.ok, 12);
    const order = INTERLEAVED;
    assert.deepEqual(backend.started, order);
    // one job at a time: records.jsonl is in execution order
    assert.deepEqual(
      readRecords(runDir.path).records.map((r) => `${r.instance}/${r.benchmark}.${r.iteration}`),
      order,
    );
  });

  test('warm-ups run first and are not recorded; a failing warm-up is only logged', async () => {
    const backend = createFakeBackend({
      answer: (label) => (label === 'plain/x.warmup1' ? { status: 'crashed', reason: 'killed by SIGSEGV' } : {}),
    });
    const { log, text } = memoryLog();
    const { target, runDir, runner, ctx } = fakeRun('warmup', [{ benchmark: 'x', argv: ['true'] }], backend, {
      settings: { iterations: 2, warmup: 2 },
      log,
    });
    await target.run(ctx, undefined, runner.forInstance('plain'));
    const summary = await runner.finish();
    assert.deepEqual(backend.started, ['plain/x.warmup1', 'plain/x.warmup2', 'plain/x.0', 'plain/x.1']);
    assert.equal(summary.total, 2);
    assert.deepEqual(
      readRecords(runDir.path).records.map((r) => r.iteration),
      [0, 1],
    );
    assert.match(text(), /plain\/x\.warmup1 \(not recorded\): crashed: killed by SIGSEGV/);
  });

  test('a resumed run executes only what is missing or failed', async () => {
    const failing = new Set(['plain/flaky.1']);
    const backend = createFakeBackend({
      answer: (label): CannedResult => (failing.has(label) ? { status: 'failed', reason: 'exit status 1' } : {}),
    });
    const first = fakeRun('resume', [{ benchmark: 'flaky', argv: ['true'] }], backend);
    await first.target.run(first.ctx, undefined, first.runner.forInstance('plain'));
    const s1 = await first.runner.finish();
    assert.equal(s1.ok, 2);
    assert.deepEqual(
      s1.failed.map((r) => r.iteration),
      [1],
    );

    failing.clear();
    const resumed = await openRunForResume(first.runDir.path, quiet());
    const again = fakeRun('resume', [{ benchmark: 'flaky', argv: ['true'] }], backend, {
      runDir: resumed.dir,
      skipKeys: resumed.completed,
    });
    await again.target.run(again.ctx, undefined, again.runner.forInstance('plain'));
    const s2 = await again.runner.finish();
    assert.equal(s2.total, 1);
    assert.equal(s2.skipped, 2);
    assert.equal(s2.ok, 1);
    assert.equal(backend.started.at(-1), 'plain/flaky.1');
    assert.equal((await openRunForResume(first.runDir.path, quiet())).completed.size, 3);
  });

  test('iterations of an exclusive benchmark never overlap; other benchmarks run beside them', async () => {
    const backend = createFakeBackend({ capacity: 3, answer: () => ({ delayMs: 10 }) });
    const { target, runner, ctx } = fakeRun(
      'exclusive',
      [
        { benchmark: 'shared', argv: ['true'] },
        { benchmark: 'alone', argv: ['true'], exclusive: true },
      ],
      backend,
      { settings: { iterations: 4 } },
    );
    await target.run(ctx, undefined, runner.forInstance('plain'));
    assert.equal((await runner.finish()).ok, 8);
    assert.equal(backend.peak.byBenchmark.get('plain/alone'), 1);
    assert.ok(backend.peak.byBenchmark.get('plain/shared')! > 1);
    assert.equal(backend.peak.all, 3);
  });

  test('an aborted pool drops what is queued and leaves the run marked interrupted', async () => {
    const pool = new JobPool(1);
    const backend = createFakeBackend({
      answer: (label) => {
        if (label === 'plain/x.1') pool.abort(); // Ctrl-C while the second execution runs
        return { delayMs: 5 };
      },
    });
    const { target, runDir, runner, ctx } = fakeRun('abort', [{ benchmark: 'x', argv: ['true'] }], backend, {
      pool,
      settings: { iterations: 5 },
    });
    await target.run(ctx, undefined, runner.forInstance('plain'));
    const summary = await runner.finish();
    assert.deepEqual(backend.started, ['plain/x.0', 'plain/x.1']);
    assert.equal(summary.ok, 2, 'the running execution is still recorded');
    assert.equal(summary.dropped, 3);
    assert.equal((JSON.parse(readFileSync(join(runDir.path, 'meta.json'), 'utf8')) as RunMeta).interrupted, true);
  });

  test("the execution settings reach the backend; a benchmark's own timeout wins", async () => {
    const backend = createFakeBackend();
    const { target, runner, ctx } = fakeRun(
      'settings',
      [
        { benchmark: 'a', argv: ['prog', '1'] },
        { benchmark: 'b', argv: ['prog'], timeout: 5 },
      ],
      backend,
      { settings: { iterations: 1, timeout: 60, cpus: '0', nothp: true, linger: 2, parallelmax: 4 } },
    );
    ctx.targetRunWrapper = ['wrap'];
    await target.run(ctx, undefined, runner.forInstance('plain'));
    await runner.finish();
    assert.deepEqual(
      backend.specs.map((s) => s.execution),
      [
        { timeout: 60, cpus: '0', nothp: true, linger: 2 },
        { timeout: 5, cpus: '0', nothp: true, linger: 2 },
      ],
    );
    assert.deepEqual(backend.specs[0]!.argv, ['wrap', 'prog', '1']);
  });

  test('submit without an instance name is a bug, not a silent mislabel', async () => {
    const { runner, ctx } = fakeRun('noinst', [], createFakeBackend());
    ctx.instanceName = undefined;
    assert.throws(() => runner.submit(ctx, { benchmark: 'x', argv: ['true'] }), /instanceName/);
    await runner.finish();
  });
});
