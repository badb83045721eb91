import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The installed package's root directory (where runtime/, passes/, benchmarks/, templates/ and
 * package.json are). This module sits one level below it both as compiled (dist/, bundled or not)
 * and as source (src/), so every other module finds package files through it.
 */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A file or directory shipped with the package. */
export function packageFile(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}

let version: string | undefined;
/** The version of this package, as in its package.json. */
export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(packageFile('package.json'), 'utf8')) as { version: string }).version;
  return version;
}
