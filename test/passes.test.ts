import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Context, makePaths } from '../src/core/context.js';
import { Logger } from '../src/core/log.js';
import { run } from '../src/exec/run.js';
import { Clang } from '../src/instances/clang.js';
import { LLVM } from '../src/packages/llvm.js';
import { LLVMPasses, PASSES_DIR, SIZEOF_TYPES_CC, SIZEOF_TYPES_CXX } from '../src/packages/llvm-passes.js';
import { BuiltinLLVMPasses } from '../src/packages/llvm-passes-builtin.js';

// One plugin is built for the whole file (compiling against the LLVM headers is what costs):
// the user's passes, the built-ins, and the sizeof-types consumer below all live in it.
const llvm = LLVM.installed({ version: '22' });
const root = mkdtempSync(join(tmpdir(), 'infra-passes-'));
const ctx = new Context(makePaths(root, join(root, 'setup.ts'), 'test'), new Logger('warning'));
const passes = new LLVMPasses(llvm, { srcdir: 'llvm-passes', name: 'test', useBuiltins: true });
const so = () => passes.pluginPath(ctx);
// the other LLVM version the framework supports: the marker pass and the built-ins (without
// optimization, which halves their compile time)
const llvm19 = LLVM.installed({ version: '19' });
const passes19 = new LLVMPasses(llvm19, { srcdir: 'llvm-passes-19', name: 'test19', useBuiltins: true, debug: true });

// a user pass: adds `@infra_marker_<function count>` so its effect is visible in any output
const USER_PASS = `#include "builtin/Common.h"
#include "marker.h"
using namespace llvm;
static cl::opt<std::string> Tag("marker-tag", cl::init("x"));
struct MarkerPass : PassInfoMixin<MarkerPass> {
  PreservedAnalyses run(Module &M, ModuleAnalysisManager &) {
    unsigned N = 0;
    for (Function &F : M) N += !F.isDeclaration();
    auto *G = new GlobalVariable(M, Type::getInt32Ty(M.getContext()), true, GlobalValue::ExternalLinkage,
                       ConstantInt::get(Type::getInt32Ty(M.getContext()), N), std::string(MARKER_PREFIX) + Tag + "_" + std::to_string(N));
    appendToUsed(M, {G});
    return PreservedAnalyses::none();
  }
};
INFRA_MODULE_PASS("marker", MarkerPass);
`;

// a consumer of the analysis, as a user's pass would be: prints "<callee> <type>" per typed call
const PRINT_PASS = `#include "builtin/Common.h"
#include "builtin/SizeofTypes.h"
using namespace llvm;
struct PrintAllocTypes : PassInfoMixin<PrintAllocTypes> {
  PreservedAnalyses run(Module &M, ModuleAnalysisManager &MAM) {
    const infra::SizeofTypes &T = infra::getSizeofTypes(M, MAM);
    for (Function &F : M)
      for (Instruction &I : instructions(F))
        if (auto *CB = dyn_cast<CallBase>(&I))
          if (auto Type = T.lookup(*CB))
            errs() << "alloc-type: " << F.getName() << " " << infra::getCalledFunction(*CB)->getName() << " " << *Type << "\\n";
    return PreservedAnalyses::all();
  }
};
INFRA_MODULE_PASS("print-alloc-types", PrintAllocTypes);
`;

const ALLOCS = `#include <stdlib.h>
#include <stdio.h>
struct point { int x, y; };
struct node { struct node *next; long value; };
void *keep[4];
int main(int argc, char **argv) {
  int n = argc + 2;
  keep[0] = malloc(sizeof(struct point));
  keep[1] = calloc(n, sizeof(long));
  keep[2] = malloc(10 * sizeof(struct node));
  keep[3] = malloc(64);
  printf("%d\\n", keep[0] && keep[1] && keep[2] && keep[3]);
  return 0;
}
`;

/** A context compiling with clang-22 through the wrapper, the plugin loaded and the pass on. */
async function wrapped(): Promise<Context> {
  const c = ctx.clone();
  await new Clang(llvm).configure(c);
  passes.configure(c);
  LLVMPasses.useSizeofTypes(c);
  return c;
}

