// End-to-end tests of the framework core: a project written inline, the real `infra` CLI,
// real processes (sh, make, cc).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { makeProject, runInfra, startInfra, waitFor } from './helpers.ts';
import { UserError } from '../src/core/errors.ts';
import { Instance } from '../src/core/instance.ts';
import { Package } from '../src/core/package.ts';
import { findPackage } from '../src/core/packages.ts';
import { Setup } from '../src/core/setup.ts';
import { Target } from '../src/core/target.ts';

/** A setup with two packages (lib depends on tool), a target, and two instances. */
const SETUP = String.raw`
import { existsSync, mkdirSync, writeFileSync, appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Setup, Target, Instance, Package, run, type Context, type Runner } from 'instrumentation-infra';

const root = import.meta.dirname;
const mark = (what: string) => appendFileSync(join(root, 'events.txt'), what + '\n');

/** A package that installs a program other steps call through PATH. */
class Tool extends Package {
  ident() { return 'tool-1.0'; }
  isFetched() { return true; }
  fetch() {}
  isBuilt(ctx: Context) { return existsSync(this.path(ctx, 'obj', 'tool')); }
  async build(ctx: Context) {
    mark('build tool start');
    mkdirSync(this.path(ctx, 'obj'), { recursive: true });
    // FAIL_TOOL makes the build fail halfway (after writing the object); SLOW_TOOL makes it slow
    await run(ctx, ['sh', '-c', 'printf "#!/bin/sh\\necho tool-output \\$*\\n" > "$1/tool" && chmod +x "$1/tool"; ' +
      'if [ -n "$SLOW_TOOL" ]; then sleep "$SLOW_TOOL"; fi; if [ -n "$FAIL_TOOL" ]; then echo half-done; echo "error: simulated failure" >&2; exit 3; fi',
      'sh', this.path(ctx, 'obj')]);
    mark('build tool end');
  }
  isInstalled(ctx: Context) { return existsSync(this.path(ctx, 'install', 'bin', 'tool')); }
  async install(ctx: Context) {
    mkdirSync(this.path(ctx, 'install', 'bin'), { recursive: true });
    await run(ctx, ['cp', this.path(ctx, 'obj', 'tool'), this.path(ctx, 'install', 'bin', 'tool')]);
  }
}

/** Depends on Tool and calls it by name: proves installEnv put it on PATH. */
class Lib extends Package {
  constructor(private tool: Tool) { super(); }
  ident() { return 'lib-2.0'; }
  override dependencies() { return [this.tool]; }
  isFetched() { return true; }
  fetch() {}
  isBuilt(ctx: Context) { return existsSync(this.path(ctx, 'obj', 'built')); }
  async build(ctx: Context) {
    mark('build lib');
    mkdirSync(this.path(ctx, 'obj'), { recursive: true });
    const r = await run(ctx, ['tool', 'from-lib']);
    writeFileSync(this.path(ctx, 'obj', 'built'), r.stdout);
  }
  isInstalled(ctx: Context) { return existsSync(this.path(ctx, 'install', 'built')); }
  async install(ctx: Context) {
    mkdirSync(this.path(ctx, 'install'), { recursive: true });
    writeFileSync(this.path(ctx, 'install', 'built'), readFileSync(this.path(ctx, 'obj', 'built')));
  }
  override pkgConfigOptions(ctx: Context) {
    return [{ option: '--cflags', description: 'flags', value: ['-I' + this.path(ctx, 'install', 'my include'), '-DX=1'] }, ...super.pkgConfigOptions(ctx)];
  }
}

const tool = new Tool();
const lib = new Lib(tool);

class Prog extends Target {
  readonly name = 'prog';
  override dependencies() { return [lib]; }
  isFetched() { return true; }
  fetch() {}
  async build(ctx: Context, instance: Instance) {
    const out = this.path(ctx, instance.name);
    mkdirSync(out, { recursive: true });
    mark('prog start ' + instance.name);
    if (process.env.SLOW_PROG) await run(ctx, ['sleep', process.env.SLOW_PROG]);
    await run(ctx, [ctx.cc, ...ctx.cflags, '-x', 'c', '-', '-o', join(out, 'prog')], {
      input: 'int main(void){return 0;}\n',
    });
    writeFileSync(join(out, 'ctx.json'), JSON.stringify({
      cc: ctx.cc, cflags: ctx.cflags, ldflags: ctx.ldflags, runenv: ctx.runenv, wrapper: ctx.targetRunWrapper,
      hooks: ctx.hooks.postBuild.length, tool: (await run(ctx, ['tool', instance.name])).stdout.trim(),
    }));
  }
  run(_ctx: Context, _instance: Instance, _runner: Runner) {}
  override binaryPaths(ctx: Context, instance: Instance) { return [this.path(ctx, instance.name, 'prog')]; }
}

/** Instances that each add their own flag, env var, wrapper and hook. */
class Flavour extends Instance {
  constructor(readonly name: string, private cc: string) { super(); }
  override configure(ctx: Context) {
    ctx.cc = process.env.BREAK_INSTANCE === this.name ? 'no-such-compiler' : this.cc;
    ctx.addCFlag('-DFLAVOUR_' + this.name.toUpperCase());
    if ((process.env.BAD_FLAG ?? '').split(',').includes(this.name)) ctx.addCFlag('--no-such-flag');
    ctx.runenv['FLAVOUR_' + this.name.toUpperCase()] = '1';
    ctx.targetRunWrapper.push('wrap-' + this.name);
    ctx.hooks.postBuild.push((c, bin) => { mark('hook ' + this.name + ' ' + bin.split('/').slice(-2).join('/')); });
  }
}

const setup = new Setup(import.meta.url);
setup.addTarget(new Prog());
setup.addInstance(new Flavour('alpha', 'gcc'));
setup.addInstance(new Flavour('beta', 'clang-22'));
setup.addCommand({
  name: 'hello',
  description: 'a command of the project',
  addArgs(p) { p.option('--who <name>', 'whom to greet', { default: 'world' }); },
  run(ctx) { console.log('hello ' + ctx.args.who + ' with -j ' + ctx.jobs); },
});
await setup.main();
`;

