import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { report, reportText, type ReportOptions } from '../src/commands/report.js';
import { Context, makePaths } from '../src/core/context.js';
import { UserError } from '../src/core/errors.js';
import { Logger } from '../src/core/log.js';
import type { FieldValue } from '../src/core/runner.js';
import { Target } from '../src/core/target.js';
import type { ExecutionRecord } from '../src/results/schema.js';
import { napsProject } from './report-fixtures.js';

class Toy extends Target {
  name = 'toy';
  override reportableFields() {
    return { score: 'points the toy benchmark prints' };
  }
  isFetched() {
    return true;
  }
  fetch() {}
  build() {}
  run() {}
}

/** A target of the Python era whose own parser reads its logs. */
class OldSuite extends Toy {
  override name = 'oldsuite';
  override parseOutfile(_ctx: Context, outfile: string): Array<Record<string, FieldValue>> {
    return readFileSync(outfile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Success '))
      .map((l) => {
        const [, benchmark, runtime] = /^Success (\S+) runtime=(\S+)/.exec(l)!;
        return { benchmark: benchmark!, runtime: Number(runtime) };
      });
  }
}

function makeCtx(root: string): { ctx: Context; warnings: string[] } {
  const warnings: string[] = [];
  const stream = { isTTY: false, write: (s: string) => (warnings.push(s), true) } as unknown as NodeJS.WriteStream;
  const ctx = new Context(makePaths(root, join(root, 'setup.ts'), 'test'), new Logger('info', undefined, stream));
  return { ctx, warnings };
}

let clock = 0;
function rec(
  instance: string,
  benchmark: string,
  iteration: number,
  runtime: number,
  extra: Partial<ExecutionRecord> = {},
): ExecutionRecord {
  return {
    schema: 1,
    target: 'toy',
    instance,
    benchmark,
    iteration,
    host: 'h',
    status: 'ok',
    exitCode: 0,
    signal: null,
    start: new Date(Date.UTC(2025, 0, 1, 0, 0, clock++)).toISOString(),
    fields: { runtime, utime: runtime * 0.9, stime: 0.01, maxrss: instance === 'asan' ? 3000 : 1000, score: 7 },
    stdout: `logs/toy/${instance}/${benchmark}.${iteration}.stdout`,
    stderr: '',
    ...extra,
  };
}

function writeRun(dir: string, records: ExecutionRecord[], tail = ''): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'records.jsonl'), records.map((r) => JSON.stringify(r) + '\n').join('') + tail);
  return dir;
}

/** Deterministic small noise so runs look measured but tests are stable. */
const jitter = (i: number) => [0, 0.004, -0.003, 0.002, -0.001, 0.003][i % 6]!;

function standardRecords(iterations = 6): ExecutionRecord[] {
  const out: ExecutionRecord[] = [];
  for (const [bench, base] of [
    ['bzip2', 1.0],
    ['lua', 2.0],
    ['sqlite', 4.0],
  ] as const) {
    for (let i = 0; i < iterations; i++) {
      out.push(rec('clang', bench, i, base * (1 + jitter(i))));
      // asan is 50% slower on bzip2, 20% on lua and 10% on sqlite
      const factor = bench === 'bzip2' ? 1.5 : bench === 'lua' ? 1.2 : 1.1;
      out.push(rec('asan', bench, i, base * factor * (1 + jitter(i + 1))));
    }
  }
  return out;
}

const tmp = () => mkdtempSync(join(tmpdir(), 'infra-report-'));

function parseCsv(text: string, sep = ','): Array<Record<string, string>> {
  const [head, ...lines] = text.trimEnd().split('\n');
  const cols = head!.split(sep);
  return lines.map((l) => Object.fromEntries(l.split(sep).map((v, i) => [cols[i]!, v])));
}

async function run(ctx: Context, opts: Partial<ReportOptions> & { rundirs: string[] }, target: Target = new Toy()) {
  return reportText(ctx, target, opts);
}

