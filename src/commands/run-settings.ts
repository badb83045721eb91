import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import type { Instance } from '../core/instance.js';
import { OptionCollector } from '../core/options.js';
import type { Target } from '../core/target.js';
import { defaultParallelmax } from '../parallel/backends.js';
import type { RunMeta, RunSettings } from '../results/schema.js';
import { qjoin } from '../util/shell.js';
import type { RunOptions } from './run.js';

/**
 * A run's settings: what a new run records in meta.json, and how `run --resume` restores them
 * (and refuses options that contradict them).
 */

const DEFAULT_ITERATIONS = 1;

/** Keys of `ctx.args` that are not the target's or instances' own options. */
const NOT_TARGET_ARGS = new Set([
  'build', 'resume', 'clean', 'dryRun', 'forceRebuildDeps', 'depsOnly',
  'iterations', 'warmup', 'linger', 'timeout', 'cpus', 'nothp', 'parallel', 'parallelmax', 'sshNodes', 'slurmOpts', 'prunOpts',
]);

/** What this invocation asks for (a new run). */
export function currentSettings(ctx: Context, instanceNames: string[], opts: RunOptions): RunSettings {
  const settings: RunSettings = {
    instances: [...instanceNames],
    iterations: opts.iterations ?? DEFAULT_ITERATIONS,
    nothp: !!opts.nothp,
    parallelmax: opts.parallel ? opts.parallelmax ?? defaultParallelmax(opts.parallel) : 1,
    args: {},
  };
  if (opts.timeout !== undefined) settings.timeout = opts.timeout;
  if (opts.warmup) settings.warmup = opts.warmup;
  if (opts.linger !== undefined) settings.linger = opts.linger;
  const remote = { sshNodes: opts.sshNodes, slurmOpts: opts.slurmOpts, prunOpts: opts.prunOpts };
  if (Object.values(remote).some((v) => v !== undefined)) settings.remote = JSON.parse(JSON.stringify(remote));
  if (opts.cpus !== undefined) settings.cpus = opts.cpus;
  if (opts.parallel !== undefined) settings.parallel = opts.parallel;
  for (const [key, value] of Object.entries(ctx.args)) {
    if (!NOT_TARGET_ARGS.has(key) && value !== undefined) settings.args[key] = value;
  }
  return settings;
}

/**
 * The settings of the run being resumed. Options not given take the run's values, which are
 * written into `ctx.args` for the target and instances to read; options given with other
 * values, or other instances, are a UserError listing the differences. (A target's or
 * instance's option given with its default value cannot be told from one not given.)
 */
export function resumedSettings(path: string, meta: RunMeta, ctx: Context, target: Target, instances: Instance[], opts: RunOptions): RunSettings {
  if (meta.target !== target.name) {
    throw new UserError(`cannot resume ${path}: it holds results of target '${meta.target}', not '${target.name}'`);
  }
  const names = instances.map((i) => i.name);
  const stored = meta.settings ?? legacySettings(meta, ctx, opts);
  if (stored.instances.join(' ') !== names.join(' ')) {
    throw new UserError(
      `cannot resume ${path} with other instances: the run has ${stored.instances.join(' ')}, the command line ${names.join(' ')}; ` +
        `resume with: ${qjoin(['infra', 'run', target.name, ...stored.instances, '--resume', path])}`,
    );
  }
  const conflicts: string[] = [];
  const check = (flag: string, given: unknown, kept: unknown) => {
    if (given !== undefined && !sameValue(given, kept)) conflicts.push(`${flag} ${show(given)} (the run used ${show(kept)})`);
  };
  check('--iterations', opts.iterations, stored.iterations);
  check('--timeout', opts.timeout, stored.timeout);
  check('--warmup', opts.warmup || undefined, stored.warmup);
  check('--linger', opts.linger, stored.linger);
  check('--cpus', opts.cpus, stored.cpus);
  check('--nothp', opts.nothp || undefined, stored.nothp);
  check('--parallel', opts.parallel, stored.parallel);
  check('--parallelmax', opts.parallelmax, stored.parallelmax);

  const defaults = optionDefaults(target, instances);
  const args: Record<string, unknown> = {};
  const keys = new Set([...Object.keys(stored.args), ...Object.keys(ctx.args).filter((k) => !NOT_TARGET_ARGS.has(k))]);
  for (const key of keys) {
    const kept = stored.args[key];
    const given = ctx.args[key];
    if (given !== undefined && !sameValue(given, kept) && !(defaults.has(key) && sameValue(given, defaults.get(key)))) {
      conflicts.push(`--${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} ${show(given)} (the run used ${show(kept)})`);
    }
    if (kept !== undefined) args[key] = kept;
  }
  if (conflicts.length) {
    throw new UserError(
      `cannot resume ${path} with other options: ${conflicts.join('; ')}; ` +
        `leave them out to continue the run as it was started: ${qjoin(['infra', 'run', target.name, ...names, '--resume', path])}`,
    );
  }
  // an option the run did not have (e.g. added to the setup since) keeps its default
  Object.assign(ctx.args, args);
  ctx.log.debug(`resuming ${path} with its own options: ${JSON.stringify({ ...stored, args })}`);
  return { ...stored, args };
}

/** A run directory written before settings were stored: what meta.json has, the rest as given. */
function legacySettings(meta: RunMeta, ctx: Context, opts: RunOptions): RunSettings {
  const settings = currentSettings(ctx, meta.instances.map((i) => i.name), opts);
  settings.iterations = opts.iterations ?? meta.iterations;
  settings.parallelmax = meta.parallelmax;
  if (meta.parallel !== 'serial') settings.parallel = meta.parallel;
  return settings;
}

/** Defaults of the target's and instances' options, by `ctx.args` key. */
function optionDefaults(target: Target, instances: Instance[]): Map<string, unknown> {
  const col = new OptionCollector();
  target.addBuildArgs(col);
  target.addRunArgs(col);
  for (const inst of instances) {
    inst.addBuildArgs(col);
    inst.addRunArgs(col);
  }
  const out = new Map<string, unknown>();
  for (const spec of col.specs) {
    const long = /--([\w-]+)/.exec(spec.flags)?.[1];
    if (!long) continue;
    const negated = long.startsWith('no-');
    const key = (negated ? long.slice(3) : long).replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    if (!out.has(key)) out.set(key, spec.default ?? (negated ? true : undefined));
  }
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function show(v: unknown): string {
  if (v === undefined) return 'none';
  return Array.isArray(v) ? v.map(String).join(' ') : String(v);
}

