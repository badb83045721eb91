import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Context, makePaths } from '../src/core/context.js';
import { Logger } from '../src/core/log.js';
import { run } from '../src/exec/run.js';
import { Clang } from '../src/instances/clang.js';
import { LLVM } from '../src/packages/llvm.js';
import { LLVMPasses, SIZEOF_TYPES_CC, SIZEOF_TYPES_CXX } from '../src/packages/llvm-passes.js';

const llvm = LLVM.installed({ version: '22' });
const root = mkdtempSync(join(tmpdir(), 'infra-sizeof-'));
const ctx = new Context(makePaths(root, join(root, 'setup.ts'), 'test'), new Logger('warning'));
const passes = new LLVMPasses(llvm, { srcdir: 'llvm-passes', name: 'sizeof', useBuiltins: true });

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
async function compileIR(c: Context, name: string, source: string, extra: string[] = []): Promise<{ ir: string; stderr: string; calls: Array<{ call: string; type: string | undefined }> }> {
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

before(async () => {
  mkdirSync(join(root, 'llvm-passes'));
  writeFileSync(join(root, 'llvm-passes', 'PrintAllocTypes.cpp'), PRINT_PASS);
  await passes.build(ctx);
  await passes.install(ctx);
});

after(() => rmSync(root, { recursive: true, force: true }));

test('the three sizeof allocations get their type names, malloc(64) none', async () => {
  const c = await wrapped();
  assert.equal(c.cc, SIZEOF_TYPES_CC);
  // a changed wrapper or plugin rebuilds the targets compiled through them
  assert.deepEqual([...c.buildInputs].sort(), [passes.pluginPath(c), SIZEOF_TYPES_CC, SIZEOF_TYPES_CXX].sort());
  const { ir, calls } = await compileIR(c, 'allocs.c', ALLOCS);
  assert.deepEqual(calls.map((x) => [x.call.replace(/%\w+/, 'n'), x.type]), [
    ['malloc(8)', 'struct point'],
    ['calloc(n, 8)', 'long'],
    ['malloc(160)', 'struct node'],
    ['malloc(64)', undefined],
  ]);
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
  const { calls } = await compileIR(c, 'forms.c', `#include <stdlib.h>
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
`, ['-O0']);
  assert.deepEqual(calls.map((x) => [x.call.replace(/(ptr noundef )?%[\w.]+/g, '_'), x.type]), [
    ['malloc(8)', 'struct point'],
    ['malloc(100)', 'struct big'],
    ['malloc(100)', 'struct big'],
    ['realloc(_, 24)', 'struct point'],
    ['xalloc(i32 noundef 7, 16)', 'double'],
    ['malloc(4)', undefined],
    ['malloc(100)', undefined],
  ]);
});

test('with -g the debug information stays; a pass reads the types through SizeofTypes.h', async () => {
  const c = await wrapped();
  LLVMPasses.runPasses(c, 'start', 'print-alloc-types');
  const { ir, stderr } = await compileIR(c, 'debug.c', ALLOCS, ['-g']);
  assert.match(ir, /!llvm\.dbg\.cu/);
  assert.equal(stderr.split('\n').filter((l) => l.startsWith('alloc-type:')).join('\n'),
    'alloc-type: main malloc struct point\nalloc-type: main calloc long\nalloc-type: main malloc struct node');
});

test('compiling and linking several sources in one command types each of them', async () => {
  const c = await wrapped();
  LLVMPasses.runPasses(c, 'start', 'print-alloc-types');
  mkdirSync(join(root, 'lib'), { recursive: true });
  writeFileSync(join(root, 'lib', 'list.c'), '#include <stdlib.h>\nstruct item { int v; struct item *next; };\nvoid *push(void) { return malloc(sizeof(struct item)); }\n');
  writeFileSync(join(root, 'main2.c'), '#include <stdlib.h>\nvoid *push(void);\nint main(void) { short *s = calloc(4, sizeof(short)); return !(s && push()); }\n');
  const r = await run(c, [c.cc, ...c.cflags, ...c.ldflags, 'main2.c', 'lib/list.c', '-o', 'prog2'], { cwd: root, silent: true });
  assert.deepEqual(r.stderr.split('\n').filter((l) => l.startsWith('alloc-type:')).sort(), ['alloc-type: main calloc short', 'alloc-type: push malloc struct item']);
  execFileSync(join(root, 'prog2'));
});

test('compile errors come from the compiler, with its exit status', async () => {
  const c = await wrapped();
  writeFileSync(join(root, 'broken.c'), 'int main(void) { return missing; }\n');
  const r = await run(c, [c.cc, ...c.cflags, '-c', 'broken.c', '-o', 'broken.o'], { cwd: root, allowError: true, silent: true });
  assert.equal(r.exitCode, 1);
  assert.equal(r.stderr.match(/use of undeclared identifier 'missing'/g)?.length, 1, 'reported once, not by the analysis too');
});
