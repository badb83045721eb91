import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { reportText } from '../src/commands/report.js';
import { quietContext, Toy, toyRecords, writeToyRun } from './report-fixtures.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'infra-report-formats-'));

test('machine formats are lossless: full precision, dotted names, CI as two numbers, significance, units, marked summary', async () => {
  const root = tmp();
  const records = toyRecords(6);
  const dir = writeToyRun(join(root, 'run.1'), records);
  const { ctx } = quietContext(root);
  const opts = { rundirs: [dir], overhead: 'clang', ci: true, field: ['runtime:median:count'] };
  const json = JSON.parse(await reportText(ctx, new Toy(), { ...opts, table: 'json' })) as {
    columns: Array<{ key: string; unit?: string }>;
    rows: Array<Record<string, unknown>>;
    summary: Array<Record<string, unknown>>;
  };
  const units = Object.fromEntries(json.columns.map((c) => [c.key, c.unit ?? null]));
  assert.deepEqual(units, {
    benchmark: null,
    'clang.runtime.median': 'seconds',
    'clang.runtime.count': null,
    'asan.runtime.median': 'ratio',
    'asan.runtime.count': null,
    'asan.runtime.p': null,
    'asan.runtime.significant': null,
    'asan.runtime.ci.low': 'ratio',
    'asan.runtime.ci.high': 'ratio',
    'ubsan.runtime.median': 'ratio',
    'ubsan.runtime.count': null,
    'ubsan.runtime.p': null,
    'ubsan.runtime.significant': null,
    'ubsan.runtime.ci.low': 'ratio',
    'ubsan.runtime.ci.high': 'ratio',
  });
  const bzip2 = json.rows[0]!;
  const runtimes = (inst: string) =>
    records.filter((r) => r.instance === inst && r.benchmark === 'bzip2').map((r) => r.fields.runtime as number);
  const median = (xs: number[]) => ((s) => (s[2]! + s[3]!) / 2)([...xs].sort((a, b) => a - b));
  assert.equal(bzip2['clang.runtime.median'], median(runtimes('clang')), 'the value itself, not rounded');
  assert.equal(bzip2['asan.runtime.median'], median(runtimes('asan')) / median(runtimes('clang')));
  assert.equal(bzip2['asan.runtime.significant'], true);
  assert.equal(typeof bzip2['asan.runtime.p'], 'number');
  const [lo, hi] = [bzip2['asan.runtime.ci.low'] as number, bzip2['asan.runtime.ci.high'] as number];
  assert.ok(lo <= (bzip2['asan.runtime.median'] as number) && (bzip2['asan.runtime.median'] as number) <= hi);
  assert.equal(json.summary[0]!.summary, 'geomean');
  assert.equal(bzip2.summary, '');

  const csv = await reportText(ctx, new Toy(), { ...opts, table: 'csv' });
  const [head, first] = csv.split('\n');
  assert.doesNotMatch(head!, /[ /:]/, 'column names have no spaces, slashes or colons');
  assert.ok(head!.endsWith(',summary'));
  assert.ok(first!.split(',').includes(String(bzip2['asan.runtime.median'])), 'csv holds the same full-precision numbers as json');
  assert.match(csv, /\ngeomean,.*,geomean\n$/);
  // human formats keep the precision of ratios: a ratio of exactly 1 reads 1.000
  const same = writeToyRun(join(root, 'run.2'), toyRecords(6, 1, { bzip2: { clang: 1, twin: 1 } }));
  const fancy = await reportText(ctx, new Toy(), { rundirs: [same], overhead: 'clang', field: ['runtime:median'] });
  assert.match(fancy, /│ bzip2 {5}│ +[\d.]+ │ +1\.000 │/);
});

test('--raw -f keeps which execution each row is (benchmark, instance, iteration)', async () => {
  const root = tmp();
  const dir = writeToyRun(join(root, 'run.1'), toyRecords(2));
  const { ctx } = quietContext(root);
  const csv = await reportText(ctx, new Toy(), { rundirs: [dir], raw: true, field: ['runtime'], table: 'csv', instances: ['asan'] });
  const lines = csv.trimEnd().split('\n');
  assert.equal(lines[0], 'instance,benchmark,iteration,runtime');
  assert.equal(lines[1], `asan,bzip2,0,${1 * 1.5 * (1 - 0.001)}`);
  assert.equal(lines.length, 1 + 3 * 2);
});

test('honest significance: with 4 samples per side the report says what "significant" can mean', async () => {
  const root = tmp();
  const { ctx } = quietContext(root);
  const four = writeToyRun(join(root, 'run.4'), toyRecords(4));
  const text = await reportText(ctx, new Toy(), { rundirs: [four], overhead: 'clang', field: ['runtime:median'] });
  assert.match(
    text,
    /With 4 samples per side the smallest possible p is 0\.029: "significant" only means the samples do not overlap at all\. Run at least 7 iterations \(-i 7\)/,
  );
  const six = writeToyRun(join(root, 'run.6'), toyRecords(6));
  assert.doesNotMatch(
    await reportText(ctx, new Toy(), { rundirs: [six], overhead: 'clang', field: ['runtime:median'] }),
    /smallest possible p/,
  );
});

test('a report over runs with different settings, commits or hosts warns about each difference', async () => {
  const root = tmp();
  const { ctx, log } = quietContext(root);
  const a = writeToyRun(
    join(root, 'results', 'run.a'),
    toyRecords(6).filter((r) => r.benchmark === 'bzip2'),
  );
  const b = writeToyRun(
    join(root, 'results', 'run.b'),
    toyRecords(6).filter((r) => r.benchmark !== 'bzip2'),
    (meta) => {
      meta.settings!.iterations = 6;
      meta.project.gitCommit = 'fedcba9876543210fedcba9876543210fedcba98';
      meta.host.hostname = 'other-host';
    },
  );
  const text = await reportText(ctx, new Toy(), { rundirs: [join(root, 'results')], field: ['runtime:median'] });
  for (const what of [
    `commit: 0123456789ab \\(${a}\\), fedcba987654 \\(${b}\\)`,
    `setting iterations: 3 \\(${a}\\), 6 \\(${b}\\)`,
    `host hostname: bench-host \\(${a}\\), other-host \\(${b}\\)`,
  ]) {
    assert.match(text, new RegExp(`warning: the runs differ in ${what}`));
    // shown once: under the table, not again on stderr
    assert.doesNotMatch(log.join(''), new RegExp(`the runs differ in ${what}`));
  }
});

test("a field only one instance has (a pass's own counter) is shown as values, not as empty ratios and p-values", async () => {
  const root = tmp();
  const records = toyRecords(6).map((r) => (r.instance === 'asan' ? { ...r, fields: { ...r.fields, checks: 1000 + r.iteration } } : r));
  const dir = writeToyRun(join(root, 'run.1'), records);
  const { ctx } = quietContext(root);
  const json = JSON.parse(
    await reportText(ctx, new Toy(), { rundirs: [dir], overhead: 'clang', field: ['runtime:median', 'checks:median'], table: 'json' }),
  ) as { columns: Array<{ key: string; unit?: string }>; rows: Array<Record<string, unknown>> };
  const keys = json.columns.map((c) => c.key);
  assert.deepEqual(
    keys.filter((k) => k.includes('checks')),
    ['asan.checks.median'],
    'no clang, ubsan or p columns for it',
  );
  assert.equal(json.rows[0]!['asan.checks.median'], 1002.5, 'the value, not a ratio');
  assert.ok(keys.includes('asan.runtime.p') && keys.includes('ubsan.runtime.p'));
});
