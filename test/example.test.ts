// The example project from the README, built with real gcc and clang-22 and run through the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, runInfra } from './helpers.ts';

test('examples/hello builds its runtime package once and the program with gcc and clang-22', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'infra-example-')), 'hello');
  cpSync(join(REPO, 'examples/hello'), dir, { recursive: true, filter: (src) => !/\/(build|results)$/.test(src) });
  const r = runInfra(dir, ['run', 'hello', 'gcc', 'clang', '--build', '-i', '2', '--count', '5']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal((r.stderr.match(/building greet-runtime/g) ?? []).length, 1);
  const recs = readFileSync(join(dir, 'results/last/records.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
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

test("the README's target is examples/hello's, word for word, and imports only what the API exports", async () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Targets, instances, packages'));
  const block = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
  const [importLine, ...code] = block.split('\n');
  assert.ok(
    readFileSync(join(REPO, 'examples/hello/setup.ts'), 'utf8').includes(code.join('\n').trim()),
    'the README shows the tested code',
  );
  const api: Record<string, unknown> = await import('../src/index.ts');
  const names = /import \{ (.*) \} from 'instrumentation-infra';/
    .exec(importLine!)![1]!
    .split(', ')
    .filter((n) => !n.startsWith('type '));
  for (const name of names) assert.ok(name in api, `${name} is exported`);
});

test('examples/hello: --dry-run writes no target file, a stale build is refused with what changed, --test runs the small input', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'infra-example-')), 'hello');
  cpSync(join(REPO, 'examples/hello'), dir, { recursive: true, filter: (src) => !/\/(build|results)$/.test(src) });
  const dry = runInfra(dir, ['build', 'hello', 'gcc', '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /write .*build\/targets\/hello\/gcc\/flags\.txt/);
  assert.ok(!existsSync(join(dir, 'build/targets')), 'nothing written for the target');

  assert.equal(runInfra(dir, ['build', 'hello', 'gcc']).code, 0);
  // a binary built with other flags than gcc's now
  const stampFile = join(dir, 'build/targets/hello/gcc/.infra-build');
  const recorded = JSON.parse(readFileSync(stampFile, 'utf8'));
  writeFileSync(stampFile, JSON.stringify({ ...recorded, cflags: ['-O0'] }));
  const stale = runInfra(dir, ['run', 'hello', 'gcc']);
  assert.notEqual(stale.code, 0);
  assert.match(
    stale.stderr,
    /hello for gcc is out of date: cflags: '-O0' -> '-O2'; rebuild it with `infra build hello gcc` \(or use run --build\)/,
  );

  const small = runInfra(dir, ['run', 'hello', 'gcc', '--build', '--test', '-i', '1']);
  assert.equal(small.code, 0, small.stderr);
  const [rec] = readFileSync(join(dir, 'results/last/records.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(rec.status, 'ok', JSON.stringify(rec));
  assert.equal(rec.fields.size, 'test');
  assert.equal(rec.fields.greetings, 1);
});
