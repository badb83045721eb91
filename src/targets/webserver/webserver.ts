import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import {
  type ArgParser,
  type Awaitable,
  type BenchmarkRun,
  type CheckOutcome,
  type Context,
  DEFAULT_SATURATION_THRESHOLD,
  type ExecutionResult,
  type FieldValue,
  type Instance,
  positiveInt,
  run,
  type Runner,
  Target,
  throwIfInterrupted,
  UserError,
} from '../../api.js';
import { RemoteServer } from './remote-server.js';
import { accepts, describeExit, type RunningServer, type ServerStart, ServerProcess, sleep } from './server.js';
import { HostShell } from './shell.js';
import { SERVER_STATS, ServerSampler, type SamplerReport, type ServerStat } from './stats.js';
import { nodeHost, TwoHost, twoHostNodes } from './two-host.js';
import { WRK_FIELDS } from './wrk.js';
import { addClientArgs, clientContext, clientOption, loadClient, type LoadClientName } from './client.js';

/**
 * bench: server and load generator driven by this run (here, or on two machines with
 * `--parallel ssh`); bench-server and bench-client: one side each, started by hand on two
 * machines; test: a few checked requests; serve: serve until Ctrl-C.
 */
export type WebServerRole = 'bench' | 'serve' | 'test' | 'bench-server' | 'bench-client';
export const WEB_SERVER_ROLES: readonly WebServerRole[] = ['bench', 'test', 'serve', 'bench-server', 'bench-client'];

/** The run options every web server target takes, parsed (see {@link WebServer.addRunArgs}). */
export interface WebServerSettings {
  role: WebServerRole;
  port: number;
  /** Size of the served file, bytes. */
  filesize: number;
  /** Seconds per measured load. */
  duration: number;
  /** wrk threads. */
  threads: number;
  /** One measured load per value and iteration. */
  connections: number[];
  /** Server worker processes. */
  workers: number;
  warmup: boolean;
  restartBetweenRuns: boolean;
  stats: ServerStat[];
  /** Seconds between samples. */
  statsInterval: number;
  /** Seconds to wait between loads (connections in TIME_WAIT drain, the server settles). */
  cleanupTime: number;
  /**
   * The address the server listens on and the load generator connects to (`--server-ip`):
   * 127.0.0.1 on one machine; on two machines, the server's address on the fast link.
   */
  serverIp: string;
  /** `--nofork`: one server process in the foreground (no master, no workers); `workers` is then 1. */
  nofork: boolean;
  /** `--config`: the user's configuration template for the server, an absolute path. */
  configFile: string | undefined;
  /** The load generator. */
  client: LoadClientName;
}

/** What a concrete server needs to write its configuration for one start. */
export interface ServeSpec {
  settings: WebServerSettings;
  /** Private directory of this instance's server: configuration, logs, pid file. */
  dir: string;
  /** Directory served as `/`; holds the benchmark file. */
  docroot: string;
  /** Address to listen on (with `settings.port`); an IPv6 address is given without brackets. */
  address: string;
  /**
   * The user's configuration template (`--config FILE`), to render with {@link renderTemplate}
   * in place of the server's own; undefined for the server's default configuration.
   */
  configTemplate?: string;
}

/** How to start a configured server in the foreground. */
export interface ServerCommand {
  argv: string[];
  /** Log files worth showing when the server fails. */
  logs?: string[];
  /** Signal that asks the server to stop (default SIGTERM); SIGKILL follows after a grace period. */
  stopSignal?: NodeJS.Signals;
}

/** Name of the served file. */
export const SERVED_FILE = 'file';
/**
 * Below this share of its cores the server is not saturated and overheads are hidden: the
 * same share `infra report` holds a sweep to by default (`--saturation-threshold`), so a run
 * and its report judge a load alike.
 */
export const SATURATION_THRESHOLD = DEFAULT_SATURATION_THRESHOLD;

