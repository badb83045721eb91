import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Context, extractArchive, makeDirectory, removePath, requireProgram, run, UserError } from '../../api.js';
import { isSpecInstallation } from './harness.js';
import type { SpecVersion } from './versions.js';

/**
 * Where the SPEC copy comes from:
 * - `installed`: a SPEC directory installed with its `install.sh` (used in place, shared);
 * - `mounted`: a mounted or extracted ISO directory;
 * - `isofile`: the ISO file itself (mounted with `fuseiso` for the installation);
 * - `tarfile`: a (compressed) tarball of the ISO's contents;
 * - `git`: a git repository holding the ISO's contents.
 * All but `installed` are installed into the target's build directory by SPEC's `install.sh`.
 */
export type SpecSourceType = 'installed' | 'mounted' | 'isofile' | 'tarfile' | 'git';
export const SPEC_SOURCE_TYPES: readonly SpecSourceType[] = ['installed', 'mounted', 'isofile', 'tarfile', 'git'];

/**
 * Installs SPEC from an ISO's contents into `dest`: unpacks or mounts the source as its type
 * requires, then runs its `install.sh -f -d dest`.
 */
export async function installSpec(
  ctx: Context,
  version: SpecVersion,
  sourceType: Exclude<SpecSourceType, 'installed'>,
  source: string,
  dest: string,
  workdir: string,
): Promise<void> {
  const src = resolve(ctx.paths.root, source);
  if (sourceType !== 'git' && !existsSync(src)) throw new UserError(`${version.target}: source ${src} does not exist`);
  removePath(ctx, workdir);
  makeDirectory(ctx, workdir);
  removePath(ctx, dest);
  const media = join(workdir, 'media');
  switch (sourceType) {
    case 'mounted':
      await runInstall(ctx, src, dest);
      break;
    case 'tarfile':
      await extractArchive(ctx, src, media);
      await runInstall(ctx, mediaRoot(media), dest);
      break;
    case 'git':
      await run(ctx, [requireProgram(ctx, 'git'), 'clone', '--depth', '1', existsSync(src) ? src : source, media], { cwd: workdir });
      await runInstall(ctx, media, dest);
      break;
    case 'isofile': {
      const fuseiso = requireProgram(ctx, 'fuseiso', 'install it (apt-get install fuseiso) or mount the ISO and use sourceType mounted');
      makeDirectory(ctx, media);
      await run(ctx, [fuseiso, src, media]);
      try {
        await runInstall(ctx, media, dest);
      } finally {
        await run(ctx, ['fusermount', '-u', media], { allowError: true });
      }
      break;
    }
  }
  if (!ctx.dryRun && !isSpecInstallation(dest, version)) {
    throw new UserError(`${version.target}: installing from ${src} did not produce shrc and bin/${version.harness} in ${dest}`);
  }
  removePath(ctx, workdir);
}

/** A tarball may hold the ISO's files at its top or inside one directory. */
function mediaRoot(media: string): string {
  if (existsSync(join(media, 'install.sh'))) return media;
  const entries = readdirSync(media);
  if (entries.length === 1 && existsSync(join(media, entries[0]!, 'install.sh'))) return join(media, entries[0]!);
  return media;
}

async function runInstall(ctx: Context, media: string, dest: string): Promise<void> {
  const script = join(media, 'install.sh');
  if (!ctx.dryRun && !existsSync(script)) {
    throw new UserError(
      `no install.sh in ${media}: is this the contents of a SPEC ISO? (use sourceType 'installed' for an installed SPEC)`,
    );
  }
  ctx.log.info(`installing SPEC from ${media} into ${dest}`);
  await run(ctx, ['sh', script, '-f', '-d', dest], { cwd: media });
}
