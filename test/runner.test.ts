import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';
import { Logger } from '../src/core/log.js';
import { Target } from '../src/core/target.js';
import { createLocalBackend } from '../src/parallel/local.js';
import { JobPool } from '../src/parallel/pool.js';
import { Progress } from '../src/parallel/progress.js';
import { createRunner } from '../src/run/runner.js';
import { executionKey, type ExecutionRecord, type RunMeta } from '../src/results/schema.js';
import { DemoTarget, makeContext as makeCtx, quiet, runMeta } from './run-fixtures.ts';
import { bracketedChoice, compilerVersion, hostInfo, projectState } from '../src/results/system-info.js';
import { readRecords } from '../src/results/read.js';
import { createRunDirectory, openRunForResume } from '../src/results/write.js';

const root = mkdtempSync(join(tmpdir(), 'infra-runner-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

const makeContext = () => makeCtx(root);
const meta = () => runMeta(root);

function memoryStream(): { stream: NodeJS.WriteStream; text: () => string } {
  const s = new PassThrough();
  let out = '';
  s.on('data', (c: Buffer) => (out += c.toString()));
  return { stream: s as unknown as NodeJS.WriteStream, text: () => out };
}

describe('job pool', () => {
  test('respects the limit, keeps going after failures, and collects them', async () => {
    const pool = new JobPool(2);
    let running = 0;
    let peak = 0;
    const done: number[] = [];
    for (let i = 0; i < 6; i++) {
      pool.add(`job${i}`, async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        if (i === 1) throw new Error('job 1 broke');
        if (i === 3) throw 'not even an Error';
        done.push(i);
      });
    }
    await pool.drain();
    assert.equal(peak, 2);
    assert.deepEqual(done, [0, 2, 4, 5]);
    assert.deepEqual(
      pool.failures.map((f) => f.label),
      ['job1', 'job3'],
    );
  });

  test('thousands of queued jobs start in the order added, mixed with exclusive ones', async () => {
    const pool = new JobPool(2);
    const started: number[] = [];
    const n = 5000;
    for (let i = 0; i < n; i++) {
      const options = i % 1000 === 7 ? { exclusiveKey: 'x' } : {};
      pool.add(`job${i}`, async () => void started.push(i), options);
    }
    assert.equal(pool.pendingCount + pool.activeCount, n);
    await pool.drain();
    assert.equal(pool.pendingCount, 0);
    assert.deepEqual(
      started,
      Array.from({ length: n }, (_, i) => i),
    );
  });

  test('abort drops queued jobs and lets running ones finish', async () => {
    const pool = new JobPool(1);
    const done: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      pool.add(name, async () => {
        await new Promise((r) => setTimeout(r, 20));
        done.push(name);
      });
    }
    assert.equal(pool.abort(), 2);
    pool.add('d', async () => {
      done.push('d');
    });
    await pool.drain();
    assert.deepEqual(done, ['a']);
    assert.equal(pool.droppedCount, 3);
  });
});