/**
 * A web server benchmarked with a load generator, like the original's web server targets.
 * `run -t bench` starts the instance's server, waits until it accepts connections, warms it
 * up, and submits one wrk load per `--connections` value to the runner; each load is a
 * measured execution whose check turns wrk's report and the server's CPU and memory (sampled
 * from /proc during the load) into fields. `-t test` checks a few GETs; `-t serve` serves
 * until Ctrl-C.
 *
 * With `--parallel ssh --ssh-nodes CLIENT SERVER` the server runs on SERVER and the loads on
 * CLIENT, aimed at `--server-ip`; both are driven over the SSH connections (nothing of ours
 * listens on any port) and every load is recorded here. `-t bench-server` and
 * `-t bench-client` are the two sides for a user who starts them by hand.
 *
 * A concrete server says how to build itself ({@link build}, {@link serverBinary}), how to
 * write its configuration for one start from its template and how to start it in the
 * foreground ({@link configureServer}), and optionally how to stop it
 * ({@link ServerCommand.stopSignal}); where it runs is this class's business, so every server
 * gets the two-host mode.
 *
 * One server runs at a time (all use the same port): when executions of another instance
 * come next, the running server is stopped and the other instance's started.
 */
export abstract class WebServer extends Target {
  /** The server binary built for an instance. */
  abstract serverBinary(ctx: Context, instance: Instance): string;

  /**
   * Writes the server's configuration for one start (into `spec.dir`, from `spec.configTemplate`
   * when the user gave one) and says how to start it in the foreground.
   */
  protected abstract configureServer(ctx: Context, instance: Instance, spec: ServeSpec): Awaitable<ServerCommand>;

  /** Fields describing the server's own settings, stored with every execution. */
  protected serverFields(_ctx: Context): Record<string, FieldValue> {
    return {};
  }

  private current: { instance: string; server: RunningServer; loads: number } | null = null;
  private sampler: ServerSampler | null = null;
  private lastLoadEnd = 0;
  private readonly warned = new Set<string>();
  /** Instances whose server failed to start in this run, with the reason. */
  private readonly startFailures = new Map<string, string>();
  /** The SSH connections of a two-host run. */
  private twoHost: TwoHost | null = null;
  /** A shell on this machine for the sampler of a local server. */
  private localShell: HostShell | null = null;
  /** Instances whose run has not ended yet; the connections close after the last. */
  private readonly open = new Set<string>();

  override addRunArgs(parser: ArgParser): void {
    const cores = availableParallelism();
    const half = Math.max(1, Math.floor(cores / 2));
    parser.option(
      '-t, --type <role>',
      'bench: measure with wrk; test: check a few requests; serve: serve until Ctrl-C; bench-server, bench-client: ' +
        'one side of a two-machine benchmark each, started by hand',
      { choices: [...WEB_SERVER_ROLES], default: 'bench' },
    );
    parser.option('--port <n>', 'TCP port of the server (default 20000)', { parse: positiveInt('--port') });
    parser.option(
      '--server-ip <address>',
      'address the server listens on and the load generator connects to: the fast link on two machines ' +
        "(default 127.0.0.1; with --parallel ssh, the server node's host)",
    );
    parser.option('--filesize <bytes>', 'size of the file each request fetches (default 64)', { parse: nonNegativeInt('--filesize') });
    parser.option('--duration <seconds>', 'seconds per measured load (default 10)', { parse: positiveInt('--duration') });
    parser.option('--threads <n>', `wrk threads (default ${half}: half the cores, the other half serves)`, {
      parse: positiveInt('--threads'),
    });
    parser.option('--connections <n...>', 'open connections; one measured load per value (default 64)', {
      parse: intList('--connections'),
    });
    parser.option('--workers <n>', `server worker processes (default ${half})`, { parse: positiveInt('--workers') });
    parser.option('--nofork', 'run the server as one process in the foreground (no master, no worker processes)');
    parser.option('--config <file>', 'server configuration template of your own, with {{port}}-style placeholders (see README)');
    parser.option('--disable-warmup', 'do not warm the server up after starting it');
    parser.option('--restart-server-between-runs', 'start a fresh server for every measured load');
    parser.option(
      '--collect-stats <stats...>',
      'server statistics sampled during each load: cpu, cpu-proc, rss, vms, none (default cpu rss)',
      {
        choices: [...SERVER_STATS, 'none'],
      },
    );
    parser.option('--collect-stats-interval <seconds>', 'seconds between samples (default 1)', {
      parse: positiveNumber('--collect-stats-interval'),
    });
    parser.option('--cleanup-time <seconds>', 'seconds to wait between loads (default 1)', { parse: nonNegativeNumber('--cleanup-time') });
    parser.option('--remote-client-host <host>', 'not needed: both machines are controlled over the SSH connection (accepted, ignored)');
    parser.option('--remote-server-host <host>', 'not needed: both machines are controlled over the SSH connection (accepted, ignored)');
    addClientArgs(parser);
  }

