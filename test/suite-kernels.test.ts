// The bundled kernels: built with gcc (-O2, -O0) and clang-22, run, and their checksums verified.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, runInfra } from './helpers.ts';

const SETUP = String.raw`
import { Setup, Gcc, Clang, Kernels, LLVM } from 'instrumentation-infra';

const setup = new Setup(import.meta.url);
setup.addTarget(new Kernels());
setup.addInstance(new Gcc());
setup.addInstance(new Gcc({ optlevel: 0 }));
setup.addInstance(new Clang(LLVM.installed({ version: '22' })));
await setup.main();
`;
const KERNELS = ['matmul', 'hashtable', 'binarytrees', 'sort', 'strsearch', 'alloclist'];
let dir = '';

function records(): any[] {
  return readFileSync(join(dir, 'results/last/records.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

before(() => {
  dir = makeProject({ 'setup.ts': SETUP });
  const r = runInfra(dir, ['build', 'kernels', 'gcc', 'gcc-O0', 'clang']);
  assert.equal(r.code, 0, r.stderr);
});

test('every kernel prints the expected checksum with gcc -O2, gcc -O0 and clang-22', () => {
  const r = runInfra(dir, ['run', 'kernels', 'gcc', 'gcc-O0', 'clang', '--test', '-i', '2', '--parallel', 'proc']);
  assert.equal(r.code, 0, r.stderr);
  const recs = records();
  assert.equal(recs.length, KERNELS.length * 3 * 2);
  for (const rec of recs) {
    assert.equal(rec.status, 'ok', JSON.stringify(rec));
    assert.match(String(rec.fields.checksum), /^[0-9a-f]{16}$/);
    assert.ok(rec.fields.runtime < 2, `${rec.instance}/${rec.benchmark}: ${rec.fields.runtime} s`);
  }
  assert.deepEqual([...new Set(recs.map((x) => x.benchmark))].sort(), [...KERNELS].sort());
});

test('the train inputs print their checksums with gcc -O2 too (they were taken from clang-22 builds)', () => {
  const r = runInfra(dir, ['run', 'kernels', 'gcc', '--train', '-i', '1', '--parallel', 'proc']);
  assert.equal(r.code, 0, r.stderr);
  const recs = records();
  assert.equal(recs.length, KERNELS.length);
  for (const rec of recs) {
    assert.equal(rec.status, 'ok', JSON.stringify(rec));
    assert.equal(rec.fields.size, 'train');
  }
});

test('an unchanged configuration is not rebuilt', () => {
  const bin = join(dir, 'build/targets/kernels/gcc/bin/sort');
  const first = statSync(bin).mtimeMs;
  assert.equal(runInfra(dir, ['build', 'kernels', 'gcc']).code, 0);
  assert.equal(statSync(bin).mtimeMs, first);
});

test('unknown kernels are a clear error', () => {
  const r = runInfra(dir, ['run', 'kernels', 'gcc', '--test', '--benchmarks', 'nbody']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /unknown benchmark 'nbody'; valid benchmarks: matmul, hashtable, binarytrees, sort, strsearch, alloclist/);
});

test('a wrong checksum is recorded as a failed execution', () => {
  const bin = join(dir, 'build/targets/kernels/clang/bin/matmul');
  writeFileSync(bin, '#!/bin/sh\necho "matmul size=$1 checksum=0000000000000000"\n');
  chmodSync(bin, 0o755);
  const r = runInfra(dir, ['run', 'kernels', 'clang', '--test', '--benchmarks', 'matmul', 'sort']);
  assert.notEqual(r.code, 0);
  const by = Object.fromEntries(records().map((x) => [x.benchmark, x]));
  assert.equal(by.matmul.status, 'failed');
  assert.match(by.matmul.reason, /expected 'matmul size=200 checksum=d4c1ca248a95870f'/);
  assert.equal(by.sort.status, 'ok');
});
