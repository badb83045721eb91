// The column blocks a run writes beside records.jsonl as it goes: a first report reads them
// instead of the lines, but only where they describe the file as it is; records they do not
// cover (a killed run's last ones, a damaged block's, a line a resumed run ended) are read from
// the lines, and the columns say exactly what the lines say either way.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { reportText } from '../src/commands/report.js';
import { BlockWriter, blocksDescribing, blocksPath } from '../src/results/columns-blocks.js';
import { indexPath } from '../src/results/columns-file.js';
import { readRecordColumnsFile, readRecordsFile } from '../src/results/read.js';
import type { ExecutionRecord } from '../src/results/schema.js';
import { createRunDirectory } from '../src/results/write.js';
import { plain, quietContext, rowsOf, Toy, toyRecords, writeToyRun } from './report-fixtures.js';
import { runMeta } from './run-fixtures.js';

/** A run directory whose records.jsonl is written as a run writes it, with blocks of `perBlock` records. */
function writer(perBlock = 4) {
  const root = mkdtempSync(join(tmpdir(), 'infra-blocks-'));
  const dir = writeToyRun(join(root, 'results', 'run.2026-01-01.10-00-00'), []);
  const file = join(dir, 'records.jsonl');
  const blocks = new BlockWriter(file, 0, perBlock);
  const append = (records: ExecutionRecord[]) => {
    for (const r of records) {
      const line = Buffer.from(JSON.stringify(r) + '\n');
      const at = statSync(file).size;
      appendFileSync(file, line);
      blocks.add(r, line, at);
    }
  };
  return { root, dir, file, blocks, append };
}

/** The latest records as read from the lines alone, in the same shape. */
const linesOf = (file: string) => plain(readRecordsFile(file).records);

/** Ranges of records.jsonl the believed blocks cover. */
const covered = (file: string) => blocksDescribing(file, statSync(file)).map((b) => [b.from, b.to]);

test('a finished run leaves blocks covering every record; the first report reads them and says what the lines say', async () => {
  const { root, dir, file, blocks, append } = writer();
  const records = toyRecords(3);
  records[5]!.fields.note = 'a string';
  append(records);
  blocks.close();
  assert.deepEqual(covered(file).at(-1)![1], statSync(file).size);
  assert.equal(covered(file).length, Math.ceil(records.length / 4));
  const read = await readRecordColumnsFile(file);
  assert.deepEqual(rowsOf(read.columns), linesOf(file));
  assert.equal(read.superseded, 0);
  const { ctx } = quietContext(root);
  const opts = { rundirs: [dir], overhead: 'clang', table: 'csv' as const };
  const fromBlocks = await reportText(ctx, new Toy(), opts);
  // without blocks and index, from the lines alone: the same report
  writeFileSync(blocksPath(file), '');
  writeFileSync(indexPath(file), '');
  assert.equal(await reportText(ctx, new Toy(), opts), fromBlocks);
});

test('blocks are believed only while the bytes they describe are unchanged (their CRC-32)', async () => {
  const { file, blocks, append } = writer(9);
  append(toyRecords(2));
  blocks.close();
  assert.equal(covered(file).length, 2);
  // a value of the second block's range edited in place, the same length
  const text = readFileSync(file, 'utf8');
  const edited = text.replace('"iteration":1,"host":"bench-host"', '"iteration":1,"host":"other-host"');
  assert.notEqual(edited, text);
  writeFileSync(file, edited);
  assert.equal(covered(file).length, 1, 'the changed range is no longer described by its block');
  const read = await readRecordColumnsFile(file);
  assert.deepEqual(rowsOf(read.columns), linesOf(file));
  assert.ok(rowsOf(read.columns).some((r) => r.host === 'other-host'));
  // changed back: the same bytes, and the block is believed again
  writeFileSync(file, text);
  assert.equal(covered(file).length, 2);
  // the file cut short inside a block's range
  truncateSync(file, covered(file)[1]![1]! - 1);
  assert.equal(covered(file).length, 1);
  assert.deepEqual(rowsOf((await readRecordColumnsFile(file)).columns), linesOf(file));
});

test('a killed run: records after its last block are read from the lines, a torn last line is warned about', async () => {
  const { file, blocks, append } = writer(4);
  const records = toyRecords(2); // 18
  append(records.slice(0, 10)); // two blocks written, two records not yet
  appendFileSync(file, '{"schema":1,"target":"to'); // killed while writing the next
  assert.equal(covered(file).length, 2);
  const warnings: string[] = [];
  const log = { warning: (m: string) => warnings.push(m), debug() {} } as never;
  const read = await readRecordColumnsFile(file, log);
  assert.equal(read.columns.length, 10);
  assert.deepEqual(rowsOf(read.columns), linesOf(file));
  assert.deepEqual(read.badLines, [11]);
  assert.match(warnings.join('\n'), /records\.jsonl:11: skipped a corrupt record .*a torn last line/);
  void blocks;
});

