import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';
import type { Instance } from '../core/instance.js';
import { OptionCollector } from '../core/options.js';
import type { Target } from '../core/target.js';
import type { RunMeta, RunSettings } from '../results/schema.js';
import { pickRunOptions, resolveRunOptions, restoreRunOptions, sameValue, showValue, type GivenRunOptions } from '../run/settings.js';
import { qjoin } from '../util/shell.js';

/**
 * A run's settings: what a new run records in meta.json, and how `run --resume` restores them
 * (and refuses options that contradict them). The run options themselves are declared in
 * src/run/settings.ts; this adds the instances and the target's and instances' own options.
 */

/** What this invocation asks for (a new run); `given` holds the command's parsed options. */
export function currentSettings(ctx: Context, instanceNames: string[], given: Readonly<GivenRunOptions>): RunSettings {
  return { ...resolveRunOptions(pickRunOptions(given)), instances: [...instanceNames], args: jsonCopy(ctx.args) };
}

/**
 * The settings of the run being resumed. Options not given take the run's values, which are
 * written into `ctx.args` for the target and instances to read; options given with other
 * values, or other instances, are a UserError listing the differences. (A target's or
 * instance's option given with its default value cannot be told from one not given.)
 */
export function resumedSettings(
  path: string,
  meta: RunMeta,
  ctx: Context,
  target: Target,
  instances: Instance[],
  given: Readonly<GivenRunOptions>,
): RunSettings {
  if (meta.target !== target.name) {
    throw new UserError(`cannot resume ${path}: it holds results of target '${meta.target}', not '${target.name}'`);
  }
  const names = instances.map((i) => i.name);
  const stored = storedSettings(meta, ctx, given);
  if (stored.instances.join(' ') !== names.join(' ')) {
    throw new UserError(
      `cannot resume ${path} with other instances: the run has ${stored.instances.join(' ')}, the command line ${names.join(' ')}; ` +
        `resume with: ${qjoin(['infra', 'run', target.name, ...stored.instances, '--resume', path])}`,
    );
  }
  const { values, conflicts } = restoreRunOptions(stored, pickRunOptions(given));
  const args = restoreArgs(stored.args, ctx.args, optionDefaults(target, instances), conflicts);
  if (conflicts.length) {
    throw new UserError(
      `cannot resume ${path} with other options: ${conflicts.join('; ')}; ` +
        `leave them out to continue the run as it was started: ${qjoin(['infra', 'run', target.name, ...names, '--resume', path])}`,
    );
  }
  // an option the run did not have (e.g. added to the setup since) keeps its default
  Object.assign(ctx.args, args);
  const settings = { ...values, instances: stored.instances, args };
  ctx.log.debug(`resuming ${path} with its own options: ${JSON.stringify(settings)}`);
  return settings;
}

/** The run's target and instance options; a given value that differs (and is not the default) is a conflict. */
function restoreArgs(
  stored: Readonly<Record<string, unknown>>,
  given: Readonly<Record<string, unknown>>,
  defaults: ReadonlyMap<string, unknown>,
  conflicts: string[],
): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(stored), ...Object.keys(given)])) {
    const kept = stored[key];
    const value = given[key];
    if (value !== undefined && !sameValue(value, kept) && !(defaults.has(key) && sameValue(value, defaults.get(key)))) {
      conflicts.push(`--${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} ${showValue(value)} (the run used ${showValue(kept)})`);
    }
    if (kept !== undefined) args[key] = kept;
  }
  return args;
}

/**
 * The settings meta.json holds. Run directories written before settings were stored have
 * only the iterations and parallelism; the rest is taken as given. Older settings keep the
 * remote options nested in `remote`.
 */
function storedSettings(meta: RunMeta, ctx: Context, given: Readonly<GivenRunOptions>): RunSettings {
  if (meta.settings) {
    const { remote, ...settings } = meta.settings as RunSettings & { remote?: GivenRunOptions };
    return { ...remote, ...settings };
  }
  const settings = currentSettings(
    ctx,
    meta.instances.map((i) => i.name),
    given,
  );
  settings.iterations = given.iterations ?? meta.iterations ?? settings.iterations;
  settings.parallelmax = meta.parallelmax ?? settings.parallelmax;
  if (meta.parallel !== undefined && meta.parallel !== 'serial') settings.parallel = meta.parallel;
  return settings;
}

function jsonCopy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
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