describe('progress', () => {
  test('without a TTY prints one plain line per finished job, no colour', async () => {
    const out = memoryStream();
    const progress = new Progress({ stream: out.stream });
    const pool = new JobPool(1, progress);
    pool.add('x.0', async () => progress.report('x.0', true, 'ok 0.100 s'));
    pool.add('x.1', async () => progress.report('x.1', false, 'crashed: killed by SIGSEGV'));
    await pool.drain();
    progress.close();
    assert.equal(out.text(), '[1/2] x.0 ok 0.100 s\n[2/2] x.1 crashed: killed by SIGSEGV\n');
  });

  test('live mode redraws one status line and keeps failures above it', async () => {
    const out = memoryStream();
    const progress = new Progress({ stream: out.stream, live: true, color: false });
    const pool = new JobPool(1, progress);
    pool.add('a.0', async () => progress.report('a.0', true, 'ok'));
    pool.add('a.1', async () => progress.report('a.1', false, 'failed: exit status 1'));
    await pool.drain();
    assert.match(progress.statusLines()[0]!, /^█+ 2\/2 100% {2}elapsed \d+s {2}1 failed$/);
    progress.close();
    const text = out.text();
    assert.ok(text.includes('\r\x1b[J'), 'the status block is redrawn in place');
    assert.ok(text.includes('[2/2] a.1 failed: exit status 1\n'));
    assert.ok(!text.includes('a.0 ok\n'), 'successes only advance the status line');
  });

  test('the bar, the running jobs, and an ETA from the same benchmark and instance', async () => {
    let now = 0;
    const progress = new Progress({ stream: memoryStream().stream, live: false, color: false, slots: 1, now: () => now });
    for (const label of ['slow/b.0', 'slow/b.1', 'fast/b.0', 'fast/b.1']) progress.jobAdded(label);
    progress.jobStarted('slow/b.0');
    now = 60_000;
    assert.deepEqual(progress.statusLines(8), ['░░░░░░░░ 0/4 0%  elapsed 1m00s', '  running slow/b.0 1m00s']);
    progress.jobFinished('slow/b.0', undefined);
    progress.jobStarted('fast/b.0');
    now = 62_000;
    progress.jobFinished('fast/b.0', undefined);
    // left: slow/b.1 (60 s, as slow/b.0 took) and fast/b.1 (2 s): 62 s; not the mean of 31 s each
    assert.deepEqual(progress.statusLines(8), ['████░░░░ 2/4 50%  elapsed 1m02s  ETA 1m02s']);
    progress.jobStarted('slow/b.1');
    now = 92_000;
    assert.equal(progress.statusLines(8)[0], '████░░░░ 2/4 50%  elapsed 1m32s  ETA 32s');
    progress.close();
  });
});

describe('results directory', () => {
  test('creates unique run directories, meta.json and the last link', async () => {
    const results = join(root, 'results-unique');
    const when = new Date(2024, 0, 2, 3, 4, 5);
    const a = createRunDirectory(results, meta(), when);
    const b = createRunDirectory(results, meta(), when);
    assert.match(a.path, /run\.2024-01-02\.03-04-05$/);
    assert.notEqual(a.path, b.path);
    assert.equal(readlinkSync(join(results, 'last')), 'run.2024-01-02.03-04-05.2');
    const m = JSON.parse(readFileSync(join(a.path, 'meta.json'), 'utf8')) as RunMeta;
    assert.equal(m.interrupted, true);
    a.finish();
    const done = JSON.parse(readFileSync(join(a.path, 'meta.json'), 'utf8')) as RunMeta;
    assert.equal(done.interrupted, undefined);
    assert.ok(done.finishedAt);
  });

  test('a torn last line is skipped with a warning; resume knows what succeeded', async () => {
    const dir = createRunDirectory(join(root, 'results-torn'), meta());
    const rec = (iteration: number, status: ExecutionRecord['status']): ExecutionRecord => ({
      schema: 1,
      target: 'demo',
      instance: 'plain',
      benchmark: 'b',
      iteration,
      host: 'h',
      status,
      exitCode: status === 'ok' ? 0 : 1,
      signal: null,
      start: new Date().toISOString(),
      fields: { runtime: 1 },
      stdout: 'x',
      stderr: 'y',
    });
    dir.append(rec(0, 'ok'));
    dir.append(rec(1, 'failed'));
    dir.append(rec(2, 'ok'));
    appendFileSync(join(dir.path, 'records.jsonl'), '{"schema":1,"target":"demo","inst'); // killed mid-write
    const warnings = memoryStream();
    const log = new Logger('warning', undefined, warnings.stream);
    const { records, badLines } = readRecords(dir.path, log);
    assert.equal(records.length, 3);
    assert.deepEqual(badLines, [4]);
    assert.match(warnings.text(), /torn last line/);

    const resumed = await openRunForResume(dir.path, quiet());
    assert.deepEqual([...resumed.completed].sort(), [rec(0, 'ok'), rec(2, 'ok')].map(executionKey).sort());
    resumed.dir.append(rec(3, 'ok'));
    assert.equal(readRecords(dir.path).records.length, 4, 'the next record starts on its own line');
  });

  test('the last record of an execution replaces earlier ones (interrupted, then resumed)', async () => {
    const dir = createRunDirectory(join(root, 'results-superseded'), meta());
    const rec = (iteration: number, status: ExecutionRecord['status']): ExecutionRecord => ({
      schema: 1,
      target: 'demo',
      instance: 'plain',
      benchmark: 'b',
      iteration,
      host: 'h',
      status,
      exitCode: status === 'ok' ? 0 : null,
      signal: status === 'crashed' ? 'SIGINT' : null,
      start: new Date().toISOString(),
      fields: { runtime: 1 },
      stdout: 'x',
      stderr: 'y',
    });
    dir.append(rec(0, 'ok'));
    dir.append(rec(1, 'crashed')); // cut short by Ctrl-C
    dir.append(rec(2, 'failed'));
    assert.deepEqual((await openRunForResume(dir.path, quiet())).completed, new Set([executionKey(rec(0, 'ok'))]));
    dir.append(rec(1, 'ok')); // the resumed run executed it again
    const read = readRecords(dir.path);
    assert.deepEqual(
      read.records.map((r) => `${r.iteration}:${r.status}`),
      ['0:ok', '2:failed', '1:ok'],
    );
    assert.equal(read.superseded, 1);
    const resumed = await openRunForResume(dir.path, quiet());
    assert.deepEqual([...resumed.completed].sort(), [rec(0, 'ok'), rec(1, 'ok')].map(executionKey).sort());
    assert.equal(resumed.recorded, 3);
  });

  test('resuming something that is not a run directory is a user error', async () => {
    await assert.rejects(() => openRunForResume(join(root, 'nope')), { name: 'UserError', message: /not a results directory/ });
  });
});

