// Result directories as the Python original writes them: one log per benchmark in a serial
// run, one per job in a parallel one, `[setup-report]` blocks from the benchmark and from the
// rusage-counters library linked into it, and the `cached` blocks its report appends.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { reportText } from '../src/commands/report.js';
import { readResults } from '../src/results/read.js';
import type { ExecutionRecord } from '../src/results/schema.js';
import { quietContext, Toy } from './report-fixtures.js';

/** What the benchmark itself prints (on stdout). */
const benchBlock = (benchmark: string, checksum: number) =>
  [
    `[setup-report] begin ${benchmark}-result`,
    `[setup-report] benchmark: ${benchmark}`,
    `[setup-report] checksum: ${checksum}`,
    `[setup-report] end ${benchmark}-result`,
  ].join('\n');

/** What the original's rusage-counters library prints from its destructor (on stderr). */
const rusageBlock = (runtime: number, maxrss: number) =>
  [
    '[setup-report] begin rusage-counters',
    `[setup-report] maxrss: ${maxrss}`,
    '[setup-report] page_faults: 120',
    '[setup-report] io_operations: 8',
    '[setup-report] context_switches: 3',
    `[setup-report] estimated_runtime: ${runtime}`,
    '[setup-report] end rusage-counters',
  ].join('\n');

/** The block the original's `report` appends to a log it parsed. */
const cachedBlock = (fields: Record<string, string | number>) =>
  ['[setup-report] begin cached', ...Object.entries(fields).map(([k, v]) => `[setup-report] ${k}: ${v}`), '[setup-report] end cached'].join(
    '\n',
  );

const runtimeOf = (instance: string, i: number) => (instance === 'asan' ? 2 : 1) * (1 + i / 1000);

function write(file: string, text: string): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text + '\n');
}

const byKey = (records: ExecutionRecord[]) => new Map(records.map((r) => [`${r.instance}/${r.benchmark}/${r.iteration}`, r] as const));

test('--parallel proc directories: one record per job from its stdout and stderr logs, iteration from the file name', async () => {
  const root = mkdtempSync(join(tmpdir(), 'infra-original-'));
  const run = join(root, 'results', 'run.2021-03-04.12-00-00');
  for (const instance of ['clang', 'asan']) {
    for (let i = 0; i < 12; i++) {
      const base = join(run, 'toy', instance, `hello.${i}`);
      write(`${base}.stdout.log`, `hello world\n${benchBlock('hello', 42)}`);
      write(`${base}.stderr.log`, rusageBlock(runtimeOf(instance, i), instance === 'asan' ? 9000 : 3000));
    }
  }
  const { ctx } = quietContext(root);
  const records = (await readResults(ctx, new Toy(), [run])).columns.records();
  assert.equal(records.length, 24, 'one record per job, not one per file');
  assert.deepEqual(new Set(records.map((r) => r.benchmark)), new Set(['hello']));
  const keys = byKey(records);
  // hello.10 is iteration 10 (not the third name in lexical order)
  const tenth = keys.get('clang/hello/10')!;
  assert.equal(tenth.fields.estimated_runtime, runtimeOf('clang', 10));
  assert.equal(tenth.fields.runtime, runtimeOf('clang', 10), "the original's estimated_runtime is our runtime too");
  assert.equal(tenth.fields.checksum, 42, "the stdout block's fields");
  assert.equal(tenth.fields.maxrss, 3000, "the stderr block's fields");
  assert.equal(tenth.fields.page_faults, 120);
  assert.equal(tenth.fields.context_switches, 3);
  assert.equal(tenth.fields.io_operations, 8);
  assert.equal(tenth.stdout, join('clang', 'hello.10.stdout.log'));
  assert.equal(tenth.stderr, join('clang', 'hello.10.stderr.log'));
  assert.deepEqual(
    records.filter((r) => r.instance === 'clang').map((r) => r.iteration),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
  );

  const csv = await reportText(ctx, new Toy(), {
    rundirs: [run],
    overhead: 'clang',
    field: ['runtime:median:count', 'maxrss:median'],
    table: 'csv',
  });
  const [header, row] = csv
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  const cell = (name: string) => row![header!.indexOf(name)]!;
  assert.equal(cell('benchmark'), 'hello');
  assert.equal(cell('clang.runtime.count'), '12');
  assert.equal(Number(cell('asan.runtime.median')).toFixed(4), '2.0000');
  assert.equal(Number(cell('asan.maxrss.median')), 3);

  const help = await reportText(ctx, new Toy(), { rundirs: [run], helpFields: true });
  assert.match(help, /estimated_runtime\s+runtime estimated by the program itself .*seconds/);
  assert.match(help, /context_switches\s+context switches as counted by the program itself/);
});

