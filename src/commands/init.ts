import { cpSync, existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join, resolve, sep } from 'node:path';
import { UserError } from '../core/errors.js';
import { PACKAGE_ROOT, packageFile, packageVersion } from '../paths.js';

/** The scaffold copied by `infra init` (templates/init next to src/ or dist/). */
export const INIT_TEMPLATE = packageFile('templates', 'init');

export interface InitOptions {
  /** Directory to create the project in; created if missing. */
  dir: string;
  /** Write into a directory that is not empty, overwriting files of the same name. */
  force?: boolean;
  /**
   * Depend on this very installation (`file:` path, linked by npm install) instead of the
   * registry's version; the default when this installation is not from a registry (a checkout).
   */
  link?: boolean;
}

/**
 * `infra init DIR`: creates a project with a setup script, a hello-world target, an example
 * LLVM pass that counts library calls, its runtime library, a README explaining each file, and
 * the package.json and tsconfig.json with which `npm install` and `tsc` (and editors) accept the
 * setup script. Returns the files written, relative to DIR.
 */
export async function init(options: InitOptions): Promise<string[]> {
  const dir = resolve(options.dir);
  if (existsSync(dir) && readdirSync(dir).length > 0 && !options.force) {
    throw new UserError(`${dir} is not empty; choose a new directory or pass --force to write into it`);
  }
  cpSync(INIT_TEMPLATE, dir, { recursive: true, force: true });
  // npm drops files named .gitignore from packages, so the template stores it without the dot
  renameSync(join(dir, 'gitignore'), join(dir, '.gitignore'));
  const link = options.link ?? !PACKAGE_ROOT.split(sep).includes('node_modules');
  writeJson(join(dir, 'package.json'), projectPackageJson(basename(dir), link));
  writeJson(join(dir, 'tsconfig.json'), PROJECT_TSCONFIG);
  const files = listFiles(dir, '').filter((f) => !f.startsWith('build/') && !f.startsWith('results/'));
  process.stdout.write(
    `created a project in ${dir}\n` +
      `next: cd ${options.dir} && npm install && infra check && infra run --build hello-world clang libcallcount\n` +
      `(README.md explains each file)\n`,
  );
  return files;
}

function listFiles(root: string, rel: string): string[] {
  return readdirSync(join(root, rel), { withFileTypes: true })
    .flatMap((e) => {
      const path = rel ? `${rel}/${e.name}` : e.name;
      return e.isDirectory() ? listFiles(root, path) : [path];
    })
    .sort();
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
}

/** tsc and editors check setup.ts as the launcher runs it: an ES module, top-level await, Node's types. */
const PROJECT_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  },
  include: ['**/*.ts'],
  exclude: ['node_modules', 'build', 'results'],
};

/**
 * The project's package.json: an ES module depending on the version of instrumentation-infra
 * that created it, with the TypeScript and Node types this version is checked with.
 */
function projectPackageJson(dirName: string, link: boolean): unknown {
  const own = JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
  const pin = (name: string, fallback: string) => own.devDependencies?.[name] ?? fallback;
  return {
    name:
      dirName
        .toLowerCase()
        .replace(/[^a-z0-9._-]+/g, '-')
        .replace(/^[._-]+/, '') || 'infra-project',
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: { check: 'infra check' },
    devDependencies: {
      '@types/node': pin('@types/node', '^20.19.0'),
      'instrumentation-infra': link ? `file:${PACKAGE_ROOT.replace(/[/\\]$/, '')}` : `^${packageVersion()}`,
      typescript: pin('typescript', '^5.9.0'),
    },
  };
}
