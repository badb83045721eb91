// The long package builds, from their release tarballs (offline, from the mirror
// scripts/fetch-sources.sh fills), each built and used once by a target of the test's own:
// tcmalloc from source under Clang({ alloc: 'tcmalloc' }), binutils with gold, cmake, coreutils,
// bash and wrk. They take minutes each, so they run only when asked: INFRA_SLOW_TESTS=1 (one of
// them: --test-name-pattern; INFRA_SLOW_TIMEOUT_MIN bounds each build, default 180). Wrk needs luajit
// and libluajit-5.1-dev; the tcmalloc test, clang-22.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, makeProject, runInfra } from './helpers.ts';

const MIRROR = process.env.INFRA_SOURCE_MIRROR || join(tmpdir(), 'infra-source-mirror');
const skip = process.env.INFRA_SLOW_TESTS === '1' ? false : 'slow: set INFRA_SLOW_TESTS=1';
// minutes one build may take: cmake's bootstrap alone is a long compile on 2 busy cores
const TIMEOUT_MIN = Number(process.env.INFRA_SLOW_TIMEOUT_MIN || 180);

const SETUP = String.raw`
import { Setup, Target, Instance, Gcc, Clang, LLVM, Gperftools, LibUnwind, BinUtils, CMake, CoreUtils, Bash, Wrk, run,
  type Context, type Package } from 'instrumentation-infra';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Copies project/<name> and runs steps in it with the packages in the environment. */
class Uses extends Target {
  constructor(readonly name: string, private packages: Package[], private steps: (ctx: Context, dir: string) => Promise<void>) { super(); }
  override dependencies() { return this.packages; }
  isFetched() { return true; }
  fetch() {}
  async build(ctx: Context, instance: Instance) {
    const dir = this.path(ctx, instance.name);
    cpSync(join(import.meta.dirname, 'project', this.name), dir, { recursive: true });
    await this.steps(ctx, dir);
  }
  run() {}
}
const which = async (ctx: Context, dir: string, tools: string[]) =>
  writeFileSync(join(dir, 'tools.txt'), (await run(ctx, ['sh', '-c', 'for t in "$@"; do command -v $t; done', 'sh', ...tools])).stdout);
const compile = (ctx: Context, dir: string) =>
  run(ctx, [ctx.cc, ...ctx.cflags, '-o', join(dir, 'prog'), join(dir, 'prog.c'), ...ctx.ldflags]);

const gperftools = new Gperftools({ version: '2.10', libunwind: new LibUnwind('1.6.2') });
const clang = new Clang(LLVM.installed({ version: '22' }), { alloc: 'tcmalloc' });
clang.gperftools = gperftools;
const binutils = new BinUtils('2.40', { gold: true });

const setup = new Setup(import.meta.url);
setup.addInstance(new Gcc());
setup.addInstance(clang);
setup.addTarget(new Uses('tcmalloc', [], compile));
setup.addTarget(new Uses('gold', [binutils], async (ctx, dir) => {
  await which(ctx, dir, ['as', 'ld.gold']);
  const c = ctx.clone();
  binutils.configure(c);
  await compile(c, dir);
}));
setup.addTarget(new Uses('cmake', [new CMake('3.25.1')], async (ctx, dir) => {
  await which(ctx, dir, ['cmake']);
  await run(ctx, ['cmake', '-S', dir, '-B', join(dir, 'build')]);
  await run(ctx, ['cmake', '--build', join(dir, 'build')]);
}));
setup.addTarget(new Uses('coreutils', [new CoreUtils('9.1')], async (ctx, dir) => {
  await which(ctx, dir, ['ls', 'sort']);
  writeFileSync(join(dir, 'sorted.txt'), (await run(ctx, ['sort', '-n', join(dir, 'numbers.txt')])).stdout);
}));
setup.addTarget(new Uses('bash', [new Bash('5.2.15')], async (ctx, dir) => {
  await which(ctx, dir, ['bash']);
  writeFileSync(join(dir, 'out.txt'), (await run(ctx, ['bash', join(dir, 'script.sh')])).stdout);
}));
setup.addTarget(new Uses('wrk', [new Wrk('4.1.0')], (ctx, dir) => which(ctx, dir, ['wrk'])));
await setup.main();
`;

const TCMALLOC_PROG = String.raw`#include <gperftools/heap-profiler.h>
#include <gperftools/tcmalloc.h>
#include <stdio.h>
#include <stdlib.h>
int main(void) {
  void *blocks[1000];
  for (int i = 0; i < 1000; i++) blocks[i] = malloc(4096);
  printf("%s\nheap profiler running: %d\n", tc_version(NULL, NULL, NULL), IsHeapProfilerRunning());
  for (int i = 0; i < 1000; i++) free(blocks[i]);
  return 0;
}
`;

let dir = '';
const pkg = (...p: string[]) => join(dir, 'build', 'packages', ...p);
const project = (name: string, instance: string, ...p: string[]) => join(dir, 'build', 'targets', name, instance, ...p);
const tools = (name: string) =>
  readFileSync(project(name, 'gcc', 'tools.txt'), 'utf8')
    .trim()
    .split('\n');

