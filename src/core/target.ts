import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from './context.js';
import type { Instance } from './instance.js';
import type { ArgParser } from './options.js';
import type { Awaitable, Package } from './package.js';
import type { ExecutionStatus, FieldValue, Runner } from './runner.js';
import { CACHED_BLOCK, readReportBlocks } from './report-blocks.js';

/** One recorded execution, as a target's own report sees it. */
export interface ReportedExecution {
  instance: string;
  benchmark: string;
  iteration: number;
  status: ExecutionStatus;
  fields: Record<string, FieldValue>;
}

/** What a target's own report gets: the records, and what the target said about each run. */
export interface TargetReportInput {
  records: readonly ReportedExecution[];
  /** Instances to report, in order. */
  instances: readonly string[];
  /** `--groupby`, or the target's aggregation field. */
  groupby: string;
  /** Per instance name, what {@link Target.describeRun} returned in each run read (oldest first). */
  runDescriptions: ReadonlyMap<string, ReadonlyArray<Record<string, unknown>>>;
}

/** A table of a target's own report: columns (optionally under an instance heading), rows, notes. */
export interface TargetReportTable {
  columns: Array<{ name: string; group?: string }>;
  rows: Array<Array<string | number | boolean | null>>;
  /** Lines printed under the table (legend, caveats). */
  notes: string[];
}

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

  /** Whether the target's sources are present (true for one that has none to fetch). */
  abstract isFetched(ctx: Context): Awaitable<boolean>;
  /** Gets the sources (from a pinned archive, a copy of the user's files...). */
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

  /** True when there is nothing to clean. */
  isClean(ctx: Context): Awaitable<boolean> {
    return !existsSync(this.path(ctx));
  }

  /** Removes everything the target generated (build/targets/<name>). */
  async clean(ctx: Context): Promise<void> {
    await rm(this.path(ctx), { recursive: true, force: true });
  }

  /**
   * What the target wants kept with a run for an instance (meta.json, `instances[].target`),
   * e.g. which of its test cases it selected, left out and found built. Called before the
   * first execution.
   */
  describeRun(_ctx: Context, _instance: Instance): Awaitable<Record<string, unknown> | undefined> {
    return undefined;
  }

  /**
   * The target's own summary for `report` without `-f`, `--raw` or `--overhead` (undefined:
   * the generic table). Gets the records after `--filter` and what `describeRun` recorded.
   */
  reportTable(_input: TargetReportInput): TargetReportTable | undefined {
    return undefined;
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
