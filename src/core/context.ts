import { arch as osArch, availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { RunSettings } from '../results/schema.js';
import { Logger } from './log.js';

/** Absolute, read-only paths used throughout the framework. */
export interface ContextPaths {
  /** Directory containing the user's setup script. */
  readonly root: string;
  /** The setup script itself (so build systems can call back into it). */
  readonly setup: string;
  /** `build/` under the root. */
  readonly buildroot: string;
  /** `build/log`. */
  readonly log: string;
  /** Debug log of this invocation (earlier invocations keep their own). */
  readonly debuglog: string;
  /** `build/log/commands.txt`: every command run, with cwd, environment delta and output. */
  readonly runlog: string;
  /** `build/packages`. */
  readonly packages: string;
  /** `build/targets`. */
  readonly targets: string;
  /** `results`: one directory per run. */
  readonly poolResults: string;
}

/** A hook is called once per binary a target reports through `binaryPaths`. */
export type Hook = (ctx: Context, binaryPath: string) => void | Promise<void>;

/** Functions run before and after builds and runs (see {@link Context.hooks}). */
export interface ContextHooks {
  preBuild: Hook[];
  postBuild: Hook[];
  preRun: Hook[];
  postRun: Hook[];
}

/** Environment values; lists are joined with ':' when the environment is built. */
export type EnvValue = string | string[];

/**
 * Everything an instance configures and a target reads. Each instance of a command gets a
 * deep copy (see {@link Context.clone}), so nothing one instance sets reaches another.
 */
export class Context {
  paths: ContextPaths;
  log: Logger;
  /** Verbosity requested by the user (-v raises, -q lowers it). */
  loglevel = 0;
  /**
   * The values of the options the target and instances declared (`addBuildArgs`/`addRunArgs`),
   * by the camelCase name of the long flag: `--spec-benchmarks` is `args.specBenchmarks`. Only
   * declared options are here; the framework's own options and state are typed fields. Read
   * them typed with {@link flag}, {@link stringOption}, {@link numberOption} and {@link listOption}.
   */
  args: Record<string, unknown> = {};
  /** `--dry-run`: print the commands that would run and change no file. */
  dryRun = false;
  /**
   * Name of the instance this context belongs to; set in the private copy each instance
   * builds or runs a target with, unset in the invocation's base context.
   */
  instanceName: string | undefined = undefined;
  /**
   * The settings of the run in progress (`infra run`: iterations, parallelism, timeout...),
   * as stored in its meta.json; unset outside a run.
   */
  runSettings: Readonly<RunSettings> | undefined = undefined;
  /** Directories searched by sha256 for source archives before any download (`--source-mirror`). */
  sourceMirrors: string[] = [];
  hooks: ContextHooks = { preBuild: [], postBuild: [], preRun: [], postRun: [] };
  /** Environment added to every command run for targets and packages. */
  runenv: Record<string, EnvValue> = {};
  /** argv prefix put in front of each benchmark command (e.g. `['valgrind', '-q']`). */
  targetRunWrapper: string[] = [];
  /** Parallel jobs for build systems (`-j`): cores, at most 16, unless given. */
  jobs = Math.min(16, availableParallelism());
  /** Architecture as `uname -m` prints it. */
  arch: string = osArch() === 'x64' ? 'x86_64' : osArch() === 'arm64' ? 'aarch64' : osArch();
  cc = 'cc';
  cxx = 'c++';
  fc = 'gfortran';
  ar = 'ar';
  nm = 'nm';
  ranlib = 'ranlib';
  cflags: string[] = [];
  cxxflags: string[] = [];
  fcflags: string[] = [];
  ldflags: string[] = [];
  /** Flags for linking libraries that are later linked statically into a binary (e.g. `-flto`). */
  libLdflags: string[] = [];
  /**
   * Files the flags refer to whose contents change what a build produces (a pass plugin, a
   * runtime library). A `BuildStamp` records their state with every build, so changing a
   * pass makes the builds that use it stale (`buildInputsDigest` gives a digest of them).
   */
  buildInputs: string[] = [];
  /**
   * The GNU make jobserver shared by parallel builds, if any (see `makeJobs`). Commands run
   * with `run()` inherit it; it is shared, not copied, between instances.
   */
  jobserver: { fd: number; makeflags: string } | null = null;
  /** Extra data instances and packages may attach (deep-copied like everything else). */
  extra: Record<string, unknown> = {};

  constructor(paths: ContextPaths, log: Logger) {
    this.paths = paths;
    this.log = log;
  }

  /** A declared flag option (`--test`): true when given (or when its default is true). */
  flag(key: string): boolean {
    return this.typedOption(key, 'boolean', (v): v is boolean => typeof v === 'boolean') ?? false;
  }

  /** A declared option with one value, as a string (`--size <name>`). */
  stringOption(key: string): string | undefined {
    return this.typedOption(key, 'string', (v): v is string => typeof v === 'string');
  }

  /** A declared option whose parser gives a number (`--port <n>` with `positiveInt`). */
  numberOption(key: string): number | undefined {
    return this.typedOption(key, 'number', (v): v is number => typeof v === 'number');
  }

  /** A declared option with several values (`--benchmarks <names...>`), or one parsed into a list. */
  listOption(key: string): string[] | undefined {
    return this.typedOption(key, 'list', (v): v is string[] => Array.isArray(v));
  }

  /** A declared option whose parser gives a list of numbers (`--connections <n...>`). */
  numberListOption(key: string): number[] | undefined {
    return this.typedOption(key, 'list of numbers', (v): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number'));
  }

  /**
   * An option's value checked against the type its declaration gives it; another type means the
   * option was declared otherwise than it is read, a bug in the target or instance.
   */
  private typedOption<T>(key: string, what: string, is: (v: unknown) => v is T): T | undefined {
    const value = this.args[key];
    if (value === undefined) return undefined;
    if (!is(value))
      throw new Error(`option '${key}' is read as a ${what} but its value is ${JSON.stringify(value)}; check its declaration`);
    return value;
  }

  /**
   * Adds a flag to both cflags and cxxflags unless already present. Several flags are one
   * group that stays together, in order (`'-Xclang=-mllvm', '-Xclang=-opt'`): added
   * unless the same sequence is already there.
   */
  addCFlag(...group: string[]): void {
    addFlagGroup(this.cflags, group);
    addFlagGroup(this.cxxflags, group);
  }

  /** Adds a flag to libLdflags (and optionally ldflags) unless already present. */
  addLibLdflag(flag: string, alsoLdflag = false): void {
    if (!this.libLdflags.includes(flag)) this.libLdflags.push(flag);
    if (alsoLdflag && !this.ldflags.includes(flag)) this.ldflags.push(flag);
  }

  /** Prepends a directory to a ':'-separated runenv variable (PATH, LD_LIBRARY_PATH, ...). */
  prependPath(variable: string, dir: string): void {
    const cur = this.runenv[variable];
    // like the process environment, an unset variable starts from the inherited value
    const start = cur ?? process.env[variable] ?? '';
    const list = Array.isArray(start) ? [...start] : start.split(':').filter(Boolean);
    if (!list.includes(dir)) list.unshift(dir);
    this.runenv[variable] = list;
  }

  /**
   * A deep copy. Arrays, the runenv, hooks, args and extra are copied, so mutating the copy
   * never changes the original. Functions (hooks) are shared by reference, as they are values.
   */
  clone(): Context {
    const copy = Object.create(Context.prototype) as Context;
    for (const [key, value] of Object.entries(this)) {
      (copy as unknown as Record<string, unknown>)[key] = key === 'log' || key === 'paths' || key === 'jobserver' ? value : deepCopy(value);
    }
    return copy;
  }
}

function deepCopy<T>(value: T): T {
  if (Array.isArray(value)) return value.map(deepCopy) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, deepCopy(v)])) as T;
  if (value instanceof Set) return new Set([...value].map(deepCopy)) as T;
  if (value && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as object | null;
    // instances of other classes (packages, loggers) are shared, not copied: they are not state
    // an instance configures
    if (proto !== Object.prototype && proto !== null) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = deepCopy(v);
    return out as T;
  }
  return value;
}

export function makePaths(root: string, setup: string, invocationStamp: string): ContextPaths {
  const buildroot = join(root, 'build');
  const log = join(buildroot, 'log');
  return {
    root,
    setup,
    buildroot,
    log,
    debuglog: join(log, `debug.${invocationStamp}.log`),
    runlog: join(log, 'commands.txt'),
    packages: join(buildroot, 'packages'),
    targets: join(buildroot, 'targets'),
    poolResults: join(root, 'results'),
  };
}

/** Builds a process environment: base + runenv + extra, lists joined with ':'. */
export function buildEnv(
  base: NodeJS.ProcessEnv,
  ...layers: Array<Record<string, EnvValue | undefined> | undefined>
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  for (const layer of layers) {
    if (!layer) continue;
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      env[k] = Array.isArray(v) ? v.join(':') : v;
    }
  }
  return env;
}

/** Appends `group` to `flags` unless `flags` already holds it as a contiguous sequence. */
function addFlagGroup(flags: string[], group: readonly string[]): void {
  if (group.length === 0) return;
  for (let i = 0; i + group.length <= flags.length; i++) {
    if (group.every((g, j) => flags[i + j] === g)) return;
  }
  flags.push(...group);
}
