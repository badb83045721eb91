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

const MIRROR = process.env.INFRA_SOURCE_MIRROR || join(REPO, '.cache', 'sources');

test('examples/quickstart: the quick selection builds, runs at the train inputs with every output verified, and records cputime', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'infra-example-')), 'quickstart');
  cpSync(join(REPO, 'examples/quickstart'), dir, { recursive: true, filter: (src) => !/\/(build|results)$/.test(src) });
  const both = runInfra(dir, ['run', 'kernels', 'clang', '--test', '--train']);
  assert.notEqual(both.code, 0);
  assert.match(both.stderr, /--test and --train ask for different input sizes; give one of them/);

  const r = runInfra(dir, ['run', 'quickstart', 'clang', '--build', '-i', '1', '--source-mirror', MIRROR], { timeoutMs: 1_500_000 });
  assert.equal(r.code, 0, r.stderr);
  const recs = readFileSync(join(dir, 'results/last/records.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const benchmarks = recs.map((rec) => rec.benchmark).sort();
  assert.deepEqual(benchmarks, [
    'alloclist',
    'bzip2.compress',
    'bzip2.decompress',
    'hashtable',
    'lua.fib',
    'lua.sort',
    'lua.strings',
    'matmul',
    'sort',
    'sqlite.speedtest1',
    'strsearch',
  ]);
  for (const rec of recs) {
    assert.equal(rec.status, 'ok', JSON.stringify(rec));
    assert.equal(rec.fields.size, 'train', rec.benchmark);
    assert.ok(Math.abs(rec.fields.cputime - rec.fields.utime - rec.fields.stime) < 1e-9, `${rec.benchmark}: cputime is utime + stime`);
    // The shortest, bzip2.decompress, once took 0.184 s at train (6 MiB); its test input is a third of that (2 MiB).
    assert.ok(rec.fields.cputime > 0.1, `${rec.benchmark}: a train input runs for a while (${rec.fields.cputime} s)`);
  }
  assert.ok(!existsSync(join(dir, 'build/targets/opensource/clang/zstd')), 'zstd is not part of the quick selection');

  const report = ['report', 'quickstart', 'results/last', '-f', 'cputime:median', 'runtime:median'];
  const table = runInfra(dir, report);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /cputime:median/);
  assert.match(table.stdout, /^│ lua\.fib +│/m);
  const html = join(dir, 'report.html');
  const page = runInfra(dir, [...report, '--html', html]);
  assert.equal(page.code, 0, page.stderr);
  const text = readFileSync(html, 'utf8');
  assert.match(text, /cputime/);
  assert.match(text, /matmul hashtable sort strsearch alloclist/, 'the page says which benchmarks ran');
});

test('the Quick start has two commands: the quick start script and the tests', () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  const commands = block
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter(Boolean);
  assert.deepEqual(commands, ['bash scripts/quickstart.sh', 'bash scripts/test.sh']);
  for (const script of ['scripts/quickstart.sh', 'scripts/test.sh']) assert.ok(existsSync(join(REPO, script)), script);
});
