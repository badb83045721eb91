// Build recipes on real upstream sources (from the offline mirror scripts/fetch-sources.sh fills):
// a patched bzip2 compiled by a custom build function, libyaml bootstrapped with its own
// ./bootstrap (autoreconf) and configured out of tree, pkgconf built with meson. All with gcc,
// through `infra build` of a small project, as a user would describe them.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from '../src/core/context.ts';
import { binariesInBuildDir, describeRecipe, runRecipe, toolchain, type BuildRecipe } from '../src/targets/recipes.ts';
import { REPO, makeProject, runInfra } from './helpers.ts';

const MIRROR = process.env.INFRA_SOURCE_MIRROR || join(tmpdir(), 'infra-source-mirror');
// a code generation flag: gcc records those (not -D) with -frecord-gcc-switches
const MARK = '-falign-functions=64';

const SETUP = String.raw`
import { Setup, Gcc, ProgramSuite, run, type Context, type WorkloadDescription } from 'instrumentation-infra';
import { readFileSync, writeFileSync } from 'node:fs';

/** gcc that records its command line in every object, so a test can see the flags arrived */
class GccRecorded extends Gcc {
  override readonly name = 'gcc-recorded';
  override configure(ctx: Context) {
    super.configure(ctx);
    ctx.addCFlag('-frecord-gcc-switches');
    ctx.addCFlag('${MARK}');
  }
}

/** Runs argv and checks that one of its output streams matches a pattern. */
function prints(name: string, argv: (bin: Record<string, string>) => string[], stream: 'stdout' | 'stderr', pattern: RegExp): WorkloadDescription {
  return {
    name,
    description: 'prints ' + pattern.source,
    plan: ({ bin }) => ({
      argv: argv(bin),
      check: (r) => {
        const text = readFileSync(stream === 'stdout' ? r.stdoutPath : r.stderrPath, 'utf8');
        return pattern.test(text) ? {} : { failure: 'wrong output: ' + text.slice(0, 200) };
      },
    }),
  };
}

const BZIP2_SOURCES = ['blocksort', 'huffman', 'crctable', 'randtable', 'compress', 'decompress', 'bzlib', 'bzip2'];

const setup = new Setup(import.meta.url);
setup.addTarget(new ProgramSuite({
  name: 'recipes',
  programs: [
    {
      name: 'bzip2',
      version: '1.0.8',
      source: { url: 'https://sourceware.org/pub/bzip2/bzip2-1.0.8.tar.gz', sha256: 'ab5a03176ee106d3f0fa90e381da478ddae405918153cca248e682cd0c4a2269' },
      build: {
        kind: 'custom',
        patches: ['patches/bzip2-banner.patch'],
        fingerprint: { compile: 'one cc call', sources: BZIP2_SOURCES },
        binariesIn: 'build',
        build: ({ ctx, src, build, toolchain: t }) =>
          run(ctx, [t.cc, ...t.cflags.split(' '), '-o', build + '/bzip2', ...BZIP2_SOURCES.map((s) => src + '/' + s + '.c'), ...t.ldflags.split(' ').filter(Boolean)]),
      },
      binaries: { bzip2: 'bzip2' },
      workloads: [prints('banner', (bin) => [bin.bzip2!, '--help'], 'stderr', /Version 1\.0\.8, 13-Jul-2019 \(patched v\d\)/)],
    },
    {
      name: 'libyaml',
      version: '0.2.5',
      source: { url: 'https://github.com/yaml/libyaml/archive/refs/tags/0.2.5.tar.gz', file: 'libyaml-0.2.5.tar.gz', sha256: 'fa240dbf262be053f3898006d502d514936c818e422afdcf33921c63bed9bf2e' },
      buildRequires: ['autoreconf', 'automake', 'libtoolize', 'make'],
      build: { kind: 'configure', bootstrap: ['./bootstrap'], outOfTree: true, configureArgs: ['--disable-shared'], targets: ['all'] },
      binaries: { parser: 'tests/run-parser' },
      workloads: [{
        name: 'parse',
        description: 'parses a YAML document',
        plan: ({ bin, dir }) => {
          writeFileSync(dir + '/doc.yaml', 'name: infra\nlist: [1, 2, 3]\nmap: { a: b }\n');
          return { argv: [bin.parser!, 'doc.yaml'], check: (r) => (/SUCCESS \(\d+ events\)/.test(readFileSync(r.stdoutPath, 'utf8')) ? {} : { failure: 'not parsed' }) };
        },
      }],
    },
    {
      name: 'pkgconf',
      version: '1.8.1',
      source: { url: 'https://distfiles.ariadne.space/pkgconf/pkgconf-1.8.1.tar.xz', sha256: '644361ada2942be05655d4452eb018791647c31bba429b287f1f68deb2dc6840' },
      buildRequires: ['meson', 'ninja'],
      // the longest build here: it starts first though it is listed last
      buildWeight: 3,
      build: { kind: 'meson', options: { tests: 'false', default_library: 'static' } },
      binaries: { pkgconf: 'pkgconf' },
      workloads: [prints('version', (bin) => [bin.pkgconf!, '--version'], 'stdout', /^1\.8\.1$/m)],
    },
  ],
}));
setup.addInstance(new Gcc());
setup.addInstance(new GccRecorded());
await setup.main();
`;

