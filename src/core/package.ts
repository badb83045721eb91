import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Context } from './context.js';
import type { ArgParser } from './options.js';

/** A value, or a promise of one. */
export type Awaitable<T> = T | Promise<T>;

/** One option of `infra pkg-config PACKAGE`: `--prefix` prints the install prefix. */
export interface PkgConfigOption {
  option: string;
  description: string;
  /** What the option prints: a list is printed shell-quoted; a function is called only when asked. */
  value: string | readonly string[] | (() => Awaitable<string | readonly string[]>);
}

/**
 * A dependency that is fetched, built and installed once and shared by every target and
 * instance that names a package with the same {@link ident}.
 *
 * The framework calls `fetch`/`build`/`install` only when `isFetched`/`isBuilt`/`isInstalled`
 * say so, and skips fetching and building altogether when the package is installed. A package
 * only counts as installed after `install` returned: an interrupted build never leaves a package
 * that the next run skips. `install` starts from an empty install directory
 * (`path(ctx, 'install')`, removed by the framework just before), so files of an interrupted or
 * older install never stay mixed into a new one.
 */
export abstract class Package {
  /** Unique identifier, e.g. `bzip2-1.0.8`; also the directory name under build/packages. */
  abstract ident(): string;

  /** Packages that must be installed (and put in the environment) before this one is built. */
  dependencies(): Iterable<Package> {
    return [];
  }

  /** Whether the sources are present (a package with nothing to fetch says true). */
  abstract isFetched(ctx: Context): Awaitable<boolean>;
  /** Gets the sources (download, unpack, patch). */
  abstract fetch(ctx: Context): Awaitable<void>;
  /** Whether the build is current (then {@link build} is skipped). */
  abstract isBuilt(ctx: Context): Awaitable<boolean>;
  /** Builds, outside the install directory. */
  abstract build(ctx: Context): Awaitable<void>;
  /** Whether the install is current (then fetching and building are skipped). */
  abstract isInstalled(ctx: Context): Awaitable<boolean>;
  /** Installs into `path(ctx, 'install')`, which starts empty. */
  abstract install(ctx: Context): Awaitable<void>;

  /** True when there is nothing to clean. */
  isClean(ctx: Context): Awaitable<boolean> {
    return !existsSync(this.path(ctx));
  }

  /** Removes everything the package generated (build/packages/<ident>). */
  async clean(ctx: Context): Promise<void> {
    await rm(this.path(ctx), { recursive: true, force: true });
  }

  /** build/packages/<ident>[/<sub>...] */
  path(ctx: Context, ...sub: string[]): string {
    return join(ctx.paths.packages, this.ident(), ...sub);
  }

  /** Puts install/bin on PATH and install/lib on LD_LIBRARY_PATH (when they exist). */
  installEnv(ctx: Context): void {
    const bin = this.path(ctx, 'install', 'bin');
    const lib = this.path(ctx, 'install', 'lib');
    if (existsSync(bin)) ctx.prependPath('PATH', bin);
    if (existsSync(lib)) ctx.prependPath('LD_LIBRARY_PATH', lib);
  }

  /** Options of `pkg-config`; override and append `...super.pkgConfigOptions(ctx)`. */
  pkgConfigOptions(ctx: Context): PkgConfigOption[] {
    return [
      { option: '--root', description: 'package root directory', value: this.path(ctx) },
      { option: '--prefix', description: 'install prefix', value: this.path(ctx, 'install') },
    ];
  }

  /** Extra options for `pkg-build` (rarely needed). */
  addBuildArgs(_parser: ArgParser): void {}

  /** The identifier (see {@link ident}). */
  toString(): string {
    return this.ident();
  }
}
