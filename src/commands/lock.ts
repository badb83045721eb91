import { join } from 'node:path';
import type { Context } from '../core/context.js';
import { BuildLock } from '../core/lock.js';

/** Runs `fn` holding the build tree's lock (not taken for --dry-run, which changes nothing). */
export async function withBuildLock<T>(ctx: Context, description: string, fn: () => Promise<T>): Promise<T> {
  if (ctx.dryRun) return fn();
  const lock = new BuildLock(join(ctx.paths.buildroot, '.infra', 'lock'), ctx.log);
  await lock.acquire(description);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
