// `run`, `commit` and `host` as fields: two runs of the same target read together can be told
// apart, grouped and filtered on.
import assert from 'node:assert/strict';
import { mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { reportText } from '../src/commands/report.js';
import { quietContext, Toy, toyRecords, writeToyRun } from './report-fixtures.js';

const OLD = '1111111111111111111111111111111111111111';
const NEW = '2222222222222222222222222222222222222222';

function twoRuns() {
  const root = mkdtempSync(join(tmpdir(), 'infra-run-fields-'));
  const a = writeToyRun(join(root, 'results', 'run.2026-01-01.10-00-00'), toyRecords(4), (m) => (m.project.gitCommit = OLD));
  // the second run is 10% slower, on another host, and its records start later
  const later = toyRecords(4, 1.1).map((r) => ({ ...r, host: 'other-host', start: '2026-01-02T00:00:00.000Z' }));
  const b = writeToyRun(join(root, 'results', 'run.2026-01-02.10-00-00'), later, (m) => (m.project.gitCommit = NEW));
  symlinkSync('run.2026-01-02.10-00-00', join(root, 'results', 'last'));
  return { root, a, b };
}

test('--groupby run / commit / host: a row per run, named by its directory', async () => {
  const { root } = twoRuns();
  const { ctx } = quietContext(root);
  const opts = { rundirs: [join(root, 'results')], field: ['runtime:count'], instances: ['clang'] };
  const byRun = await reportText(ctx, new Toy(), { ...opts, groupby: 'run', table: 'csv' });
  assert.equal(byRun, 'run,clang.runtime.count\nrun.2026-01-01.10-00-00,12\nrun.2026-01-02.10-00-00,12\n');
  const byCommit = await reportText(ctx, new Toy(), { ...opts, groupby: 'commit', table: 'csv' });
  assert.equal(byCommit, `commit,clang.runtime.count\n${OLD},12\n${NEW},12\n`);
  const byHost = await reportText(ctx, new Toy(), { ...opts, groupby: 'host', table: 'csv' });
  assert.equal(byHost, 'host,clang.runtime.count\nbench-host,12\nother-host,12\n');
});

test('--filter commit=... and run=... keep one run; results/last is the run it points to', async () => {
  const { root, a } = twoRuns();
  const { ctx } = quietContext(root);
  const opts = { rundirs: [join(root, 'results')], field: ['runtime:median'], instances: ['clang'], table: 'csv' as const };
  const old = await reportText(ctx, new Toy(), { ...opts, filter: [`commit=${OLD}`] });
  const alone = await reportText(ctx, new Toy(), { ...opts, rundirs: [a] });
  assert.equal(old, alone);
  const last = await reportText(ctx, new Toy(), { ...opts, rundirs: [join(root, 'results', 'last')], groupby: 'run' });
  assert.match(last, /^run,clang.runtime.median\nrun\.2026-01-02\.10-00-00,/);
  const newer = await reportText(ctx, new Toy(), { ...opts, filter: ['run=run.2026-01-02.10-00-00'], groupby: 'commit' });
  assert.match(newer, new RegExp(`^commit,clang.runtime.median\\n${NEW},`));
  const help = await reportText(ctx, new Toy(), { rundirs: [join(root, 'results')], helpFields: true });
  assert.match(help, /\n {2}run +/);
  assert.match(help, /\n {2}commit +/);
});