test('aggregates per benchmark and instance (csv), with the default fields', async () => {
  const root = tmp();
  const dir = writeRun(join(root, 'results', 'run.1'), standardRecords());
  const { ctx, warnings } = makeCtx(root);
  const rows = parseCsv(await run(ctx, { rundirs: [dir], table: 'csv' }));
  assert.deepEqual(
    rows.map((r) => r.benchmark),
    ['bzip2', 'lua', 'sqlite'],
  );
  const lua = rows[1]!;
  assert.equal(lua['clang.runtime.count'], '6');
  // jitter of iterations 0..5 sorted: -.003 -.001 0 .002 .003 .004 -> median (0 + .002) / 2
  assert.equal(Number(lua['clang.runtime.median']), (2 * (1 + 0) + 2 * (1 + 0.002)) / 2, 'csv keeps full precision');
  assert.ok(Number(lua['asan.runtime.median']) > 2.39 && Number(lua['asan.runtime.median']) < 2.41);
  assert.ok(Number(lua['clang.runtime.stdev_percent']) < 1);
  assert.equal(warnings.length, 0, warnings.join(''));
});

test('--overhead: ratios, significance marks, geomean row and legend (printed to stdout)', async () => {
  const root = tmp();
  const dir = writeRun(join(root, 'results', 'run.1'), standardRecords());
  const { ctx } = makeCtx(root);
  let out = '';
  const write = process.stdout.write;
  // the test runner talks over stdout too (in buffers); keep only the report's text
  process.stdout.write = ((chunk: unknown, ...rest: any[]) => {
    if (typeof chunk !== 'string') return write.call(process.stdout, chunk as Buffer, ...rest);
    out += chunk;
    const cb = rest.find((a) => typeof a === 'function');
    if (cb) cb();
    return true;
  }) as typeof process.stdout.write;
  try {
    await report(ctx, new Toy(), { rundirs: [dir], overhead: 'clang', field: ['runtime:median'] });
  } finally {
    process.stdout.write = write;
  }
  assert.match(out, /┌/);
  const line = (name: string) => out.split('\n').find((l) => l.includes(` ${name} `))!;
  // bzip2: 1.5x, significant: every asan sample exceeds every clang sample (exact p = 2/924)
  assert.match(line('bzip2'), /1\.50\d\*/);
  assert.match(line('bzip2'), /0\.002 \*/);
  assert.match(line('sqlite'), /1\.10\d\*/);
  // geometric mean of 1.5, 1.2, 1.1 (never their arithmetic mean, 1.267)
  const geo = Math.cbrt(1.5 * 1.2 * 1.1);
  assert.match(line('geomean'), new RegExp(geo.toFixed(3).replace('.', '\\.')));
  assert.doesNotMatch(line('geomean'), /1\.26[67]/);
  assert.match(out, /\* significant difference from 'clang': two-sided Mann-Whitney U/);
  assert.match(out, /geometric mean of the ratios/);

  const json = JSON.parse(await run(ctx, { rundirs: [dir], overhead: 'clang', field: ['runtime:median', 'maxrss:median'], table: 'json' }));
  assert.equal(json.rows.length, 3);
  assert.equal(json.rows[0]['asan.maxrss.median'], 3);
  assert.equal(json.rows[0]['clang.maxrss.median'], 1000);
  assert.ok(json.rows[0]['asan.runtime.p'] < 0.05);
  assert.ok(Math.abs(json.summary[0]['asan.runtime.median'] - geo) < 0.01);
});

