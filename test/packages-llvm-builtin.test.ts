// The built-in passes as a package of their own, against the distribution's LLVM 22: a user's pass
// set with useBuiltins links them instead of compiling them again, and a pass of the user's that
// includes a built-in header compiles both through the tool and, with `infra pkg-config`, outside it.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO, makeProject, runInfra } from './helpers.ts';

const SETUP = String.raw`
import { Setup, Target, Instance, Clang, LLVM, LLVMPasses, BuiltinLLVMPasses, run, type Context } from 'instrumentation-infra';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const llvm = LLVM.installed({ version: '22' });
const mine = new LLVMPasses(llvm, { srcdir: 'my-passes', name: 'mine', useBuiltins: true });
const builtins = new BuiltinLLVMPasses(llvm);

/** The user's pass (which uses the built-in sizeof-types analysis) on every allocation. */
class Typed extends Instance {
  readonly name = 'typed';
  override dependencies() { return [mine]; }
  override async configure(ctx: Context) {
    await new Clang(llvm).configure(ctx);
    mine.configure(ctx);
    LLVMPasses.useSizeofTypes(ctx);
    LLVMPasses.runPasses(ctx, 'start', 'count-typed');
  }
}

/** The built-in passes alone: dump-ir writes the module the compiler saw. */
class Dumped extends Instance {
  readonly name = 'dumped';
  override dependencies() { return [builtins]; }
  override async configure(ctx: Context) {
    await new Clang(llvm).configure(ctx);
    builtins.configure(ctx);
    LLVMPasses.runPasses(ctx, 'last', 'dump-ir');
  }
}

class Prog extends Target {
  readonly name = 'prog';
  isFetched() { return true; }
  fetch() {}
  async build(ctx: Context, instance: Instance) {
    const dir = this.path(ctx, instance.name);
    mkdirSync(dir, { recursive: true });
    const r = await run(ctx, [ctx.cc, ...ctx.cflags, '-c', join(import.meta.dirname, 'prog.c'), '-o', join(dir, 'prog.o')], { cwd: dir });
    writeFileSync(join(dir, 'compile.txt'), r.stderr);
  }
  run() {}
}

const setup = new Setup(import.meta.url);
setup.addInstance(new Typed());
setup.addInstance(new Dumped());
setup.addTarget(new Prog());
await setup.main();
`;

// includes two built-in headers and asks the built-in analysis for each call's allocated type
const COUNT_TYPED = String.raw`#include "builtin/Common.h"
#include "builtin/SizeofTypes.h"
using namespace llvm;
struct CountTyped : PassInfoMixin<CountTyped> {
  PreservedAnalyses run(Module &M, ModuleAnalysisManager &MAM) {
    const infra::SizeofTypes &T = infra::getSizeofTypes(M, MAM);
    unsigned N = 0;
    for (Function &F : M)
      for (Instruction &I : instructions(F))
        if (auto *CB = dyn_cast<CallBase>(&I))
          if (auto Type = T.lookup(*CB))
            errs() << "typed allocation #" << ++N << ": " << *Type << "\n";
    return PreservedAnalyses::all();
  }
};
INFRA_MODULE_PASS("count-typed", CountTyped);
`;

const PROG = `#include <stdlib.h>
struct point { int x, y; };
void *keep[2];
void fill(int n) {
  keep[0] = malloc(sizeof(struct point));
  keep[1] = calloc(n, sizeof(long));
}
`;

let dir = '';
const pkgs = () => join(dir, 'build', 'packages');
const builtin = (...p: string[]) => join(pkgs(), 'llvm-passes-builtin-22', ...p);

before(() => {
  dir = makeProject({ 'setup.ts': SETUP, 'my-passes/CountTyped.cpp': COUNT_TYPED, 'prog.c': PROG });
  const r = runInfra(dir, ['build', 'prog', 'typed', 'dumped'], { timeoutMs: 1_800_000 });
  assert.equal(r.code, 0, r.stdout + r.stderr);
});