const events = (dir: string) => (existsSync(join(dir, 'events.txt')) ? readFileSync(join(dir, 'events.txt'), 'utf8') : '');

test('config lists targets, instances and packages', () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  const r = runInfra(dir, ['config', '--targets', '--instances', '--packages']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    'targets:',
    '  prog',
    'instances:',
    '  alpha',
    '  beta',
    'packages:',
    '  tool-1.0',
    '  lib-2.0',
  ]);
});

test('a command the setup adds runs with its own options, after global options', () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  const r = runInfra(dir, ['-j', '3', 'hello', '--who', 'infra']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'hello infra with -j 3');
  const bad = runInfra(dir, ['hello', '--whom', 'x']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /unknown option '--whom'/);
});

// The lookups behind the command line, in-process: the same setup shape as SETUP.
class NoopPackage extends Package {
  constructor(
    private readonly id: string,
    private readonly deps: Package[] = [],
  ) {
    super();
  }
  ident() {
    return this.id;
  }
  override dependencies() {
    return this.deps;
  }
  isFetched() {
    return true;
  }
  fetch() {}
  isBuilt() {
    return true;
  }
  build() {}
  isInstalled() {
    return true;
  }
  install() {}
}
class NoopTarget extends Target {
  readonly name = 'prog';
  constructor(private readonly deps: Package[]) {
    super();
  }
  override dependencies() {
    return this.deps;
  }
  isFetched() {
    return true;
  }
  fetch() {}
  build() {}
  run() {}
}
class NamedInstance extends Instance {
  constructor(readonly name: string) {
    super();
  }
}

test('unknown target, instance and package names are user errors listing the valid ones; a name is registered once', () => {
  const setup = new Setup(join(makeProject({}), 'setup.ts'));
  setup.addTarget(new NoopTarget([new NoopPackage('lib-2.0', [new NoopPackage('tool-1.0')])]));
  setup.addInstance(new NamedInstance('beta'));
  setup.addInstance(new NamedInstance('alpha'));
  const userError = (re: RegExp) => (err: unknown) => err instanceof UserError && re.test(err.message);
  assert.throws(() => setup.getTarget('nope'), userError(/^unknown target 'nope'; valid targets: prog$/));
  assert.throws(() => setup.getInstance('gamma'), userError(/^unknown instance 'gamma'; valid instances: alpha, beta$/));
  assert.throws(() => findPackage(setup, 'zlib'), userError(/^unknown package 'zlib'; valid packages: lib-2.0, tool-1.0$/));
  assert.equal(findPackage(setup, 'tool-1.0').ident(), 'tool-1.0');
  assert.throws(() => setup.addInstance(new NamedInstance('alpha')), userError(/^an instance named 'alpha' is already registered$/));
  assert.throws(() => setup.addInstance(new NamedInstance('has space')), userError(/^invalid instance name "has space"/));
});

