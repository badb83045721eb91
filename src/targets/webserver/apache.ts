import { mkdirSync, writeFileSync } from 'node:fs';
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
  requireProgram,
  run,
} from '../../api.js';
import { APR, APRUtil } from '../../packages/apr.js';
import { RELEASES } from '../../packages/releases.js';
import { serverCflags, type ServerBuildDirs, TarballServer } from './tarball-server.js';
import type { ServeSpec, ServerCommand } from './webserver.js';

export interface ApacheHttpdOptions {
  /** 2.4.x release to build (default 2.4.68); another version needs `sha256` (and `url` if not on archive.apache.org). */
  version?: string;
  url?: string;
  sha256?: string;
  /** The APR it is built against (default `new APR('1.7.2')`). */
  apr?: APR;
  /** The APR-util it is built against (default `new APRUtil('1.6.3', apr)`). */
  aprUtil?: APRUtil;
  /** Extra `./configure` arguments (e.g. `--enable-mods-static=most`). */
  configureArgs?: string[];
  /** More packages to build and put on PATH before the server, e.g. an ApacheBench for `--client ab`. */
  uses?: Package[];
}

/**
 * The event MPM, linked in; the "few" modules (core authorization, MIME types, logging, ...)
 * compiled in too, so the configuration loads none. Started as root, the server keeps root's
 * identity like nginx's `user root` (httpd refuses that unless built with BIG_SECURITY_HOLE):
 * the served tree may be readable by root alone.
 */
const BASE_CONFIGURE_ARGS = ['--with-mpm=event', '--enable-mods-static=few'];

/**
 * The Apache HTTP server (`apache`), built per instance from its release tarball with the
 * instance's compiler and flags against the {@link APR} and {@link APRUtil} packages (which
 * are built once and not instrumented) and the system's PCRE2 (Debian `libpcre2-dev`).
 * 2.4.68 is pinned to upstream's httpd-2.4.68.tar.gz; Debian's apache2_2.4.68.orig.tar.gz is
 * byte-identical to it (its sha256 is the one published with the release). Each start writes
 * `serve/httpd.conf` for the event MPM: `--workers` processes (StartServers = ServerLimit)
 * of `--worker-threads` threads (ThreadsPerChild; MaxRequestWorkers is their product), spare
 * thread limits that never stop or add a process, unlimited keep-alive requests, sendfile, no
 * access log. See {@link WebServer} for the run roles and options.
 */
export class ApacheHttpd extends TarballServer {
  readonly name = 'apache';
  readonly version: string;
  readonly apr: APR;
  readonly aprUtil: APRUtil;
  readonly configureArgs: readonly string[];
  protected readonly binaryPath = 'bin/httpd';
  protected readonly recipeVersion = 1;
  private readonly pinned: PackageSource;
  private readonly uses: readonly Package[];

  constructor(options: ApacheHttpdOptions = {}) {
    super();
    checkOptions('ApacheHttpd', options, {
      version: true,
      url: true,
      sha256: true,
      apr: true,
      aprUtil: true,
      configureArgs: true,
      uses: true,
    });
    this.version = options.version ?? '2.4.68';
    const own =
      options.sha256 === undefined && options.url === undefined
        ? undefined
        : { url: options.url ?? `https://archive.apache.org/dist/httpd/httpd-${this.version}.tar.gz`, sha256: options.sha256 };
    this.pinned = pinnedSource('ApacheHttpd', RELEASES.httpd, this.version, own);
    this.apr = options.apr ?? options.aprUtil?.apr ?? new APR('1.7.2');
    this.aprUtil = options.aprUtil ?? new APRUtil('1.6.3', this.apr);
    this.configureArgs = options.configureArgs ?? [];
    this.uses = options.uses ?? [];
  }

  source(): PackageSource {
    return this.pinned;
  }

  override dependencies(): Package[] {
    return [this.apr, this.aprUtil, ...this.uses];
  }

