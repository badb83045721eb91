// The built-in targets, instances and packages are written against the public API (src/api.ts)
// only, like a user's own: this test fails, naming the file and the import, when one reaches
// into the framework's internals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { REPO } from './helpers.ts';

const BUILT_IN_DIRS = ['src/targets', 'src/instances', 'src/packages'];
/** Internals; `src/index.ts` too, which imports the built-ins (a cycle). */
const INTERNAL = [
  'src/core/',
  'src/exec/',
  'src/util/',
  'src/parallel/',
  'src/results/',
  'src/report/',
  'src/cli/',
  'src/commands/',
  'src/paths.ts',
  'src/index.ts',
];

interface SourceFile {
  /** Relative to the repository, e.g. `src/targets/kernels.ts`. */
  path: string;
  text: string;
}

/** Every module specifier of a file: imports, re-exports, dynamic imports. */
function importsOf(text: string): string[] {
  return ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
}

/** `FILE: imports 'SPEC' (INTERNAL)` for each import of an internal module. */
function boundaryViolations(files: SourceFile[]): string[] {
  const violations: string[] = [];
  for (const file of files) {
    for (const spec of importsOf(file.text)) {
      if (!spec.startsWith('.')) continue; // node: builtins and libraries
      const target = relative(REPO, resolve(REPO, dirname(file.path), spec)).replace(/\.js$/, '.ts');
      const internal = INTERNAL.find((i) => (i.endsWith('/') ? target.startsWith(i) : target === i));
      if (internal) violations.push(`${file.path}: imports '${spec}' (${target}); import it from the public API, src/api.ts`);
    }
  }
  return violations;
}

function builtInFiles(): SourceFile[] {
  const files: SourceFile[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(join(REPO, dir), { withFileTypes: true })) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts')) files.push({ path, text: readFileSync(join(REPO, path), 'utf8') });
    }
  };
  BUILT_IN_DIRS.forEach(walk);
  return files;
}

test('built-in targets, instances and packages import only the public API', () => {
  const files = builtInFiles();
  assert.ok(files.length > 20, `found the built-ins (${files.length} files)`);
  assert.deepEqual(boundaryViolations(files), []);
});

test('the check names each file that reaches into internals, and the import', () => {
  const files: SourceFile[] = [
    { path: 'src/targets/mine.ts', text: "import { run } from '../exec/run.js';\nimport { Target } from '../api.js';\n" },
    {
      path: 'src/targets/deep/x.ts',
      text: "import type { Context } from '../../core/context.js';\nexport { packageFile } from '../../paths.js';\n",
    },
    { path: 'src/instances/y.ts', text: "const m = await import('../util/shell.js');\nimport '../report/stats.js';\n" },
    { path: 'src/packages/z.ts', text: "import { Gcc } from '../index.js';\n" },
    {
      path: 'src/packages/fine.ts',
      text:
        "import { join } from 'node:path';\nimport { Package } from '../api.js';\nimport { Clang } from '../instances/clang.js';\n" +
        "import { LLVM } from './llvm.js';\nimport { Nothp } from '../packages/nothp.js';\n" +
        "const script = `import { x } from '../core/setup.js';`; // text in a string is no import\n",
    },
  ];
  assert.deepEqual(boundaryViolations(files), [
    "src/targets/mine.ts: imports '../exec/run.js' (src/exec/run.ts); import it from the public API, src/api.ts",
    "src/targets/deep/x.ts: imports '../../core/context.js' (src/core/context.ts); import it from the public API, src/api.ts",
    "src/targets/deep/x.ts: imports '../../paths.js' (src/paths.ts); import it from the public API, src/api.ts",
    "src/instances/y.ts: imports '../util/shell.js' (src/util/shell.ts); import it from the public API, src/api.ts",
    "src/instances/y.ts: imports '../report/stats.js' (src/report/stats.ts); import it from the public API, src/api.ts",
    "src/packages/z.ts: imports '../index.js' (src/index.ts); import it from the public API, src/api.ts",
  ]);
});

test('the public API module itself does not import the built-ins (no cycle through src/index.ts)', () => {
  const api = readFileSync(join(REPO, 'src/api.ts'), 'utf8');
  const builtIns = importsOf(api).filter((s) => /^\.\/(targets|instances|packages|index)\b/.test(s));
  assert.deepEqual(builtIns, []);
});