test('a pass set with useBuiltins links the built-in package instead of compiling the built-ins again', () => {
  assert.ok(existsSync(builtin('install', 'libpasses-builtin.a')));
  assert.ok(existsSync(builtin('install', 'libpasses.so')));
  const ar = spawnSync('llvm-ar-22', ['t', builtin('install', 'libpasses-builtin.a')], { encoding: 'utf8' });
  assert.deepEqual(
    ar.stdout.trim().split('\n').sort(),
    readdirSync(join(REPO, 'passes', 'builtin'))
      .map((f) => f.replace(/\.cpp$/, '.o'))
      .sort(),
  );
  // the user's plugin compiled only its own sources and the entry point
  assert.deepEqual(
    readdirSync(join(pkgs(), 'llvm-passes-mine', 'obj'))
      .filter((f) => !f.includes('.'))
      .sort(),
    ['plugin', 'user'],
  );
  const syms = spawnSync('llvm-nm-22', ['-C', '--defined-only', join(pkgs(), 'llvm-passes-mine', 'install', 'libpasses.so')], {
    encoding: 'utf8',
  });
  // each built-in source's registration (its static constructor) is linked into the user plugin
  for (const f of readdirSync(join(REPO, 'passes', 'builtin')))
    assert.match(syms.stdout, new RegExp(`_GLOBAL__sub_I_${f.replace('.', '\\.')}`), f);
  assert.match(syms.stdout, /_GLOBAL__sub_I_CountTyped\.cpp/);
});

test('the user pass uses the built-in analysis when a target is compiled', () => {
  const out = readFileSync(join(dir, 'build', 'targets', 'prog', 'typed', 'compile.txt'), 'utf8');
  assert.match(out, /typed allocation #1: struct point\n/);
  assert.match(out, /typed allocation #2: long\n/);
});

test('the built-in package alone loads as a plugin and runs a built-in pass', () => {
  const target = join(dir, 'build', 'targets', 'prog', 'dumped');
  const out = readFileSync(join(target, 'compile.txt'), 'utf8');
  const m = /dump-ir: wrote (\S+\.ll)/.exec(out);
  assert.ok(m, `dump-ir said where it wrote: ${out}`);
  assert.match(readFileSync(resolve(target, m[1]!), 'utf8'), /define .*@fill\(/);
});

test('pkg-config of the built-in package: root, prefix, cxxflags, runtime-cflags', () => {
  const r = runInfra(dir, ['pkg-config', 'llvm-passes-builtin-22', '--root', '--prefix', '--cxxflags', '--runtime-cflags']);
  assert.equal(r.code, 0, r.stderr);
  const [root, prefix, cxxflags, runtime] = r.stdout.trim().split('\n');
  assert.equal(root, builtin());
  assert.equal(prefix, builtin('install'));
  assert.equal(cxxflags, `-I${join(REPO, 'passes', 'include')}`);
  assert.equal(runtime, `-I${join(REPO, 'passes', 'runtime-include')}`);
  for (const h of ['builtin/Common.h', 'builtin/SizeofTypes.h', 'infra/Registry.h']) assert.ok(existsSync(join(cxxflags!.slice(2), h)), h);
  assert.ok(existsSync(join(runtime!.slice(2), 'noinstrument.h')));
});

test('a pass of the user compiles outside the tool with the flags pkg-config gives', () => {
  const cxxflags = runInfra(dir, ['pkg-config', 'llvm-passes-builtin-22', '--cxxflags']).stdout.trim();
  const llvmFlags = spawnSync('llvm-config-22', ['--cxxflags'], { encoding: 'utf8' }).stdout.trim().split(/\s+/);
  const obj = join(dir, 'CountTyped.o');
  const r = spawnSync('clang++-22', [...llvmFlags, cxxflags, '-fPIC', '-c', join(dir, 'my-passes', 'CountTyped.cpp'), '-o', obj], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(spawnSync('llvm-nm-22', ['-C', obj], { encoding: 'utf8' }).stdout, /infra::SizeofTypesAnalysis::Key/);
  // without the include path the built-in header is not found
  const bare = spawnSync('clang++-22', [...llvmFlags, '-fsyntax-only', join(dir, 'my-passes', 'CountTyped.cpp')], { encoding: 'utf8' });
  assert.match(bare.stderr, /'builtin\/Common\.h' file not found/);
});