  override addRunArgs(parser: ArgParser): void {
    super.addRunArgs(parser);
    parser.option('--worker-threads <n>', 'threads per server process, ThreadsPerChild (default 25)', {
      parse: positiveInt('--worker-threads'),
    });
  }

  override reportableFields(): Record<string, string> {
    return { ...super.reportableFields(), workerThreads: 'httpd ThreadsPerChild' };
  }

  protected override serverFields(ctx: Context): Record<string, FieldValue> {
    return { workerThreads: workerThreads(ctx) };
  }

  private configureArgv(ctx: Context, instance: Instance): string[] {
    return [
      `--prefix=${this.installDir(ctx, instance)}`,
      `--with-apr=${this.apr.config(ctx)}`,
      `--with-apr-util=${this.aprUtil.config(ctx)}`,
      ...BASE_CONFIGURE_ARGS,
      ...this.configureArgs,
    ];
  }

  protected buildConfig(ctx: Context, instance: Instance): BuildConfig {
    return {
      cc: ctx.cc,
      cflags: serverCflags(ctx),
      ldflags: ctx.ldflags.join(' '),
      configure: this.configureArgv(ctx, instance),
      libraries: [this.apr.ident(), this.aprUtil.ident()],
    };
  }

  protected async compile(ctx: Context, instance: Instance, { src, obj }: ServerBuildDirs): Promise<void> {
    const pcre = requireProgram(ctx, 'pcre2-config', 'install it with: apt-get install libpcre2-dev');
    const env = { CC: ctx.cc, CFLAGS: serverCflags(ctx), CPPFLAGS: '-DBIG_SECURITY_HOLE', LDFLAGS: ctx.ldflags.join(' ') };
    const configure = [relative(obj, join(src, 'configure')), ...this.configureArgv(ctx, instance), `--with-pcre=${pcre}`];
    await run(ctx, configure, { cwd: obj, env });
    await run(ctx, ['make', ...makeJobs(ctx)], { cwd: obj, env });
    await run(ctx, ['make', 'install'], { cwd: obj, env });
  }

  protected configureServer(ctx: Context, instance: Instance, spec: ServeSpec): ServerCommand {
    const { settings: s, dir, docroot } = spec;
    const errorLog = join(dir, 'logs', 'error.log');
    const threads = workerThreads(ctx);
    const all = s.workers * threads;
    const str = (v: string) => JSON.stringify(v);
    const conf = [
      `ServerRoot ${str(dir)}`,
      `Listen 127.0.0.1:${s.port}`,
      'ServerName 127.0.0.1',
      ...(process.getuid?.() === 0 ? ['User root', 'Group root'] : []),
      `ErrorLog ${str(errorLog)}`,
      'LogLevel warn',
      `PidFile ${str(join(dir, 'httpd.pid'))}`,
      `DefaultRuntimeDir ${str(join(dir, 'run'))}`,
      `DocumentRoot ${str(docroot)}`,
      `<Directory ${str(docroot)}>`,
      '  Require all granted',
      '</Directory>',
      '<IfModule mod_mime.c>',
      '  TypesConfig /dev/null',
      '</IfModule>',
      'KeepAlive On',
      'MaxKeepAliveRequests 0',
      'EnableSendfile On',
      'EnableMMAP On',
      // exactly --workers processes of --worker-threads threads, from the start to the end
      `StartServers ${s.workers}`,
      `ServerLimit ${s.workers}`,
      `ThreadLimit ${threads}`,
      `ThreadsPerChild ${threads}`,
      `MaxRequestWorkers ${all}`,
      'MinSpareThreads 1',
      `MaxSpareThreads ${all + threads}`,
      'MaxConnectionsPerChild 0',
      '',
    ].join('\n');
    mkdirSync(join(dir, 'run'), { recursive: true });
    const file = join(dir, 'httpd.conf');
    writeFileSync(file, conf);
    return { argv: [this.serverBinary(ctx, instance), '-DFOREGROUND', '-d', dir, '-f', file], logs: [errorLog] };
  }
}

function workerThreads(ctx: Context): number {
  return ctx.numberOption('workerThreads') ?? 25;
}
