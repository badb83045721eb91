import type { Context } from './context.js';
import type { ArgParser } from './options.js';
import type { Awaitable, Package } from './package.js';

/**
 * How to build a target: a compiler, flags, passes, runtime libraries. An instance only
 * changes the context it is given; that context is a private copy.
 */
export abstract class Instance {
  /** Unique name used on the command line. */
  abstract readonly name: string;

  /** Options for `build`; prefix them with the instance name. */
  addBuildArgs(_parser: ArgParser): void {}

  /** Options for `run`. */
  addRunArgs(_parser: ArgParser): void {}

  /** Packages installed before a target is built with this instance. */
  dependencies(): Iterable<Package> {
    return [];
  }

  /** Sets compiler, flags and hooks in `ctx` (use push, not assignment, for lists). */
  configure(_ctx: Context): Awaitable<void> {}

  /** Called right before the target is built (after dependencies are installed). */
  prepareBuild(_ctx: Context): Awaitable<void> {}

  /** Called after the target was built. */
  processBuild(_ctx: Context): Awaitable<void> {}

  /** Changes how the target runs, typically `ctx.runenv` or `ctx.targetRunWrapper`. */
  prepareRun(_ctx: Context): Awaitable<void> {}

  /** Called after all of the target's executions for this instance finished. */
  processRun(_ctx: Context): Awaitable<void> {}

  /** Compiler, version and flags recorded in each run's metadata. */
  describe(ctx: Context): Record<string, unknown> {
    return { cc: ctx.cc, cxx: ctx.cxx, cflags: ctx.cflags, cxxflags: ctx.cxxflags, ldflags: ctx.ldflags };
  }
}
