import { availableParallelism } from 'node:os';
import type { Context } from '../core/context.js';
import { severalFailed } from '../core/errors.js';
import { buildWithInstance, fetchTarget, installPackages, packagesFor } from '../core/build.js';
import type { Instance } from '../core/instance.js';
import type { Setup } from '../core/setup.js';
import type { Target } from '../core/target.js';
import { Jobserver } from '../exec/jobserver.js';
import { onInterrupt, throwIfInterrupted } from '../exec/interrupt.js';
import { JobPool } from '../parallel/pool.js';
import { withBuildLock } from './lock.js';

export interface BuildOptions {
  /** Only build the packages the target and instances depend on. */
  depsOnly?: boolean;
  /** Rebuild every dependency even when it is installed. */
  forceRebuildDeps?: boolean;
  /** Remove the target's generated files first. */
  clean?: boolean;
  /** Build the instances as parallel jobs on this machine ('proc'; 'ssh', 'slurm' and 'prun' build here too). */
  parallel?: string;
  parallelmax?: number;
}

export interface BuildInput extends BuildOptions {
  target: string;
  instances: string[];
}

/** `infra build TARGET INSTANCE...`: dependencies once, in order, then the target per instance. */
export async function build(setup: Setup, ctx: Context, input: BuildInput): Promise<void> {
  const target = setup.getTarget(input.target);
  const instances = input.instances.map((n) => setup.getInstance(n));
  await withBuildLock(ctx, `build ${input.target} ${input.instances.join(' ')}`, () => buildTarget(ctx, target, instances, input));
}

/** The body of `build`, shared with `run --build` (the caller holds the build lock). */
export async function buildTarget(ctx: Context, target: Target, instances: Instance[], opts: BuildOptions): Promise<void> {
  if (opts.clean && !(await target.isClean(ctx))) {
    ctx.log.info(`cleaning ${target.name}`);
    if (!ctx.dryRun) await target.clean(ctx);
  }
  await installPackages(ctx, packagesFor(target, instances), opts.forceRebuildDeps);
  if (opts.depsOnly) return;
  await fetchTarget(ctx, target);
  if (opts.parallel && opts.parallel !== 'proc') {
    ctx.log.info(`--parallel ${opts.parallel}: builds happen on this machine, as parallel processes (as with --parallel proc)`);
  }
  const pool = new JobPool(opts.parallel ? (opts.parallelmax ?? availableParallelism()) : 1);
  // every make of every build draws from one budget of ctx.jobs job slots, so parallel builds
  // (and targets that build several programs at once) share the cores without oversubscribing
  const jobserver = ctx.jobs > 1 && !ctx.dryRun ? new Jobserver(ctx.jobs) : null;
  const bctx = jobserver ? Object.assign(ctx.clone(), { jobserver }) : ctx;
  const stopOnInterrupt = onInterrupt(() => pool.abort());
  try {
    for (const inst of instances) pool.add(inst.name, () => buildWithInstance(bctx, target, inst));
    await pool.drain();
  } finally {
    stopOnInterrupt();
    jobserver?.close();
  }
  throwIfInterrupted();
  const failures = pool.failures;
  if (failures.length === 1 && instances.length === 1) throw failures[0]!.error;
  if (failures.length > 0) {
    throw severalFailed(
      `${failures.length} of ${instances.length} builds of ${target.name} failed (commands and output in ${ctx.paths.runlog})`,
      failures.map((f) => ({ label: `${target.name} with ${f.label}`, error: f.error })),
    );
  }
}
