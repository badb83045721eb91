import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { compareRuns, type CompareOptions } from '../src/commands/compare.js';
import { Setup } from '../src/core/setup.js';
import { countMarks, openInChromium } from './browser.js';
import { FACTORS, napsProject, quietContext, toyRecords, writeToyRun } from './report-fixtures.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'infra-compare-'));
const shots = process.env.INFRA_SCREENSHOTS ?? join(tmpdir(), 'infra-report-screenshots');

/** Run B: asan got cheaper on bzip2, dearer on sqlite, lua the same; ubsan 0.5% slower everywhere. */
const AFTER: Record<string, Record<string, number>> = {
  bzip2: { ...FACTORS.bzip2!, asan: 1.2, ubsan: 1.05 * 1.005 },
  lua: { ...FACTORS.lua!, ubsan: 1.001 * 1.005 },
  sqlite: { ...FACTORS.sqlite!, asan: 1.3, ubsan: 1.05 * 1.005 },
};

function twoRuns(root: string) {
  const a = writeToyRun(join(root, 'results', 'run.A'), toyRecords(6));
  const b = writeToyRun(join(root, 'results', 'run.B'), toyRecords(6, 1, AFTER), (meta) => {
    meta.project.gitCommit = 'fedcba9876543210fedcba9876543210fedcba98';
    meta.host.governor = 'powersave';
    meta.settings!.timeout = 60;
  });
  return { a, b };
}

async function compareCsv(root: string, opts: Partial<CompareOptions> & { runA: string; runB: string }) {
  const { ctx, log } = quietContext(root);
  const out = join(root, 'out.json');
  await compareRuns(new Setup(join(root, 'setup.ts')), ctx, { table: 'json', outfile: out, ...opts });
  const json = JSON.parse(readFileSync(out, 'utf8')) as {
    rows: Array<Record<string, unknown>>;
    summary: Array<Record<string, unknown>>;
    notes: string[];
  };
  return { ...json, log: log.join('') };
}

