import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ArgParser,
  BuildStamp,
  type Context,
  download,
  extractArchive,
  type FieldValue,
  type Instance,
  makeDirectory,
  makeJobs,
  positiveInt,
  removePath,
  requireProgram,
  run,
  UserError,
  checkOptions,
} from '../../api.js';
import { renderTemplate, WebServer, type ServeSpec, type ServerCommand } from './webserver.js';

/** Release tarballs by version; Debian's nginx_<version>.orig.tar.gz is the same file. */
const RELEASES: Record<string, string> = {
  '1.22.1': '9ebb333a9e82b952acd3e2b4aeb1d4ff6406f72491bab6cd9fe69f0dea737f31',
};

export interface NginxOptions {
  /** Open-source release to build (default 1.22.1); other versions need `sha256`. */
  version?: string;
  /** sha256 of nginx-<version>.tar.gz, for a version not in the built-in table. */
  sha256?: string;
  /** Extra `./configure` arguments (e.g. `--with-http_ssl_module`). */
  configureArgs?: string[];
}

/** Modules left out so the build needs no PCRE and no zlib. */
const BASE_CONFIGURE_ARGS = ['--without-http_rewrite_module', '--without-http_gzip_module'];
/** Bump when the build steps change in a way that needs a rebuild. */
const RECIPE_VERSION = 1;
const STAMP = '.infra-build';

/**
 * The nginx web server, built from its release tarball (sha256-pinned; offline mirrors are
 * searched first) with the instance's compiler and flags, and installed into
 * `build/targets/nginx/<instance>/install`. Each start gets a generated nginx.conf with
 * `--workers` worker processes, `--worker-connections`, no access log, the port, and the
 * benchmark file as its document root. See {@link WebServer} for the run roles and options.
 */
export class Nginx extends WebServer {
  readonly name = 'nginx';
  readonly version: string;
  readonly sha256: string;
  readonly configureArgs: readonly string[];

  constructor(options: NginxOptions = {}) {
    super();
    checkOptions('Nginx', options, { version: true, sha256: true, configureArgs: true });
    this.version = options.version ?? '1.22.1';
    const sha256 = options.sha256 ?? RELEASES[this.version];
    if (!sha256) {
      throw new UserError(
        `Nginx: no checksum known for version ${this.version}; known versions: ${Object.keys(RELEASES).join(', ')} ` +
          `(or give { version, sha256 } for another release)`,
      );
    }
    this.sha256 = sha256;
    this.configureArgs = options.configureArgs ?? [];
  }

  override addRunArgs(parser: ArgParser): void {
    super.addRunArgs(parser);
    parser.option('--worker-connections <n>', 'nginx worker_connections (default 1024)', { parse: positiveInt('--worker-connections') });
  }

  override reportableFields(): Record<string, string> {
    return { ...super.reportableFields(), workerConnections: 'nginx worker_connections' };
  }

  protected override serverFields(ctx: Context): Record<string, FieldValue> {
    return { workerConnections: workerConnections(ctx) };
  }

  private get sourceUrl(): string {
    return `https://nginx.org/download/nginx-${this.version}.tar.gz`;
  }

  private get archive(): string {
    return `nginx-${this.version}.tar.gz`;
  }

  isFetched(ctx: Context): boolean {
    return existsSync(this.path(ctx, 'sources', this.archive));
  }

  async fetch(ctx: Context): Promise<void> {
    await download(ctx, this.sourceUrl, { sha256: this.sha256, outfile: this.path(ctx, 'sources', this.archive) });
  }

  /** build/targets/nginx/<instance>/install */
  installDir(ctx: Context, instance: Instance): string {
    return this.path(ctx, instance.name, 'install');
  }

  serverBinary(ctx: Context, instance: Instance): string {
    return join(this.installDir(ctx, instance), 'sbin', 'nginx');
  }

  /** The configure arguments for an instance's build. */
  private configureArgv(ctx: Context, instance: Instance): string[] {
    const ldflags = ctx.ldflags.join(' ');
    return [
      `--prefix=${this.installDir(ctx, instance)}`,
      `--with-cc=${ctx.cc}`,
      ...(ldflags ? [`--with-ld-opt=${ldflags}`] : []),
      ...BASE_CONFIGURE_ARGS,
      ...this.configureArgs,
    ];
  }