  /** The run options with their defaults. */
  settings(ctx: Context): WebServerSettings {
    const half = Math.max(1, Math.floor(availableParallelism() / 2));
    const stats = ctx.listOption('collectStats') ?? ['cpu', 'rss'];
    const connections = ctx.numberListOption('connections');
    const nodes = twoHostNodes(ctx, this.name);
    const nofork = ctx.flag('nofork');
    const config = ctx.stringOption('config');
    return {
      role: (ctx.stringOption('type') ?? 'bench') as WebServerRole,
      port: ctx.numberOption('port') ?? 20000,
      filesize: ctx.numberOption('filesize') ?? 64,
      duration: ctx.numberOption('duration') ?? 10,
      threads: ctx.numberOption('threads') ?? half,
      // the original's sweep (seq 16 16 256; seq 256 128 1024...) repeats its joints: measured once
      connections: connections?.length ? [...new Set(connections)] : [64],
      workers: nofork ? 1 : (ctx.numberOption('workers') ?? half),
      warmup: !ctx.flag('disableWarmup'),
      restartBetweenRuns: ctx.flag('restartServerBetweenRuns'),
      stats: stats.filter((s): s is ServerStat => (SERVER_STATS as readonly string[]).includes(s)),
      statsInterval: ctx.numberOption('collectStatsInterval') ?? 1,
      cleanupTime: ctx.numberOption('cleanupTime') ?? 1,
      serverIp: ctx.stringOption('serverIp') ?? (nodes ? nodeHost(nodes.server) : '127.0.0.1'),
      nofork,
      configFile: config === undefined ? undefined : resolve(config),
      client: clientOption(ctx),
    };
  }

  override reportableFields(): Record<string, string> {
    return {
      ...WRK_FIELDS,
      connections: 'open connections of the load',
      threads: 'client threads (wrk; ab uses one)',
      client: 'load generator: wrk or ab',
      workers: 'server worker processes',
      filesize: 'size of the fetched file, bytes',
      duration: 'requested seconds of load',
      serverIp: 'address the load generator connected to',
      serverHost: "host name of the machine the server ran on (the record's host is the load generator's)",
      serverCpu: 'median server CPU use during the load, % of one core',
      serverCpuMean: 'server CPU use over the whole load, % of one core',
      serverUtilization: 'serverCpu as a share of the cores the server was given (1 = saturated)',
      serverHostUtilization: "busy share of all cores of the server's machine during the load, whoever used them (0 to 1)",
      serverMaxRss: 'largest resident set size of all server processes together, KiB',
      serverMaxVms: 'largest virtual memory size of all server processes together, KiB',
      serverProcCpuMax: 'CPU use of the busiest server process during the load, % of one core (cpu-proc)',
      serverProcCpuMin: 'CPU use of the idlest server process during the load, % of one core (cpu-proc)',
      serverProcesses: 'server processes during the load (cpu-proc)',
      samplerCpu: "CPU the statistics sampler itself used on the server's machine during the load, % of one core",
    };
  }

  override binaryPaths(ctx: Context, instance: Instance): string[] {
    return [this.serverBinary(ctx, instance)];
  }

  /**
   * Throws a UserError when the instance's server is not built, before anything starts. A
   * server target that records its build with a `BuildStamp` refuses a stale build here too.
   */
  protected refuseStaleBuild(ctx: Context, instance: Instance): void {
    const binary = this.serverBinary(ctx, instance);
    if (!existsSync(binary)) {
      throw new UserError(`${this.name}: ${binary} is not built for ${instance.name}; build it first (or use run --build)`);
    }
  }

