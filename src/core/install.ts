import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { Context } from './context.js';
import { dependenciesOf } from './graph.js';
import type { Package } from './package.js';

const STAMP = '.infra-installed';

export interface InstallOptions {
  /** Rebuild even when the package counts as installed. */
  force?: boolean;
}

/**
 * Fetches, builds and installs one package (its dependencies must already be installed) unless
 * it is installed. A package counts as installed only when its own `isInstalled` says so AND
 * the framework's stamp exists; the stamp is removed before any step and written (atomically)
 * after `install` returned, so an interrupted build is never mistaken for a finished one. The
 * package's install directory (`path(ctx, 'install')`) is removed right before `install`.
 * Returns whether anything was done.
 */
export async function ensureInstalled(ctx: Context, pkg: Package, options: InstallOptions = {}): Promise<boolean> {
  const ident = pkg.ident();
  const stamp = pkg.path(ctx, STAMP);
  if (!options.force && existsSync(stamp) && (await pkg.isInstalled(ctx))) {
    ctx.log.debug(`${ident}: already installed`);
    return false;
  }
  const dry = ctx.dryRun;
  if (!dry) rmSync(stamp, { force: true });
  const pctx = ctx.clone();
  for (const dep of dependenciesOf(pkg)) dep.installEnv(pctx);
  if (!(await pkg.isFetched(pctx))) {
    ctx.log.info(`fetching ${ident}`);
    await pkg.fetch(pctx);
  }
  if (options.force || !(await pkg.isBuilt(pctx))) {
    ctx.log.info(`building ${ident}`);
    await pkg.build(pctx);
  }
  ctx.log.info(`installing ${ident}`);
  // what an earlier, interrupted or older install left is never built on top of
  if (!dry) rmSync(pkg.path(ctx, 'install'), { recursive: true, force: true });
  await pkg.install(pctx);
  if (!dry) {
    mkdirSync(pkg.path(ctx), { recursive: true });
    const tmp = `${stamp}.${process.pid}`;
    writeFileSync(tmp, `${ident}\n${new Date().toISOString()}\n`);
    renameSync(tmp, stamp);
  }
  return true;
}
