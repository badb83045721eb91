import { cpSync, existsSync, readdirSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../core/errors.js';
import { packageFile } from '../paths.js';

/** The scaffold copied by `infra init` (templates/init next to src/ or dist/). */
export const INIT_TEMPLATE = packageFile('templates', 'init');

export interface InitOptions {
  /** Directory to create the project in; created if missing. */
  dir: string;
  /** Write into a directory that is not empty, overwriting files of the same name. */
  force?: boolean;
}

/**
 * `infra init DIR`: creates a project with a setup script, a hello-world target, an example
 * LLVM pass that counts library calls, its runtime library and a README explaining each file.
 * Returns the files written, relative to DIR.
 */
export async function init(options: InitOptions): Promise<string[]> {
  const dir = resolve(options.dir);
  if (existsSync(dir) && readdirSync(dir).length > 0 && !options.force) {
    throw new UserError(`${dir} is not empty; choose a new directory or pass --force to write into it`);
  }
  cpSync(INIT_TEMPLATE, dir, { recursive: true, force: true });
  // npm drops files named .gitignore from packages, so the template stores it without the dot
  renameSync(join(dir, 'gitignore'), join(dir, '.gitignore'));
  const files = listFiles(dir, '').filter((f) => !f.startsWith('build/') && !f.startsWith('results/'));
  process.stdout.write(
    `created a project in ${dir}\n` +
      `next: cd ${options.dir} && infra run --build hello-world clang libcallcount\n` +
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