  /** The server of an instance is stopped once all its executions ended (or the run stopped). */
  override async afterRun(_ctx: Context, instance: Instance): Promise<void> {
    await this.stopServer(instance.name);
    this.open.delete(instance.name);
    if (this.open.size === 0) await this.closeHosts();
  }

  async run(ctx: Context, instance: Instance, runner: Runner): Promise<void> {
    const s = this.settings(ctx);
    this.open.add(instance.name);
    this.noteIgnoredOptions(ctx);
    if (s.role !== 'bench-client') this.refuseStaleBuild(ctx, instance);
    if (s.configFile !== undefined && !existsSync(s.configFile)) {
      throw new UserError(`${this.name}: --config ${s.configFile} does not exist`);
    }
    const nodes = twoHostNodes(ctx, this.name);
    if (nodes && s.role !== 'bench') {
      throw new UserError(
        `${this.name}: --parallel ssh runs -t bench on two machines; -t ${s.role} runs on this machine (drop --parallel)`,
      );
    }
    if (ctx.runSettings?.parallel && !nodes) {
      throw new UserError(
        `${this.name}: web server loads must not overlap; run without --parallel, or with --parallel ssh --ssh-nodes CLIENT SERVER on two machines`,
      );
    }
    if (s.role === 'serve' || s.role === 'bench-server') return this.serve(ctx, instance, s);
    const generator = loadClient(s.client);
    if (nodes) {
      this.twoHost ??= new TwoHost(nodes);
      await this.twoHost.checkClient(generator.name);
      await this.twoHost.verifyBinary(this.serverBinary(ctx, instance), `${this.name}/${instance.name}`, ctx.paths.buildroot);
    } else if (s.role !== 'test') {
      generator.require(ctx);
    }
    // the load generator is not the program under test: the instance's run wrapper and
    // environment (sanitizer options, preloaded allocators) apply to the server only
    const client = clientContext(ctx);
    const base = { port: s.port, filesize: s.filesize, workers: s.workers, serverIp: s.serverIp, ...this.serverFields(ctx) };
    if (s.role === 'test') {
      runner.submit(client, this.testRun(ctx, instance, s, base));
      return;
    }
    for (const connections of s.connections) {
      const load = { url: this.fileUrl(s), duration: s.duration, connections, threads: s.threads };
      const scratch = this.clientScratch(ctx, instance);
      runner.submit(client, {
        benchmark: `c${connections}`,
        argv: generator.argv(load, scratch),
        timeout: s.duration + 60,
        fields: { ...base, connections, threads: generator.threads(load), duration: s.duration, client: s.client },
        // loads of all instances share the port and the machines: never two at once
        exclusive: 'web server loads',
        // on two machines: the load generator's; wrk needs no files, so any directory will do
        ...(nodes ? { node: nodes.client, cwd: '/' } : {}),
        prepare: () => this.beforeLoad(ctx, instance, s),
        check: (result) => this.afterLoad(ctx, instance, s, connections, result, scratch),
      });
    }
  }

  /**
   * A file the load generator may write beside its output (ab's percentiles), in the instance's
   * directory (on two machines, the client writes it at the same path: read only where shared).
   */
  private clientScratch(ctx: Context, instance: Instance): string {
    mkdirSync(this.path(ctx, instance.name), { recursive: true });
    return this.path(ctx, instance.name, `${loadClient(this.settings(ctx).client).name}-load.out`);
  }

  /** `-t test`: a few GETs of the served file, and one of a missing file, checked. */
  private testRun(ctx: Context, instance: Instance, s: WebServerSettings, fields: Record<string, FieldValue>): BenchmarkRun {
    const content = fileContent(s.filesize);
    const digest = createHash('sha256').update(content).digest('hex');
    const requests = 5;
    return {
      benchmark: 'test',
      argv: [process.execPath, '--input-type=module', '-e', HTTP_CHECK, this.fileUrl(s), String(s.filesize), digest, String(requests)],
      timeout: 60,
      fields,
      prepare: async () => {
        await this.ensureServer(ctx, instance, s, false);
      },
      check: (result) => {
        const out = readFileSync(result.stdoutPath, 'utf8');
        if (!out.includes(`${requests} of ${requests} requests ok`)) return { failure: `HTTP check failed:\n${out}` };
        return { fields: { requests } };
      },
    };
  }

