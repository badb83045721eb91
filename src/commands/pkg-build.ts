import type { Context } from '../core/context.js';
import { dependenciesOf } from '../core/graph.js';
import { ensureInstalled } from '../core/install.js';
import { findPackage } from '../core/packages.js';
import type { Setup } from '../core/setup.js';
import { withBuildLock } from './lock.js';

export interface PkgBuildInput {
  /** The package's ident. */
  package: string;
  forceRebuildDeps?: boolean;
  clean?: boolean;
}

/** `infra pkg-build PACKAGE`: builds one package and its dependencies; the package itself always. */
export async function pkgBuild(setup: Setup, ctx: Context, opts: PkgBuildInput): Promise<void> {
  const pkg = findPackage(setup, opts.package);
  await withBuildLock(ctx, `pkg-build ${opts.package}`, async () => {
    if (opts.clean && !ctx.dryRun) await pkg.clean(ctx);
    for (const dep of dependenciesOf(pkg)) await ensureInstalled(ctx, dep, { force: opts.forceRebuildDeps });
    await ensureInstalled(ctx, pkg, { force: true });
  });
}
