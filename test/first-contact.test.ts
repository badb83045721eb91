// A new user's first commands: help anywhere, a scaffold that tsc and editors accept, `infra check`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO, makeProject, runInfra } from './helpers.js';

const outside = () => mkdtempSync(join(tmpdir(), 'infra-outside-'));

test('outside a project: help, help CMD, --version and completion work and say how to start', () => {
  const dir = outside();
  for (const args of [[], ['--help'], ['help']]) {
    const r = runInfra(dir, args);
    assert.equal(r.code, 0, `infra ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /Commands:\n\s+init <dir>/);
    assert.match(r.stdout, /^\s+report <target> <rundirs\.\.\.>/m);
    assert.match(r.stdout, /No project here .*\n\s+infra init my-project/);
    assert.match(r.stdout, /infra run TARGET INSTANCE\.\.\. --help/);
  }
  const version = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
  assert.equal(runInfra(dir, ['--version']).stdout.trim(), version.version);
  for (const args of [
    ['help', 'report'],
    ['report', '--help'],
  ]) {
    const r = runInfra(dir, args);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage: infra report/);
    assert.match(r.stdout, /--overhead/);
    assert.match(r.stdout, /Global Options:[\s\S]*-v, --verbosity[\s\S]*-j, --jobs[\s\S]*--setup <file>/);
    assert.match(r.stdout, /Examples:\n\s+infra report hello-world results\/last/);
  }
  const completion = runInfra(dir, ['completion', 'bash']);
  assert.equal(completion.code, 0, completion.stderr);
  assert.match(completion.stdout, /complete -F _infra infra/);
  // a command that needs a project says how to make one, and leaves nothing behind
  const build = runInfra(dir, ['-v', 'debug', 'build', 'hello-world', 'clang']);
  assert.equal(build.code, 2);
  assert.match(build.stderr, /no setup script found.*infra init DIR/);
  assert.ok(!existsSync(join(dir, 'build')), 'no build/ outside a project');
});

/** A setup script with one target, whose run() is `runBody`, and the instances named. */
function setupScript(target: string, runBody: string, instances: string[]): string {
  const classes = instances.map((n, i) => `class I${i} extends Instance { readonly name = '${n}'; }`).join('\n');
  return `import { Setup, Target, Instance, type Context, type Runner } from 'instrumentation-infra';
class T extends Target {
  readonly name = '${target}';
  isFetched() { return true; }
  fetch() {}
  build() {}
  run(ctx: Context, _i: Instance, runner: Runner) { ${runBody} }
}
${classes}
const setup = new Setup(import.meta.url);
setup.addTarget(new T())${instances.map((_, i) => `.addInstance(new I${i}())`).join('')};
await setup.main();
`;
}

const SETUP = setupScript('prog', 'void ctx, runner;', ['plain', 'other']);

test('config: everything labelled without a flag, labelled lists for several, bare names for one; -v LEVEL', () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  const all = runInfra(dir, ['config']);
  assert.equal(all.code, 0, all.stderr);
  assert.equal(all.stdout, 'targets:\n  prog\ninstances:\n  plain\n  other\npackages:\n  (none)\n');
  assert.equal(runInfra(dir, ['config', '--targets', '--instances']).stdout, 'targets:\n  prog\ninstances:\n  plain\n  other\n');
  // registration order, not alphabetical
  assert.equal(runInfra(dir, ['-v', 'warning', 'config', '--instances']).stdout, 'plain\nother\n');
  const debug = runInfra(dir, ['-v', 'debug', 'config', '--targets']);
  assert.equal(debug.code, 0, debug.stderr);
  assert.equal(debug.stdout, 'prog\n');
  const bad = runInfra(dir, ['--verbosity=loud', 'config']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown verbosity 'loud'; valid levels: debug, info, warning, error/);
});

test('init writes package.json and tsconfig.json: the scaffold type-checks, and infra check reports type errors', () => {
  const parent = outside();
  const made = runInfra(parent, ['init', 'proj', '--link']);
  assert.equal(made.code, 0, made.stderr);
  const dir = join(parent, 'proj');
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(pkg.type, 'module');
  assert.deepEqual(Object.keys(pkg.devDependencies as object).sort(), ['@types/node', 'instrumentation-infra', 'typescript']);
  assert.equal((pkg.devDependencies as Record<string, string>)['instrumentation-infra'], `file:${REPO}`);
  const tsconfig = JSON.parse(readFileSync(join(dir, 'tsconfig.json'), 'utf8')) as { compilerOptions: Record<string, unknown> };
  assert.equal(tsconfig.compilerOptions.strict, true);
  assert.equal(tsconfig.compilerOptions.module, 'NodeNext');

  // without TypeScript in the project, check says how to get it
  const missing = runInfra(dir, ['check']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no TypeScript in this project.*npm install/);

  // what `npm install` makes of package.json, offline: the linked package, TypeScript and Node's types
  mkdirSync(join(dir, 'node_modules', '@types'), { recursive: true });
  symlinkSync(REPO, join(dir, 'node_modules', 'instrumentation-infra'));
  symlinkSync(join(REPO, 'node_modules', 'typescript'), join(dir, 'node_modules', 'typescript'));
  symlinkSync(join(REPO, 'node_modules', '@types', 'node'), join(dir, 'node_modules', '@types', 'node'));
  const tsc = spawnSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', dir], {
    encoding: 'utf8',
  });
  assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  const ok = runInfra(dir, ['check']);
  assert.equal(ok.code, 0, ok.stderr + ok.stdout);
  assert.match(ok.stderr, /setup\.ts: no type errors/);

  appendFileSync(join(dir, 'setup.ts'), 'const answer: number = "forty-two";\nvoid answer;\n');
  const bad = runInfra(dir, ['check']);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /setup\.ts\(\d+,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
  assert.match(bad.stderr, /the setup script has 1 type error/);
});

const SLEEPY = setupScript(
  'sleepy',
  "runner.submit(ctx, { benchmark: 'nap', argv: ['sleep', '2.5'] }); runner.submit(ctx, { benchmark: 'broken', argv: ['sh', '-c', 'exit 3'] });",
  ['plain'],
);

test('run on a terminal: a bar redrawn during an execution, then a summary and the report command', () => {
  const dir = makeProject({ 'setup.ts': SLEEPY });
  // a pseudo-terminal (util-linux script); its typescript goes to stdout
  const cmd = `${process.execPath} ${join(REPO, 'bin', 'infra.js')} run sleepy plain`;
  const env: Record<string, string | undefined> = { ...process.env, TERM: 'xterm', NO_COLOR: '', FORCE_COLOR: undefined };
  const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { cwd: dir, encoding: 'utf8', env: env as NodeJS.ProcessEnv });
  const screen = r.stdout;
  // eslint-disable-next-line no-control-regex -- colour and cursor codes
  const text = screen.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
  assert.equal(r.status, 1, screen);
  assert.match(screen, /\r(\x1b\[1A)*\x1b\[J/, 'the status block is redrawn in place');
  assert.match(text, /░+ 0\/2 0% {2}elapsed \d+s/);
  // redrawn while the 2.5 s execution runs (once a second), not only when an execution ends
  assert.match(text, /running plain\/nap\.0 [1-9]\d*s/);
  assert.match(text, /█+░+ 1\/2 50% {2}elapsed \d+s {2}ETA \d+s/);
  assert.match(screen, /\x1b\[31mfailed: exit status 3/, 'a failure in red (NO_COLOR empty does not disable colour)');
  assert.match(text, /1 ok, 1 failed \(of 2 executions\) in \S+; results in results\/run\.[\d.-]+/);
  assert.match(text, /next: infra report sleepy results\/run\.[\d.-]+/);
  assert.match(screen, /\x1b\[31m\x1b\[1merror:\x1b\[22m\x1b\[39m \x1b\[1m1 execution failed/, 'the error highlighted');

  // not a terminal: one line per execution, the same summary, no colour and no redraws; a fractional timeout
  const piped = runInfra(dir, ['run', 'sleepy', 'plain', '--timeout', '1.5'], { env: { NO_COLOR: '1' } });
  assert.equal(piped.code, 1);
  assert.match(
    piped.stderr,
    /^\[1\/2\] plain\/nap\.0 timeout: timed out after 1\.5 s.*\n\[2\/2\] plain\/broken\.0 failed: exit status 3\n/m,
  );
  assert.match(piped.stderr, /0 ok, 1 timeout, 1 failed \(of 2 executions\)/);
  assert.match(piped.stderr, /next: infra report sleepy results\/run\./);
  assert.doesNotMatch(piped.stderr, /\x1b/);
});

test('colour follows NO_COLOR (only a non-empty value) and FORCE_COLOR', async () => {
  const { useColor } = await import('../src/core/log.js');
  const tty = { isTTY: true };
  const pipe = { isTTY: false };
  assert.equal(useColor(tty, { TERM: 'xterm' }), true);
  assert.equal(useColor(tty, { TERM: 'xterm', NO_COLOR: '' }), true);
  assert.equal(useColor(tty, { TERM: 'xterm', NO_COLOR: '1' }), false);
  assert.equal(useColor(tty, { TERM: 'dumb' }), false);
  assert.equal(useColor(pipe, {}), false);
  assert.equal(useColor(pipe, { FORCE_COLOR: '1' }), true);
  assert.equal(useColor(pipe, { FORCE_COLOR: '' }), true);
  assert.equal(useColor(tty, { FORCE_COLOR: '0', TERM: 'xterm' }), false);
  assert.equal(useColor(pipe, { FORCE_COLOR: '1', NO_COLOR: '1' }), true, 'an explicit FORCE_COLOR wins');
});

test("a built-in's unknown constructor option and an unknown target name get the valid names and a suggestion", () => {
  const typo = makeProject({
    'setup.ts': `import { Setup, Clang, LLVM } from 'instrumentation-infra';
const setup = new Setup(import.meta.url);
// what a JavaScript caller (or a cast) can pass: TypeScript would refuse it
setup.addInstance(new Clang(LLVM.installed({ version: '22' }), { optLevel: 3 } as never));
await setup.main();
`,
  });
  const r = runInfra(typo, ['config']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Clang: unknown option 'optLevel'; did you mean 'optlevel'\? valid options: optlevel, lto, alloc/);
  const dir = makeProject({ 'setup.ts': SETUP });
  const t = runInfra(dir, ['run', 'porg', 'plain']);
  assert.equal(t.code, 1);
  assert.match(t.stderr, /unknown target 'porg'; did you mean 'prog'\? valid targets: prog/);
});

test('build --parallel ssh|slurm|prun is accepted: the instances are built here, and one line says so', () => {
  const dir = makeProject({
    'setup.ts': `import { Setup, Target, Instance, type Context } from 'instrumentation-infra';
import { mkdirSync, writeFileSync } from 'node:fs';
class T extends Target {
  readonly name = 'prog';
  isFetched() { return true; }
  fetch() {}
  build(ctx: Context, instance: Instance) {
    mkdirSync(this.path(ctx, instance.name), { recursive: true });
    writeFileSync(this.path(ctx, instance.name, 'built-by'), String(process.pid));
  }
  run() {}
}
class A extends Instance { readonly name = 'a'; }
class B extends Instance { readonly name = 'b'; }
const setup = new Setup(import.meta.url);
setup.addTarget(new T()).addInstance(new A()).addInstance(new B());
await setup.main();
`,
  });
  for (const mode of ['ssh', 'slurm', 'prun']) {
    const r = runInfra(dir, ['build', 'prog', 'a', 'b', '--parallel', mode, '--parallelmax', '2']);
    assert.equal(r.code, 0, r.stderr);
    const notes = r.stderr.split('\n').filter((l) => l.includes(`--parallel ${mode}: builds happen on this machine`));
    assert.equal(notes.length, 1, r.stderr);
    for (const inst of ['a', 'b']) assert.ok(existsSync(join(dir, 'build', 'targets', 'prog', inst, 'built-by')), `${mode}: ${inst} built`);
    rmSync(join(dir, 'build', 'targets'), { recursive: true, force: true });
  }
  const bad = runInfra(dir, ['build', 'prog', 'a', '--parallel', 'cloud']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /cloud.*proc, ssh, slurm, prun/);
});

test('outside a project: zsh completion, with descriptions, from the built-in commands', () => {
  const r = runInfra(outside(), ['completion', 'zsh']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^#compdef infra\n/);
  assert.match(r.stdout, /'report:report results of runs/);
  assert.match(r.stdout, /'--overhead=\[[^\]]+\]/);
  assert.doesNotMatch(r.stdout, /bashcompinit/, 'native zsh completion, not the bash emulation');
  const syntax = spawnSync('zsh', ['-n'], { input: r.stdout, encoding: 'utf8' });
  if (syntax.error === undefined) assert.equal(syntax.status, 0, syntax.stderr);
});
