import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { init } from '../src/commands/init.js';
import { Context, buildEnv, makePaths } from '../src/core/context.js';
import { Logger } from '../src/core/log.js';
import { run } from '../src/exec/run.js';
import { Clang } from '../src/instances/clang.js';
import { LLVM } from '../src/packages/llvm.js';
import { LLVMPasses } from '../src/packages/llvm-passes.js';
import { RuntimeLibrary } from '../src/packages/runtime-library.js';
import { runInfra } from './helpers.js';

// hello 3: strtol once, puts three times, then malloc, snprintf, printf, free once each
const EXPECTED = { strtol: 1, puts: 3, malloc: 1, snprintf: 1, printf: 1, free: 1 };
// in lld the pass sees the program as compiled with -O2, where printf("...\n") became puts
const EXPECTED_LTO = { strtol: 1, puts: 4, malloc: 1, snprintf: 1, free: 1 };

function counts(stderr: string): Record<string, number> {
  const block = /\[setup-report\] begin libcallcount\n([\s\S]*?)\[setup-report\] end libcallcount/.exec(stderr);
  assert.ok(block, `no libcallcount block in:\n${stderr}`);
  return Object.fromEntries(
    block[1]!
      .trim()
      .split('\n')
      .map((l) => /calls_(\w+): (\d+)/.exec(l)!)
      .map((m) => [m[1]!, Number(m[2])]),
  );
}

async function quietInit(dir: string, force = false): Promise<string[]> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await init({ dir, force });
  } finally {
    process.stdout.write = write;
  }
}

test('init writes the scaffold and refuses a non-empty directory without --force', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'infra-init-')), 'proj');
  const files = await quietInit(dir);
  assert.deepEqual(files, [
    '.gitignore',
    'README.md',
    'hello-world/Makefile',
    'hello-world/hello.c',
    'llvm-passes/LibCallCount.cpp',
    'package.json',
    'runtime/libcallcount.c',
    'setup.ts',
    'tsconfig.json',
  ]);
  const readme = readFileSync(join(dir, 'README.md'), 'utf8');
  for (const f of files.filter((f) => f !== 'README.md')) assert.ok(readme.includes(`\`${f}\``), `README explains ${f}`);
  await assert.rejects(quietInit(dir), /not empty.*--force/);
  writeFileSync(join(dir, 'setup.ts'), '// mine\n');
  await quietInit(dir, true);
  assert.match(readFileSync(join(dir, 'setup.ts'), 'utf8'), /new LibcallCount\(llvm\)/);
});

test('the scaffold pieces work with Debian LLVM 22: pass + runtime count library calls exactly', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'infra-init-')), 'proj');
  await quietInit(dir);
  const ctx = new Context(makePaths(dir, join(dir, 'setup.ts'), 'test'), new Logger('warning'));
  const llvm = LLVM.installed({ version: '22' });
  const passes = new LLVMPasses(llvm, { srcdir: 'llvm-passes', name: 'example' });
  const runtime = new RuntimeLibrary({ name: 'libcallcount', srcdir: 'runtime', cflags: passes.runtimeCflags() });
  for (const p of [passes, runtime]) {
    await p.build(ctx);
    await p.install(ctx);
    assert.equal(await p.isInstalled(ctx), true);
  }
  const c = ctx.clone();
  await new Clang(llvm).configure(c);
  passes.configure(c);
  LLVMPasses.runPasses(c, 'start', 'libcallcount');
  runtime.configure(c);
  const out = join(dir, 'out');
  mkdirSync(out);
  writeFileSync(join(out, 'cflags.txt'), '');
  writeFileSync(join(out, 'ldflags.txt'), '');
  await run(c, ['make', `OUT=${out}`, `CC=${c.cc}`, `CFLAGS=${c.cflags.join(' ')}`, `LDFLAGS=${c.ldflags.join(' ')}`], {
    cwd: join(dir, 'hello-world'),
  });
  const r = spawnSync(join(out, 'hello'), ['3'], { encoding: 'utf8', env: buildEnv(process.env, c.runenv) });
  assert.equal(r.status, 0);
  assert.equal(r.stdout, 'hello, world\n'.repeat(3) + '3 greetings\n');
  assert.deepEqual(counts(r.stderr), EXPECTED);
  const r5 = spawnSync(join(out, 'hello'), ['5'], { encoding: 'utf8' });
  assert.equal(counts(r5.stderr).puts, 5);

  // the same pass at link time, in lld (full LTO)
  const lto = ctx.clone();
  await new Clang(llvm).configure(lto);
  passes.configure(lto, { compileTime: false, linkTime: true });
  LLVMPasses.runPasses(lto, 'lto', 'libcallcount');
  runtime.configure(lto);
  await run(lto, [lto.cc, ...lto.cflags, ...lto.ldflags, join(dir, 'hello-world', 'hello.c'), '-o', join(out, 'hello-lto')], {
    silent: true,
  });
  assert.deepEqual(
    counts(spawnSync(join(out, 'hello-lto'), ['3'], { encoding: 'utf8', env: buildEnv(process.env, lto.runenv) }).stderr),
    EXPECTED_LTO,
  );

  // build systems that link with CFLAGS only (sqlite's build tools) or with CFLAGS and LDFLAGS
  // (most) get the runtime exactly once; compiling alone ignores it without a warning
  const src = join(dir, 'hello-world', 'hello.c');
  const compiled = await run(c, [c.cc, ...c.cflags, '-c', src, '-o', join(out, 'alone.o')], { silent: true });
  assert.equal(compiled.stderr, '');
  for (const [name, flags] of [
    ['cflags-only', c.cflags],
    ['both', [...c.cflags, ...c.ldflags]],
  ] as const) {
    await run(c, [c.cc, ...flags, src, '-o', join(out, name)], { silent: true });
    assert.deepEqual(counts(spawnSync(join(out, name), ['3'], { encoding: 'utf8' }).stderr), EXPECTED, name);
  }
});