// one of each kind through the real CLI: a setup lookup and commander's own parsing
test('unknown names and options are clear errors that list the valid choices', () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  let r = runInfra(dir, ['build', 'prog', 'gamma']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /unknown instance 'gamma'; valid instances: alpha, beta/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace for user errors');
  r = runInfra(dir, ['build', 'prog', 'alpha', '--frobnicate']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /unknown option '--frobnicate'/);
  r = runInfra(dir, ['frob']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /unknown command 'frob'/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace for user errors');
});

test('a setup script that throws, or registers a name twice, fails clearly', () => {
  let dir = makeProject({ 'setup.ts': `import { Setup } from 'instrumentation-infra';\nthrow new Error('boom in setup');\n` });
  let r = runInfra(dir, ['config', '--targets']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /setup script .*setup\.ts failed while loading: boom in setup/);
  dir = makeProject({
    'setup.ts': SETUP.replace(
      "setup.addInstance(new Flavour('beta', 'clang-22'));",
      "setup.addInstance(new Flavour('beta', 'clang-22'));\nsetup.addInstance(new Flavour('alpha', 'gcc'));",
    ),
  });
  r = runInfra(dir, ['config', '--targets']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /an instance named 'alpha' is already registered/);
  dir = makeProject({ 'setup.ts': 'import { Setup } from "instrumentation-infra";\nconst x: number = ;\n' });
  r = runInfra(dir, ['config', '--targets']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /does not compile:\n.*setup\.ts:2/);
});

test('build: packages once and in order, target per instance, contexts isolated', () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  const r = runInfra(dir, ['build', 'prog', 'alpha', 'beta']);
  assert.equal(r.code, 0, r.stderr);
  const ev = events(dir).trim().split('\n');
  assert.deepEqual(
    ev.filter((e) => e.startsWith('build')),
    ['build tool start', 'build tool end', 'build lib'],
  );
  assert.equal(readFileSync(join(dir, 'build/packages/lib-2.0/install/built'), 'utf8').trim(), 'tool-output from-lib');
  const alpha = JSON.parse(readFileSync(join(dir, 'build/targets/prog/alpha/ctx.json'), 'utf8'));
  const beta = JSON.parse(readFileSync(join(dir, 'build/targets/prog/beta/ctx.json'), 'utf8'));
  assert.equal(alpha.cc, 'gcc');
  assert.equal(beta.cc, 'clang-22');
  assert.deepEqual(alpha.cflags, ['-DFLAVOUR_ALPHA']);
  assert.deepEqual(beta.cflags, ['-DFLAVOUR_BETA'], 'flags of one instance never reach another');
  assert.equal(alpha.runenv.FLAVOUR_BETA, undefined);
  assert.equal(beta.runenv.FLAVOUR_ALPHA, undefined);
  assert.deepEqual(alpha.wrapper, ['wrap-alpha']);
  assert.deepEqual(beta.wrapper, ['wrap-beta']);
  assert.equal(alpha.hooks, 1);
  assert.equal(beta.hooks, 1);
  assert.equal(alpha.tool, 'tool-output alpha', 'package bin dir is on PATH for the target');
  assert.ok(ev.includes('hook alpha alpha/prog') && ev.includes('hook beta beta/prog'));
  assert.ok(!ev.includes('hook alpha beta/prog') && !ev.includes('hook beta alpha/prog'), 'hooks stay with their instance');
  assert.ok(existsSync(join(dir, 'build/targets/prog/alpha/prog')));
  // commands are logged with cwd and output
  const log = readFileSync(join(dir, 'build/log/commands.txt'), 'utf8');
  assert.match(log, /\$ cd .* && PATH=\S+\/tool-1\.0\/install\/bin:\$PATH tool from-lib\ntool-output from-lib\n# exit 0/);
  // a second build rebuilds no package
  const again = runInfra(dir, ['build', 'prog', 'alpha']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(
    events(dir)
      .split('\n')
      .filter((e) => e.startsWith('build')).length,
    3,
  );
  // each invocation keeps its own debug log
  assert.ok(readdirSync(join(dir, 'build/log')).filter((f) => f.startsWith('debug.')).length >= 2);
});

test('--deps-only, --force-rebuild-deps and --dry-run', () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  let r = runInfra(dir, ['build', 'prog', 'alpha', '--dry-run']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /sh -c .*tool/);
  assert.match(r.stdout, /gcc -DFLAVOUR_ALPHA -x c - -o .*alpha\/prog/);
  assert.ok(!existsSync(join(dir, 'build/packages/tool-1.0/obj/tool')), 'dry run runs no command');
  assert.ok(!existsSync(join(dir, 'build/packages/tool-1.0/.infra-installed')), 'dry run installs nothing');
  r = runInfra(dir, ['build', 'prog', 'alpha', '--deps-only']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(dir, 'build/packages/lib-2.0/install/built')));
  assert.ok(!existsSync(join(dir, 'build/targets/prog/alpha/prog')), 'deps-only does not build the target');
  r = runInfra(dir, ['build', 'prog', 'alpha', '--force-rebuild-deps']);
  assert.equal(r.code, 0, r.stderr);
  // the dry run walked through the build too (printing its commands), then deps-only, then the forced rebuild
  assert.equal(
    events(dir)
      .split('\n')
      .filter((e) => e === 'build tool start').length,
    3,
  );
});