test('too few samples: no significance claimed; few iterations and noise are warned about', async () => {
  const root = tmp();
  const records: ExecutionRecord[] = [];
  for (let i = 0; i < 2; i++) {
    records.push(rec('clang', 'bzip2', i, 1 + i * 0.2)); // 1.0, 1.2: noisy
    records.push(rec('asan', 'bzip2', i, 2));
  }
  const dir = writeRun(join(root, 'r'), records);
  const { ctx, warnings } = makeCtx(root);
  const out = await run(ctx, { rundirs: [dir], overhead: 'clang', field: ['runtime:median'], table: 'ascii' });
  assert.match(out, /n\/a \(too few samples\)/);
  assert.match(out, /\+-+\+/);
  assert.doesNotMatch(
    out.split('\n').find((l) => l.includes('bzip2'))!,
    /\*/,
  );
  // each warning once: under the table, not also on stderr
  assert.match(out, /warning: fewer than 3 successful iterations: bzip2 \[clang\]: 2; bzip2 \[asan\]: 2/);
  assert.match(out, /warning: coefficient of variation above 5%: bzip2 \[clang\] runtime: 9\.1%/);
  assert.equal(warnings.join(''), '');
});

test('failed, crashed and timed-out executions are counted and shown, not aggregated', async () => {
  const root = tmp();
  const records = standardRecords();
  records.push(rec('asan', 'lua', 6, 99, { status: 'crashed', signal: 'SIGSEGV', exitCode: null, reason: 'killed by SIGSEGV' }));
  records.push(rec('asan', 'lua', 7, 99, { status: 'failed', exitCode: 1 }));
  records.push(rec('asan', 'lua', 8, 99, { status: 'failed', exitCode: 1 }));
  records.push(rec('clang', 'sqlite', 6, 99, { status: 'timeout' }));
  const dir = writeRun(join(root, 'r'), records);
  const { ctx, warnings } = makeCtx(root);
  const rows = parseCsv(await run(ctx, { rundirs: [dir], field: ['runtime:max'], table: 'tsv' }), '\t');
  const lua = rows.find((r) => r.benchmark === 'lua')!;
  assert.equal(lua['asan.unsuccessful'], '1 crashed, 2 failed');
  assert.ok(Number(lua['asan.runtime.max']) < 3, 'the 99 s failures are not aggregated');
  assert.equal(rows.find((r) => r.benchmark === 'sqlite')!['clang.unsuccessful'], '1 timeout');
  assert.equal(lua['clang.unsuccessful'], '');
  assert.match(
    warnings.join(''),
    /unsuccessful executions \(shown, not aggregated\): lua \[asan\]: 1 crashed, 2 failed; sqlite \[clang\]: 1 timeout/,
  );
});

test('a record superseded by a later one of the same execution (a resumed run) is not counted', async () => {
  const root = tmp();
  const records = standardRecords(3);
  const interrupted = rec('asan', 'lua', 1, 0.2, {
    status: 'crashed',
    signal: 'SIGINT',
    exitCode: null,
    reason: 'killed by SIGINT after an interrupt',
  });
  const rerun = records.findIndex((r) => r.instance === 'asan' && r.benchmark === 'lua' && r.iteration === 1);
  records.splice(rerun, 0, interrupted); // recorded before its re-run
  records.push(rec('asan', 'lua', 3, 99, { status: 'failed', exitCode: 1 }));
  const dir = writeRun(join(root, 'r'), records);
  const { ctx } = makeCtx(root);
  const rows = parseCsv(await run(ctx, { rundirs: [dir], field: ['runtime:count'], table: 'csv' }));
  const lua = rows.find((r) => r.benchmark === 'lua')!;
  assert.equal(lua['asan.runtime.count'], '3');
  assert.equal(lua['asan.unsuccessful'], '1 failed', 'the crashed record was replaced by its re-run');
  // the same execution in two run directories is two executions
  const again = writeRun(join(root, 'r2'), records);
  const both = parseCsv(await run(ctx, { rundirs: [dir, again], field: ['runtime:count'], table: 'csv' }));
  assert.equal(both.find((r) => r.benchmark === 'lua')!['asan.runtime.count'], '6');
});

test('a torn line in records.jsonl is skipped with a warning naming file and line', async () => {
  const root = tmp();
  const dir = writeRun(join(root, 'r'), standardRecords(3), '{"schema":1,"target":"toy","inst');
  const { ctx, warnings } = makeCtx(root);
  const rows = parseCsv(await run(ctx, { rundirs: [dir], field: ['runtime:count'], table: 'csv' }));
  assert.deepEqual(
    rows.map((r) => r['clang.runtime.count']),
    ['3', '3', '3'],
  );
  assert.match(warnings.join(''), new RegExp(`${join(dir, 'records.jsonl')}:19: skipped a corrupt record`));
});

