// The column index beside records.jsonl: a report reads it instead of the lines only while it
// describes the file exactly as it is; any change to the file, or damage to the index, and the
// file is read again. Its columns say what the records say.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { reportText } from '../src/commands/report.js';
import { indexPath, readIndex, writeIndex } from '../src/results/columns-file.js';
import { latestRows, RecordColumns } from '../src/results/columns.js';
import { latestRecords, readRecordColumnsFile, readRecordsFile } from '../src/results/read.js';
import type { ExecutionRecord } from '../src/results/schema.js';
import { plain, quietContext, rowsOf, Toy, toyRecords, writeToyRun } from './report-fixtures.js';

function run(records = toyRecords()) {
  const root = mkdtempSync(join(tmpdir(), 'infra-columns-'));
  const dir = writeToyRun(join(root, 'results', 'run.2026-01-01.10-00-00'), records);
  return { root, dir, file: join(dir, 'records.jsonl') };
}

const opts = (dir: string) => ({ rundirs: [dir], overhead: 'clang', table: 'csv' as const });
const noRecords = () => [];

test('the first report writes the index; the next reads it and prints the same', async () => {
  const { root, dir, file } = run();
  const { ctx } = quietContext(root);
  assert.equal(existsSync(indexPath(file)), false);
  const first = await reportText(ctx, new Toy(), opts(dir));
  assert.equal(existsSync(indexPath(file)), true);
  assert.ok(readIndex(file, noRecords), 'the index describes the file');
  assert.equal(await reportText(ctx, new Toy(), opts(dir)), first);
});

test('the columns hold every key and field of the latest records, numbers and other values alike', async () => {
  const records = toyRecords(3);
  records[0]!.fields.note = 'first';
  records[1]!.fields.note = 7; // a field with a number in one record and text in another
  records[2]!.fields.flag = true;
  records[3]!.status = 'crashed';
  records[3]!.signal = 'SIGSEGV';
  records[3]!.reason = 'killed by SIGSEGV';
  records[4]!.fields.empty = null;
  // the same execution recorded again (a resumed run): the later record counts, in its place
  const again = { ...records[0]!, fields: { ...records[0]!.fields, runtime: 99 } };
  const { file } = run([...records, again]);
  writeFileSync(file, readFileSync(file, 'utf8') + '{"torn');
  const expected = readRecordsFile(file);
  for (const pass of ['from the file', 'from the index']) {
    const read = await readRecordColumnsFile(file);
    assert.deepEqual(rowsOf(read.columns), plain(expected.records), pass);
    assert.deepEqual(read.columns.records(), expected.records, pass);
    assert.deepEqual(read.badLines, expected.badLines, pass);
    assert.equal(read.superseded, 1, pass);
    assert.ok(readIndex(file, noRecords), 'written on the first pass');
  }
});

test('corrupt lines are warned about alike whether the index is read or not', async () => {
  const { root, dir, file } = run();
  appendFileSync(file, 'not json\n');
  const first = quietContext(root);
  await reportText(first.ctx, new Toy(), opts(dir));
  const second = quietContext(root);
  await reportText(second.ctx, new Toy(), opts(dir));
  assert.ok(readIndex(file, noRecords));
  const warning = (log: string[]) => log.filter((l) => /skipped a corrupt record/.test(l));
  assert.equal(warning(first.log).length, 1);
  assert.deepEqual(warning(second.log), warning(first.log));
});

test('a records.jsonl that changed is read again: appended, cut short, edited in place', async () => {
  const { root, dir, file } = run();
  const { ctx } = quietContext(root);
  const before = await reportText(ctx, new Toy(), opts(dir));
  // one more (much slower) iteration of asan on lua: the median moves
  const extra = toyRecords(1).filter((r) => r.instance === 'asan' && r.benchmark === 'lua');
  const more = [6, 7, 8, 9, 10, 11, 12].map(
    (i) => JSON.stringify({ ...extra[0]!, iteration: i, fields: { runtime: 50, maxrss: 1 } }) + '\n',
  );
  appendFileSync(file, more.join(''));
  const appended = await reportText(ctx, new Toy(), opts(dir));
  assert.notEqual(appended, before);
  assert.equal(appended, await reportText(ctx, new Toy(), { ...opts(dir), rundirs: [file] }));

  writeFileSync(file, readFileSync(file, 'utf8').split('\n').slice(0, -8).join('\n') + '\n');
  assert.equal(await reportText(ctx, new Toy(), opts(dir)), before, 'cut back to the original records');
});