  /** What an instance's build depends on; compared again at run time, so a stale server never runs. */
  private stamp(ctx: Context, instance: Instance): BuildStamp {
    const config = {
      recipe: RECIPE_VERSION,
      source: { sha256: this.sha256 },
      cflags: cflagsOf(ctx),
      configure: this.configureArgv(ctx, instance),
    };
    return new BuildStamp(ctx, this.path(ctx, instance.name, STAMP), config, [this.serverBinary(ctx, instance)]);
  }

  protected override refuseStaleBuild(ctx: Context, instance: Instance): void {
    super.refuseStaleBuild(ctx, instance);
    this.stamp(ctx, instance).refuseIfStale({ what: `nginx/${instance.name}`, target: this.name, instance: instance.name });
  }

  async build(ctx: Context, instance: Instance): Promise<void> {
    const dir = this.path(ctx, instance.name);
    const src = join(dir, 'src');
    const stamp = this.stamp(ctx, instance);
    if (stamp.isUpToDate()) {
      ctx.log.debug(`nginx/${instance.name} is up to date`);
      return;
    }
    requireProgram(ctx, 'make');
    ctx.log.info(`building nginx ${this.version} for ${instance.name}`);
    // objects built with other flags must never end up in the binary
    removePath(ctx, dir);
    makeDirectory(ctx, dir);
    const archive = this.path(ctx, 'sources', this.archive);
    if (!existsSync(archive)) await this.fetch(ctx);
    await extractArchive(ctx, archive, src, { stripComponents: 1 });
    // with CFLAGS in its environment, configure uses exactly those (no -Werror of its own,
    // which new compilers' warnings would turn into failures)
    const env = { CFLAGS: cflagsOf(ctx) };
    await run(ctx, ['./configure', ...this.configureArgv(ctx, instance)], { cwd: src, env });
    await run(ctx, ['make', ...makeJobs(ctx)], { cwd: src, env });
    await run(ctx, ['make', 'install'], { cwd: src, env });
    if (ctx.dryRun) return;
    if (!existsSync(this.serverBinary(ctx, instance))) {
      throw new UserError(`nginx: the build finished but did not produce ${this.serverBinary(ctx, instance)}`);
    }
    stamp.record();
  }

  protected configureServer(ctx: Context, instance: Instance, spec: ServeSpec): ServerCommand {
    const { settings: s, dir, docroot } = spec;
    const errorLog = join(dir, 'logs', 'error.log');
    const values = {
      // workers of a root master run as `nobody` by default and could not read the docroot
      user: process.getuid?.() === 0 ? 'user root;' : '',
      master_process: s.nofork ? 'off' : 'on',
      workers: s.workers,
      worker_connections: workerConnections(ctx),
      pid_file: join(dir, 'nginx.pid'),
      error_log: errorLog,
      tmp: join(dir, 'tmp'),
      listen: `${spec.address.includes(':') ? `[${spec.address}]` : spec.address}:${s.port}`,
      address: spec.address,
      port: s.port,
      docroot,
      dir,
    };
    const conf = renderTemplate(spec.configTemplate ?? NGINX_TEMPLATE, values, s.configFile ?? 'the nginx configuration template');
    mkdirSync(join(dir, 'tmp'), { recursive: true });
    const file = join(dir, 'nginx.conf');
    writeFileSync(file, conf);
    return { argv: [this.serverBinary(ctx, instance), '-p', dir, '-e', errorLog, '-c', file], logs: [errorLog] };
  }
}

/**
 * The configuration each start gets (a `--config` file replaces it and may use the same
 * placeholders). The server must stay in the foreground (`daemon off`): the framework runs
 * and stops it.
 */
export const NGINX_TEMPLATE = `{{user}}
daemon off;
master_process {{master_process}};
worker_processes {{workers}};
pid {{pid_file}};
error_log {{error_log}} warn;
events { worker_connections {{worker_connections}}; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type application/octet-stream;
  client_body_temp_path {{tmp}}/body;
  proxy_temp_path {{tmp}}/proxy;
  fastcgi_temp_path {{tmp}}/fastcgi;
  uwsgi_temp_path {{tmp}}/uwsgi;
  scgi_temp_path {{tmp}}/scgi;
  server {
    listen {{listen}};
    root {{docroot}};
  }
}
`;

function cflagsOf(ctx: Context): string {
  return ['-O2', ...ctx.cflags].join(' ');
}

function workerConnections(ctx: Context): number {
  return ctx.numberOption('workerConnections') ?? 1024;
}
