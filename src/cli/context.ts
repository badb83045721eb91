import { hostname } from 'node:os';
import { Context, makePaths } from '../core/context.js';
import { Logger, levelFromVerbosity } from '../core/log.js';
import type { Setup } from '../core/setup.js';

export interface GlobalOptions {
  verbosity?: number;
  quiet?: boolean;
  jobs?: number;
  sourceMirror?: string[];
}

/** A fresh context for one invocation: paths under the setup's root, logger, -j, -v. */
/** What the command line sets in the context besides the global options. */
export interface InvocationState {
  dryRun: boolean;
  /** Values of the options the target and instances (or a setup's command) declared. */
  args: Record<string, unknown>;
  /** Write the debug log under build/ (not outside a project, where there is no build/). Default true. */
  debugLog?: boolean;
}

export function createContext(setup: Setup, global: GlobalOptions, invocation: InvocationState): Context {
  const stamp = invocationStamp(new Date());
  const paths = makePaths(setup.root, setup.setupPath, stamp);
  const verbosity = (global.verbosity ?? 0) - (global.quiet ? 1 : 0);
  const log = new Logger(levelFromVerbosity(verbosity));
  if (invocation.debugLog !== false) log.setDebugLogFile(paths.debuglog);
  log.file(`infra ${process.argv.slice(2).join(' ')}  (pid ${process.pid} on ${hostname()})`);
  const ctx = new Context(paths, log);
  ctx.loglevel = verbosity;
  if (global.jobs !== undefined) ctx.jobs = global.jobs;
  ctx.dryRun = invocation.dryRun;
  ctx.sourceMirrors = global.sourceMirror ?? [];
  ctx.args = { ...invocation.args };
  return ctx;
}

export function invocationStamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}.${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}.${process.pid}`;
}