/** IR of `source` compiled with `c`, and the type names by the size operands of each allocation call. */
async function compileIR(
  c: Context,
  name: string,
  source: string,
  extra: string[] = [],
): Promise<{ ir: string; stderr: string; calls: Array<{ call: string; type: string | undefined }> }> {
  const src = join(root, name);
  writeFileSync(src, source);
  const out = join(root, name.replace(/\.\w+$/, '.ll'));
  const r = await run(c, [c.cc, ...c.cflags, ...extra, '-S', '-emit-llvm', src, '-o', out], { cwd: root, silent: true });
  const ir = readFileSync(out, 'utf8');
  const strings = new Map([...ir.matchAll(/^(!\d+) = !\{!"([^"]*)"\}$/gm)].map((m) => [m[1]!, m[2]!]));
  const calls = [...ir.matchAll(/call .*@(\w*alloc\w*)\(([^)]*)\)[^\n]*/g)].map((m) => {
    const md = /!infra\.sizeof\.type (!\d+)/.exec(m[0]);
    return { call: `${m[1]}(${m[2]!.replace(/i64 noundef /g, '')})`, type: md ? strings.get(md[1]!) : undefined };
  });
  return { ir, stderr: r.stderr, calls };
}

async function install(p: LLVMPasses | BuiltinLLVMPasses = passes): Promise<void> {
  // the built-ins a plugin links are a dependency, installed first (as the build command does)
  if (p instanceof LLVMPasses && p.builtins) await install(p.builtins);
  if (!p.isInstalled(ctx)) {
    await p.build(ctx);
    await p.install(ctx);
  }
}

function opt(passList: string, ir: string, extra: string[] = []): string {
  const file = join(root, 'in.ll');
  writeFileSync(file, ir);
  return execFileSync('opt-22', [`-load-pass-plugin=${so()}`, `-passes=${passList}`, ...extra, '-S', file, '-o', '-'], {
    encoding: 'utf8',
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

before(async () => {
  mkdirSync(join(root, 'llvm-passes'));
  writeFileSync(join(root, 'llvm-passes', 'Marker.cpp'), USER_PASS);
  writeFileSync(join(root, 'llvm-passes', 'marker.h'), '#define MARKER_PREFIX "infra_marker_"\n');
  writeFileSync(join(root, 'llvm-passes', 'PrintAllocTypes.cpp'), PRINT_PASS);
  mkdirSync(join(root, 'llvm-passes-19'));
  writeFileSync(join(root, 'llvm-passes-19', 'Marker.cpp'), USER_PASS);
  writeFileSync(join(root, 'llvm-passes-19', 'marker.h'), '#define MARKER_PREFIX "infra_marker_"\n');
  await Promise.all([install(), install(passes19)]);
});

after(() => rmSync(root, { recursive: true, force: true }));

test('one plugin holds the user pass and the built-ins, registered by name', () => {
  assert.ok(statSync(so()).size > 0);
  const out = opt('marker', 'define void @f() { ret void }\n');
  assert.match(out, /@infra_marker_x_1 = constant i32 1/);
  assert.match(opt('marker', 'define void @f() { ret void }\n', ['-marker-tag=y']), /@infra_marker_y_1/);
});

test('rebuilds are incremental: only what a changed header reaches is recompiled', async () => {
  const objects = join(passes.objdir(ctx));
  const builtinObj = join(passes.builtins!.objdir(ctx), 'builtin', 'DumpIR.o');
  const userObj = join(objects, 'user', 'Marker.o');
  const otherUserObj = join(objects, 'user', 'PrintAllocTypes.o');
  const before = {
    builtin: statSync(builtinObj).mtimeMs,
    user: statSync(userObj).mtimeMs,
    otherUser: statSync(otherUserObj).mtimeMs,
    so: statSync(so()).mtimeMs,
  };
  assert.equal(passes.isInstalled(ctx), true, 'nothing changed: nothing to do');

  const later = new Date(Date.now() + 5000);
  writeFileSync(join(root, 'llvm-passes', 'marker.h'), '#define MARKER_PREFIX "infra_changed_"\n');
  utimesSync(join(root, 'llvm-passes', 'marker.h'), later, later);
  assert.equal(passes.isInstalled(ctx), false, 'a changed header makes the plugin stale');
  await install();
  assert.equal(statSync(builtinObj).mtimeMs, before.builtin, 'built-in pass not recompiled');
  assert.equal(statSync(otherUserObj).mtimeMs, before.otherUser, 'a user pass without the header not recompiled');
  assert.ok(statSync(userObj).mtimeMs > before.user, 'user pass recompiled');
  assert.ok(statSync(so()).mtimeMs > before.so, 'plugin relinked');
  assert.match(opt('marker', 'define void @f() { ret void }\n'), /@infra_changed_x_1/);
});

test('dump-ir writes the module to NAME.ll and says where', () => {
  const file = join(root, 'in.ll');
  writeFileSync(file, '@__infra_debug_module_name = constant [6 x i8] c"mymod\\00"\ndefine i32 @answer() { ret i32 42 }\n');
  const r = execFileSync('opt-22', [`-load-pass-plugin=${so()}`, '-passes=dump-ir', `-dump-ir-dir=${root}`, '-disable-output', file], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  assert.equal(r, '');
  assert.match(readFileSync(join(root, 'mymod.ll'), 'utf8'), /define i32 @answer\(\) \{\n\s+ret i32 42/);
});

test('custominline inlines always_inline functions and __noinstrument__inline_ helpers only', () => {
  const ir = `define i32 @__noinstrument__inline_inc(i32 %a) { %r = add i32 %a, 1
  ret i32 %r }
define i32 @forced(i32 %a) alwaysinline { %r = mul i32 %a, 3
  ret i32 %r }
define i32 @normal(i32 %a) { %r = sub i32 %a, 5
  ret i32 %r }
define i32 @f(i32 %x) {
  %a = call i32 @__noinstrument__inline_inc(i32 %x)
  %b = call i32 @forced(i32 %a)
  %c = call i32 @normal(i32 %b)
  ret i32 %c
}
`;
  const f = opt('custominline', ir).split('define i32 @f(')[1]!;
  assert.doesNotMatch(f, /call i32 @__noinstrument__inline_inc/);
  assert.doesNotMatch(f, /call i32 @forced/);
  assert.match(f, /add i32 %x, 1/);
  assert.match(f, /mul i32/);
  assert.match(f, /call i32 @normal/);
});

test('defer-global-init zeroes initializers and stores them from an early constructor', () => {
  const out = opt(
    'defer-global-init',
    `@g = global [3 x i32] [i32 1, i32 2, i32 3]
@z = global i32 0
@c = constant i32 7
define ptr @f() { ret ptr @g }
`,
  );
  assert.match(out, /@g = global \[3 x i32\] zeroinitializer/);
  assert.match(out, /@c = constant i32 7/);
  assert.match(out, /@llvm.global_ctors = .*i32 0, ptr @__noinstrument_defer_global_init/);
  assert.match(out, /store \[3 x i32\] \[i32 1, i32 2, i32 3\], ptr @g/);
  assert.doesNotMatch(out, /store i32 0, ptr @z/);
});

test('expand-const-global-uses turns constant expressions in functions into instructions', () => {
  const ir = `@g = global [4 x i32] zeroinitializer
@p = global ptr getelementptr (i8, ptr @g, i64 8)
define i32 @f() {
  %v = load i32, ptr getelementptr inbounds ([4 x i32], ptr @g, i64 0, i64 2)
  ret i32 %v
}
`;
  const out = opt('expand-const-global-uses', ir);
  assert.match(out, /%\d+ = getelementptr inbounds.*ptr @g/);
  assert.match(out, /load i32, ptr %\d+/);
  assert.match(out, /@p = global ptr getelementptr/, 'initializers of globals stay constant');
  // without the pass, the operand stays a constant expression
  assert.doesNotMatch(
    execFileSync('opt-22', ['-passes=verify', '-S', join(root, 'in.ll'), '-o', '-'], { encoding: 'utf8' }),
    /%\d+ = getelementptr/,
  );
});

// The same plugin sources, options and flags work with both supported LLVM versions: clang 19
// parses -mllvm before it loads a -fpass-plugin plugin, and no clang loads it for assembly.
for (const [v, p] of [
  [llvm, passes],
  [llvm19, passes19],
] as const) {
  const nm = (file: string) => execFileSync('llvm-nm-22', [file], { encoding: 'utf8' });

  test(`LLVM ${v.version}: passes and their options work at compile time (-fpass-plugin) and in lld at link time`, async () => {
    const src = join(root, `prog${v.version}.c`);
    writeFileSync(src, 'int g(void){ return 1; }\nint main(void){ return g() - 1; }\n');
    const plugin = p.pluginPath(ctx);

    const compile = ctx.clone();
    await new Clang(v).configure(compile);
    p.configure(compile);
    LLVMPasses.runPasses(compile, 'start', 'marker');
    LLVMPasses.addCompileTimeOptions(compile, '-marker-tag=cc');
    // loading and options each travel as one group, and a second call adds nothing
    p.configure(compile);
    LLVMPasses.addCompileTimeOptions(compile, '-marker-tag=cc');
    assert.equal(
      compile.cflags.join(' '),
      `-O2 -fpass-plugin=${plugin} -Xclang=-load -Xclang=${plugin} -Xclang=-mllvm -Xclang=-infra-start-passes=marker -Xclang=-mllvm -Xclang=-marker-tag=cc`,
    );
    assert.deepEqual(compile.buildInputs, [plugin], 'targets rebuild when the plugin changes');
    await run(compile, [compile.cc, ...compile.cflags, '-c', src, '-o', join(root, `prog${v.version}.o`)]);
    assert.match(nm(join(root, `prog${v.version}.o`)), /R infra_\w+_cc_2/);

    const link = ctx.clone();
    await new Clang(v).configure(link);
    p.configure(link, { compileTime: false, linkTime: true });
    LLVMPasses.runPasses(link, 'lto', 'marker');
    LLVMPasses.addLinkTimeOptions(link, '-marker-tag=lld');
    assert.equal(link.runenv.INFRA_LTO_OPTIONS, '-infra-lto-passes=marker -marker-tag=lld');
    assert.ok(link.ldflags.includes(`-Wl,--load-pass-plugin=${plugin}`) && link.ldflags.includes('-fuse-ld=lld'));
    assert.deepEqual(link.buildInputs, [plugin]);
    await run(link, [link.cc, ...link.cflags, ...link.ldflags, src, '-o', join(root, `prog${v.version}`)]);
    assert.match(nm(join(root, `prog${v.version}`)), /R infra_\w+_lld_\d/);
  });

  test(`LLVM ${v.version}: assembly sources build with the pass flags (the assembler never sees pass options)`, async () => {
    const c = ctx.clone();
    await new Clang(v).configure(c);
    p.configure(c);
    LLVMPasses.runPasses(c, 'last', 'marker');
    // preprocessed assembly, as zstd's huf_decompress_amd64.S, and plain assembly
    writeFileSync(join(root, 'twice.S'), '#define NAME twice\n.text\n.globl NAME\nNAME:\n  lea (%rdi,%rdi), %rax\n  ret\n');
    writeFileSync(join(root, 'ident.s'), '.text\n.globl ident\nident:\n  mov %rdi, %rax\n  ret\n');
    writeFileSync(join(root, 'asm-main.c'), 'long twice(long); long ident(long);\nint main(void){ return (int)(twice(ident(3)) - 6); }\n');
    for (const s of ['twice.S', 'ident.s']) {
      const r = await run(c, [c.cc, ...c.cflags, '-c', s, '-o', s + '.o'], { cwd: root, silent: true });
      assert.doesNotMatch(r.stderr, /Unknown command line argument/);
    }
    // and compiled together with C in one command, which the pass instruments
    const exe = join(root, `asm${v.version}`);
    await run(c, [c.cc, ...c.cflags, ...c.ldflags, 'asm-main.c', 'twice.S', 'ident.s.o', '-o', exe], { cwd: root, silent: true });
    execFileSync(exe);
    assert.match(nm(exe), /R infra_\w+_x_1/);
  });

  test(`LLVM ${v.version}: built-in passes at compile time (defer-global-init) and in lld (dump-ir)`, async () => {
    const c = ctx.clone();
    await new Clang(v).configure(c);
    p.configure(c);
    // after optimization: at the start, GlobalOpt would evaluate the constructor and fold it back
    LLVMPasses.runPasses(c, 'last', 'defer-global-init');
    const src = join(root, 'glob.c');
    writeFileSync(
      src,
      '#include <stdio.h>\nint tab[4] = {3, 1, 4, 1}; const char *msg = "pi";\nint main(void){ printf("%s %d%d%d%d\\n", msg, tab[0], tab[1], tab[2], tab[3]); return 0; }\n',
    );
    await run(c, [c.cc, ...c.cflags, '-S', '-emit-llvm', src, '-o', join(root, `glob${v.version}.ll`)]);
    assert.match(readFileSync(join(root, `glob${v.version}.ll`), 'utf8'), /@tab = .*zeroinitializer/);
    await run(c, [c.cc, ...c.cflags, ...c.ldflags, src, '-o', join(root, `glob${v.version}`)]);
    assert.equal(execFileSync(join(root, `glob${v.version}`), { encoding: 'utf8' }), 'pi 3141\n');

    // and a built-in pass with an option of its own at link time, in lld: the whole program's IR
    const l = ctx.clone();
    await new Clang(v).configure(l);
    p.configure(l, { compileTime: false, linkTime: true });
    LLVMPasses.runPasses(l, 'lto', 'dump-ir');
    const dumped = join(root, `whole${v.version}.ll`);
    LLVMPasses.addLinkTimeOptions(l, `-dump-ir-file=${dumped}`);
    const exe = join(root, `glob-lto${v.version}`);
    await run(l, [l.cc, ...l.cflags, ...l.ldflags, src, '-o', exe], { cwd: root, silent: true });
    assert.match(readFileSync(dumped, 'utf8'), /@tab = .*\[i32 3, i32 1, i32 4, i32 1\][\s\S]*define .*@main\(/);
    assert.equal(execFileSync(exe, { encoding: 'utf8' }), 'pi 3141\n');
  });
}

test('pkg-config options point at the plugin, headers, runtime headers and objects', () => {
  const opts = Object.fromEntries(passes.pkgConfigOptions(ctx).map((o) => [o.option, o.value]));
  assert.equal(opts['--plugin'], so());
  assert.deepEqual(opts['--cxxflags'], [`-I${join(PASSES_DIR, 'include')}`, `-I${join(root, 'llvm-passes')}`]);
  assert.deepEqual(opts['--runtime-cflags'], [`-I${join(PASSES_DIR, 'runtime-include')}`]);
  assert.equal(opts['--objdir'], join(root, 'build/packages/llvm-passes-test/obj'));
});

test('an unknown pass name is a clear error listing the known ones', async () => {
  const c = ctx.clone();
  await new Clang(llvm).configure(c);
  passes.configure(c);
  LLVMPasses.runPasses(c, 'start', 'no-such-pass');
  const src = join(root, 'empty.c');
  writeFileSync(src, 'int x;\n');
  const r = await run(c, [c.cc, ...c.cflags, '-c', src, '-o', join(root, 'empty.o')], { allowError: true });
  assert.notEqual(r.exitCode, 0);
  assert.match(r.stderr, /unknown pass 'no-such-pass'; known passes: .*custominline/);
  assert.doesNotMatch(r.stderr, /PLEASE submit a bug report/);
});

// the sizeof-types analysis, in the same plugin (a consumer pass among the user's passes)
describe('sizeof-types', () => {
  test('the three sizeof allocations get their type names, malloc(64) none', async () => {
    const c = await wrapped();
    assert.equal(c.cc, SIZEOF_TYPES_CC);
    // a changed wrapper or plugin rebuilds the targets compiled through them
    assert.deepEqual([...c.buildInputs].sort(), [passes.pluginPath(c), SIZEOF_TYPES_CC, SIZEOF_TYPES_CXX].sort());
    const { ir, calls } = await compileIR(c, 'allocs.c', ALLOCS);
    assert.deepEqual(
      calls.map((x) => [x.call.replace(/%\w+/, 'n'), x.type]),
      [
        ['malloc(8)', 'struct point'],
        ['calloc(n, 8)', 'long'],
        ['malloc(160)', 'struct node'],
        ['malloc(64)', undefined],
      ],
    );
    // the wrapper added debug locations for matching; without -g the pass takes them out again
    assert.doesNotMatch(ir, /!llvm\.dbg\.cu|DILocation/);

    // and the program is still the same program
    await run(c, [c.cc, ...c.cflags, ...c.ldflags, join(root, 'allocs.c'), '-o', join(root, 'allocs')], { cwd: root, silent: true });
    assert.equal(execFileSync(join(root, 'allocs'), { encoding: 'utf8' }), '1\n');
  });

  test('without the wrapper the pass says what is missing and types nothing', async () => {
    const c = ctx.clone();
    await new Clang(llvm).configure(c);
    passes.configure(c);
    LLVMPasses.runPasses(c, 'start', 'sizeof-types');
    const { stderr, calls } = await compileIR(c, 'plain.c', ALLOCS);
    assert.match(stderr, /sizeof-types: no allocation table .*compile with the sizeof-types compiler wrapper/);
    assert.equal(calls.length, 4);
    assert.ok(calls.every((x) => x.type === undefined));
  });

  test('typedefs, sizeof of an expression, macros, configured allocators; ambiguous sites stay untyped', async () => {
    const c = await wrapped();
    c.runenv.INFRA_SIZEOF_ALLOC_FUNCS = 'xalloc:1';
    const { calls } = await compileIR(
      c,
      'forms.c',
      `#include <stdlib.h>
  typedef struct point { int x, y; } point_t;
  struct big { char b[100]; };
  void *xalloc(int tag, unsigned long size);
  #define NEW(T) ((T *)malloc(sizeof(T)))
  #define TWO(A, B) (malloc(sizeof(A)) == malloc(sizeof(B)))
  void *sink(void *p);
  int main(void) {
    point_t *p = malloc(sizeof(point_t));
    struct big *q = malloc(sizeof *q);
    sink(NEW(struct big));
    sink(realloc(p, 3 * sizeof(const point_t)));
    sink(xalloc(7, 2 * sizeof(double)));
    return TWO(int, struct big) + (q != 0);
  }
  `,
      ['-O0'],
    );
    assert.deepEqual(
      calls.map((x) => [x.call.replace(/(ptr noundef )?%[\w.]+/g, '_'), x.type]),
      [
        ['malloc(8)', 'struct point'],
        ['malloc(100)', 'struct big'],
        ['malloc(100)', 'struct big'],
        ['realloc(_, 24)', 'struct point'],
        ['xalloc(i32 noundef 7, 16)', 'double'],
        ['malloc(4)', undefined],
        ['malloc(100)', undefined],
      ],
    );
  });

  test('with -g the debug information stays; a pass reads the types through SizeofTypes.h', async () => {
    const c = await wrapped();
    LLVMPasses.runPasses(c, 'start', 'print-alloc-types');
    const { ir, stderr } = await compileIR(c, 'debug.c', ALLOCS, ['-g']);
    assert.match(ir, /!llvm\.dbg\.cu/);
    assert.equal(
      stderr
        .split('\n')
        .filter((l) => l.startsWith('alloc-type:'))
        .join('\n'),
      'alloc-type: main malloc struct point\nalloc-type: main calloc long\nalloc-type: main malloc struct node',
    );
  });

  test('compiling and linking several sources in one command types each of them', async () => {
    const c = await wrapped();
    LLVMPasses.runPasses(c, 'start', 'print-alloc-types');
    mkdirSync(join(root, 'lib'), { recursive: true });
    writeFileSync(
      join(root, 'lib', 'list.c'),
      '#include <stdlib.h>\nstruct item { int v; struct item *next; };\nvoid *push(void) { return malloc(sizeof(struct item)); }\n',
    );
    writeFileSync(
      join(root, 'main2.c'),
      '#include <stdlib.h>\nvoid *push(void);\nint main(void) { short *s = calloc(4, sizeof(short)); return !(s && push()); }\n',
    );
    const r = await run(c, [c.cc, ...c.cflags, ...c.ldflags, 'main2.c', 'lib/list.c', '-o', 'prog2'], { cwd: root, silent: true });
    assert.deepEqual(
      r.stderr
        .split('\n')
        .filter((l) => l.startsWith('alloc-type:'))
        .sort(),
      ['alloc-type: main calloc short', 'alloc-type: push malloc struct item'],
    );
    execFileSync(join(root, 'prog2'));
  });

  test('compile errors come from the compiler, with its exit status', async () => {
    const c = await wrapped();
    writeFileSync(join(root, 'broken.c'), 'int main(void) { return missing; }\n');
    const r = await run(c, [c.cc, ...c.cflags, '-c', 'broken.c', '-o', 'broken.o'], { cwd: root, allowError: true, silent: true });
    assert.equal(r.exitCode, 1);
    assert.equal(r.stderr.match(/use of undeclared identifier 'missing'/g)?.length, 1, 'reported once, not by the analysis too');
  });
});
