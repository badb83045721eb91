// The autotools packages built from their release tarballs (offline, from the mirror
// scripts/fetch-sources.sh fills): M4 -> AutoConf -> LibTool -> AutoMake, then used by a target of
// the test's own to regenerate and build a small libtool project written inline, checking that
// the tools it ran are the built ones and not the distribution's.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, makeProject, runInfra } from './helpers.ts';

const MIRROR = process.env.INFRA_SOURCE_MIRROR || join(tmpdir(), 'infra-source-mirror');

const SETUP = String.raw`
import { Setup, Target, Gcc, M4, AutoConf, LibTool, AutoMake, run, type Context, type Instance } from 'instrumentation-infra';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const m4 = new M4('1.4.19');
const autoconf = new AutoConf('2.71', m4);
const libtool = new LibTool('2.4.7');
const automake = new AutoMake('1.16.5', autoconf, libtool);

/** A libtool library and a program using it, regenerated with autoreconf at build time. */
class Greeter extends Target {
  readonly name = 'greeter';
  override dependencies() { return [automake]; }
  isFetched() { return true; }
  fetch() {}
  async build(ctx: Context, instance: Instance) {
    const dir = this.path(ctx, instance.name);
    cpSync(join(import.meta.dirname, 'greeter'), dir, { recursive: true });
    // which tools the build environment finds, before they run
    const found = await run(ctx, ['sh', '-c', 'for t in autoreconf autoconf autom4te aclocal automake libtoolize m4; do command -v $t; done']);
    writeFileSync(join(dir, 'tools.txt'), found.stdout);
    await run(ctx, ['autoreconf', '-fi'], { cwd: dir });
    await run(ctx, ['./configure', '--disable-static'], { cwd: dir });
    await run(ctx, ['make'], { cwd: dir });
  }
  run() {}
}

const setup = new Setup(import.meta.url);
setup.addTarget(new Greeter());
setup.addInstance(new Gcc());
await setup.main();
`;

const CONFIGURE_AC = `AC_INIT([greeter], [1.0])
AM_INIT_AUTOMAKE([foreign])
LT_INIT
AC_PROG_CC
AC_CONFIG_FILES([Makefile])
AC_OUTPUT
`;
const MAKEFILE_AM = `lib_LTLIBRARIES = libgreet.la
libgreet_la_SOURCES = greet.c
bin_PROGRAMS = greeter
greeter_SOURCES = main.c
greeter_LDADD = libgreet.la
`;

let dir = '';
let built: ReturnType<typeof runInfra>;
const pkg = (...p: string[]) => join(dir, 'build', 'packages', ...p);

before(() => {
  const fetch = spawnSync('sh', [join(REPO, 'scripts/fetch-sources.sh'), MIRROR], { encoding: 'utf8' });
  assert.equal(fetch.status, 0, fetch.stderr);
  dir = makeProject({
    'setup.ts': SETUP,
    'greeter/configure.ac': CONFIGURE_AC,
    'greeter/Makefile.am': MAKEFILE_AM,
    'greeter/greet.c': 'const char *greeting(void) { return "hello from libgreet"; }\n',
    'greeter/main.c': '#include <stdio.h>\nconst char *greeting(void);\nint main(void) { puts(greeting()); return 0; }\n',
  });
  built = runInfra(dir, ['--source-mirror', MIRROR, 'build', 'greeter', 'gcc'], { timeoutMs: 1_200_000 });
});

test('m4, autoconf, libtool and automake build from their tarballs, in dependency order', () => {
  assert.equal(built.code, 0, built.stderr);
  const order = [...built.stderr.matchAll(/installing (\S+)/g)].map((m) => m[1]);
  assert.deepEqual(order, ['m4-1.4.19', 'autoconf-2.71', 'libtool-2.4.7', 'automake-1.16.5']);
  for (const ident of order) assert.ok(existsSync(pkg(ident!, '.infra-installed')), ident);
  assert.ok(!existsSync(pkg('m4-1.4.19', 'install.staging')), 'the staging tree is gone after the install');
  const version = spawnSync(pkg('m4-1.4.19', 'install', 'bin', 'm4'), ['--version'], { encoding: 'utf8' });
  assert.match(version.stdout, /^m4 \(GNU M4\) 1\.4\.19/);
});

test('the target regenerated and built its project with the built tools, not /usr/bin', () => {
  assert.equal(built.code, 0, built.stderr);
  const project = join(dir, 'build', 'targets', 'greeter', 'gcc');
  const tools = readFileSync(join(project, 'tools.txt'), 'utf8').trim().split('\n');
  assert.deepEqual(tools, [
    pkg('autoconf-2.71', 'install', 'bin', 'autoreconf'),
    pkg('autoconf-2.71', 'install', 'bin', 'autoconf'),
    pkg('autoconf-2.71', 'install', 'bin', 'autom4te'),
    pkg('automake-1.16.5', 'install', 'bin', 'aclocal'),
    pkg('automake-1.16.5', 'install', 'bin', 'automake'),
    pkg('libtool-2.4.7', 'install', 'bin', 'libtoolize'),
    pkg('m4-1.4.19', 'install', 'bin', 'm4'),
  ]);
  // autom4te runs the m4 it was configured with; aclocal took LT_INIT from automake's own macros
  assert.ok(readFileSync(pkg('autoconf-2.71', 'install', 'bin', 'autom4te'), 'utf8').includes(pkg('m4-1.4.19', 'install', 'bin', 'm4')));
  assert.ok(existsSync(pkg('automake-1.16.5', 'install', 'share', 'aclocal', 'libtool.m4')));
  assert.match(readFileSync(join(project, 'aclocal.m4'), 'utf8'), /m4_include\(\[m4\/libtool\.m4\]\)|AC_DEFUN\(\[LT_INIT\]/);
  assert.match(readFileSync(join(project, 'configure'), 'utf8'), /Generated by GNU Autoconf 2\.71/);
  assert.match(readFileSync(join(project, 'Makefile.in'), 'utf8'), /generated by automake 1\.16\.5/);
  assert.ok(existsSync(join(project, '.libs', 'libgreet.so')), 'libtool built the shared library');
  const out = spawnSync(join(project, 'greeter'), { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stdout, 'hello from libgreet\n');
});

test('pkg-config gives the prefixes and macro directories', () => {
  let r = runInfra(dir, ['pkg-config', 'automake-1.16.5', '--prefix', '--aclocal-dir']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [pkg('automake-1.16.5', 'install'), pkg('automake-1.16.5', 'install', 'share', 'aclocal')]);
  r = runInfra(dir, ['pkg-config', 'libtool-2.4.7', '--aclocal-dir']);
  assert.equal(r.stdout.trim(), pkg('libtool-2.4.7', 'install', 'share', 'aclocal'));
});

test('a version without a known checksum is a clear error', () => {
  const other = makeProject({ 'setup.ts': SETUP.replace("new M4('1.4.19')", "new M4('1.4.18')") });
  const r = runInfra(other, ['config', '--packages']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /m4 1\.4\.18 is not a release this tool knows the checksum of \(known: 1\.4\.19\); pass \{ url, sha256 \}/);
});