test('bad input is a UserError that names the valid choices', async () => {
  const root = tmp();
  const dir = writeRun(join(root, 'r'), standardRecords(3));
  const { ctx } = makeCtx(root);
  const rejects = (opts: Partial<ReportOptions>, re: RegExp) =>
    assert.rejects(run(ctx, { rundirs: [dir], ...opts }), (e: unknown) => e instanceof UserError && re.test(e.message));
  await rejects(
    { field: ['runtiem:median'] },
    /unknown field 'runtiem'; did you mean 'runtime'\? valid fields: .*benchmark.*runtime.*score/,
  );
  await rejects({ field: ['runtime:avg'] }, /unknown aggregation 'avg'; valid aggregations: count, mean, median/);
  await rejects({ field: ['runtime'] }, /needs an aggregation, e\.g\. 'runtime:median'/);
  await rejects({ overhead: 'gcc' }, /instance 'gcc' has no results .*; instances present: asan, clang/);
  await rejects({ instances: ['clang', 'msan'] }, /instance 'msan'.*instances present: asan, clang/);
  await rejects({ groupby: 'colour' }, /unknown field 'colour'/);
  await rejects({ filter: ['benchmark'] }, /--filter expects KEY=VALUE/);
  await rejects({ raw: true, overhead: 'clang' }, /cannot be combined/);
  await rejects(
    { field: ['benchmark:mean'] },
    /aggregation 'mean' needs numbers, but field 'benchmark' of bzip2 \[asan\] has the value 'bzip2'/,
  );

  const empty = join(root, 'empty');
  mkdirSync(empty);
  await assert.rejects(run(ctx, { rundirs: [empty] }), /no results found in '.*empty'/);
  await assert.rejects(run(ctx, { rundirs: [join(root, 'nope')] }), /does not exist/);
  const foreign = join(root, 'foreign');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'records.jsonl'), 'this is not\njson at all\n');
  await assert.rejects(run(ctx, { rundirs: [foreign] }), /cannot read any record from '.*foreign\/records\.jsonl'/);
  await assert.rejects(run(ctx, { rundirs: [dir] }, new OldSuite()), /no results of target 'oldsuite' .*; targets present: toy/);
});

test('a directory of runs is searched recursively; results/last is not counted twice', async () => {
  const root = tmp();
  const results = join(root, 'results');
  const recs = standardRecords(4);
  writeRun(
    join(results, 'run.2025-01-01.10-00-00'),
    recs.filter((r) => r.iteration < 2),
  );
  writeRun(
    join(results, 'run.2025-01-02.10-00-00'),
    recs.filter((r) => r.iteration >= 2),
  );
  symlinkSync('run.2025-01-02.10-00-00', join(results, 'last'));
  const { ctx } = makeCtx(root);
  const rows = parseCsv(await run(ctx, { rundirs: [results, join(results, 'last')], field: ['runtime:count'], table: 'csv' }));
  assert.deepEqual(
    rows.map((r) => r['asan.runtime.count']),
    ['4', '4', '4'],
  );
  const last = parseCsv(await run(ctx, { rundirs: [join(results, 'last')], field: ['runtime:count'], table: 'csv' }));
  assert.deepEqual(
    last.map((r) => r['asan.runtime.count']),
    ['2', '2', '2'],
  );
});