test('a value edited in place in the middle of a large file, same length: the modification time tells', async () => {
  const { root, dir, file } = run(toyRecords(300));
  const { ctx } = quietContext(root);
  const before = await reportText(ctx, new Toy(), { ...opts(dir), field: ['runtime:max'] });
  const text = readFileSync(file, 'utf8');
  assert.ok(text.length > 4 * 65536, 'beyond the digested head and tail');
  const middle = text.indexOf('"runtime":', text.length / 2) + '"runtime":'.length;
  writeFileSync(file, text.slice(0, middle) + '9' + text.slice(middle + 1));
  const later = new Date(statSync(file).mtimeMs + 5000);
  utimesSync(file, later, later);
  assert.notEqual(await reportText(ctx, new Toy(), { ...opts(dir), field: ['runtime:max'] }), before);
});

test('a damaged index is not believed: the report reads the file and writes a sound one', async () => {
  const { root, dir, file } = run();
  const { ctx } = quietContext(root);
  const expected = await reportText(ctx, new Toy(), opts(dir));
  const index = readFileSync(indexPath(file));
  for (const damage of [
    (b: Buffer) => b.subarray(0, b.length - 8), // truncated
    (b: Buffer) => {
      const c = Buffer.from(b);
      c[c.length - 20]! ^= 0xff; // a value changed
      return c;
    },
    (b: Buffer) => Buffer.concat([Buffer.from('garbage!'), b.subarray(8)]),
    () => Buffer.alloc(0),
  ]) {
    writeFileSync(indexPath(file), damage(index));
    assert.equal(readIndex(file, noRecords), null);
    assert.equal(await reportText(ctx, new Toy(), opts(dir)), expected);
    assert.ok(readIndex(file, noRecords), 'rewritten');
  }
});

test('an index that cannot be written costs only time; one read while the file grew is not written', async () => {
  const { root, dir, file } = run();
  const { ctx } = quietContext(root);
  const expected = await reportText(ctx, new Toy(), { ...opts(dir), rundirs: [join(root, 'results')] });
  rmSync(indexPath(file));
  mkdirSync(indexPath(file)); // where the index would go, something it cannot replace
  assert.equal(await reportText(ctx, new Toy(), opts(dir)), expected);
  rmSync(indexPath(file), { recursive: true });

  const stat = statSync(file);
  const read = await readRecordColumnsFile(file);
  rmSync(indexPath(file));
  appendFileSync(file, '\n');
  writeIndex(file, stat, read);
  assert.equal(existsSync(indexPath(file)), false);
});

test('records of several runs keep apart: the same execution in two runs is two records', async () => {
  const root = mkdtempSync(join(tmpdir(), 'infra-columns-'));
  writeToyRun(join(root, 'results', 'run.2026-01-01.10-00-00'), toyRecords(6));
  writeToyRun(join(root, 'results', 'run.2026-01-02.10-00-00'), toyRecords(6, 2));
  const { ctx } = quietContext(root);
  const csv = await reportText(ctx, new Toy(), { rundirs: [join(root, 'results')], field: ['runtime:count'], table: 'csv' });
  assert.match(csv, /^benchmark,asan\.runtime\.count,clang\.runtime\.count,ubsan\.runtime\.count\nbzip2,12,12,12\n/);
});

test('the latest record of each execution is chosen over columns as over objects, few iterations or far-apart ones', async () => {
  let seed = 3;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
  for (const spread of [1, 1e9]) {
    const records = toyRecords(1).slice(0, 4);
    const all: ExecutionRecord[] = [];
    for (let k = 0; k < 2000; k++) {
      const r = records[rand(4)]!;
      all.push({ ...r, instance: `i${rand(3)}`, iteration: rand(20) * spread, fields: { runtime: k } });
    }
    const columns = RecordColumns.fromRecords(all);
    const rows = latestRows(columns);
    assert.ok(rows, 'some executions are recorded more than once');
    assert.deepEqual(
      [...rows].map((row) => all[row]!.fields.runtime),
      latestRecords(all).map((r) => r.fields.runtime),
      `iterations ${spread} apart`,
    );
  }
  assert.equal(latestRows(RecordColumns.fromRecords(toyRecords(3))), null, 'none recorded twice');
});
