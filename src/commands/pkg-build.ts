import type { Context } from '../core/context.js';
import { dependenciesOf } from '../core/graph.js';
import { ensureInstalled } from '../core/install.js';
import { findPackage } from '../core/packages.js';
import type { Setup } from '../core/setup.js';
import { withBuildLock } from './lock.js';

export interface PkgBuildOptions {
  forceRebuildDeps?: boolean;
  clean?: boolean;
  dryRun?: boolean;
}

/** `infra pkg-build PACKAGE`: builds one package and its dependencies; the package itself always. */
export async function pkgBuild(setup: Setup, ctx: Context, ident: string, opts: PkgBuildOptions): Promise<void> {
  const pkg = findPackage(setup, ident);
  await withBuildLock(ctx, `pkg-build ${ident}`, async () => {
    if (opts.clean && !opts.dryRun) await pkg.clean(ctx);
    for (const dep of dependenciesOf(pkg)) await ensureInstalled(ctx, dep, { force: opts.forceRebuildDeps });
    await ensureInstalled(ctx, pkg, { force: true });
  });
}