/** `infra build NAME INSTANCE`, and the build's wall time (printed for the record). */
function build(name: string, instance = 'gcc'): void {
  if (!dir) {
    const fetch = spawnSync('sh', [join(REPO, 'scripts/fetch-sources.sh'), MIRROR], { encoding: 'utf8' });
    assert.equal(fetch.status, 0, fetch.stderr);
    dir = makeProject({
      'setup.ts': SETUP,
      'project/tcmalloc/prog.c': TCMALLOC_PROG,
      'project/gold/prog.c': '#include <stdio.h>\nint main(void) { puts("linked by gold"); return 0; }\n',
      'project/cmake/CMakeLists.txt': 'cmake_minimum_required(VERSION 3.25)\nproject(hello C)\nadd_executable(hello hello.c)\n',
      'project/cmake/hello.c': '#include <stdio.h>\nint main(void) { puts("built by cmake"); return 0; }\n',
      'project/coreutils/numbers.txt': '10\n9\n100\n',
      'project/bash/script.sh': 'declare -A seen=([a]=1); echo "bash ${BASH_VERSION} ${seen[a]}"\n',
      'project/wrk/.keep': '',
    });
  }
  const start = Date.now();
  const r = runInfra(dir, ['--source-mirror', MIRROR, 'build', name, instance], { timeoutMs: TIMEOUT_MIN * 60_000 });
  const took = `${((Date.now() - start) / 1000).toFixed(0)} s`;
  assert.ok(
    Date.now() - start < TIMEOUT_MIN * 60_000,
    `build ${name} ${instance} stopped after ${took} (INFRA_SLOW_TIMEOUT_MIN=${TIMEOUT_MIN})`,
  );
  assert.equal(r.code, 0, r.stderr);
  console.log(`# build ${name} ${instance}: ${((Date.now() - start) / 1000).toFixed(0)} s wall`);
}

test('gperftools from source: a Clang({ alloc: tcmalloc }) program allocates through it', { skip }, () => {
  build('tcmalloc', 'clang-tcmalloc');
  const exe = project('tcmalloc', 'clang-tcmalloc', 'prog');
  const lib = pkg('gperftools-2.10', 'install', 'lib');
  assert.match(spawnSync('ldd', [exe], { encoding: 'utf8' }).stdout, new RegExp(`libtcmalloc\\.so\\.4 => ${lib}/`));
  mkdirSync(join(dir, 'heap'));
  const profile = join(dir, 'heap', 'prog');
  const r = spawnSync(exe, { encoding: 'utf8', env: { ...process.env, HEAPPROFILE: profile } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^gperftools 2\.10\nheap profiler running: 1\n$/);
  const dumps = readdirSync(join(dir, 'heap')).filter((f) => f.endsWith('.heap'));
  assert.ok(dumps.length > 0, 'HEAPPROFILE made tcmalloc write a heap profile');
  // the header counts every allocation since start: the program's 1000 blocks among them
  const header = /^heap profile: +\d+: +\d+ \[ *(\d+): +(\d+)\]/.exec(readFileSync(join(dir, 'heap', dumps[0]!), 'utf8'));
  assert.ok(header && Number(header[1]) >= 1000 && Number(header[2]) >= 4096 * 1000, 'the heap profile counted the allocations');
});

test('binutils with gold: the target links with the built ld.gold', { skip }, () => {
  build('gold');
  assert.deepEqual(tools('gold'), [
    pkg('binutils-2.40-gold', 'install', 'bin', 'as'),
    pkg('binutils-2.40-gold', 'install', 'bin', 'ld.gold'),
  ]);
  const exe = project('gold', 'gcc', 'prog');
  assert.equal(spawnSync(exe, { encoding: 'utf8' }).stdout, 'linked by gold\n');
  // gold marks what it links with a note naming itself
  assert.match(spawnSync('readelf', ['-n', exe], { encoding: 'utf8' }).stdout, /NT_GNU_GOLD_VERSION[\s\S]*Version: gold \d/);
});

test('cmake: the built cmake configures and builds a project', { skip }, () => {
  build('cmake');
  assert.deepEqual(tools('cmake'), [pkg('cmake-3.25.1', 'install', 'bin', 'cmake')]);
  assert.match(
    readFileSync(project('cmake', 'gcc', 'build', 'CMakeCache.txt'), 'utf8'),
    /CMAKE_COMMAND:INTERNAL=.*cmake-3\.25\.1\/install\/bin\/cmake/,
  );
  assert.equal(spawnSync(project('cmake', 'gcc', 'build', 'hello'), { encoding: 'utf8' }).stdout, 'built by cmake\n');
});

test('coreutils: the built sort and ls are the ones on PATH', { skip }, () => {
  build('coreutils');
  assert.deepEqual(tools('coreutils'), [pkg('coreutils-9.1', 'install', 'bin', 'ls'), pkg('coreutils-9.1', 'install', 'bin', 'sort')]);
  assert.equal(readFileSync(project('coreutils', 'gcc', 'sorted.txt'), 'utf8'), '9\n10\n100\n');
});

test('bash: scripts run with the built bash', { skip }, () => {
  build('bash');
  assert.deepEqual(tools('bash'), [pkg('bash-5.2.15', 'install', 'bin', 'bash')]);
  assert.match(readFileSync(project('bash', 'gcc', 'out.txt'), 'utf8'), /^bash 5\.2\.15\(1\)-release 1$/m);
});

test('wrk: the built wrk loads a local server', { skip }, async () => {
  build('wrk');
  const wrk = pkg('wrk-4.1.0', 'install', 'bin', 'wrk');
  assert.deepEqual(tools('wrk'), [wrk]);
  const server = createServer((_req, res) => res.end('ok\n'));
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  try {
    const child = spawn(wrk, ['-t1', '-c2', '-d1s', `http://127.0.0.1:${port}/`]);
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    await new Promise((res) => child.on('close', res));
    assert.match(out, /\d+ requests in /);
  } finally {
    server.close();
  }
});