test('--raw, --filter, --groupby, --aggregate, instance order and markdown', async () => {
  const root = tmp();
  const dir = writeRun(join(root, 'r'), standardRecords(4));
  const { ctx } = makeCtx(root);
  const raw = parseCsv(
    await run(ctx, { rundirs: [dir], raw: true, instances: ['clang'], filter: ['benchmark=lua', 'benchmark=bzip2'], table: 'csv' }),
  );
  assert.deepEqual(
    raw.map((r) => `${r.instance} ${r.benchmark} ${r.iteration}`),
    ['clang bzip2 0', 'clang bzip2 1', 'clang bzip2 2', 'clang bzip2 3', 'clang lua 0', 'clang lua 1', 'clang lua 2', 'clang lua 3'],
  );
  assert.deepEqual(Object.keys(raw[0]!), ['instance', 'benchmark', 'iteration', 'status', 'runtime', 'maxrss']);

  const byInstance = parseCsv(
    await run(ctx, { rundirs: [dir], groupby: 'instance', field: ['maxrss:max', 'runtime:count'], table: 'csv' }),
  );
  assert.deepEqual(
    byInstance.map((r) => r.instance),
    ['asan', 'clang'],
  );
  assert.equal(byInstance[0]!['asan.maxrss.max'], '3000');
  assert.equal(byInstance[0]!['clang.maxrss.max'], '');

  const withSum = parseCsv(
    await run(ctx, { rundirs: [dir], instances: ['clang', 'asan'], field: ['runtime:count'], aggregate: 'sum', table: 'csv' }),
  );
  // the summary row is marked as such in a column of its own
  assert.deepEqual(Object.keys(withSum[0]!), ['benchmark', 'clang.runtime.count', 'asan.runtime.count', 'summary']);
  assert.deepEqual(withSum[0]!.summary, '');
  assert.deepEqual(withSum[3], { benchmark: 'sum', 'clang.runtime.count': '12', 'asan.runtime.count': '12', summary: 'sum' });

  const md = await run(ctx, { rundirs: [dir], field: ['score:same', 'runtime:min'], table: 'markdown', precision: 1 });
  assert.match(md, /^\| benchmark \| asan\/score:same \| asan\/runtime:min \|/);
  assert.match(md, /\| --- \| ---: \| ---: \|/);
  assert.match(md, /\| lua \| 7 \| 2\.4 \| 7 \| 2\.0 \|/);

  const help = await run(ctx, { rundirs: [dir], helpFields: true });
  assert.match(help, /score\s+points the toy benchmark prints/);
  assert.match(help, /maxrss\s+peak resident set size/);
  assert.match(help, /geomean\s+geometric mean/);

  const outfile = join(root, 'out', 'report.tsv');
  await report(ctx, new Toy(), { rundirs: [dir], field: ['runtime:median'], table: 'tsv', outfile });
  assert.match(readFileSync(outfile, 'utf8'), /^benchmark\tasan.runtime.median\tclang.runtime.median\n/);
});

test('Python-style result directories: [setup-report] blocks and the target parser', async () => {
  const root = tmp();
  const run1 = join(root, 'old', 'run.2020-04-16.10-15-55');
  for (const inst of ['baseline', 'mine']) {
    mkdirSync(join(run1, 'toy', inst), { recursive: true });
    for (let job = 0; job < 4; job++) {
      const runtime = (inst === 'mine' ? 2 : 1) * (1 + job * 0.001);
      writeFileSync(
        join(run1, 'toy', inst, `job${job}.log`),
        [
          'starting',
          '[setup-report] begin toy-result',
          '[setup-report] benchmark: fib',
          `[setup-report] runtime: ${runtime}`,
          '[setup-report] maxrss: 2048',
          '[setup-report] success: True',
          '[setup-report] end toy-result',
          job === 3
            ? '[setup-report] begin toy-result\n[setup-report] benchmark: sort\n[setup-report] success: False\n[setup-report] end toy-result'
            : '',
        ].join('\n'),
      );
    }
  }
  const { ctx } = makeCtx(root);
  const rows = parseCsv(
    await run(ctx, { rundirs: [join(root, 'old')], overhead: 'baseline', field: ['runtime:median:count'], table: 'csv' }),
  );
  const fib = rows.find((r) => r.benchmark === 'fib')!;
  assert.equal(fib['baseline.runtime.count'], '4');
  assert.equal(Number(fib['mine.runtime.median']).toFixed(3), '2.000');
  assert.ok(Number(fib['mine.runtime.p']) < 0.05);
  assert.equal(rows.find((r) => r.benchmark === 'sort')!['mine.unsuccessful'], '1 failed');

  // a target with its own parser reads its logs; a cached block stands in for re-parsing
  const run2 = join(root, 'old2', 'run.x', 'oldsuite');
  mkdirSync(join(run2, 'clang'), { recursive: true });
  writeFileSync(join(run2, 'clang', 'spec.log'), 'Success 401.bzip2 runtime=10.5\nSuccess 429.mcf runtime=3.25\n');
  writeFileSync(
    join(run2, 'clang', 'spec2.log'),
    'unparseable now\n[setup-report] begin cached\n[setup-report] benchmark: 470.lbm\n[setup-report] runtime: 7\n[setup-report] end cached\n',
  );
  const old = parseCsv(await run(ctx, { rundirs: [join(root, 'old2')], field: ['runtime:first'], table: 'csv' }, new OldSuite()));
  assert.deepEqual(
    old.map((r) => `${r.benchmark}=${r['clang.runtime.first']}`),
    ['401.bzip2=10.5', '429.mcf=3.25', '470.lbm=7'],
  );
});