/** A patch to bzip2's usage banner; `tag` tells the versions apart. */
function bannerPatch(tag: string): string {
  return [
    '--- a/bzip2.c',
    '+++ b/bzip2.c',
    '@@ -1628,7 +1628,7 @@',
    '    fprintf (',
    '       stderr,',
    '       "bzip2, a block-sorting file compressor.  "',
    '-      "Version %s.\\n"',
    `+      "Version %s (patched ${tag}).\\n"`,
    '       "\\n   usage: %s [flags and input files in any order]\\n"',
    '       "\\n"',
    '       "   -h --help           print this message\\n"',
    '',
  ].join('\n');
}

let dir = '';
let buildLog = '';
const mirror = ['--source-mirror', MIRROR];
const programDir = (inst: string, program: string) => join(dir, 'build/targets/recipes', inst, program);
const stamp = (inst: string, program: string) => readFileSync(join(programDir(inst, program), '.infra-build'), 'utf8');
const BINARIES = { bzip2: 'build/bzip2', libyaml: 'build/tests/run-parser', pkgconf: 'build/pkgconf' };

function records(): any[] {
  return readFileSync(join(dir, 'results/last/records.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

function infra(...args: string[]) {
  const r = runInfra(dir, args, { timeoutMs: 600_000 });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return r;
}

before(() => {
  const fetch = spawnSync('sh', [join(REPO, 'scripts/fetch-sources.sh'), MIRROR], { encoding: 'utf8' });
  assert.equal(fetch.status, 0, fetch.stderr);
  dir = makeProject({ 'setup.ts': SETUP, 'patches/bzip2-banner.patch': bannerPatch('v1') });
  const started = Date.now();
  buildLog = infra('build', 'recipes', 'gcc-recorded', ...mirror).stderr;
  process.stderr.write(`# built bzip2, libyaml and pkgconf in ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
});

test('patched, bootstrapped, out-of-tree and meson builds run, with the instance flags in every binary', () => {
  // the heaviest build (buildWeight) starts first, the others in their order
  const started = [...buildLog.matchAll(/building (\w+) [\d.]+ for gcc-recorded/g)].map((m) => m[1]);
  assert.deepEqual(started, ['pkgconf', 'bzip2', 'libyaml'], buildLog);
  infra('run', 'recipes', 'gcc-recorded', '--test');
  const recs = records();
  assert.deepEqual(recs.map((r) => r.benchmark).sort(), ['bzip2.banner', 'libyaml.parse', 'pkgconf.version']);
  for (const r of recs) assert.equal(r.status, 'ok', JSON.stringify(r));
  for (const [program, rel] of Object.entries(BINARIES)) {
    // -frecord-gcc-switches keeps each object's command line in the binary
    const binary = readFileSync(join(programDir('gcc-recorded', program), rel));
    assert.ok(binary.includes(MARK), `${program}: the instance's flags did not reach ${rel}`);
    assert.ok(binary.includes('-O2'), `${program}: no -O2 in ${rel}`);
  }
  // the bootstrap generated configure in the source tree; the build itself is out of tree
  assert.ok(existsSync(join(programDir('gcc-recorded', 'libyaml'), 'src/configure')));
  assert.ok(existsSync(join(programDir('gcc-recorded', 'libyaml'), 'build/config.status')));
  assert.ok(!existsSync(join(programDir('gcc-recorded', 'libyaml'), 'src/config.status')));
  // buildtype=plain: meson added no optimisation or debug flags of its own
  const pkgconf = readFileSync(join(programDir('gcc-recorded', 'pkgconf'), BINARIES.pkgconf));
  assert.ok(!pkgconf.includes('-O0') && !pkgconf.includes('-O3'), 'meson added its own -O level');
});

test('editing a patch rebuilds that program only, and its stale build refuses to run until then', () => {
  const bzip2Stamp = stamp('gcc-recorded', 'bzip2');
  const others = ['libyaml', 'pkgconf'].map((p) => statSync(join(programDir('gcc-recorded', p), BINARIES[p as 'libyaml'])).mtimeMs);
  writeFileSync(join(dir, 'patches/bzip2-banner.patch'), bannerPatch('v2'));
  const stale = runInfra(dir, ['run', 'recipes', 'gcc-recorded', '--test', '--benchmarks', 'bzip2']);
  assert.notEqual(stale.code, 0);
  assert.match(stale.stderr, /bzip2\.banner: the build of bzip2 for gcc-recorded is out of date/);
  infra('build', 'recipes', 'gcc-recorded', ...mirror);
  assert.notEqual(stamp('gcc-recorded', 'bzip2'), bzip2Stamp);
  const after = ['libyaml', 'pkgconf'].map((p) => statSync(join(programDir('gcc-recorded', p), BINARIES[p as 'libyaml'])).mtimeMs);
  assert.deepEqual(after, others, 'programs without the patch were rebuilt');
  const banner = spawnSync(join(programDir('gcc-recorded', 'bzip2'), BINARIES.bzip2), ['--help'], { encoding: 'utf8' });
  assert.match(banner.stderr, /\(patched v2\)/);
  infra('run', 'recipes', 'gcc-recorded', '--test', '--benchmarks', 'bzip2');
  assert.equal(records()[0].status, 'ok');
});

test('a dry run prints every recipe step and builds nothing', () => {
  const r = infra('build', 'recipes', 'gcc', '--dry-run', ...mirror);
  assert.match(r.stdout, /apply patch \S+\/patches\/bzip2-banner\.patch in \S+\/gcc\/bzip2\/src \(-p1\)/);
  assert.match(r.stdout, /gcc -O2 -O2 -o \S+\/gcc\/bzip2\/build\/bzip2 \S+\/blocksort\.c/);
  assert.match(r.stdout, /\.\/bootstrap/);
  assert.match(r.stdout, /\.\.\/src\/configure --disable-shared/);
  assert.match(
    r.stdout,
    /meson setup --wrap-mode=nodownload -Dbuildtype=plain -Dtests=false -Ddefault_library=static \S+\/gcc\/pkgconf\/build/,
  );
  assert.ok(!existsSync(join(dir, 'build/targets/recipes/gcc')), 'a dry run wrote the build tree');
});

test('the build configuration holds what functions cannot say: a custom fingerprint and patch contents', () => {
  const project = makeProject({ 'a.patch': 'one', 'b.patch': 'two' });
  const ctx = { paths: { root: project } } as Context;
  const custom = (fingerprint: string, patches: string[]): BuildRecipe => ({ kind: 'custom', build: () => {}, fingerprint, patches });
  const key = (r: BuildRecipe) => JSON.stringify(describeRecipe(ctx, r));
  assert.equal(key(custom('v1', ['a.patch'])), key(custom('v1', ['a.patch'])));
  assert.notEqual(key(custom('v1', ['a.patch'])), key(custom('v2', ['a.patch'])));
  assert.notEqual(key(custom('v1', ['a.patch'])), key(custom('v1', ['b.patch'])));
  assert.notEqual(key(custom('v1', ['a.patch', 'b.patch'])), key(custom('v1', ['b.patch', 'a.patch'])));
  assert.throws(() => describeRecipe(ctx, custom('v1', ['missing.patch'])), /patch file not found: \S+missing\.patch/);
  assert.throws(() => describeRecipe(ctx, { kind: 'custom', build: () => {} } as unknown as BuildRecipe), /needs a fingerprint/);
  // a configure recipe's make variables are part of it, as the function gives them
  const withVars = (cflags: string): BuildRecipe => ({
    kind: 'configure',
    targets: [],
    makeVariables: (t) => ({ BCC: `${t.cc} ${cflags}` }),
  });
  assert.equal(key(withVars('-O2')), key(withVars('-O2')));
  assert.notEqual(key(withVars('-O2')), key(withVars('-O1')));
  assert.match(key(withVars('-O2')), /"BCC":"\$CC -O2"/);
  assert.deepEqual(
    (['make', 'cmake', 'meson'] as const).map((kind) => binariesInBuildDir({ kind, targets: [], variables: () => ({}) } as BuildRecipe)),
    [false, true, true],
  );
  assert.equal(binariesInBuildDir({ kind: 'configure', targets: [], outOfTree: true }), true);
  assert.equal(binariesInBuildDir({ kind: 'configure', targets: [] }), false);
});

test('a source without a configure script (a git archive) is refused with how to generate one', async () => {
  const project = makeProject({ 'configure.ac': 'AC_INIT([x], [1])\n' });
  const ctx = { paths: { root: project }, dryRun: false, jobserver: null } as unknown as Context;
  const tc = toolchain({
    cc: 'gcc',
    cxx: 'g++',
    cflags: [],
    cxxflags: [],
    ldflags: [],
    ar: 'ar',
    ranlib: 'ranlib',
    jobs: 1,
  } as unknown as Context);
  await assert.rejects(
    runRecipe(ctx, { kind: 'configure', targets: [] }, tc, project, join(project, 'build')),
    /has no configure script; generate it with a bootstrap step \(e\.g\. bootstrap: \['autoreconf', '-fi'\]\)/,
  );
});
