import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import { run } from '../exec/run.js';
import { sha256File } from './hash.js';
import { requireProgram } from './programs.js';

/** Options of {@link applyPatch}. */
export interface PatchOptions {
  /** Directory the patch applies to; the stamp file is kept here too. */
  cwd: string;
  /** Leading path components removed from file names in the patch (`patch -p`). Default 1. */
  strip?: number;
}

/** The stamp that records a patch as applied: `.patched-<name without .patch/.diff>` in `cwd`. */
export function patchStamp(patchFile: string, cwd: string): string {
  return join(cwd, `.patched-${basename(patchFile).replace(/\.(patch|diff)$/, '')}`);
}

/**
 * Applies a patch once. Returns false when the stamp in `cwd` says it is already applied.
 * A `--dry-run` runs first, so a patch that does not apply leaves the tree untouched and
 * raises a UserError with patch's output. The stamp remembers the patch's sha256: a patch
 * edited after it was applied is an error, since the tree no longer matches it.
 */
export async function applyPatch(ctx: Context, patchFile: string, options: PatchOptions): Promise<boolean> {
  const strip = options.strip ?? 1;
  const file = resolve(ctx.paths.root, patchFile);
  const cwd = resolve(ctx.paths.root, options.cwd);
  const stamp = patchStamp(file, cwd);
  if (ctx.dryRun) {
    process.stdout.write(`apply patch ${file} in ${cwd} (-p${strip})\n`);
    return true;
  }
  if (!existsSync(file)) throw new UserError(`patch file not found: ${file}`);
  if (!existsSync(cwd)) throw new UserError(`cannot apply ${file}: directory ${cwd} does not exist`);
  const digest = await sha256File(file);
  if (existsSync(stamp)) {
    const recorded = (await readFile(stamp, 'utf8')).trim();
    if (recorded && recorded !== digest) {
      throw new UserError(
        `${file} changed after it was applied in ${cwd} (stamp ${stamp}); ` +
          'remove that directory (or its sources) so the patch is applied to fresh sources',
      );
    }
    ctx.log.debug(`patch ${basename(file)} already applied in ${cwd}`);
    return false;
  }
  const patch = requireProgram(ctx, 'patch');
  // --forward: an already applied patch fails instead of being reversed; --batch: never ask
  const argv = [patch, `-p${strip}`, '--forward', '--batch', '--no-backup-if-mismatch', '-i', file];
  const check = await run(ctx, [...argv, '--dry-run'], { cwd, allowError: true });
  if (check.exitCode !== 0) {
    throw new UserError(`patch ${file} does not apply in ${cwd} (nothing was changed):\n${check.output.trimEnd().replace(/^/gm, '  ')}`);
  }
  ctx.log.info(`applying ${basename(file)} in ${cwd}`);
  await run(ctx, argv, { cwd });
  await writeFile(stamp, `${digest}\n`);
  return true;
}
