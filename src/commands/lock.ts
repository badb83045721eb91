import { join } from 'node:path';
import type { Context } from '../core/context.js';
import { BuildLock } from '../core/lock.js';

/** The lock of the build tree (build/.infra/lock). */
export function buildTreeLock(ctx: Context): BuildLock {
  return new BuildLock(join(ctx.paths.buildroot, '.infra', 'lock'), ctx.log);
}

/** Runs `fn` holding the build tree's lock (not taken for --dry-run, which changes nothing). */
export async function withBuildLock<T>(ctx: Context, description: string, fn: () => Promise<T>): Promise<T> {
  if (ctx.dryRun) return fn();
  const lock = buildTreeLock(ctx);
  await lock.acquire(description);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}

/** The lock of one results directory, held by the run that writes it. */
export function runDirectoryLock(ctx: Context, dir: string): BuildLock {
  return new BuildLock(join(dir, '.lock'), ctx.log, `the results directory ${dir}`);
}
