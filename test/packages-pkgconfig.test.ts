// Every built-in package answers `infra pkg-config` with its root and install prefix, and each
// library with the flags a build system outside the tool needs (no package is built here).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeProject, runInfra } from './helpers.ts';

const SETUP = String.raw`
import { Setup, Target, M4, AutoConf, LibTool, AutoMake, Make, Bash, CoreUtils, BinUtils, CMake, Ninja, LibElf, PatchElf,
  LibUnwind, Gperftools, Wrk, LLVM, LLVMPasses, BuiltinLLVMPasses, APR, APRUtil, ApacheBench } from 'instrumentation-infra';

const m4 = new M4('1.4.19');
const autoconf = new AutoConf('2.71', m4);
const libtool = new LibTool('2.4.7');
const llvm = LLVM.installed({ version: '22' });
const apr = new APR('1.7.2');
const aprUtil = new APRUtil('1.6.3', apr);
const all = [m4, autoconf, libtool, new AutoMake('1.16.5', autoconf, libtool), new Make('4.3'), new Bash('5.2.15'),
  new CoreUtils('9.1'), new BinUtils('2.40', { gold: true }), new BinUtils('2.40', { gold: false }), new CMake('3.25.1'), new Ninja('1.11.1'),
  new LibElf('0.188'), new PatchElf('0.14.3'), new LibUnwind('1.6.2'), new Gperftools({ version: '2.10' }), new Gperftools(),
  new Wrk('4.1.0'), new BuiltinLLVMPasses(llvm), new LLVMPasses(llvm, { srcdir: 'passes', name: 'mine', useBuiltins: true }), apr, aprUtil, new ApacheBench('2.4.68', apr, aprUtil)];

class Everything extends Target {
  readonly name = 'everything';
  override dependencies() { return all; }
  isFetched() { return true; }
  fetch() {}
  build() {}
  run() {}
}
const setup = new Setup(import.meta.url);
setup.addTarget(new Everything());
await setup.main();
`;

const TOOLS = [
  'm4-1.4.19',
  'autoconf-2.71',
  'libtool-2.4.7',
  'automake-1.16.5',
  'make-4.3',
  'bash-5.2.15',
  'coreutils-9.1',
  'binutils-2.40-gold',
  'binutils-2.40',
  'cmake-3.25.1',
  'ninja-1.11.1',
  'patchelf-0.14.3',
  'wrk-4.1.0',
  'llvm-passes-builtin-22',
  'llvm-passes-mine',
  'ab-2.4.68',
];
const LIBRARIES = ['libelf-0.188', 'libunwind-1.6.2', 'gperftools-2.10', 'apr-1.7.2', 'apr-util-1.6.3'];

let dir = '';
before(() => {
  dir = makeProject({ 'setup.ts': SETUP, 'passes/.keep': '' });
});

const pkgConfig = (ident: string, ...options: string[]) => {
  const r = runInfra(dir, ['pkg-config', ident, ...options]);
  assert.equal(r.code, 0, `${ident}: ${r.stderr}`);
  return r.stdout.trimEnd().split('\n');
};

test('every package gives --root and --prefix under build/packages/<ident>', () => {
  for (const ident of [...TOOLS, ...LIBRARIES]) {
    assert.deepEqual(pkgConfig(ident, '--root', '--prefix'), [
      join(dir, 'build', 'packages', ident),
      join(dir, 'build', 'packages', ident, 'install'),
    ]);
  }
});

test('libraries give --cflags and --ldflags pointing into their install prefix', () => {
  for (const ident of LIBRARIES) {
    const [cflags, ldflags] = pkgConfig(ident, '--cflags', '--ldflags');
    const prefix = join(dir, 'build', 'packages', ident, 'install');
    assert.match(cflags!, new RegExp(`-I${prefix}/include`), `${ident} --cflags`);
    assert.match(ldflags!, new RegExp(`-L${prefix}/lib`), `${ident} --ldflags`);
  }
});

test('the system tcmalloc gives the flags that link it', () => {
  const [cflags, ldflags, libs] = pkgConfig('gperftools-system', '--cflags', '--ldflags', '--libs');
  assert.equal(cflags, '', 'headers on the default path');
  assert.match(ldflags!, /-ltcmalloc/);
  assert.equal(libs, '-ltcmalloc');
});

test('an option a package does not have is an error naming the valid ones', () => {
  const r = runInfra(dir, ['pkg-config', 'cmake-3.25.1', '--cflags']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /package cmake-3\.25\.1 has no pkg-config option '--cflags'; valid options: --root, --prefix/);
});