describe('runner', () => {
  test('runs, measures, checks, parses and records every iteration in order', async () => {
    const ctx = makeContext();
    ctx.runenv.DEMO_MODE = 'fast';
    const prepared: number[] = [];
    let counter = 0;
    const target = new DemoTarget([
      {
        benchmark: 'sleepy',
        argv: ['sh', '-c', 'echo "score: 42 mode=$DEMO_MODE/$EXTRA"'],
        cwd: root,
        env: { EXTRA: 'x' },
        fields: { workload: 'small' },
        // earlier iterations prepare longer, so they finish after later ones
        prepare: async () => {
          const n = counter++;
          await new Promise((r) => setTimeout(r, [300, 100, 0][n]));
          prepared.push(n);
        },
        check: (result) => {
          const out = readFileSync(result.stdoutPath, 'utf8');
          return out.includes('mode=fast/x') ? { fields: { checked: true } } : { failure: 'wrong mode' };
        },
      },
      { benchmark: 'crashy', argv: ['sh', '-c', 'kill -SEGV $$'], iterations: 1 },
      { benchmark: 'wrong', argv: ['sh', '-c', 'echo nope'], iterations: 1, check: () => ({ failure: 'output differs' }) },
      {
        benchmark: 'bad-prepare',
        argv: ['true'],
        iterations: 1,
        prepare: () => {
          throw new Error('input missing');
        },
      },
    ]);
    const runDir = createRunDirectory(join(root, 'results'), meta());
    const backend = await createLocalBackend({ buildroot: ctx.paths.buildroot, parallelmax: 2 });
    const pool = new JobPool(backend.capacity);
    const runner = createRunner({ runDir, target, backend, pool, settings: { iterations: 3 }, log: quiet() });
    await target.run(ctx, undefined, runner.forInstance('plain'));
    const summary = await runner.finish();
    await backend.close();

    assert.equal(summary.total, 6);
    assert.equal(summary.ok, 3);
    assert.deepEqual(summary.failed.map((r) => `${r.benchmark}:${r.status}`).sort(), [
      'bad-prepare:error',
      'crashy:crashed',
      'wrong:failed',
    ]);
    assert.equal(summary.errors.length, 1, 'a throwing prepare step is collected as a job failure');

    const { records } = readRecords(runDir.path);
    const sleepy = records.filter((r) => r.benchmark === 'sleepy');
    // iteration 0 prepares longest, so iteration 1 (beside it) is final and written first; where
    // iteration 2 (started after 1) lands depends on the machine's load
    const order = sleepy.map((r) => r.iteration);
    assert.deepEqual([...order].sort(), [0, 1, 2]);
    assert.ok(order.indexOf(1) < order.indexOf(0), `each record is written when it is final (written: ${order.join(' ')})`);
    for (const r of sleepy) {
      assert.equal(r.status, 'ok', r.reason);
      assert.equal(r.instance, 'plain');
      assert.equal(r.fields.workload, 'small');
      assert.equal(r.fields.checked, true);
      assert.equal(typeof r.fields.runtime, 'number');
      assert.equal(typeof r.fields.maxrss, 'number');
      assert.ok(existsSync(join(runDir.path, r.stdout)));
      assert.equal(r.stdout, `logs/demo/plain/sleepy.${r.iteration}.stdout`);
    }
    assert.deepEqual(prepared, [1, 2, 0], 'iteration 0 finished last');
    assert.deepEqual(
      sleepy.map((r) => r.fields.score),
      [42, 42, 42],
      'parsed from the output',
    );
    const crash = records.find((r) => r.benchmark === 'crashy')!;
    assert.equal(crash.signal, 'SIGSEGV');
    assert.match(crash.reason!, /segmentation fault/);
    assert.equal(records.find((r) => r.benchmark === 'wrong')!.reason, 'output differs');
    assert.equal(records.find((r) => r.benchmark === 'bad-prepare')!.reason, 'input missing');

    const m = JSON.parse(readFileSync(join(runDir.path, 'meta.json'), 'utf8')) as RunMeta;
    assert.equal(m.interrupted, undefined);
    assert.ok(m.finishedAt);
  });

  test('a finished record is on disk at once, while earlier iterations still run', async () => {
    const ctx = makeContext();
    let seenEarly: boolean | undefined;
    let runDirPath = '';
    let n = 0;
    const target = new DemoTarget([
      {
        benchmark: 'b',
        argv: ['true'],
        // iteration 0 waits (up to 5 s) for iteration 1's record to reach records.jsonl
        prepare: async () => {
          if (n++ !== 0) return;
          const end = Date.now() + 5000;
          const file = join(runDirPath, 'records.jsonl');
          while (Date.now() < end && !readFileSync(file, 'utf8').includes('"iteration":1')) await new Promise((r) => setTimeout(r, 20));
          seenEarly = Date.now() < end;
        },
      },
    ]);
    const runDir = createRunDirectory(join(root, 'results-early'), meta());
    runDirPath = runDir.path;
    const backend = await createLocalBackend({ buildroot: ctx.paths.buildroot, parallelmax: 2 });
    const runner = createRunner({ runDir, target, backend, pool: new JobPool(2), settings: { iterations: 2 }, log: quiet() });
    await target.run(ctx, undefined, runner.forInstance('plain'));
    const summary = await runner.finish();
    await backend.close();
    assert.equal(summary.ok, 2);
    assert.equal(seenEarly, true, 'iteration 1 was recorded while iteration 0 was still running');
  });
});

