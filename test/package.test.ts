// What `npm pack` ships: everything the README's workflows need (the CLI, the library and its
// types, the C/C++ sources the built-ins compile, the init scaffold, the offline-store script),
// the licence, and no script that builds at install time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './helpers.ts';

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  license: string;
  keywords: string[];
  engines: { node: string };
  scripts: Record<string, string>;
  bin: Record<string, string>;
};

test('package.json: licence, keywords, engines, and a build before packing, never at install', () => {
  assert.equal(pkg.license, 'MIT');
  assert.match(readFileSync(join(REPO, 'LICENSE'), 'utf8'), /^MIT License/);
  assert.ok(pkg.keywords.includes('llvm') && pkg.keywords.includes('benchmarking'));
  assert.equal(pkg.engines.node, '>=20.15'); // zlib.crc32 (the report's column index)
  for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(pkg.scripts[s], undefined, `no ${s} script`);
  assert.match(pkg.scripts.prepack ?? '', /npm run build/);
  assert.match(pkg.scripts.docs ?? '', /typedoc/);
  assert.deepEqual(pkg.bin, { infra: 'bin/infra.js' });
});

test(
  'npm pack ships the CLI, the library, the sources the built-ins compile and the scaffold',
  { skip: !existsSync(join(REPO, 'dist', 'index.js')) && 'run npm run build first' },
  () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const files = new Set((JSON.parse(r.stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path));
    for (const f of [
      'LICENSE',
      'README.md',
      'package.json',
      'bin/infra.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/launch.js',
      'scripts/fetch-sources.sh',
      'templates/init/setup.ts',
      'templates/init/llvm-passes/LibCallCount.cpp',
      'passes/plugin/Plugin.cpp',
      'passes/include/builtin/Common.h',
      'passes/builtin/SizeofTypes.cpp',
      'passes/sizeof-types/sizeof-cc.mjs',
    ]) {
      assert.ok(files.has(f), `${f} is packed`);
    }
    assert.ok(
      [...files].some((f) => f.startsWith('benchmarks/kernels/')),
      'the bundled kernels',
    );
    assert.ok(
      [...files].some((f) => f.startsWith('runtime/')),
      'the runtime sources',
    );
    for (const f of files) assert.doesNotMatch(f, /^(src|test|node_modules|build|results|docs)\//, `${f} is not packed`);
  },
);