test('infra init + infra run --build: counts are right, and a changed pass rebuilds only what uses it', () => {
  const parent = mkdtempSync(join(tmpdir(), 'infra-init-e2e-'));
  const made = runInfra(parent, ['init', 'proj']);
  assert.equal(made.code, 0, made.stderr);
  const dir = join(parent, 'proj');
  const first = runInfra(dir, ['run', '--build', 'hello-world', 'clang', 'libcallcount']);
  assert.equal(first.code, 0, first.stderr + first.stdout);
  const stderrLog = join(dir, 'results', 'last', 'logs', 'hello-world', 'libcallcount', 'hello.0.stderr');
  assert.deepEqual(counts(readFileSync(stderrLog, 'utf8')), EXPECTED);
  assert.doesNotMatch(readFileSync(join(dir, 'results', 'last', 'logs', 'hello-world', 'clang', 'hello.0.stderr'), 'utf8'), /libcallcount/);

  // count only puts from now on: the pass changes, the plugin and the libcallcount build follow
  const pass = join(dir, 'llvm-passes', 'LibCallCount.cpp');
  writeFileSync(
    pass,
    readFileSync(pass, 'utf8').replace('return Callee.isDeclaration()', 'return Callee.getName() == "puts" && Callee.isDeclaration()'),
  );
  const runlog = join(dir, 'build', 'log', 'commands.txt');
  const logBefore = readFileSync(runlog, 'utf8').length;
  const second = runInfra(dir, ['run', '--build', 'hello-world', 'clang', 'libcallcount']);
  assert.equal(second.code, 0, second.stderr + second.stdout);
  assert.deepEqual(counts(readFileSync(stderrLog, 'utf8')), { puts: 3 });
  const commands = readFileSync(runlog, 'utf8')
    .slice(logBefore)
    .split('\n')
    .filter((l) => l.startsWith('$ '));
  const compiled = commands.filter((l) => / -c \S+\.cpp /.test(l));
  assert.equal(compiled.length, 1, `only the changed pass is compiled:\n${compiled.join('\n')}`);
  assert.match(compiled[0]!, /LibCallCount\.cpp/);
  // make echoes the commands it runs; they are in the log as the make command's output
  const makeOutput = readFileSync(runlog, 'utf8')
    .slice(logBefore)
    .split('\n')
    .filter((l) => / -c hello\.c /.test(l));
  assert.equal(makeOutput.length, 1, `hello.c is recompiled for libcallcount only:\n${makeOutput.join('\n')}`);
  assert.match(makeOutput[0]!, /-fpass-plugin=/);
  assert.equal(commands.filter((l) => /libcallcount\.c/.test(l) && / -c /.test(l)).length, 0, 'the runtime is not recompiled');
  // clang's binary was left alone
  const clangOut = execFileSync(
    'make',
    ['-n', `OUT=${join(dir, 'build', 'targets', 'hello-world', 'clang')}`, 'CC=/usr/lib/llvm-22/bin/clang'],
    { cwd: join(dir, 'hello-world'), encoding: 'utf8' },
  );
  assert.doesNotMatch(clangOut, /hello\.c/);

  // a changed runtime library (rebuilt by its package) is linked again into libcallcount's program only
  const binary = (inst: string) => join(dir, 'build', 'targets', 'hello-world', inst, 'hello');
  const before = { clang: statSync(binary('clang')).mtimeMs, libcallcount: statSync(binary('libcallcount')).mtimeMs };
  appendFileSync(join(dir, 'runtime', 'libcallcount.c'), '\n/* changed */\n');
  const third = runInfra(dir, ['build', 'hello-world', 'clang', 'libcallcount']);
  assert.equal(third.code, 0, third.stderr + third.stdout);
  assert.equal(statSync(binary('clang')).mtimeMs, before.clang);
  assert.notEqual(statSync(binary('libcallcount')).mtimeMs, before.libcallcount);
});