test('compare: ratio B/A, significance and verdicts per benchmark and instance; settings that differ are warned about', async () => {
  const root = tmp();
  const { a, b } = twoRuns(root);
  const r = await compareCsv(root, { runA: a, runB: b, field: ['runtime:median'] });
  const verdicts = r.rows.map(
    (row) => `${String(row.benchmark)} asan=${String(row['asan.runtime.verdict'])} ubsan=${String(row['ubsan.runtime.verdict'])}`,
  );
  // ubsan is 0.5% slower: significant (the samples separate) but within the 1% threshold
  assert.deepEqual(verdicts, [
    'bzip2 asan=improved ubsan=unchanged',
    'lua asan=unchanged ubsan=unchanged',
    'sqlite asan=regressed ubsan=unchanged',
  ]);
  const bzip2 = r.rows[0]!;
  assert.ok(Math.abs((bzip2['asan.runtime.ratio'] as number) - 1.2 / 1.5) < 0.01);
  assert.ok((bzip2['ubsan.runtime.p'] as number) < 0.05, 'a 0.5% change is significant with these samples');
  assert.equal(r.summary[0]!.benchmark, 'geomean');
  const g = r.summary[0]!['asan.runtime.ratio'] as number;
  assert.ok(Math.abs(g - Math.cbrt((1.2 / 1.5) * 1 * (1.3 / 1.1))) < 0.01, `geomean ${g}`);
  assert.match(r.notes.join('\n'), /A: .*run\.A \(commit 0123456789ab, started/);
  assert.match(r.notes.join('\n'), /B: .*run\.B \(commit fedcba987654,/);
  assert.match(r.log, /runs differ in host governor: performance in A, powersave in B/);
  assert.match(r.log, /runs differ in setting timeout: \(not recorded\) in A, 60 in B/);
  assert.doesNotMatch(r.log, /gitCommit/, 'a different commit is what is compared, not a warning');

  // a threshold below the change makes ubsan's significant 0.5% count
  const strict = await compareCsv(root, { runA: a, runB: b, field: ['runtime:median'], threshold: 0.1 });
  assert.deepEqual(
    strict.rows.map((row) => row['ubsan.runtime.verdict']),
    ['regressed', 'regressed', 'regressed'],
  );
});

test('compare --html: the B/A chart and table in a page that opens without errors or requests', async () => {
  const root = tmp();
  const { a, b } = twoRuns(root);
  const { ctx } = quietContext(root);
  const html = join(root, 'compare.html');
  await compareRuns(new Setup(join(root, 'setup.ts')), ctx, { runA: a, runB: b, ci: true, html, figures: join(root, 'fig') });
  const text = readFileSync(html, 'utf8');
  assert.match(text, /runs differ in host governor/);
  const opened = await openInChromium(html);
  try {
    assert.deepEqual(opened.errors, []);
    assert.deepEqual(opened.requests, [`file://${html}`]);
    const marks = await countMarks(opened.page, ['bars', 'whiskers', 'baseline']);
    // runtime and maxrss: 3 benchmarks x 3 instances and a geomean bar per instance
    assert.deepEqual(marks, [
      { bars: 12, whiskers: 9, baseline: 1 },
      { bars: 12, whiskers: 9, baseline: 1 },
    ]);
    mkdirSync(shots, { recursive: true });
    await opened.page.screenshot({ path: join(shots, 'compare.png'), fullPage: true });
  } finally {
    await opened.close();
  }
});

test('end to end: infra compare of two real runs before and after a change to an instance', async () => {
  const { makeProject, runInfra } = await import('./helpers.js');
  const dir = makeProject({ 'setup.ts': napsProject(3) }, 'infra-compare-e2e-');
  let ran = runInfra(dir, ['run', 'naps', 'fast', 'slow', '-i', '4']);
  assert.equal(ran.code, 0, ran.stderr);
  writeFileSync(join(dir, 'setup.ts'), napsProject(1.5));
  ran = runInfra(dir, ['run', 'naps', 'fast', 'slow', '-i', '5']);
  assert.equal(ran.code, 0, ran.stderr);
  // the first run is the one results/last no longer points at
  const last = realpathSync(join(dir, 'results', 'last'));
  const first = readdirSync(join(dir, 'results')).find((d) => d.startsWith('run.') && join(dir, 'results', d) !== last)!;
  const r = runInfra(dir, ['compare', `results/${first}`, 'results/last', '-f', 'runtime:median', '--table', 'csv']);
  assert.equal(r.code, 0, r.stderr);
  const [head, ...lines] = r.stdout.trimEnd().split('\n');
  const cols = head!.split(',');
  const rows = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i]!, v])));
  const slow = rows.filter((x) => x.benchmark !== 'geomean').map((x) => `${x.benchmark}=${x['slow.runtime.verdict']}`);
  assert.deepEqual(slow, ['long=improved', 'short=improved']);
  for (const row of rows.filter((x) => x.benchmark !== 'geomean')) {
    const ratio = Number(row['slow.runtime.ratio']);
    assert.ok(ratio > 0.4 && ratio < 0.65, `slow got about twice as fast: ${ratio}`);
  }
  assert.match(r.stderr, /runs differ in setting iterations: 4 in A, 5 in B/);
  const bad = runInfra(dir, ['compare', `results/${first}`, 'results/last', '-i', 'nosuch']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /instance 'nosuch' has no results in either run; instances in both: fast, slow/);
});

test('compare of a target not registered in the project uses the field descriptions the run stored', async () => {
  const root = tmp();
  const withScore = (slower: number) =>
    toyRecords(6, slower).map((r) => ({ ...r, fields: { ...r.fields, rate: 100 / (r.fields.runtime as number) } }));
  const store = (meta: { fields?: Record<string, string> }) => void (meta.fields = { rate: 'requests per second of the toy' });
  const a = writeToyRun(join(root, 'run.A'), withScore(1), store);
  const b = writeToyRun(join(root, 'run.B'), withScore(1.1), store);
  const r = await compareCsv(root, { runA: a, runB: b, field: ['rate:median'] });
  // a rate is better when higher: 10% slower is a regression of the rate
  assert.deepEqual(
    r.rows.map((row) => row['asan.rate.verdict']),
    ['regressed', 'regressed', 'regressed'],
  );
  const json = JSON.parse(readFileSync(join(root, 'out.json'), 'utf8')) as { columns: Array<{ key: string; unit?: string }> };
  assert.equal(json.columns.find((c) => c.key === 'asan.rate.median.A')!.unit, 'requests/s');
});
