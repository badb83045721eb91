// records.jsonl files beyond what one string or one call's arguments hold: read in chunks,
// every line where it was, in the order written.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Logger } from '../src/core/log.js';
import { readRecordColumnsFile, readRecordsFile, readResults } from '../src/results/read.js';
import { plain, quietContext, rowsOf, Toy } from './report-fixtures.js';

const line = (instance: string, benchmark: string, iteration: number, runtime: number, extra = '') =>
  `{"schema":1,"target":"toy","instance":"${instance}","benchmark":"${benchmark}","iteration":${iteration},"status":"ok",` +
  `"exitCode":0,"signal":null,"fields":{"runtime":${runtime}${extra}},"stdout":"","stderr":""}`;

test('300,000 records are read (they once overflowed the stack) in the order written, superseded ones dropped', async () => {
  const root = mkdtempSync(join(tmpdir(), 'infra-scale-'));
  const run = join(root, 'run.1');
  mkdirSync(run);
  const lines: string[] = [];
  for (let i = 0; i < 150_000; i++) lines.push(line('a', `b${i % 100}`, Math.floor(i / 100), 1 + (i % 7) / 100));
  for (let i = 0; i < 150_000; i++) lines.push(line('b', `b${i % 100}`, Math.floor(i / 100), 2));
  lines.push(line('a', 'b0', 0, 5)); // the same execution recorded again (a resumed run)
  writeFileSync(join(run, 'records.jsonl'), lines.join('\n') + '\n');
  const { ctx } = quietContext(root);
  const records = (await readResults(ctx, new Toy(), [run])).columns.records();
  assert.equal(records.length, 300_000);
  assert.deepEqual([records[0]!.benchmark, records[0]!.iteration, records[0]!.fields.runtime], ['b1', 0, 1.01]);
  assert.deepEqual([records.at(-1)!.benchmark, records.at(-1)!.fields.runtime], ['b0', 5], 'the later record, in its place');
});

test('lines across read chunks: a line longer than a chunk, characters split at a chunk boundary, a torn last line', () => {
  const root = mkdtempSync(join(tmpdir(), 'infra-scale-'));
  const file = join(root, 'records.jsonl');
  const chunk = 4 << 20;
  const first = line('a', 'x', 0, 1);
  // a multi-byte name whose first character's two bytes straddle the first chunk boundary
  const namePrefix = Buffer.byteLength(line('a', '', 0, 3).split('"benchmark":"')[0]! + '"benchmark":"');
  const pad = chunk - 1 - namePrefix - 1 - Buffer.byteLength(first) - Buffer.byteLength(',"note":""');
  const filler = `,"note":"${'n'.repeat(pad)}"`;
  assert.equal(Buffer.byteLength(line('a', 'x', 0, 1, filler)) + 1 + namePrefix, chunk - 1);
  const long = line('a', 'long', 0, 2, `,"blob":"${'z'.repeat(chunk + 1000)}"`);
  const text = [
    line('a', 'x', 0, 1, filler),
    line('a', 'ünïcødé-名前', 0, 3),
    '',
    long,
    '  ',
    line('a', 'y', 0, 4),
    '{"schema":1,"tar',
  ].join('\n');
  writeFileSync(file, text);
  const warnings: string[] = [];
  const read = readRecordsFile(file, { warning: (m: string) => void warnings.push(m) } as never);
  assert.deepEqual(
    read.records.map((r) => [r.benchmark, r.fields.runtime]),
    [
      ['x', 1],
      ['ünïcødé-名前', 3],
      ['long', 2],
      ['y', 4],
    ],
  );
  assert.equal((read.records[2]!.fields.blob as string).length, chunk + 1000);
  assert.deepEqual(read.badLines, [7]);
  assert.match(warnings.join('\n'), /records\.jsonl:7: skipped a corrupt record .*a torn last line/);
});

test('a large file read in parts on worker threads reads as on one thread: rows, superseded records, corrupt lines and their numbers', async () => {
  const root = mkdtempSync(join(tmpdir(), 'infra-scale-'));
  const file = join(root, 'records.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) {
    lines.push(line(i % 2 ? 'a' : 'b', `b${i % 10}`, Math.floor(i / 10), 1 + (i % 7) / 100, i % 13 ? '' : `,"note":"n${i}"`));
    if (i === 700 || i === 2100) lines.push('{"schema":1,"target":"to'); // corrupt, in different parts
    if (i === 1500) lines.push('', '   '); // blank lines count in the numbering
  }
  lines.push(line('a', 'b1', 0, 9)); // recorded again: supersedes a record in the first part
  writeFileSync(file, lines.join('\n') + '\n{"torn":');
  const debug: string[] = [];
  const log = { debug: (m: string) => debug.push(m), warning() {} } as unknown as Logger;
  const parted = await readRecordColumnsFile(file, log, { index: false, partBytes: 4096 });
  if (availableParallelism() > 1)
    assert.ok(
      debug.some((m) => /in \d+ parts, \d+ on worker threads/.test(m)),
      debug.join('\n'),
    );
  assert.deepEqual(
    debug.filter((m) => /main thread/.test(m)),
    [],
    'every part was read by its worker',
  );
  const whole = await readRecordColumnsFile(file, undefined, { index: false, partBytes: Infinity });
  assert.deepEqual(rowsOf(parted.columns), rowsOf(whole.columns));
  assert.deepEqual(rowsOf(whole.columns), plain(readRecordsFile(file).records));
  for (const key of ['badLines', 'problems', 'lastLine', 'superseded'] as const) assert.deepEqual(parted[key], whole[key], key);
  assert.deepEqual(whole.badLines, [702, 2105, lines.length + 1]);
  assert.equal(whole.superseded, 1);
});