test('the scaffold works with Debian LLVM 19 too, its pass at compile time and in lld (infra run --build)', () => {
  const parent = mkdtempSync(join(tmpdir(), 'infra-init-19-'));
  assert.equal(runInfra(parent, ['init', 'proj']).code, 0);
  const dir = join(parent, 'proj');
  const setup = join(dir, 'setup.ts');
  // and the same pass at link time, in lld (full LTO)
  const lto = `class LibcallCountLto extends Clang {
  override readonly name = 'libcallcount-lto';
  override dependencies() {
    return [...super.dependencies(), passes, runtime];
  }
  override configure(ctx: Context) {
    super.configure(ctx);
    passes.configure(ctx, { compileTime: false, linkTime: true });
    LLVMPasses.runPasses(ctx, 'lto', 'libcallcount');
    runtime.configure(ctx);
  }
}
setup.addInstance(new LibcallCountLto(llvm));
await setup.main();`;
  writeFileSync(
    setup,
    readFileSync(setup, 'utf8')
      .replace("LLVM.installed({ version: '22' })", "LLVM.installed({ version: '19' })")
      .replace('await setup.main();', lto),
  );
  const r = runInfra(dir, ['run', '--build', 'hello-world', 'libcallcount', 'libcallcount-lto']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  for (const [instance, expected] of [
    ['libcallcount', EXPECTED],
    ['libcallcount-lto', EXPECTED_LTO],
  ] as const) {
    const stderrLog = join(dir, 'results', 'last', 'logs', 'hello-world', instance, 'hello.0.stderr');
    assert.deepEqual(counts(readFileSync(stderrLog, 'utf8')), expected, instance);
  }
  assert.ok(readFileSync(join(dir, 'build', 'targets', 'hello-world', 'libcallcount', 'hello')).includes('clang version 19'));
});

test('the scaffold target refuses a stale binary, saying what changed, and --dry-run writes nothing', () => {
  const parent = mkdtempSync(join(tmpdir(), 'infra-init-stale-'));
  assert.equal(runInfra(parent, ['init', 'proj']).code, 0);
  const dir = join(parent, 'proj');
  // an instance whose flags come from the environment: changing it makes the last build stale
  const setup = join(dir, 'setup.ts');
  writeFileSync(
    setup,
    readFileSync(setup, 'utf8').replace(
      'await setup.main();',
      `class Flagged extends Clang {
  override readonly name = 'flagged';
  override configure(ctx: Context) {
    super.configure(ctx);
    ctx.cflags.push(...(process.env.EXTRA_CFLAGS ?? '').split(' ').filter(Boolean));
  }
}
setup.addInstance(new Flagged(llvm));
await setup.main();`,
    ),
  );
  const dry = runInfra(dir, ['build', 'hello-world', 'flagged', '--dry-run']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /make .*CC=\S*clang/);
  assert.ok(!existsSync(join(dir, 'build', 'targets')), 'a dry run writes no directory, flags file, binary or stamp');

  const notBuilt = runInfra(dir, ['run', 'hello-world', 'flagged']);
  assert.notEqual(notBuilt.code, 0);
  assert.match(
    notBuilt.stderr,
    /hello-world for flagged is not built; build it with `infra build hello-world flagged` \(or use run --build\)/,
  );

  assert.equal(runInfra(dir, ['build', 'hello-world', 'flagged']).code, 0);
  const stale = runInfra(dir, ['run', 'hello-world', 'flagged'], { env: { EXTRA_CFLAGS: '-fno-inline' } });
  assert.notEqual(stale.code, 0);
  assert.match(
    stale.stderr,
    /hello-world for flagged is out of date: cflags: '-O2' -> '-O2 -fno-inline'; rebuild it with `infra build hello-world flagged` \(or use run --build\)/,
  );
  const dryStale = runInfra(dir, ['run', 'hello-world', 'flagged', '--dry-run'], { env: { EXTRA_CFLAGS: '-fno-inline' } });
  assert.equal(dryStale.code, 0, 'a dry run refuses nothing: ' + dryStale.stderr);
  const fresh = runInfra(dir, ['run', 'hello-world', 'flagged']);
  assert.equal(fresh.code, 0, fresh.stderr);
});
