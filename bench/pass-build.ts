// Time to build the `infra init` example (pass plugin + runtime library + hello-world with the
// pass) through the framework's packages, against the same work as hand-written commands.
// Cold = from nothing; warm = again with nothing changed (the framework should do ~nothing).
// Run: node --import tsx bench/pass-build.ts
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init } from '../src/commands/init.js';
import { Context, makePaths } from '../src/core/context.js';
import { Logger } from '../src/core/log.js';
import { run } from '../src/exec/run.js';
import { Clang } from '../src/instances/clang.js';
import { LLVM } from '../src/packages/llvm.js';
import { LLVMPasses, PASSES_DIR } from '../src/packages/llvm-passes.js';
import { RuntimeLibrary } from '../src/packages/runtime-library.js';

const dir = join(mkdtempSync(join(tmpdir(), 'infra-bench-pass-')), 'proj');
const quiet = process.stdout.write;
process.stdout.write = (() => true) as typeof process.stdout.write;
await init({ dir });
process.stdout.write = quiet;

const llvm = LLVM.installed({ version: '22' });
const ctx = new Context(makePaths(dir, join(dir, 'setup.ts'), 'bench'), new Logger('warning'));

async function viaInfra(): Promise<void> {
  const passes = new LLVMPasses(llvm, { srcdir: 'llvm-passes', name: 'example' });
  const runtime = new RuntimeLibrary({ name: 'libcallcount', srcdir: 'runtime', cflags: passes.runtimeCflags() });
  for (const p of [passes, runtime]) {
    if (!(await p.isInstalled(ctx))) {
      await p.build(ctx);
      await p.install(ctx);
    }
  }
  const c = ctx.clone();
  await new Clang(llvm).configure(c);
  passes.configure(c);
  LLVMPasses.runPasses(c, 'start', 'libcallcount');
  runtime.configure(c);
  const out = join(dir, 'build', 'targets', 'hello-world', 'libcallcount');
  mkdirSync(out, { recursive: true });
  for (const f of ['cflags.txt', 'ldflags.txt']) writeFileSync(join(out, f), '', { flag: 'a' });
  await run(c, ['make', `OUT=${out}`, `CC=${c.cc}`, `CFLAGS=${c.cflags.join(' ')}`, `LDFLAGS=${c.ldflags.join(' ')}`], {
    cwd: join(dir, 'hello-world'),
  });
}

function byHand(): void {
  const out = join(dir, 'hand');
  mkdirSync(out, { recursive: true });
  const sh = (argv: string[]) => execFileSync(argv[0]!, argv.slice(1), { cwd: dir, stdio: 'ignore' });
  const cxxflags = execFileSync('llvm-config-22', ['--cxxflags'], { encoding: 'utf8' }).trim().split(/\s+/);
  const inc = [`-I${join(PASSES_DIR, 'include')}`];
  sh([
    'clang++-22',
    ...cxxflags,
    '-fPIC',
    '-O2',
    '-g',
    ...inc,
    '-c',
    join(PASSES_DIR, 'plugin', 'Plugin.cpp'),
    '-o',
    join(out, 'Plugin.o'),
  ]);
  sh(['clang++-22', ...cxxflags, '-fPIC', '-O2', '-g', ...inc, '-c', 'llvm-passes/LibCallCount.cpp', '-o', join(out, 'LibCallCount.o')]);
  sh([
    'clang++-22',
    '-shared',
    '-fPIC',
    join(out, 'Plugin.o'),
    join(out, 'LibCallCount.o'),
    '-o',
    join(out, 'libpasses.so'),
    '-L/usr/lib/llvm-22/lib',
  ]);
  sh(['cc', '-O2', '-g', '-fPIC', `-I${join(PASSES_DIR, 'runtime-include')}`, '-c', 'runtime/libcallcount.c', '-o', join(out, 'rt.o')]);
  sh(['ar', 'rcs', join(out, 'librt.a'), join(out, 'rt.o')]);
  sh([
    'clang-22',
    '-O2',
    `-fpass-plugin=${join(out, 'libpasses.so')}`,
    '-mllvm=-infra-start-passes=libcallcount',
    '-c',
    'hello-world/hello.c',
    '-o',
    join(out, 'hello.o'),
  ]);
  sh(['clang-22', join(out, 'hello.o'), `-Wl,--whole-archive,${join(out, 'librt.a')},--no-whole-archive`, '-o', join(out, 'hello')]);
}

async function time(fn: () => unknown): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const rows: Array<[string, number]> = [];
rows.push(['hand-written commands, cold', await time(byHand)]);
rows.push(['through the infra, cold', await time(viaInfra)]);
rows.push(['through the infra, warm (no change)', await time(viaInfra)]);
rows.push(['hand-written commands, again (always redoes all)', await time(byHand)]);
for (const [what, s] of rows) console.log(`${what.padEnd(52)} ${s.toFixed(2)} s`);
rmSync(join(dir, '..'), { recursive: true, force: true });