test('a package build that fails halfway is not installed; a rerun completes it', () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  const r = runInfra(dir, ['build', 'prog', 'alpha'], { env: { FAIL_TOOL: '1' } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /command failed \(exit status 3\): sh -c/);
  assert.match(r.stderr, /full log: .*build\/log\/commands\.txt/);
  assert.match(r.stderr, /error: simulated failure/);
  assert.ok(existsSync(join(dir, 'build/packages/tool-1.0/obj/tool')), 'the half-done build left files');
  const ok = runInfra(dir, ['build', 'prog', 'alpha']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(existsSync(join(dir, 'build/targets/prog/alpha/prog')));
});

test('Ctrl-C during a package build exits non-zero; a rerun completes the package', async () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  const p = startInfra(dir, ['build', 'prog', 'alpha'], { env: { SLOW_TOOL: '30' } });
  await waitFor(() => events(dir).includes('build tool start'), 20_000, 'the tool build to start');
  await new Promise((r) => setTimeout(r, 300));
  p.child.kill('SIGINT');
  const r = await p.done;
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /interrupted/);
  assert.ok(!existsSync(join(dir, 'build/packages/tool-1.0/.infra-installed')));
  assert.ok(!existsSync(join(dir, 'build/.infra/lock')), 'the lock is released');
  const again = runInfra(dir, ['build', 'prog', 'alpha']);
  assert.equal(again.code, 0, again.stderr);
  assert.ok(existsSync(join(dir, 'build/packages/tool-1.0/.infra-installed')));
  assert.ok(existsSync(join(dir, 'build/targets/prog/alpha/prog')));
});

test('two infra processes on one build tree: the second waits for the first', async () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  const first = startInfra(dir, ['build', 'prog', 'alpha'], { env: { SLOW_TOOL: '2' } });
  await waitFor(() => events(dir).includes('build tool start'), 20_000, 'the first build');
  const second = startInfra(dir, ['build', 'prog', 'beta']);
  const [a, b] = await Promise.all([first.done, second.done]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /in use by process \d+ \(build prog alpha\); waiting/);
  const ev = events(dir)
    .split('\n')
    .filter((e) => e.startsWith('build'));
  assert.deepEqual(ev, ['build tool start', 'build tool end', 'build lib'], 'packages built once, never concurrently');
});

test('pkg-build, pkg-config, clean and exec-hook', () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  let r = runInfra(dir, ['pkg-build', 'lib-2.0']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(join(dir, 'build/packages/lib-2.0/install/built')));
  r = runInfra(dir, ['pkg-config', 'lib-2.0', '--prefix', '--cflags']);
  assert.equal(r.code, 0, r.stderr);
  const [prefix, cflags] = r.stdout.trim().split('\n');
  assert.equal(prefix, join(dir, 'build/packages/lib-2.0/install'));
  assert.equal(cflags, `'-I${join(dir, 'build/packages/lib-2.0/install/my include')}' -DX=1`, 'lists are shell-quoted');
  r = runInfra(dir, ['pkg-config', 'lib-2.0', '--libs']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no pkg-config option '--libs'; valid options: --cflags, --root, --prefix/);
  r = runInfra(dir, ['exec-hook', 'post-build', 'beta', '/some/bin/file']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(events(dir), /hook beta bin\/file/);
  r = runInfra(dir, ['clean', '--packages', 'lib-2.0']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!existsSync(join(dir, 'build/packages/lib-2.0')));
  assert.ok(existsSync(join(dir, 'build/packages/tool-1.0')));
  r = runInfra(dir, ['clean']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /nothing to clean/);
});

