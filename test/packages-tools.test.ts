// PatchElf, Make, Ninja, LibElf and LibUnwind built from their release tarballs (offline, from the
// mirror scripts/fetch-sources.sh fills; make and patchelf regenerate their configure scripts with
// the distribution's autoreconf), each used once: by a target of the test's own through PATH and
// the package objects, and by a build outside the tool through `infra pkg-config`.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, makeProject, runInfra } from './helpers.ts';

const MIRROR = process.env.INFRA_SOURCE_MIRROR || join(tmpdir(), 'infra-source-mirror');

const SETUP = String.raw`
import { Setup, Target, Gcc, PatchElf, Make, Ninja, LibElf, LibUnwind, run, type Context, type Instance } from 'instrumentation-infra';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const libelf = new LibElf('0.188');
const tools = [new PatchElf('0.14.3'), new Make('4.3'), new Ninja('1.11.1'), libelf, new LibUnwind('1.6.2')];

/** Builds one program with the built make, another with the built ninja, and patches one. */
class Uses extends Target {
  readonly name = 'uses';
  override dependencies() { return tools; }
  isFetched() { return true; }
  fetch() {}
  async build(ctx: Context, instance: Instance) {
    const dir = this.path(ctx, instance.name);
    cpSync(join(import.meta.dirname, 'project'), dir, { recursive: true });
    const found = await run(ctx, ['sh', '-c', 'for t in make ninja patchelf; do command -v $t; done; make --version | head -1; ninja --version']);
    writeFileSync(join(dir, 'tools.txt'), found.stdout);
    // the ELF reader, compiled by the built make with the flags LibElf.configure adds
    const c = ctx.clone();
    libelf.configure(c);
    await run(ctx, ['make', 'CFLAGS=' + c.cflags.join(' '), 'LDFLAGS=' + c.ldflags.join(' ')], { cwd: dir });
    await run(ctx, ['ninja'], { cwd: dir });
    await run(ctx, ['patchelf', '--set-rpath', '/opt/infra-test/lib', join(dir, 'hello')]);
  }
  run() {}
}

const setup = new Setup(import.meta.url);
setup.addTarget(new Uses());
setup.addInstance(new Gcc());
await setup.main();
`;

const ELF_READER = String.raw`#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
int main(int argc, char **argv) {
  if (argc < 2 || elf_version(EV_CURRENT) == EV_NONE) return 2;
  int fd = open(argv[1], O_RDONLY);
  Elf *e = elf_begin(fd, ELF_C_READ, NULL);
  size_t n = 0;
  if (!e || elf_kind(e) != ELF_K_ELF || elf_getshdrnum(e, &n) != 0) return 1;
  GElf_Ehdr h;
  gelf_getehdr(e, &h);
  printf("ELF class %d with %zu sections\n", gelf_getclass(e) == ELFCLASS64 ? 64 : 32, n);
  return 0;
}
`;

const BACKTRACE = String.raw`#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <stdio.h>
__attribute__((noinline)) static void inner(void) {
  unw_context_t uc;
  unw_cursor_t cursor;
  unw_getcontext(&uc);
  unw_init_local(&cursor, &uc);
  while (unw_step(&cursor) > 0) {
    char name[64];
    unw_word_t off;
    if (unw_get_proc_name(&cursor, name, sizeof name, &off) == 0) printf("%s\n", name);
  }
}
__attribute__((noinline)) void outer(void) { inner(); }
int main(void) { outer(); return 0; }
`;

let dir = '';
let built: ReturnType<typeof runInfra>;
const pkg = (...p: string[]) => join(dir, 'build', 'packages', ...p);
const project = (...p: string[]) => join(dir, 'build', 'targets', 'uses', 'gcc', ...p);