describe('serial runs: the next execution waits, set up, for the record of the one before', () => {
  test('each execution starts after every earlier record is on disk, a slow check and a prepare step included', async () => {
    const ctx = makeContext();
    const runDir = createRunDirectory(join(root, 'results-serial'), meta());
    const file = join(runDir.path, 'records.jsonl');
    const prepared: number[] = [];
    const count = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);
    const target = new DemoTarget([
      {
        benchmark: 'counts',
        // each execution reports how many records were written before it started
        argv: ['sh', '-c', `echo "score: $(cat ${file} 2>/dev/null | wc -l)"`],
        iterations: 6,
        // the check delays each record, so an execution started at its predecessor's result would see one record fewer
        check: async () => {
          await new Promise((r) => setTimeout(r, 50));
          return {};
        },
      },
      {
        benchmark: 'prepared',
        argv: ['true'],
        iterations: 3,
        prepare: () => {
          prepared.push(count());
        },
      },
    ]);
    const backend = await createLocalBackend({ buildroot: ctx.paths.buildroot, parallelmax: 1 });
    assert.equal(backend.runningAtOnce, 1);
    const pool = new JobPool(backend.capacity);
    const runner = createRunner({ runDir, target, backend, pool, settings: { iterations: 1 }, log: quiet() });
    await target.run(ctx, undefined, runner.forInstance('plain'));
    const summary = await runner.finish();
    await backend.close();
    assert.equal(summary.ok, 9, JSON.stringify(summary.failed));
    const { records } = readRecords(runDir.path);
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as ExecutionRecord);
    lines.forEach((r, i) => {
      if (r.benchmark === 'counts')
        assert.equal(r.fields.score, i, `record ${i} (${r.benchmark}.${r.iteration}) saw ${r.fields.score} records`);
    });
    assert.deepEqual(
      prepared,
      prepared.slice().sort((a, b) => a - b),
    );
    for (const n of prepared) {
      const at = lines.findIndex((r, i) => i >= n && r.benchmark === 'prepared');
      assert.equal(at, n, `a prepare step ran with exactly the earlier records written (${n})`);
    }
    // start times are the executions' own and increase
    const starts = records.map((r) => Date.parse(r.start)).sort((a, b) => a - b);
    assert.ok(starts[starts.length - 1]! - starts[0]! >= 5 * 50, 'the slow checks lie between the starts');
  });
});