  /** The URL of the served file. */
  fileUrl(s: WebServerSettings): string {
    const host = s.serverIp.includes(':') ? `[${s.serverIp}]` : s.serverIp;
    return `http://${host}:${s.port}/${SERVED_FILE}`;
  }

  /** Before a measured load: a ready (and warm) server, a settled machine, sampling started. */
  private async beforeLoad(ctx: Context, instance: Instance, s: WebServerSettings): Promise<void> {
    this.sampler?.cancel();
    this.sampler = null;
    const wait = () => this.lastLoadEnd + s.cleanupTime * 1000 - Date.now();
    if (s.role === 'bench-client') {
      if (wait() > 0) await sleep(wait());
      return;
    }
    const fresh = s.restartBetweenRuns && (this.current?.loads ?? 0) > 0;
    const server = await this.ensureServer(ctx, instance, s, fresh);
    if (wait() > 0) await sleep(wait());
    if (s.stats.length) {
      this.sampler = new ServerSampler(this.serverShell(), server.pid, s.stats, s.statsInterval);
      await this.sampler.start();
    }
    this.current!.loads++;
  }

  /** A measured load's check: wrk's report and the server's statistics as fields. */
  private async afterLoad(
    ctx: Context,
    instance: Instance,
    s: WebServerSettings,
    connections: number,
    result: ExecutionResult,
    scratch: string,
  ): Promise<CheckOutcome> {
    this.lastLoadEnd = Date.now();
    const sampler = this.sampler;
    this.sampler = null;
    const stats: SamplerReport | null = sampler ? await sampler.stop(s.duration) : null;
    const server = this.current?.server;
    if (s.role !== 'bench-client' && (!server || !server.alive)) {
      const how = server?.exited ? describeExit(server.exited) : 'not running';
      return { failure: `${this.name} stopped during the load (${how})\n${server?.logTail() ?? ''}` };
    }
    const output = readFileSync(result.stdoutPath, 'utf8');
    let report;
    try {
      report = loadClient(s.client).parse(output, scratch);
    } catch (e) {
      return { failure: `${(e as Error).message}; ${s.client} printed:\n${output.trim().slice(0, 2000)}` };
    }
    if (report.requests === 0) return { failure: `${s.client} completed no request` };
    if (report.badResponses > 0) return { failure: `${report.badResponses} responses had a status other than 2xx/3xx` };
    const fields: Record<string, FieldValue> = { ...report };
    if (stats) {
      fields.serverHost = stats.serverHost;
      for (const key of STAT_FIELDS) if (stats[key] !== null) fields[key] = stats[key];
      if (stats.serverCpu !== null) {
        const cores = Math.min(s.workers, stats.serverCpus || availableParallelism());
        const utilization = Math.round((stats.serverCpu / (100 * cores)) * 100) / 100;
        fields.serverUtilization = utilization;
        const key = `${instance.name}/${connections}`;
        if (utilization < SATURATION_THRESHOLD && !this.warned.has(key)) {
          this.warned.add(key);
          ctx.log.warning(
            `${this.name}/${instance.name} with ${connections} connections: the server used ${stats.serverCpu}% CPU of the ${cores * 100}% ` +
              `its ${cores} worker(s) could use; it is not saturated, so overheads measured here are hidden by idle CPU ` +
              `(raise --connections or --threads, or lower --workers)`,
          );
        }
      }
    }
    return { fields };
  }

  /** Where the server runs: the server machine's shell, or this machine's. */
  private serverShell(): HostShell {
    if (this.twoHost) return this.twoHost.server;
    this.localShell ??= HostShell.local();
    return this.localShell;
  }

