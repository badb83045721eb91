// The README's paper workflow, step by step through the real CLI: a project made by `infra init`,
// the bundled kernels added, built and run with the baseline and the instrumented instance, an
// overhead report with a page, figures and a LaTeX table, then a change to the pass, a rebuild
// and a comparison of the runs before and after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, runInfra } from './helpers.ts';

test('paper workflow: overhead report with page, figures and LaTeX, then compare before and after a change to the pass', () => {
  const parent = mkdtempSync(join(tmpdir(), 'infra-paper-'));
  assert.equal(runInfra(parent, ['init', 'paper', '--link']).code, 0);
  const dir = join(parent, 'paper');
  // what `npm install` makes of the project's package.json, offline
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(REPO, join(dir, 'node_modules', 'instrumentation-infra'));

  // 1. the bundled kernels as a target
  const setup = readFileSync(join(dir, 'setup.ts'), 'utf8')
    .replace('  Clang,\n', '  Clang,\n  Kernels,\n')
    .replace('setup.addTarget(new HelloWorld());', 'setup.addTarget(new HelloWorld());\nsetup.addTarget(new Kernels());');
  writeFileSync(join(dir, 'setup.ts'), setup);
  const infra = (...args: string[]) => {
    const r = runInfra(dir, args, { timeoutMs: 1_200_000 });
    assert.equal(r.code, 0, `infra ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
    return r;
  };

  // 2.-3. build both instances in parallel, run 4 iterations (the fewest the test accepts)
  infra('build', 'kernels', 'clang', 'libcallcount', '--parallel', 'proc');
  infra('run', 'kernels', 'clang', 'libcallcount', '-i', '4', '--test');
  const before = realpathSync(join(dir, 'results', 'last'));

  // 4. the overhead table, then the page, the figures and the LaTeX table
  const table = infra('report', 'kernels', 'results/last', '--overhead', 'clang').stdout;
  assert.match(table, /│ geomean +│/);
  assert.match(table, /Overheads: libcallcount relative to 'clang'/);
  infra('report', 'kernels', 'results/last', '--overhead', 'clang', '--html', 'paper/report.html', '--figures', 'paper/figures');
  infra('report', 'kernels', 'results/last', '--overhead', 'clang', '--table', 'latex', '-o', 'paper/overhead.tex');
  assert.match(readFileSync(join(dir, 'paper', 'report.html'), 'utf8'), /<svg/);
  assert.deepEqual(readdirSync(join(dir, 'paper', 'figures')).sort(), [
    'overhead-maxrss-median.svg',
    'overhead-runtime-median.svg',
    'samples-maxrss.svg',
    'samples-runtime.svg',
  ]);
  const tex = readFileSync(join(dir, 'paper', 'overhead.tex'), 'utf8');
  assert.match(tex, /\\toprule[\s\S]*\\multicolumn\{\d\}\{c\}\{libcallcount\}[\s\S]*geomean[\s\S]*\\bottomrule/);

  // 5. a change to the pass: the plugin and the instrumented kernels are rebuilt, the baseline not
  const pass = join(dir, 'llvm-passes', 'LibCallCount.cpp');
  const atomic = `        B.CreateAtomicRMW(AtomicRMWInst::Add, Counter, ConstantInt::get(I64, 1), MaybeAlign(8),
                          AtomicOrdering::Monotonic);`;
  const source = readFileSync(pass, 'utf8');
  assert.ok(source.includes(atomic), 'the scaffold pass increments atomically');
  writeFileSync(
    pass,
    source.replace(atomic, '        B.CreateStore(B.CreateAdd(B.CreateLoad(I64, Counter), ConstantInt::get(I64, 1)), Counter);'),
  );
  const rerun = infra('run', '--build', 'kernels', 'clang', 'libcallcount', '-i', '4', '--test');
  assert.match(rerun.stderr, /compiling LibCallCount\.cpp \(llvm-passes-example\)/);
  assert.match(rerun.stderr, /building kernels\/matmul for libcallcount/);
  assert.doesNotMatch(rerun.stderr, /building kernels\/matmul for clang/);

  const compare = infra('compare', before, 'results/last', '-i', 'libcallcount').stdout;
  assert.match(compare, /libcallcount/);
  assert.match(compare, /runtime B\/A/);
  assert.match(compare, /│ geomean +│.*(improved|regressed|unchanged)/);
  assert.match(compare, new RegExp(`A: ${before.replace(/[.]/g, '\\.')}`));
});