test('end to end: infra run, then infra report --overhead on results/last', async () => {
  const { makeProject, runInfra } = await import('./helpers.js');
  const dir = makeProject({ 'setup.ts': napsProject() }, 'infra-report-e2e-');
  const ran = runInfra(dir, ['run', 'naps', 'fast', 'slow', '-i', '4']);
  assert.equal(ran.code, 0, ran.stderr);
  const r = runInfra(dir, ['report', 'naps', 'results/last', '--overhead', 'fast', '-f', 'runtime:median', '--table', 'csv']);
  assert.equal(r.code, 0, r.stderr);
  const rows = parseCsv(r.stdout);
  assert.deepEqual(
    rows.map((x) => x.benchmark),
    ['long', 'short', 'geomean'],
  );
  for (const row of rows) {
    const ratio = Number(row['slow.runtime.median']);
    assert.ok(ratio > 1.5 && ratio < 4.5, `slow/fast ratio ${ratio} should be about 3 (wide bounds: the machine may be loaded)`);
  }
  // 4 vs 4 samples, fully separated: the exact two-sided p is 2/70
  assert.equal(rows[0]!['slow.runtime.p'], String(2 / 70), 'machine formats keep every digit');
  assert.equal(rows[0]!['slow.runtime.significant'], 'true');

  // the reference's shorthand --tsv; the two standard deviations named apart in --help-fields
  const tsv = runInfra(dir, ['report', 'naps', 'results/last', '-f', 'runtime:stdev:stdev_sample', '--tsv', '--precision', '9']);
  assert.equal(tsv.code, 0, tsv.stderr);
  const sd = parseCsv(tsv.stdout, '\t').find((x) => x.benchmark === 'long')!;
  const ratio = Number(sd['fast.runtime.stdev_sample']) / Number(sd['fast.runtime.stdev']);
  assert.ok(Math.abs(ratio - Math.sqrt(4 / 3)) < 1e-3, `4 iterations: sample/population = sqrt(4/3), got ${ratio}`);
  const help = runInfra(dir, ['report', 'naps', 'results/last', '--help-fields']);
  assert.match(help.stdout, /stdev +population standard deviation \(divides by n/);
  assert.match(help.stdout, /stdev_sample +sample standard deviation \(divides by n - 1/);
  const two = runInfra(dir, ['report', 'naps', 'results/last', '--csv', '--ascii']);
  assert.equal(two.code, 2);
  assert.match(two.stderr, /choose one output format, not --csv and --ascii/);

  const bad = runInfra(dir, ['report', 'naps', 'results/last', '-f', 'runtime:avg']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /unknown aggregation 'avg'; valid aggregations: count, mean/);
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'a user error prints no stack trace');
});