describe("serial runs: the helper writes a clean execution's record itself", () => {
  test('each record is on disk before the next execution starts, and is the line infra would have written', async () => {
    const ctx = makeContext();
    const runDir = createRunDirectory(join(root, 'results-by-helper'), meta());
    const file = join(runDir.path, 'records.jsonl');
    const seen = join(root, 'by-helper-seen');
    // submit fields of every kind, one with a measured name (stored as submit.maxrss)
    const fields = { label: 'naïve "quoted" \\ text', size: 12.5, flag: true, none: null, maxrss: 7 };
    const target = new DemoTarget([
      {
        // writes nothing to its output files: its records are the helper's to write
        benchmark: 'clean',
        argv: ['sh', '-c', `wc -l < ${file} >> ${seen}`],
        iterations: 8,
        fields,
      },
      {
        // prints a block infra parses: infra writes these records
        benchmark: 'talks',
        argv: ['sh', '-c', 'echo "[setup-report] begin out"; echo "[setup-report] said: 1"; echo "[setup-report] end out"'],
        iterations: 3,
      },
      { benchmark: 'fails', argv: ['false'], iterations: 2 },
    ]);
    // the default parser (of [setup-report] blocks): an empty output has nothing to parse
    (target as Target).parseOutfile = Target.prototype.parseOutfile;
    writeFileSync(file, '');
    const logged = memoryStream();
    const backend = await createLocalBackend({ buildroot: ctx.paths.buildroot, parallelmax: 1 });
    const pool = new JobPool(backend.capacity);
    const log = new Logger('warning', undefined, logged.stream);
    const runner = createRunner({ runDir, target, backend, pool, settings: { iterations: 1 }, log });
    await target.run(ctx, undefined, runner.forInstance('plain'));
    const summary = await runner.finish();
    await backend.close();
    assert.equal(summary.ok, 11, JSON.stringify(summary.failed));
    assert.equal(summary.failed.length, 2);
    assert.equal(summary.byHelper, 8, 'the clean executions were recorded by the helper');
    assert.doesNotMatch(logged.text(), /wrote its record as/, "no record differed from infra's own");
    assert.match(logged.text(), /'maxrss' is measured by the framework; the value from submit is recorded as 'submit.maxrss'/);
    const text = readFileSync(file, 'utf8');
    const lines = text.split('\n').filter(Boolean);
    assert.equal(lines.length, 13);
    assert.ok(text.endsWith('\n'));
    // every execution of 'clean' saw all the records before it (in the order they were written)
    const counts = readFileSync(seen, 'utf8').trim().split('\n').map(Number);
    const positions = lines.map((l, i) => [JSON.parse(l) as ExecutionRecord, i] as const).filter(([r]) => r.benchmark === 'clean');
    assert.deepEqual(
      counts,
      positions.map(([, i]) => i),
    );
    for (const line of lines) {
      const r = JSON.parse(line) as ExecutionRecord;
      // the helper's lines are what JSON.stringify makes of them: numbers, strings and key order
      assert.equal(JSON.stringify(r), line);
      assert.deepEqual(Object.keys(r), [
        'schema',
        'target',
        'instance',
        'benchmark',
        'iteration',
        'start',
        'stdout',
        'stderr',
        'host',
        'status',
        'exitCode',
        'signal',
        'fields',
        ...(r.status === 'ok' ? [] : ['reason']),
      ]);
      assert.ok(Math.abs(Date.parse(r.start) - Date.now()) < 600_000);
      if (r.benchmark === 'clean') {
        assert.deepEqual(Object.keys(r.fields).slice(-5), ['label', 'size', 'flag', 'none', 'submit.maxrss']);
        assert.equal(r.fields.label, fields.label);
        assert.equal(typeof r.fields.runtime, 'number');
        assert.ok((r.fields.maxrss as number) > 100, 'the measured maxrss, not the submitted one');
      }
      if (r.benchmark === 'talks') assert.equal(r.fields.said, 1);
    }
    // the column blocks cover the helper's lines too: a report reads them as the lines say
    const { records } = readRecords(runDir.path);
    assert.equal(records.length, 13);
  });
});

