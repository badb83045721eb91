// The example project from the README, built with real gcc and clang-22 and run through the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, runInfra } from './helpers.ts';

test('examples/hello builds its runtime package once and the program with gcc and clang-22', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'infra-example-')), 'hello');
  cpSync(join(REPO, 'examples/hello'), dir, { recursive: true, filter: (src) => !/\/(build|results)$/.test(src) });
  const r = runInfra(dir, ['run', 'hello', 'gcc', 'clang', '--build', '-i', '2', '--count', '5']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((r.stderr.match(/building greet-runtime/g) ?? []).length, 1);
  const recs = readFileSync(join(dir, 'results/last/records.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(recs.length, 4);
  for (const rec of recs) {
    assert.equal(rec.status, 'ok', JSON.stringify(rec));
    assert.equal(rec.fields.greetings, 5, 'the runtime library counted the greetings');
  }
  const meta = JSON.parse(readFileSync(join(dir, 'results/last/meta.json'), 'utf8'));
  const byName = Object.fromEntries(meta.instances.map((i: any) => [i.name, i]));
  assert.match(byName.gcc.ccVersion, /gcc/);
  assert.match(byName.clang.ccVersion, /clang version 22/);
  const rep = runInfra(dir, ['report', 'hello', 'results/last', '-f', 'greetings:same', 'runtime:median', '--table', 'csv']);
  assert.equal(rep.code, 0, rep.stderr);
  assert.match(rep.stdout, /^hello,5,/m);
});
