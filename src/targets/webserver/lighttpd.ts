import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  type ArgParser,
  type BuildConfig,
  checkOptions,
  type Context,
  type FieldValue,
  type Instance,
  makeJobs,
  type Package,
  type PackageSource,
  pinnedSource,
  positiveInt,
  run,
} from '../../api.js';
import { RELEASES } from '../../packages/releases.js';
import { serverCflags, type ServerBuildDirs, TarballServer } from './tarball-server.js';
import type { ServeSpec, ServerCommand } from './webserver.js';

export interface LighttpdOptions {
  /** 1.4.x release to build (default 1.4.69); another version needs `sha256` (and `url` if not on download.lighttpd.net). */
  version?: string;
  url?: string;
  sha256?: string;
  /** Extra `./configure` arguments. */
  configureArgs?: string[];
  /** Packages to build and put on PATH before the server, e.g. an ApacheBench for `--client ab`. */
  uses?: Package[];
}

/** Optional libraries left out, so the build needs none of them (mod_rewrite's regexes, mod_deflate). */
const BASE_CONFIGURE_ARGS = ['--without-pcre2', '--without-zlib', '--without-bzip2', '--disable-static'];

/**
 * The lighttpd web server (`lighttpd`), built per instance from its release tarball with the
 * instance's compiler and flags (server and its modules, which lighttpd loads from
 * `install/lib`). 1.4.69 is pinned to upstream's lighttpd-1.4.69.tar.xz; Debian's
 * lighttpd_1.4.69.orig.tar.xz is byte-identical to it (its sha256 is the one other build
 * recipes pin for the file from download.lighttpd.net). Each start writes `serve/lighttpd.conf`: `--workers` processes
 * (`server.max-worker`; one process serves itself), `--server-connections` connections each
 * (`server.max-connections`, with `server.max-fds` raised to fit), epoll and sendfile, no
 * access log, up to a million requests per keep-alive connection. See {@link WebServer} for
 * the run roles and options.
 */
export class Lighttpd extends TarballServer {
  readonly name = 'lighttpd';
  readonly version: string;
  readonly configureArgs: readonly string[];
  protected readonly binaryPath = 'sbin/lighttpd';
  protected readonly recipeVersion = 1;
  private readonly pinned: PackageSource;
  private readonly uses: readonly Package[];

  constructor(options: LighttpdOptions = {}) {
    super();
    checkOptions('Lighttpd', options, { version: true, url: true, sha256: true, configureArgs: true, uses: true });
    this.version = options.version ?? '1.4.69';
    const own =
      options.sha256 === undefined && options.url === undefined
        ? undefined
        : { url: options.url ?? releaseUrl(this.version), sha256: options.sha256 };
    this.pinned = pinnedSource('Lighttpd', RELEASES.lighttpd, this.version, own);
    this.configureArgs = options.configureArgs ?? [];
    this.uses = options.uses ?? [];
  }

  source(): PackageSource {
    return this.pinned;
  }

  override dependencies(): Package[] {
    return [...this.uses];
  }

  override addRunArgs(parser: ArgParser): void {
    super.addRunArgs(parser);
    parser.option('--server-connections <n>', 'lighttpd server.max-connections per worker process (default 1024)', {
      parse: positiveInt('--server-connections'),
    });
  }

  override reportableFields(): Record<string, string> {
    return { ...super.reportableFields(), serverConnections: 'lighttpd server.max-connections' };
  }

  protected override serverFields(ctx: Context): Record<string, FieldValue> {
    return { serverConnections: serverConnections(ctx) };
  }

  private configureArgv(ctx: Context, instance: Instance): string[] {
    return [`--prefix=${this.installDir(ctx, instance)}`, ...BASE_CONFIGURE_ARGS, ...this.configureArgs];
  }

  protected buildConfig(ctx: Context, instance: Instance): BuildConfig {
    return { cc: ctx.cc, cflags: serverCflags(ctx), ldflags: ctx.ldflags.join(' '), configure: this.configureArgv(ctx, instance) };
  }

  protected async compile(ctx: Context, instance: Instance, { src, obj }: ServerBuildDirs): Promise<void> {
    const env = { CC: ctx.cc, CFLAGS: serverCflags(ctx), LDFLAGS: ctx.ldflags.join(' ') };
    await run(ctx, [relative(obj, join(src, 'configure')), ...this.configureArgv(ctx, instance)], { cwd: obj, env });
    await run(ctx, ['make', ...makeJobs(ctx)], { cwd: obj, env });
    await run(ctx, ['make', 'install'], { cwd: obj, env });
  }

  protected configureServer(ctx: Context, instance: Instance, spec: ServeSpec): ServerCommand {
    const { settings: s, dir, docroot } = spec;
    const errorLog = join(dir, 'logs', 'error.log');
    const connections = serverConnections(ctx);
    const str = (v: string) => JSON.stringify(v);
    const conf = [
      `server.document-root = ${str(docroot)}`,
      `server.bind = "127.0.0.1"`,
      `server.port = ${s.port}`,
      `server.errorlog = ${str(errorLog)}`,
      // more than one worker: a watcher process forks them; one: the process serves itself
      ...(s.workers > 1 ? [`server.max-worker = ${s.workers}`] : []),
      `server.max-connections = ${connections}`,
      // lighttpd caps connections at half its descriptors and stops accepting at 90% of them
      `server.max-fds = ${Math.max(1024, 4 * connections)}`,
      'server.max-keep-alive-requests = 1000000',
      'server.event-handler = "linux-sysepoll"',
      'server.network-backend = "sendfile"',
      // the static file handler is built in; no access log
      'server.modules = ()',
      'mimetype.assign = ("" => "application/octet-stream")',
      '',
    ].join('\n');
    const file = join(dir, 'lighttpd.conf');
    writeFileSync(file, conf);
    // -D: in the foreground; -m: the modules of this build
    return {
      argv: [this.serverBinary(ctx, instance), '-D', '-f', file, '-m', join(this.installDir(ctx, instance), 'lib')],
      logs: [errorLog],
    };
  }
}

function releaseUrl(version: string): string {
  return `https://download.lighttpd.net/lighttpd/releases-${version.split('.').slice(0, 2).join('.')}.x/lighttpd-${version}.tar.xz`;
}

function serverConnections(ctx: Context): number {
  return ctx.numberOption('serverConnections') ?? 1024;
}
