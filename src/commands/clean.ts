import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import { findPackage } from '../core/packages.js';
import type { Setup } from '../core/setup.js';
import { withBuildLock } from './lock.js';
import { removeLeftovers } from '../parallel/leftovers.js';

export interface CleanOptions {
  targets?: string[];
  packages?: string[];
}

/**
 * `infra clean --targets T... --packages P...`: removes generated files, and what killed runs
 * left behind (their Slurm jobs are cancelled).
 */
export async function clean(setup: Setup, ctx: Context, opts: CleanOptions): Promise<void> {
  const targets = (opts.targets ?? []).map((n) => setup.getTarget(n));
  const packages = (opts.packages ?? []).map((n) => findPackage(setup, n));
  // what killed runs left (Slurm jobs, ssh connections, job files) has locks of its own
  const leftovers = ctx.dryRun ? 0 : await removeLeftovers(ctx.paths.buildroot, ctx.log);
  if (targets.length === 0 && packages.length === 0) {
    if (leftovers > 0) return;
    throw new UserError('nothing to clean: give --targets NAME... and/or --packages NAME...', { exitCode: 2 });
  }
  await withBuildLock(ctx, 'clean', async () => {
    for (const t of targets) {
      if (await t.isClean(ctx)) ctx.log.info(`${t.name}: already clean`);
      else {
        ctx.log.info(`cleaning target ${t.name}`);
        await t.clean(ctx);
      }
    }
    for (const p of packages) {
      if (await p.isClean(ctx)) ctx.log.info(`${p.ident()}: already clean`);
      else {
        ctx.log.info(`cleaning package ${p.ident()}`);
        await p.clean(ctx);
      }
    }
  });
}
