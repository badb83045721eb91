import type { Context } from './context.js';
import { dependencyOrder } from './graph.js';
import type { Instance } from './instance.js';
import { ensureInstalled } from './install.js';
import type { Package } from './package.js';
import type { Target } from './target.js';

/** The packages a target needs when built with these instances, in build order. */
export function packagesFor(target: Target, instances: Instance[]): Package[] {
  return dependencyOrder([...target.dependencies(), ...instances.flatMap((i) => [...i.dependencies()])]);
}

/** Installs packages in order, each once; `force` rebuilds them all. */
export async function installPackages(ctx: Context, packages: Package[], force = false): Promise<void> {
  for (const pkg of packages) await ensureInstalled(ctx, pkg, { force });
}

/**
 * The context an instance builds or runs a target with: a private copy of `base` with the
 * target's and instance's packages in the environment, configured by the instance.
 */
export async function instanceContext(base: Context, target: Target, instance: Instance): Promise<Context> {
  const ctx = base.clone();
  ctx.instanceName = instance.name;
  for (const pkg of packagesFor(target, [instance])) pkg.installEnv(ctx);
  await instance.configure(ctx);
  return ctx;
}

/** Builds a target with one instance in its own context (dependencies must be installed). */
export async function buildWithInstance(base: Context, target: Target, instance: Instance): Promise<Context> {
  const ctx = await instanceContext(base, target, instance);
  await instance.prepareBuild(ctx);
  for (const hook of ctx.hooks.preBuild) await hook(ctx, target.path(ctx));
  ctx.log.info(`building ${target.name} with ${instance.name}`);
  await target.build(ctx, instance);
  await instance.processBuild(ctx);
  if (ctx.hooks.postBuild.length > 0) {
    for (const bin of await target.binaryPaths(ctx, instance)) {
      for (const hook of ctx.hooks.postBuild) await hook(ctx, bin);
    }
  }
  return ctx;
}

/** Fetches the target's sources when needed. */
export async function fetchTarget(ctx: Context, target: Target): Promise<void> {
  if (!(await target.isFetched(ctx))) {
    ctx.log.info(`fetching ${target.name}`);
    await target.fetch(ctx);
  }
}
