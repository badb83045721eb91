// The open-source suite end to end: real upstream tarballs from an offline mirror (filled by
// scripts/fetch-sources.sh), built with gcc and clang-22, run on the test inputs and verified.
// The instances compile at -O1: the recipes, compilers and checks are the same as at the
// default -O2, and compiling sqlite and zstd costs about half as much.
// An instance with a pass plugin and its runtime (the `infra init` example's libcallcount)
// builds the cheaper programs whole, and of sqlite and zstd the parts that pass flags break
// most easily: a build tool compiled and linked with CFLAGS only, and an assembly source.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO, makeProject, runInfra } from './helpers.ts';

const MIRROR = process.env.INFRA_SOURCE_MIRROR || join(tmpdir(), 'infra-source-mirror');
const SCRATCH = mkdtempSync(join(tmpdir(), 'infra-opensource-'));
const CORRUPT = join(SCRATCH, 'bzip2-1.0.8.tar.gz');

const SETUP = String.raw`
import { join } from 'node:path';
import { Setup, Gcc, Clang, LLVM, LLVMPasses, RuntimeLibrary, OpenSourceSuite, ProgramSuite, ProgramTarget, bzip2, lz4, sqlite, zstd,
         expectedOutputWorkload, run, writeOutput } from 'instrumentation-infra';

const llvm = LLVM.installed({ version: '22' });
const template = ${JSON.stringify(join(REPO, 'templates', 'init'))};
const passes = new LLVMPasses(llvm, { srcdir: join(template, 'llvm-passes'), name: 'libcallcount', debug: true });
const runtime = new RuntimeLibrary({ name: 'libcallcount', srcdir: join(template, 'runtime'), cflags: passes.runtimeCflags() });
class LibcallCount extends Clang {
  name = 'libcallcount-O1';
  dependencies() { return [...super.dependencies(), passes, runtime]; }
  configure(ctx) {
    super.configure(ctx);
    passes.configure(ctx);
    LLVMPasses.runPasses(ctx, 'start', 'libcallcount');
    runtime.configure(ctx);
  }
}
// sqlite's keyword hash generator, compiled and linked with CFLAGS only (no LDFLAGS), as its
// Makefile builds it with an instance's flags
const sqliteTool = { ...sqlite, name: 'sqlite-tool', binaries: { mkkeywordhash: 'mkkeywordhash' },
  build: { kind: 'custom', fingerprint: 'mkkeywordhash', binariesIn: 'build', build: ({ ctx, src, build, toolchain: t }) =>
    run(ctx, [t.cc, ...t.cflags.split(' ').filter(Boolean), '-o', join(build, 'mkkeywordhash'), 'tool/mkkeywordhash.c'], { cwd: src }) },
  workloads: [expectedOutputWorkload({ name: 'keywords', description: 'generates keywordhash.h', argv: (bin) => [bin.mkkeywordhash],
    expect: { test: ['/* aKWHash[i] is the hash value for the i-th keyword */'], ref: [] } })] };
// zstd's assembly source, compiled with CFLAGS as its cmake build does, linked beside a C main
const zstdAsm = { ...zstd, name: 'zstd-asm', binaries: { asm: 'asm' },
  build: { kind: 'custom', fingerprint: 'huf-decompress-amd64.S', binariesIn: 'build', build: async ({ ctx, src, build, toolchain: t }) => {
    const cflags = t.cflags.split(' ').filter(Boolean);
    await run(ctx, [t.cc, ...cflags, '-c', 'lib/decompress/huf_decompress_amd64.S', '-o', join(build, 'huf.o')], { cwd: src });
    writeOutput(ctx, join(build, 'main.c'), '#include <stdio.h>\nint main(void) { puts("assembled"); return 0; }\n');
    await run(ctx, [t.cc, ...cflags, ...t.ldflags.split(' ').filter(Boolean), 'main.c', 'huf.o', '-o', 'asm'], { cwd: build });
  } },
  workloads: [expectedOutputWorkload({ name: 'run', description: 'runs', argv: (bin) => [bin.asm], expect: { test: ['assembled'], ref: [] } })] };

const setup = new Setup(import.meta.url);
setup.addTarget(new OpenSourceSuite());
setup.addTarget(new ProgramSuite({ name: 'withpass', programs: [bzip2, lz4, sqliteTool, zstdAsm] }));
// a user's own description: bzip2 again, from a tarball the test corrupts
setup.addTarget(new ProgramTarget({ ...bzip2, name: 'mybzip2', source: { ...bzip2.source, url: ${JSON.stringify(pathToFileURL(CORRUPT).href)} } }));
setup.addInstance(new Gcc({ optlevel: 1 }));
setup.addInstance(new Clang(llvm, { optlevel: 1 }));
setup.addInstance(new LibcallCount(llvm, { optlevel: 1 }));
await setup.main();
`;