test('a dependency cycle is an error naming the cycle', () => {
  const cyclic = SETUP.replace(
    "ident() { return 'tool-1.0'; }",
    "ident() { return 'tool-1.0'; }\n  override dependencies() { return [lib]; }",
  );
  const dir = makeProject({ 'setup.ts': cyclic });
  const r = runInfra(dir, ['build', 'prog', 'alpha']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /dependency cycle between packages: lib-2.0 -> tool-1.0 -> lib-2.0/);
});

test('--help for commands; shell completion', () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  let r = runInfra(dir, ['build', '--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /--force-rebuild-deps/);
  r = runInfra(dir, ['completion', 'bash']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /complete -F _infra infra/);
  assert.match(r.stdout, /alpha beta/);
  r = runInfra(dir, ['completion', 'fish']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /valid shells: bash, zsh/);
});

test('parallel builds: one failing instance does not stop the other; failures are listed', () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  const r = runInfra(dir, ['build', 'prog', 'alpha', 'beta', '--parallel', 'proc', '--parallelmax', '2'], {
    env: { BREAK_INSTANCE: 'alpha' },
  });
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    /1 of 2 builds of prog failed \(commands and output in .*\):\n- prog with alpha: program not found: 'no-such-compiler'/,
  );
  assert.ok(existsSync(join(dir, 'build/targets/prog/beta/prog')), 'the other instance was built');
});

test('parallel builds that all fail: each is summarised with its command, last lines of output and the log', () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  const r = runInfra(dir, ['build', 'prog', 'alpha', 'beta', '--parallel', 'proc'], { env: { BAD_FLAG: 'alpha,beta' } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /2 of 2 builds of prog failed \(commands and output in .*commands\.txt\):/);
  for (const [name, cc] of [
    ['alpha', 'gcc'],
    ['beta', 'clang-22'],
  ]) {
    assert.match(r.stderr, new RegExp(`- prog with ${name}: command failed \\(exit status 1\\): ${cc} `));
    assert.match(r.stderr, new RegExp(`- prog with ${name}:[^]*?full log: .*commands\\.txt\\n {4}last lines of output:\\n.*no-such-flag`));
  }
});

test('Ctrl-C stops a parallel build: no further instance or command starts', async () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  assert.equal(runInfra(dir, ['build', 'prog', 'alpha', '--deps-only']).code, 0);
  const p = startInfra(dir, ['build', 'prog', 'alpha', 'beta', '--parallel', 'proc', '--parallelmax', '1'], { env: { SLOW_PROG: '20' } });
  await waitFor(() => events(dir).includes('prog start alpha'), 20_000, 'the first build to start');
  await new Promise((r) => setTimeout(r, 300));
  const t0 = Date.now();
  p.child.kill('SIGINT');
  const r = await p.done;
  assert.equal(r.code, 130, r.stderr);
  assert.ok(Date.now() - t0 < 10_000, 'stopped promptly');
  assert.ok(!events(dir).includes('prog start beta'), 'the queued build never started');
  assert.doesNotMatch(r.stderr, /builds failed/);
});

test('Ctrl-C while waiting for the build lock exits at once', async () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  const first = startInfra(dir, ['build', 'prog', 'alpha'], { env: { SLOW_TOOL: '4' } });
  await waitFor(() => events(dir).includes('build tool start'), 20_000, 'the first build');
  const second = startInfra(dir, ['build', 'prog', 'beta']);
  await waitFor(() => second.output().includes('waiting'), 20_000, 'the second to wait');
  second.child.kill('SIGINT');
  const r = await second.done;
  assert.equal(r.code, 130, r.stderr);
  const a = await first.done;
  assert.equal(a.code, 0, a.stderr);
  assert.ok(!existsSync(join(dir, 'build/targets/prog/beta')), 'the interrupted build did nothing');
});

test('a lock left by a process that died is taken over', () => {
  const dir = makeProject({ 'setup.ts': SETUP });
  const dead = spawnSync('true');
  mkdirSync(join(dir, 'build/.infra'), { recursive: true });
  writeFileSync(
    join(dir, 'build/.infra/lock'),
    JSON.stringify({ pid: dead.pid, host: hostname(), command: 'build prog alpha', since: '' }),
  );
  const r = runInfra(dir, ['build', 'prog', 'alpha']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`removed the stale lock of process ${dead.pid}`));
  assert.ok(!existsSync(join(dir, 'build/.infra/lock')));
});