test('serial and multi-iteration layouts: blocks of one file make one record, jobs numbered as numbers', async () => {
  const root = mkdtempSync(join(tmpdir(), 'infra-original-'));
  const run = join(root, 'run.2021-03-04.13-00-00');
  // serial: one log per benchmark, stdout and stderr together
  write(join(run, 'toy', 'clang', 'hello'), `hello world\n${benchBlock('hello', 42)}\n${rusageBlock(1.5, 3000)}`);
  // proc with several iterations: `<outfile>-<i>`; the last job's log was parsed once and cached
  for (let i = 0; i < 11; i++) {
    const text = `${benchBlock('fib', 7)}\n${rusageBlock(0.5 + i / 100, 2000)}`;
    const cached = i === 10 ? `\n${cachedBlock({ benchmark: 'fib', checksum: 7, maxrss: 2000, estimated_runtime: 0.6 })}` : '';
    write(join(run, 'toy', 'clang', `fib-${i}`), text + cached);
  }
  // prun: `<outfile>.<i>`; a benchmark whose name ends in digits keeps them
  for (let i = 0; i < 3; i++) write(join(run, 'toy', 'clang', `400.perlbench.${i}`), rusageBlock(3 + i, 5000));
  write(join(run, 'toy', 'clang', 'CWE121-01'), rusageBlock(0.1, 100));

  const { ctx } = quietContext(root);
  const records = (await readResults(ctx, new Toy(), [run])).columns.records();
  const keys = byKey(records);
  const hello = records.filter((r) => r.benchmark === 'hello');
  assert.equal(hello.length, 1, 'the two blocks of the serial log are one execution');
  assert.deepEqual([hello[0]!.iteration, hello[0]!.fields.checksum, hello[0]!.fields.maxrss], [0, 42, 3000]);

  const fib = records.filter((r) => r.benchmark === 'fib');
  assert.equal(fib.length, 11, 'a cached block beside the blocks it was made from is not another execution');
  assert.equal(keys.get('clang/fib/10')!.fields.estimated_runtime, 0.6);
  assert.equal(keys.get('clang/fib/2')!.fields.estimated_runtime, 0.52);

  assert.deepEqual(
    records.filter((r) => r.benchmark === '400.perlbench').map((r) => [r.iteration, r.fields.runtime]),
    [
      [0, 3],
      [1, 4],
      [2, 5],
    ],
  );
  assert.deepEqual(
    records.filter((r) => r.benchmark.startsWith('CWE')).map((r) => [r.benchmark, r.iteration]),
    [['CWE121-01', 0]],
  );
});

test('blocks without a name, as the first releases of the original wrote them', async () => {
  const root = mkdtempSync(join(tmpdir(), 'infra-original-'));
  const run = join(root, 'run.2018-01-01.00-00-00');
  for (let i = 0; i < 2; i++) {
    write(
      join(run, 'toy', 'gcc', `bzip2-${i}`),
      ['[setup-report] begin', '[setup-report] benchmark: 401.bzip2', `[setup-report] runtime: ${10 + i}`, '[setup-report] end'].join('\n'),
    );
  }
  const { ctx } = quietContext(root);
  const records = (await readResults(ctx, new Toy(), [run])).columns.records();
  assert.deepEqual(
    records.map((r) => [r.benchmark, r.iteration, r.fields.runtime]),
    [
      ['401.bzip2', 0, 10],
      ['401.bzip2', 1, 11],
    ],
  );
});
