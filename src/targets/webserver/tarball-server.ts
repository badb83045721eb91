import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  BuildStamp,
  type BuildConfig,
  type Context,
  download,
  extractArchive,
  type Instance,
  makeDirectory,
  type PackageSource,
  removePath,
  requireProgram,
  UserError,
} from '../../api.js';
import { WebServer } from './webserver.js';

/** Where an instance's server is built: the extracted release, its build tree, its install prefix. */
export interface ServerBuildDirs {
  src: string;
  obj: string;
  prefix: string;
}

/**
 * A {@link WebServer} built per instance from a release tarball pinned by sha256 (offline
 * mirrors are searched first) into `build/targets/<name>/<instance>/install`. A `BuildStamp`
 * next to it records the source, the recipe, the compiler and flags; `build` skips an
 * up-to-date server and `run` refuses a stale one, naming what changed. Subclasses give the
 * source, the binary and the build steps.
 */
export abstract class TarballServer extends WebServer {
  abstract readonly version: string;
  /** The release tarball. */
  abstract source(): PackageSource;
  /** The server binary, relative to the install prefix (`sbin/lighttpd`). */
  protected abstract readonly binaryPath: string;
  /** Bump when the build steps change in a way that needs a rebuild. */
  protected abstract readonly recipeVersion: number;

  /** Configures, compiles and installs the server into `dirs.prefix` (sources extracted in `dirs.src`). */
  protected abstract compile(ctx: Context, instance: Instance, dirs: ServerBuildDirs): Promise<void>;

  /** What the build depends on besides source and recipe: compiler, flags, configure arguments. */
  protected abstract buildConfig(ctx: Context, instance: Instance): BuildConfig;

  private get archive(): string {
    return basename(this.source().url.replace(/[?#].*$/, ''));
  }

  isFetched(ctx: Context): boolean {
    return existsSync(this.path(ctx, 'sources', this.archive));
  }

  async fetch(ctx: Context): Promise<void> {
    const { url, sha256 } = this.source();
    await download(ctx, url, { sha256, outfile: this.path(ctx, 'sources', this.archive) });
  }

  /** build/targets/<name>/<instance>/install */
  installDir(ctx: Context, instance: Instance): string {
    return this.path(ctx, instance.name, 'install');
  }

  serverBinary(ctx: Context, instance: Instance): string {
    return join(this.installDir(ctx, instance), this.binaryPath);
  }

  private stamp(ctx: Context, instance: Instance): BuildStamp {
    const config = { recipe: this.recipeVersion, source: { sha256: this.source().sha256 }, ...this.buildConfig(ctx, instance) };
    return new BuildStamp(ctx, this.path(ctx, instance.name, '.infra-build'), config, [this.serverBinary(ctx, instance)]);
  }

  protected override refuseStaleBuild(ctx: Context, instance: Instance): void {
    super.refuseStaleBuild(ctx, instance);
    this.stamp(ctx, instance).refuseIfStale({ what: `${this.name}/${instance.name}`, target: this.name, instance: instance.name });
  }

  async build(ctx: Context, instance: Instance): Promise<void> {
    const dir = this.path(ctx, instance.name);
    const stamp = this.stamp(ctx, instance);
    if (stamp.isUpToDate()) {
      ctx.log.debug(`${this.name}/${instance.name} is up to date`);
      return;
    }
    requireProgram(ctx, 'make');
    ctx.log.info(`building ${this.name} ${this.version} for ${instance.name}`);
    // objects built with other flags must never end up in the server
    removePath(ctx, dir);
    makeDirectory(ctx, dir);
    const archive = this.path(ctx, 'sources', this.archive);
    if (!existsSync(archive)) await this.fetch(ctx);
    const dirs = { src: join(dir, 'src'), obj: join(dir, 'obj'), prefix: this.installDir(ctx, instance) };
    await extractArchive(ctx, archive, dirs.src, { stripComponents: this.source().stripComponents ?? 1 });
    makeDirectory(ctx, dirs.obj);
    await this.compile(ctx, instance, dirs);
    if (ctx.dryRun) return;
    if (!existsSync(this.serverBinary(ctx, instance))) {
      throw new UserError(`${this.name}: the build finished but did not produce ${this.serverBinary(ctx, instance)}`);
    }
    stamp.record();
  }
}

/** The C flags a server is compiled with: -O2 unless the instance says otherwise, then the instance's. */
export function serverCflags(ctx: Context): string {
  return ['-O2', ...ctx.cflags].join(' ');
}