test('a block cut short or damaged is skipped, the blocks after it are read; its records come from the lines', async () => {
  const { file, blocks, append } = writer(4);
  append(toyRecords(2));
  blocks.close();
  const size = statSync(blocksPath(file)).size;
  const all = covered(file);
  assert.equal(all.length, 5);
  const whole = readFileSync(blocksPath(file));
  // a byte of the second block's arrays flipped
  const third = whole.indexOf('INFRABLK', whole.indexOf('INFRABLK', 8) + 8);
  const damaged = Buffer.from(whole);
  damaged[third - 3]! ^= 0xff;
  writeFileSync(blocksPath(file), damaged);
  assert.deepEqual(covered(file), [all[0], ...all.slice(2)]);
  assert.deepEqual(rowsOf((await readRecordColumnsFile(file)).columns), linesOf(file));
  // the second block cut short (a run killed while writing it), then the rest appended (by its resumed run)
  writeFileSync(blocksPath(file), Buffer.concat([whole.subarray(0, third - 40), whole.subarray(third)]));
  assert.deepEqual(covered(file), [all[0], ...all.slice(2)]);
  assert.deepEqual(rowsOf((await readRecordColumnsFile(file)).columns), linesOf(file));
  // the last block cut short
  writeFileSync(blocksPath(file), whole);
  truncateSync(blocksPath(file), size - 5);
  assert.deepEqual(covered(file), all.slice(0, -1));
  assert.deepEqual(rowsOf((await readRecordColumnsFile(file)).columns), linesOf(file));
  // not blocks at all
  writeFileSync(blocksPath(file), 'INFRABLK garbage INFRABLK');
  assert.deepEqual(covered(file), []);
  assert.deepEqual(rowsOf((await readRecordColumnsFile(file)).columns), linesOf(file));
});

test('a resumed run: the line it ended and its new blocks; a re-recorded execution supersedes the earlier record across blocks', async () => {
  const { file, blocks, append } = writer(4);
  const records = toyRecords(1); // 9
  const crashed = { ...records[1]!, status: 'crashed' as const, fields: {} };
  append([records[0]!, crashed, ...records.slice(2, 6)]); // one block of 4, two records not in one
  appendFileSync(file, '{"torn":'); // then killed
  // the resumed run ends the torn line and records with a new writer
  appendFileSync(file, '\n');
  const resumed = new BlockWriter(file, statSync(file).size, 4);
  for (const r of [records[1]!, ...records.slice(6)]) {
    const line = Buffer.from(JSON.stringify(r) + '\n');
    const at = statSync(file).size;
    appendFileSync(file, line);
    resumed.add(r, line, at);
  }
  resumed.close();
  void blocks;
  const ranges = covered(file);
  assert.equal(ranges.length, 2);
  assert.ok(ranges[1]![0]! > ranges[0]![1]!, 'a gap between the blocks, read from the lines');
  const read = await readRecordColumnsFile(file);
  assert.equal(read.superseded, 1);
  assert.deepEqual(read.badLines, [7]);
  assert.deepEqual(rowsOf(read.columns), linesOf(file));
  assert.equal(read.columns.length, 9);
  assert.ok(rowsOf(read.columns).every((r) => r.status === 'ok'));
});

test('blocks that cannot be written cost only time: the records are all there and read from the lines', async () => {
  const { file, blocks, append } = writer(2);
  mkdirSync(blocksPath(file)); // in the way of the blocks file
  const records = toyRecords(1);
  append(records);
  blocks.close();
  assert.equal(readRecordsFile(file).records.length, records.length);
  assert.deepEqual(covered(file), []);
  const read = await readRecordColumnsFile(file);
  assert.equal(read.columns.length, records.length);
  assert.deepEqual(rowsOf(read.columns), linesOf(file));
  assert.ok(existsSync(indexPath(file)), 'the report still writes its index');
});

test('a run directory notes each record it appends in its blocks, and writes the last block when it is closed', async () => {
  const root = mkdtempSync(join(tmpdir(), 'infra-blocks-'));
  const dir = createRunDirectory(join(root, 'results'), runMeta(root));
  const file = join(dir.path, 'records.jsonl');
  const records = toyRecords(2);
  for (const r of records.slice(0, 5)) dir.append(r);
  await new Promise((resolve) => setImmediate(resolve)); // the event loop free between executions
  for (const r of records.slice(5)) dir.append(r);
  assert.deepEqual(covered(file), [], 'no block before the run ends (fewer records than a block holds)');
  dir.finish();
  assert.deepEqual(covered(file), [[0, statSync(file).size]]);
  assert.deepEqual(rowsOf((await readRecordColumnsFile(file)).columns), plain(records));
});