describe('system info', () => {
  test('describes the host, the project and compilers', async () => {
    const host = await hostInfo();
    assert.ok(host.cores >= 1);
    assert.ok(host.memoryBytes > 0);
    assert.match(host.kernel, /^\d+\.\d+/);
    assert.notEqual(host.cpuModel, '');
    assert.equal(bracketedChoice('always [madvise] never'), 'madvise');
    assert.deepEqual(await projectState(root), { gitCommit: null, gitDirty: null });
    assert.match((await compilerVersion('cc'))!, /\d+\.\d+/);
    assert.equal(await compilerVersion('no-such-cc'), null);
  });
});

describe('exclusive jobs', () => {
  test('jobs sharing an exclusive key never overlap; other jobs use the free slots', async () => {
    const pool = new JobPool(2);
    const spans: Array<{ label: string; start: number; end: number }> = [];
    const job = (label: string) => async () => {
      const start = performance.now();
      await new Promise((r) => setTimeout(r, 40));
      spans.push({ label, start, end: performance.now() });
    };
    for (let i = 0; i < 3; i++) pool.add(`x${i}`, job(`x${i}`), { exclusiveKey: 'x' });
    pool.add('y0', job('y0'));
    pool.add('y1', job('y1'));
    await pool.drain();
    const xs = spans.filter((s) => s.label.startsWith('x')).sort((a, b) => a.start - b.start);
    assert.deepEqual(
      xs.map((s) => s.label),
      ['x0', 'x1', 'x2'],
      'exclusive jobs start in the order added',
    );
    for (let i = 1; i < xs.length; i++) assert.ok(xs[i]!.start >= xs[i - 1]!.end, 'no overlap');
    const y0 = spans.find((s) => s.label === 'y0')!;
    assert.ok(y0.start < xs[1]!.start, 'a free slot went to another job instead of waiting');
  });
});