before(() => {
  const fetch = spawnSync('sh', [join(REPO, 'scripts/fetch-sources.sh'), MIRROR], { encoding: 'utf8' });
  assert.equal(fetch.status, 0, fetch.stderr);
  dir = makeProject({
    'setup.ts': SETUP,
    'project/Makefile': 'readelf-lite: readelf-lite.c\n\t$(CC) $(CFLAGS) -o $@ $< $(LDFLAGS)\n',
    'project/readelf-lite.c': ELF_READER,
    'project/build.ninja': 'rule cc\n  command = cc -o $out $in\nbuild hello: cc hello.c\n',
    'project/hello.c': '#include <stdio.h>\nint main(void) { puts("hello from ninja"); return 0; }\n',
    'backtrace.c': BACKTRACE,
  });
  built = runInfra(dir, ['--source-mirror', MIRROR, 'build', 'uses', 'gcc'], { timeoutMs: 1_800_000 });
});

test('the tools build from their tarballs and are the ones on PATH', () => {
  assert.equal(built.code, 0, built.stderr);
  for (const ident of ['patchelf-0.14.3', 'make-4.3', 'ninja-1.11.1', 'libelf-0.188', 'libunwind-1.6.2']) {
    assert.ok(existsSync(pkg(ident, '.infra-installed')), ident);
  }
  const [make, ninja, patchelf, makeVersion, ninjaVersion] = readFileSync(project('tools.txt'), 'utf8').trim().split('\n');
  assert.equal(make, pkg('make-4.3', 'install', 'bin', 'make'));
  assert.equal(ninja, pkg('ninja-1.11.1', 'install', 'bin', 'ninja'));
  assert.equal(patchelf, pkg('patchelf-0.14.3', 'install', 'bin', 'patchelf'));
  assert.equal(makeVersion, 'GNU Make 4.3');
  assert.equal(ninjaVersion, '1.11.1');
});

test('make built the libelf reader, which reads itself with the built libelf', () => {
  assert.equal(built.code, 0, built.stderr);
  const r = spawnSync(project('readelf-lite'), [project('readelf-lite')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ELF class 64 with \d+ sections$/m);
  const ldd = spawnSync('ldd', [project('readelf-lite')], { encoding: 'utf8' });
  assert.match(ldd.stdout, new RegExp(`libelf\\.so\\.1 => ${pkg('libelf-0.188', 'install', 'lib')}/libelf`));
});

test('ninja built a program and patchelf changed its rpath', () => {
  assert.equal(built.code, 0, built.stderr);
  assert.equal(spawnSync(project('hello'), { encoding: 'utf8' }).stdout, 'hello from ninja\n');
  const rpath = spawnSync(pkg('patchelf-0.14.3', 'install', 'bin', 'patchelf'), ['--print-rpath', project('hello')], { encoding: 'utf8' });
  assert.equal(rpath.stdout.trim(), '/opt/infra-test/lib');
});

test('a build outside the tool links libunwind with the flags pkg-config gives', () => {
  assert.equal(built.code, 0, built.stderr);
  const r = runInfra(dir, ['pkg-config', 'libunwind-1.6.2', '--cflags', '--ldflags', '--libs']);
  assert.equal(r.code, 0, r.stderr);
  const lib = pkg('libunwind-1.6.2', 'install', 'lib');
  assert.deepEqual(r.stdout.trim().split('\n'), [
    `-I${pkg('libunwind-1.6.2', 'install', 'include')}`,
    `-L${lib} -Wl,-rpath,${lib}`,
    '-lunwind',
  ]);
  const flags = r.stdout.trim().split(/\s+/);
  const out = join(dir, 'backtrace');
  const cc = spawnSync('cc', ['-O1', '-o', out, join(dir, 'backtrace.c'), ...flags], { encoding: 'utf8' });
  assert.equal(cc.status, 0, cc.stderr);
  const bt = spawnSync(out, { encoding: 'utf8' });
  assert.equal(bt.status, 0, bt.stderr);
  assert.deepEqual(bt.stdout.split('\n').slice(0, 2), ['outer', 'main']);
  assert.match(spawnSync('ldd', [out], { encoding: 'utf8' }).stdout, new RegExp(`libunwind\\.so\\.8 => ${lib}/`));
});
