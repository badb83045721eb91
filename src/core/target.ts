import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from './context.js';
import type { Instance } from './instance.js';
import type { ArgParser } from './options.js';
import type { Awaitable, Package } from './package.js';
import type { FieldValue, Runner } from './runner.js';
import { CACHED_BLOCK, readReportBlocks } from './report-blocks.js';

/**
 * A program or suite to build (once per instance) and run. Built-in targets use exactly this
 * API; a user's own target needs nothing more.
 */
export abstract class Target {
  /** Unique name used on the command line. */
  abstract readonly name: string;

  /**
   * Fields this target reports beyond what the framework measures itself (runtime, utime,
   * stime, maxrss, ...), mapped to a description for `report --help-fields`.
   */
  reportableFields(): Record<string, string> {
    return {};
  }

  /** Field that `report` groups results on by default. */
  aggregationField = 'benchmark';

  /** Options for `build` (and `run --build`); prefix them with the target name. */
  addBuildArgs(_parser: ArgParser): void {}

  /** Options for `run`. */
  addRunArgs(_parser: ArgParser): void {}

  /** Packages to build and put in the environment before this target is built. */
  dependencies(): Iterable<Package> {
    return [];
  }

  /** build/targets/<name>[/<sub>...] */
  path(ctx: Context, ...sub: string[]): string {
    return join(ctx.paths.targets, this.name, ...sub);
  }

  abstract isFetched(ctx: Context): Awaitable<boolean>;
  abstract fetch(ctx: Context): Awaitable<void>;

  /** Builds the target with the configuration the instance put in `ctx`. */
  abstract build(ctx: Context, instance: Instance): Awaitable<void>;

  /** Submits the benchmarks to run; respects the target's run options in `ctx.args`. */
  abstract run(ctx: Context, instance: Instance, runner: Runner): Awaitable<void>;

  /**
   * Called once per instance after all of the target's executions for it ended, also when the
   * run was interrupted or failed: stop servers the target started, remove scratch files.
   */
  afterRun(_ctx: Context, _instance: Instance): Awaitable<void> {}

  /**
   * Extracts reportable fields from a benchmark's output file (synchronously or not). By
   * default, reads `[setup-report] begin/end` blocks (see `parseReportBlocks`).
   */
  parseOutfile(_ctx: Context, outfile: string): Awaitable<Array<Record<string, FieldValue>>> {
    return blockFields(outfile);
  }

  isClean(ctx: Context): Awaitable<boolean> {
    return !existsSync(this.path(ctx));
  }

  async clean(ctx: Context): Promise<void> {
    await rm(this.path(ctx), { recursive: true, force: true });
  }

  /** Absolute paths of the binaries built for an instance (passed to build hooks). */
  binaryPaths(_ctx: Context, _instance: Instance): Awaitable<string[]> {
    return [];
  }
}

async function blockFields(outfile: string): Promise<Array<Record<string, FieldValue>>> {
  let blocks;
  try {
    blocks = await readReportBlocks(outfile);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const fields: Record<string, FieldValue> = {};
  for (const block of blocks) if (block.name !== CACHED_BLOCK) Object.assign(fields, block.fields);
  return Object.keys(fields).length ? [fields] : [];
}
