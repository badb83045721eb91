import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import type { Context } from './context.js';

/**
 * A digest of `ctx.buildInputs` (path, size and modification time of each; missing files
 * count too), for a target's "is my build up to date" check: a rebuilt pass plugin or runtime
 * library changes it, so binaries built with the old one are rebuilt.
 */
export function buildInputsDigest(ctx: Context): string {
  const hash = createHash('sha256');
  for (const file of [...new Set(ctx.buildInputs)].sort()) {
    let stamp = 'missing';
    try {
      const st = statSync(file);
      stamp = `${st.size}:${st.mtimeMs}`;
    } catch {
      // a file that does not exist yet is part of the configuration too
    }
    hash.update(`${file}\0${stamp}\0`);
  }
  return hash.digest('hex');
}