  /** The instance's server, started (and warmed up) unless it already runs and `fresh` is false. */
  private async ensureServer(ctx: Context, instance: Instance, s: WebServerSettings, fresh: boolean): Promise<RunningServer> {
    const cur = this.current;
    if (cur && cur.instance === instance.name && cur.server.alive && !fresh) return cur.server;
    if (cur) await this.stopServer(cur.instance);
    const server = await this.startServer(ctx, instance, s);
    this.current = { instance: instance.name, server, loads: 0 };
    if (s.role === 'bench' && s.warmup) await this.warmup(ctx, instance, s);
    return server;
  }

  private async startServer(ctx: Context, instance: Instance, s: WebServerSettings): Promise<RunningServer> {
    const earlier = this.startFailures.get(instance.name);
    if (earlier) throw new UserError(`${earlier.split('\n')[0]} (earlier in this run; not retried)`);
    const remote = this.twoHost;
    if (!remote && (await accepts(s.port, s.serverIp))) {
      throw new UserError(`${this.name}: port ${s.port} on ${s.serverIp} is already in use; choose another with --port`);
    }
    const dir = this.path(ctx, instance.name, 'serve');
    const docroot = join(dir, 'www');
    // logs of earlier starts would only confuse the explanation of a failing one
    rmSync(join(dir, 'logs'), { recursive: true, force: true });
    mkdirSync(join(dir, 'logs'), { recursive: true });
    mkdirSync(docroot, { recursive: true });
    writeFileSync(join(docroot, SERVED_FILE), fileContent(s.filesize));
    const spec: ServeSpec = { settings: s, dir, docroot, address: s.serverIp };
    if (s.configFile !== undefined) spec.configTemplate = readFileSync(s.configFile, 'utf8');
    const command = await this.configureServer(ctx, instance, spec);
    const start: ServerStart = {
      label: `${this.name} (${instance.name})`,
      argv: [...ctx.targetRunWrapper, ...command.argv],
      cwd: dir,
      outfile: join(dir, 'logs', 'server.out'),
      port: s.port,
      address: s.serverIp,
    };
    if (command.logs) start.logs = command.logs;
    if (command.stopSignal) start.stopSignal = command.stopSignal;
    ctx.log.debug(
      `${this.name}: starting the server of ${instance.name} on ${remote ? remote.nodes.server : 'this machine'}, ${s.serverIp}:${s.port}`,
    );
    try {
      if (!remote) return await ServerProcess.start(ctx, start);
      await remote.syncDirectory(dir);
      return await RemoteServer.start(remote.server, start, environment(ctx));
    } catch (e) {
      this.startFailures.set(instance.name, (e as Error).message);
      throw e;
    }
  }

  /** A short unmeasured load, so the measured ones find the server's caches and pools warm. */
  private async warmup(ctx: Context, instance: Instance, s: WebServerSettings): Promise<void> {
    const connections = Math.max(...s.connections);
    const load = { url: this.fileUrl(s), duration: Math.min(s.duration, 5), connections, threads: s.threads };
    const argv = loadClient(s.client).argv(load, this.clientScratch(ctx, instance));
    if (this.twoHost) {
      await this.twoHost.client.check('the warm-up load', 'exec "$@" >/dev/null', argv);
      return;
    }
    await run(clientContext(ctx), argv);
  }

  private async stopServer(instance: string): Promise<void> {
    if (this.current?.instance !== instance) return;
    this.sampler?.cancel();
    this.sampler = null;
    const { server } = this.current;
    this.current = null;
    await server.stop();
  }

  private async closeHosts(): Promise<void> {
    const [two, local] = [this.twoHost, this.localShell];
    this.twoHost = null;
    this.localShell = null;
    await Promise.all([two?.close(), local?.close()]);
  }

  /** The original's options for its TCP runner have no use here: said once per run. */
  private noteIgnoredOptions(ctx: Context): void {
    for (const [key, flag] of [
      ['remoteClientHost', '--remote-client-host'],
      ['remoteServerHost', '--remote-server-host'],
    ] as const) {
      if (ctx.stringOption(key) === undefined || this.warned.has(flag)) continue;
      this.warned.add(flag);
      ctx.log.info(`${flag} is not needed: infra controls both machines over the SSH connection (--ssh-nodes); ignored`);
    }
  }

