// Which source a record's field comes from: measured fields are the framework's.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';
import { Logger } from '../src/core/log.js';
import type { BenchmarkRun } from '../src/core/runner.js';
import { run } from '../src/exec/run.js';
import { createLocalBackend } from '../src/parallel/local.js';
import { JobPool } from '../src/parallel/pool.js';
import { RUSAGE_FIELDS, RusageCounters } from '../src/packages/rusage-counters.js';
import { readRecords } from '../src/results/read.js';
import { createRunDirectory } from '../src/results/write.js';
import { RecordFields } from '../src/run/fields.js';
import { createRunner } from '../src/run/runner.js';
import type { ExecutionBackend } from '../src/parallel/pool.js';
import { createFakeBackend, FAKE_MEASUREMENT } from './fake-backend.ts';
import { DemoTarget, makeContext, runMeta } from './run-fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'infra-record-fields-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

const block = (name: string, fields: Record<string, number | string>) =>
  [
    `[setup-report] begin ${name}`,
    ...Object.entries(fields).map(([k, v]) => `[setup-report] ${k}: ${v}`),
    `[setup-report] end ${name}`,
    '',
  ].join('\n');

describe('record fields', () => {
  test("a measured name from another source is stored under the source's name", () => {
    const f = new RecordFields({ ...FAKE_MEASUREMENT, cgroupPeak: 7 });
    f.add('submit', { runtime: 1, workload: 'small' });
    f.add('check', { maxrss: 2, checked: true });
    f.add('rusage', { maxrss: 3, inblock: 4 });
    f.add('output', { utime: 5, score: 6 });
    assert.deepEqual(f.fields, {
      ...FAKE_MEASUREMENT,
      cgroupPeak: 7,
      'submit.runtime': 1,
      workload: 'small',
      'check.maxrss': 2,
      checked: true,
      'rusage.maxrss': 3,
      inblock: 4,
      'output.utime': 5,
      score: 6,
    });
    assert.deepEqual(
      f.renamed.map((r) => r.storedAs),
      ['submit.runtime', 'check.maxrss', 'rusage.maxrss', 'output.utime'],
    );
  });

  test('measured names are reserved even when nothing was measured', () => {
    const f = new RecordFields(null);
    f.add('submit', { runtime: 1, cgroupPeak: 2 });
    assert.deepEqual(f.fields, { 'submit.runtime': 1, 'submit.cgroupPeak': 2 });
  });

  test('among the other fields the later source wins: output > stderr blocks > check > submit', async () => {
    const s = new PassThrough();
    let logged = '';
    s.on('data', (c: Buffer) => (logged += c.toString()));
    const log = new Logger('debug', undefined, s as unknown as NodeJS.WriteStream);
    const backend = createFakeBackend({
      answer: () => ({
        stdout: 'score: 9\n',
        stderr: block('first', { a: 'block', b: 'block', c: 'block', runtime: 99 }) + block('second', { a: 'second' }),
      }),
    });
    const target = new DemoTarget([
      {
        benchmark: 'x',
        argv: ['true'],
        fields: { a: 'submit', b: 'submit', c: 'submit', d: 'submit', score: 1, runtime: 1 },
        check: () => ({ fields: { a: 'check', b: 'check', c: 'check', e: 'check' } }),
      },
    ]);
    const runDir = createRunDirectory(join(root, 'precedence'), runMeta(root));
    const runner = createRunner({ runDir, target, backend, pool: new JobPool(1), settings: { iterations: 2 }, log });
    await target.run(makeContext(root, log), undefined, runner.forInstance('plain'));
    await runner.finish();
    const [rec] = readRecords(runDir.path).records;
    assert.deepEqual(
      { a: rec!.fields.a, b: rec!.fields.b, c: rec!.fields.c, d: rec!.fields.d, e: rec!.fields.e, score: rec!.fields.score },
      { a: 'second', b: 'block', c: 'block', d: 'submit', e: 'check', score: 9 },
    );
    assert.equal(rec!.fields.runtime, FAKE_MEASUREMENT.runtime);
    assert.equal(rec!.fields['submit.runtime'], 1);
    assert.equal(rec!.fields['first.runtime'], 99);
    // once per run, not per iteration: a warning for the target's own field, debug for a block
    assert.equal(logged.match(/'runtime' is measured by the framework; the value from submit is recorded as 'submit.runtime'/g)?.length, 1);
    assert.equal(logged.match(/the value from first is recorded as 'first.runtime'/g)?.length, 1);
  });
});

test("RusageCounters linked into a gcc-built program: runtime and maxrss stay the framework's", { timeout: 120_000 }, async () => {
  const ctx = makeContext(root);
  ctx.cc = 'gcc';
  const lib = new RusageCounters();
  await lib.build(ctx);
  await lib.install(ctx);
  lib.configure(ctx);
  // the parent (which prints the block, for itself only) forks a child that touches 64 MiB
  const src = join(root, 'forker.c');
  writeFileSync(
    src,
    [
      '#include <stdlib.h>',
      '#include <string.h>',
      '#include <sys/wait.h>',
      '#include <unistd.h>',
      'int main(void) { pid_t p = fork(); if (p == 0) { char *m = malloc(64 << 20); memset(m, 1, 64 << 20); _exit(m[4096] - 1); }',
      '  int status; waitpid(p, &status, 0); return WEXITSTATUS(status); }',
      '',
    ].join('\n'),
  );
  const exe = join(root, 'forker');
  await run(ctx, [ctx.cc, src, '-o', exe, ...ctx.ldflags]);

  // the framework's clock starts before a shell sleeps, the library's only when the program starts
  const bench: BenchmarkRun = { benchmark: 'forker', argv: ['sh', '-c', 'sleep 0.3; exec "$0"', exe], iterations: 1 };
  const target = new DemoTarget([bench]);
  const runDir = createRunDirectory(join(root, 'rusage'), runMeta(root));
  const backend: ExecutionBackend = await createLocalBackend({ buildroot: ctx.paths.buildroot, parallelmax: 1 });
  const runner = createRunner({ runDir, target, backend, pool: new JobPool(1), settings: { iterations: 1 }, log: ctx.log });
  await target.run(ctx, undefined, runner.forInstance('plain'));
  const summary = await runner.finish();
  await backend.close();
  assert.equal(summary.ok, 1, JSON.stringify(summary.failed));
  const { fields } = readRecords(runDir.path).records[0]!;
  assert.equal(typeof fields['rusage.maxrss'], 'number', JSON.stringify(fields));
  assert.equal(typeof fields['rusage.runtime'], 'number');
  assert.equal(typeof fields.inblock, 'number', 'a field the framework does not measure keeps its name');
  for (const name of Object.keys(RUSAGE_FIELDS))
    assert.equal(typeof fields[name], 'number', `RUSAGE_FIELDS names a recorded field: ${name}`);
  assert.ok((fields.maxrss as number) > 64 * 1024, `the framework's maxrss covers the child: ${fields.maxrss} KiB`);
  assert.ok((fields['rusage.maxrss'] as number) < 32 * 1024, `the library's is the parent's own: ${fields['rusage.maxrss']} KiB`);
  assert.ok((fields.runtime as number) >= 0.3, `the framework's runtime includes the sleep: ${fields.runtime}`);
  assert.ok((fields['rusage.runtime'] as number) < (fields.runtime as number));
});