const [GCC, CLANG, PASS] = ['gcc-O1', 'clang-O1', 'libcallcount-O1'];
let dir = '';
const mirror = ['--source-mirror', MIRROR];

function records(run = 'last'): any[] {
  const text = readFileSync(join(dir, 'results', run, 'records.jsonl'), 'utf8');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

before(() => {
  const fetch = spawnSync('sh', [join(REPO, 'scripts/fetch-sources.sh'), MIRROR], { encoding: 'utf8' });
  assert.equal(fetch.status, 0, fetch.stderr);
  dir = makeProject({ 'setup.ts': SETUP });
  const started = Date.now();
  const r = runInfra(dir, ['build', 'opensource', GCC, CLANG, '--parallel', 'proc', ...mirror], { timeoutMs: 600_000 });
  assert.equal(r.code, 0, r.stderr);
  process.stderr.write(`# built the suite with gcc and clang-22 in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
});

test('every program builds with gcc and clang-22 and its test workloads are verified', () => {
  const r = runInfra(dir, ['run', 'opensource', GCC, CLANG, '--test']);
  assert.equal(r.code, 0, r.stderr);
  const recs = records();
  const expected = [
    'bzip2.compress',
    'bzip2.decompress',
    'lua.fib',
    'lua.sort',
    'lua.strings',
    'sqlite.speedtest1',
    'zstd.compress',
    'lz4.compress',
  ];
  for (const inst of [GCC, CLANG]) {
    const mine = recs.filter((x) => x.instance === inst);
    assert.deepEqual(mine.map((x) => x.benchmark).sort(), [...expected].sort());
    for (const rec of mine) {
      assert.equal(rec.status, 'ok', JSON.stringify(rec));
      assert.equal(rec.fields.size, 'test');
      assert.ok(rec.fields.runtime < 5, `${rec.benchmark} took ${rec.fields.runtime} s`);
    }
  }
  const bz = recs.find((x) => x.benchmark === 'bzip2.compress');
  assert.ok(bz.fields.compressedBytes > 0 && bz.fields.compressedBytes < bz.fields.inputBytes / 2, JSON.stringify(bz.fields));
  // the binaries really come from different compilers
  const lua = (inst: string) => readFileSync(join(dir, 'build/targets/opensource', inst, 'lua/src/src/lua'));
  assert.ok(lua(GCC).includes('GCC: (Debian'));
  assert.ok(lua(CLANG).includes('clang version 22'));
});

test('with a pass plugin and its runtime: programs build, run, count their library calls', () => {
  const r = runInfra(dir, ['run', '--build', 'withpass', PASS, '--test', ...mirror], { timeoutMs: 600_000 });
  assert.equal(r.code, 0, r.stderr);
  const recs = records();
  assert.deepEqual(recs.map((x) => x.benchmark).sort(), [
    'bzip2.compress',
    'bzip2.decompress',
    'lz4.compress',
    'sqlite-tool.keywords',
    'zstd-asm.run',
  ]);
  for (const rec of recs) {
    assert.equal(rec.status, 'ok', JSON.stringify(rec));
    const calls = Object.entries(rec.fields).filter(([k]) => k.includes('calls_'));
    assert.ok(calls.length > 0, `${rec.benchmark}: no libcallcount block: ${JSON.stringify(rec.fields)}`);
  }
  const puts = (b: string) => recs.find((x) => x.benchmark === b).fields.calls_puts;
  assert.equal(puts('zstd-asm.run'), 1);
});

test('--benchmarks takes programs, benchmarks and sets; unknown names list the valid ones', () => {
  const r = runInfra(dir, ['run', 'opensource', GCC, '--test', '--benchmarks', 'interpreters', 'bzip2.compress']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    records()
      .map((x) => x.benchmark)
      .sort(),
    ['bzip2.compress', 'lua.fib', 'lua.sort', 'lua.strings'],
  );
  const bad = runInfra(dir, ['run', 'opensource', GCC, '--test', '--benchmarks', 'gzip']);
  assert.notEqual(bad.code, 0);
  assert.match(
    bad.stderr,
    /unknown benchmark 'gzip'; valid benchmarks: bzip2\.compress, .*lz4\.compress; valid sets: all, bzip2, compressors, databases, interpreters, lua, lz4, sqlite, zstd/,
  );
  assert.doesNotMatch(bad.stderr, /\n\s+at /, 'no stack trace');
});

test('a second build with the same configuration rebuilds nothing', () => {
  const binary = join(dir, `build/targets/opensource/${GCC}/sqlite/src/speedtest1`);
  const before = statSync(binary).mtimeMs;
  const started = Date.now();
  const r = runInfra(dir, ['build', 'opensource', GCC, ...mirror]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(statSync(binary).mtimeMs, before);
  assert.ok(Date.now() - started < 15_000, `no-op build took ${Date.now() - started} ms`);
});

test('a corrupted tarball is rejected by its checksum and nothing is built', () => {
  const good = readFileSync(join(MIRROR, 'bzip2_1.0.8.orig.tar.gz'));
  const middle = good.length >> 1;
  good[middle] = good[middle]! ^ 0xff;
  writeFileSync(CORRUPT, good);
  // no mirror: it holds the genuine tarball, which download() would rightly find by its digest
  const noMirror = { env: { INFRA_SOURCE_MIRROR: '' } };
  const r = runInfra(dir, ['build', 'mybzip2', GCC], noMirror);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /checksum mismatch/);
  assert.match(r.stderr, /ab5a03176ee106d3f0fa90e381da478ddae405918153cca248e682cd0c4a2269/);
  assert.ok(!existsSync(join(dir, `build/targets/mybzip2/${GCC}/bzip2/src/bzip2`)));
  // the genuine bytes build (a user-described program works like the built-in ones)
  copyFileSync(join(MIRROR, 'bzip2_1.0.8.orig.tar.gz'), CORRUPT);
  const ok = runInfra(dir, ['run', 'mybzip2', GCC, '--build', '--test', '--benchmarks', 'mybzip2.compress'], noMirror);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(records()[0].status, 'ok');
});

test('wrong output is recorded as a failed execution', () => {
  // replace two built binaries: lua prints a wrong answer, lz4 "succeeds" without output
  const lua = join(dir, `build/targets/opensource/${GCC}/lua/src/src/lua`);
  const lz4 = join(dir, `build/targets/opensource/${GCC}/lz4/src/programs/lz4`);
  writeFileSync(lua, '#!/bin/sh\necho "fib(27) = 196417"\n');
  writeFileSync(lz4, '#!/bin/sh\nexit 0\n');
  chmodSync(lua, 0o755);
  chmodSync(lz4, 0o755);
  const r = runInfra(dir, ['run', 'opensource', GCC, '--test', '--benchmarks', 'lua.fib', 'lz4', 'sqlite']);
  assert.notEqual(r.code, 0);
  const by = Object.fromEntries(records().map((x) => [x.benchmark, x]));
  assert.equal(by['lua.fib'].status, 'failed');
  assert.match(by['lua.fib'].reason, /missing 'fib\(27\) = 196418'.*196417/);
  assert.equal(by['lz4.compress'].status, 'failed');
  assert.match(by['lz4.compress'].reason, /no compressed output/);
  assert.equal(by['sqlite.speedtest1'].status, 'ok');
});
