// A new user's first commands: help anywhere, a scaffold that tsc and editors accept, `infra check`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
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

const SETUP = `import { Setup, Target, Instance, type Context, type Runner } from 'instrumentation-infra';
class Prog extends Target {
  readonly name = 'prog';
  isFetched() { return true; }
  fetch() {}
  build() {}
  run(_ctx: Context, _i: Instance, _r: Runner) {}
}
class Plain extends Instance { readonly name = 'plain'; }
class Other extends Instance { readonly name = 'other'; }
const setup = new Setup(import.meta.url);
setup.addTarget(new Prog()).addInstance(new Plain()).addInstance(new Other());
await setup.main();
`;

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
