import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';

/**
 * Debian packages that provide programs whose package name differs from the program name
 * (or that people often look for); used only to word the "not found" hint.
 */
const DEBIAN_PACKAGE: Record<string, string> = {
  xz: 'xz-utils',
  unxz: 'xz-utils',
  zipinfo: 'unzip',
  ab: 'apache2-utils',
  'llvm-config': 'llvm-dev',
  time: 'time',
  ninja: 'ninja-build',
  'g++': 'g++',
  c99: 'gcc',
  cc: 'gcc',
  'c++': 'g++',
  makeinfo: 'texinfo',
  perf: 'linux-perf',
};

function debianPackage(name: string): string {
  const versioned = /^(clang\+\+|clang|llvm-config|opt|llc|llvm-[a-z-]+|ld\.lld|lld)-(\d+)$/.exec(name);
  if (versioned) {
    const [, tool, version] = versioned;
    if (tool === 'clang' || tool === 'clang++') return `clang-${version}`;
    if (tool === 'lld' || tool === 'ld.lld') return `lld-${version}`;
    return `llvm-${version}`;
  }
  return DEBIAN_PACKAGE[name] ?? name;
}

/** The directories searched for programs: the PATH commands will see (ctx.runenv), then the process's own. */
function searchPath(ctx: Context): string[] {
  const dirs: string[] = [];
  const add = (value: string | string[] | undefined) => {
    if (value === undefined) return;
    for (const dir of Array.isArray(value) ? value : value.split(delimiter)) {
      if (dir && !dirs.includes(dir)) dirs.push(dir);
    }
  };
  add(ctx.runenv.PATH);
  add(process.env.PATH);
  return dirs;
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The absolute path of an executable program, or null. A name containing '/' is taken as a
 * path (relative to the project root); any other name is looked up in the PATH of
 * `ctx.runenv` first and then in the process's own PATH.
 */
export function findProgram(ctx: Context, name: string): string | null {
  if (name.includes('/')) {
    const path = isAbsolute(name) ? name : resolve(ctx.paths.root, name);
    return isExecutableFile(path) ? path : null;
  }
  for (const dir of searchPath(ctx)) {
    const candidate = resolve(ctx.paths.root, join(dir, name));
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/**
 * Like {@link findProgram} but a missing program is a UserError that says how to get it:
 * `hint` when given, otherwise the Debian package that usually provides it.
 */
export function requireProgram(ctx: Context, name: string, hint?: string): string {
  const found = findProgram(ctx, name);
  if (found) return found;
  const advice = hint ?? `install it (e.g. apt-get install ${debianPackage(name)})`;
  throw new UserError(`required program '${name}' not found in PATH; ${advice}`);
}
