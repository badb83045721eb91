import { existsSync, readFileSync, rmSync } from 'node:fs';
import { type ArgParser, type Context, requireProgram } from '../../api.js';
import { abArgv, parseAbOutput } from './ab.js';
import { parseWrkOutput, type WrkLoad, type WrkReport, wrkArgv } from './wrk.js';

/** The load generators a web server target can be measured with (`--client`). */
export const LOAD_CLIENTS = ['wrk', 'ab'] as const;
export type LoadClientName = (typeof LOAD_CLIENTS)[number];

/**
 * A load generator: the command of one load, and its report turned into the fields of
 * {@link WrkReport}. `scratch` is a file the client may write beside its standard output
 * (ab's percentile table); a report is read from it only when it exists.
 */
export interface LoadClient {
  readonly name: LoadClientName;
  /** Client threads a load really uses. */
  threads(load: WrkLoad): number;
  argv(load: WrkLoad, scratch: string): string[];
  parse(stdout: string, scratch: string): WrkReport;
  /** Throws a UserError naming how to install the client when it is not on PATH. */
  require(ctx: Context): void;
}

const WRK: LoadClient = {
  name: 'wrk',
  threads: (load) => Math.min(load.threads, load.connections),
  argv: (load) => wrkArgv(load),
  parse: (stdout) => parseWrkOutput(stdout),
  require: (ctx) => requireProgram(ctx, 'wrk', 'install it with: apt-get install wrk (or depend on a Wrk package)'),
};

const AB: LoadClient = {
  name: 'ab',
  // ab is single-threaded
  threads: () => 1,
  argv: (load, scratch) => abArgv(load, scratch),
  parse: (stdout, scratch) => {
    const csv = existsSync(scratch) ? readFileSync(scratch, 'utf8') : undefined;
    // read once: a later load that fails before writing its own must not find this one
    rmSync(scratch, { force: true });
    return parseAbOutput(stdout, csv);
  },
  require: (ctx) =>
    requireProgram(
      ctx,
      'ab',
      "give the target an ApacheBench package (e.g. { ab: new ApacheBench('2.4.68', apr, aprUtil) }) or install it with: apt-get install apache2-utils",
    ),
};

/**
 * The context a load generator runs in: without the instance's run wrapper and run environment
 * (sanitizer options, preloaded allocators are for the server), but with the PATH the target's
 * packages put their programs on, so a Wrk or ApacheBench package the target uses is the one run.
 */
export function clientContext(ctx: Context): Context {
  const client = ctx.clone();
  client.targetRunWrapper = [];
  const path = ctx.runenv.PATH;
  client.runenv = path === undefined ? {} : { PATH: path };
  return client;
}

/** The load generator named by `--client` (default wrk). */
export function loadClient(name: LoadClientName): LoadClient {
  return name === 'ab' ? AB : WRK;
}

/** Adds `--client wrk|ab` to a web server target's run options. */
export function addClientArgs(parser: ArgParser): void {
  parser.option('--client <name>', 'load generator: wrk (default) or ab (ApacheBench: single-threaded, --threads ignored)', {
    choices: [...LOAD_CLIENTS],
  });
}

/** The parsed `--client`. */
export function clientOption(ctx: Context): LoadClientName {
  return (ctx.stringOption('client') ?? 'wrk') as LoadClientName;
}