  /** `-t serve` and `-t bench-server`: the server in the foreground until Ctrl-C (or until it stops by itself). */
  private async serve(ctx: Context, instance: Instance, s: WebServerSettings): Promise<void> {
    const server = await this.startServer(ctx, instance, s);
    ctx.log.info(`${this.name} (${instance.name}) serves ${this.fileUrl(s)}; press Ctrl-C to stop it`);
    if (s.role === 'bench-server') {
      ctx.log.info(
        `load it from the client machine with: infra run ${this.name} ${instance.name} -t bench-client --server-ip ${s.serverIp} --port ${s.port} ...`,
      );
    }
    const exit = await server.wait();
    // stopped by Ctrl-C: the normal end of serving (exit status 130 like any interrupt)
    throwIfInterrupted();
    throw new UserError(`${this.name} (${instance.name}) stopped (${describeExit(exit)})\n${server.logTail()}`);
  }
}

/** Sampled statistics stored as fields under their own names. */
const STAT_FIELDS = [
  'serverCpu',
  'serverCpuMean',
  'serverHostUtilization',
  'serverMaxRss',
  'serverMaxVms',
  'serverProcCpuMax',
  'serverProcCpuMin',
  'serverProcesses',
  'samplerCpu',
] as const;

/** The instance's run environment as plain strings (what a server started elsewhere gets added). */
function environment(ctx: Context): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.runenv)) out[k] = Array.isArray(v) ? v.join(':') : v;
  return out;
}

/**
 * Renders a configuration template: every `{{name}}` is replaced by `values[name]`. A
 * placeholder without a value is a UserError naming it, where it is, and the known names.
 */
export function renderTemplate(template: string, values: Record<string, string | number>, source: string): string {
  return template.replace(/\{\{\s*([\w-]+)\s*\}\}/g, (whole, name: string, offset: number) => {
    const value = values[name];
    if (value !== undefined) return String(value);
    const line = template.slice(0, offset).split('\n').length;
    throw new UserError(
      `${source}:${line}: unknown placeholder ${whole}; known: ${Object.keys(values)
        .map((k) => `{{${k}}}`)
        .join(' ')}`,
    );
  });
}

/** `size` bytes of printable text ending in a newline (the same for every instance). */
export function fileContent(size: number): Buffer {
  const pattern = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ\n');
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = pattern[i % pattern.length]!;
  return out;
}

/**
 * The `-t test` client: GETs the file `count` times (checking status, length and digest) and
 * a missing file once (expecting 404). Prints one line per request and a summary.
 */
const HTTP_CHECK = String.raw`
import { createHash } from 'node:crypto';
const [url, size, digest, count] = process.argv.slice(1);
let ok = 0;
for (let i = 0; i < Number(count); i++) {
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  const sum = createHash('sha256').update(body).digest('hex');
  const good = res.status === 200 && body.length === Number(size) && sum === digest;
  console.log('GET ' + url + ' -> ' + res.status + ', ' + body.length + ' bytes, ' + (good ? 'ok' : 'WRONG CONTENT'));
  if (good) ok++;
}
const missing = await fetch(url + '-missing');
await missing.arrayBuffer();
console.log('GET ' + url + '-missing -> ' + missing.status + (missing.status === 404 ? ', ok' : ', expected 404'));
if (missing.status !== 404) ok = -1;
console.log(ok + ' of ' + count + ' requests ok');
process.exit(ok === Number(count) ? 0 : 1);
`;

function nonNegativeInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new UserError(`${name} must be a non-negative integer, got '${v}'`);
    return n;
  };
}

function positiveNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new UserError(`${name} must be a positive number of seconds, got '${v}'`);
    return n;
  };
}

function nonNegativeNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new UserError(`${name} must be a non-negative number of seconds, got '${v}'`);
    return n;
  };
}

/** A repeatable integer option (`--connections 8 16 32`). */
function intList(name: string) {
  const one = positiveInt(name);
  return (v: string, previous: unknown): number[] => [...(Array.isArray(previous) ? (previous as number[]) : []), one(v)];
}
