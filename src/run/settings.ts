import { nonNegativeInt, positiveInt, positiveNumber, type OptionSpec } from '../core/options.js';
import { availableParallelism } from 'node:os';
import { parseCpuList } from './cpus.js';

/** The `--parallel` modes: where executions run. */
export const PARALLEL_MODES = ['proc', 'ssh', 'slurm', 'prun'] as const;
export type ParallelMode = (typeof PARALLEL_MODES)[number];

/**
 * `--parallelmax` when not given: the cores (proc), one per node (ssh), or 64 jobs in the
 * queue (slurm, prun, as the DAS-5 setup of the original tool); 1 for a serial run.
 */
export function defaultParallelmax(mode: string | undefined): number {
  switch (mode) {
    case undefined:
      return 1;
    case 'proc':
      return availableParallelism();
    case 'ssh':
      return 1;
    default:
      return 64;
  }
}

/**
 * The run options, each declared once. From this table come the `run` command's options,
 * the settings stored in meta.json, the conflict check of `run --resume`, what the scheduler
 * and backends are given, and (the `execution` group) what the measurement helper receives.
 * Adding a run option means adding it here and using its value where it matters.
 */

/**
 * - `schedule`: how often and in which order executions happen (the runner).
 * - `execution`: how each execution is run; passed unchanged to the measurement helper.
 * - `placement`: where executions happen (the backend).
 */
export type RunOptionGroup = 'schedule' | 'execution' | 'placement';

export interface RunOptionDecl<T, G extends RunOptionGroup = RunOptionGroup> {
  flags: string;
  description: string;
  group: G;
  /** Converts the command-line string; absent for a flag without a value (then `true`). */
  parse?: (raw: string) => T;
  choices?: readonly string[];
  /** The value when the option is not given, possibly computed from the other settings. */
  default?: T | ((given: Readonly<Record<string, unknown>>) => T);
  /**
   * On `run --resume`: 'agree' (default) refuses a value that differs from the run's own;
   * 'given-wins' lets a value given again replace it (e.g. other nodes for the rest of a run).
   */
  onResume?: 'agree' | 'given-wins';
}

function option<T, G extends RunOptionGroup>(decl: RunOptionDecl<T, G>): RunOptionDecl<T, G> {
  return decl;
}

/** An option that always has a value (its default when not given). */
function defaulted<T, G extends RunOptionGroup>(decl: RunOptionDecl<T, G> & Required<Pick<RunOptionDecl<T, G>, 'default'>>) {
  return decl;
}

export const RUN_OPTIONS = {
  iterations: defaulted<number, 'schedule'>({
    flags: '-i, --iterations <n>',
    description: 'executions of each benchmark (default 1)',
    group: 'schedule',
    parse: positiveInt('--iterations'),
    default: 1,
  }),
  warmup: defaulted<number, 'schedule'>({
    flags: '--warmup <n>',
    description: 'unrecorded executions of each benchmark before the measured ones (default 0)',
    group: 'schedule',
    parse: nonNegativeInt('--warmup'),
    default: 0,
  }),
  timeout: option<number, 'execution'>({
    flags: '--timeout <seconds>',
    description: 'kill an execution (and its children) after this many seconds (fractions allowed, e.g. 2.5)',
    group: 'execution',
    parse: positiveNumber('--timeout'),
  }),
  cpus: option<string, 'execution'>({
    flags: '--cpus <list>',
    description: 'pin each execution to these CPUs (e.g. 1 or 0,2-3)',
    group: 'execution',
    parse: (raw) => {
      parseCpuList(raw);
      return raw;
    },
  }),
  nothp: defaulted<boolean, 'execution'>({
    flags: '--nothp',
    description: 'run benchmarks with transparent huge pages disabled',
    group: 'execution',
    default: false,
  }),
  linger: option<number, 'execution'>({
    flags: '--linger <seconds>',
    description: 'kill processes a benchmark leaves running this long after it exits (default 10)',
    group: 'execution',
    parse: nonNegativeInt('--linger'),
  }),
  parallel: option<string, 'placement'>({
    flags: '--parallel <mode>',
    description:
      'run jobs in parallel: proc (processes on this machine), ssh (on --ssh-nodes), slurm or prun (cluster jobs); builds always run here',
    group: 'placement',
    choices: PARALLEL_MODES,
  }),
  parallelmax: defaulted<number, 'placement'>({
    flags: '--parallelmax <n>',
    description: 'maximum parallel jobs (default: the cores for proc, 1 per node for ssh, 64 for slurm and prun)',
    group: 'placement',
    parse: positiveInt('--parallelmax'),
    default: (given) => defaultParallelmax(given.parallel as string | undefined),
  }),
  batchSize: option<number, 'placement'>({
    flags: '--batch-size <n>',
    description:
      'executions per cluster job for --parallel slurm and prun (default: from their expected duration, one per job until the first is measured)',
    group: 'placement',
    parse: positiveInt('--batch-size'),
    onResume: 'given-wins',
  }),
  sshNodes: option<string[], 'placement'>({
    flags: '--ssh-nodes <hosts...>',
    description: 'machines for --parallel ssh: HOST, HOST:PORT or USER@HOST (~/.ssh/config applies)',
    group: 'placement',
    onResume: 'given-wins',
  }),
  slurmOpts: option<string, 'placement'>({
    flags: '--slurm-opts <options>',
    description: 'extra sbatch options for --parallel slurm, e.g. "--partition=fast --exclusive"',
    group: 'placement',
    onResume: 'given-wins',
  }),
  prunOpts: option<string, 'placement'>({
    flags: '--prun-opts <options>',
    description: 'extra prun options for --parallel prun, e.g. "-asocial -t 30:00"',
    group: 'placement',
    onResume: 'given-wins',
  }),
};

type Options = typeof RUN_OPTIONS;
export type RunOptionKey = keyof Options;
type ValueOf<D> = D extends RunOptionDecl<infer T> ? T : never;
type KeysWhere<Cond> = { [K in RunOptionKey]: Options[K] extends Cond ? K : never }[RunOptionKey];
type DefaultedKey = KeysWhere<{ default: unknown }>;

/** The values of the run options: those with a default are always set. */
export type RunOptionValues = { [K in DefaultedKey]: ValueOf<Options[K]> } & {
  [K in Exclude<RunOptionKey, DefaultedKey>]?: ValueOf<Options[K]>;
};

/** The run options as given on a command line (any may be missing). */
export type GivenRunOptions = Partial<RunOptionValues>;

export type ExecutionKey = KeysWhere<{ group: 'execution' }>;

/** How each execution is run (the `execution` group): the measurement helper's settings. */
export type ExecutionSettings = Partial<Pick<RunOptionValues, ExecutionKey>>;

const KEYS = Object.keys(RUN_OPTIONS) as RunOptionKey[];
const decl = (key: RunOptionKey) => RUN_OPTIONS[key] as RunOptionDecl<unknown>;

/** The run command's own options that are not settings of the run. */
const COMMAND_ONLY_OPTIONS: OptionSpec[] = [
  { flags: '--build', description: 'build the target (and dependencies) first' },
  { flags: '--resume <rundir>', description: 'complete an interrupted run in this results directory (with its original options)' },
];

/**
 * The `run` command's own options (without the build flags it shares with `build`). No
 * defaults reach the parser: `--resume` must tell an option given from one left out.
 */
export const runOptionSpecs: OptionSpec[] = [
  ...COMMAND_ONLY_OPTIONS,
  ...KEYS.map((key) => {
    const { flags, description, parse, choices } = decl(key);
    const spec: OptionSpec = { flags, description };
    if (parse) spec.parse = parse;
    if (choices) spec.choices = choices;
    return spec;
  }),
];

/** The settings of a new run: what was given, the defaults for the rest. */
export function resolveRunOptions(given: Readonly<GivenRunOptions>): RunOptionValues {
  const out: Record<string, unknown> = {};
  for (const key of KEYS) {
    const value = given[key] ?? defaultOf(key, given);
    if (value !== undefined) out[key] = value;
  }
  // a serial run executes one at a time, whatever --parallelmax says
  if (out.parallel === undefined) out.parallelmax = 1;
  return out as RunOptionValues;
}

function defaultOf(key: RunOptionKey, given: Readonly<Record<string, unknown>>): unknown {
  const d = decl(key).default;
  return typeof d === 'function' ? (d as (g: Readonly<Record<string, unknown>>) => unknown)(given) : d;
}

/**
 * Restores a run's options on `run --resume`: each option not given takes the run's value;
 * a value given again must agree with it unless the option lets a given value win. Returns
 * the settings and the disagreements in words (`--iterations 3 (the run used 6)`).
 */
export function restoreRunOptions(
  stored: Readonly<GivenRunOptions>,
  given: Readonly<GivenRunOptions>,
): { values: RunOptionValues; conflicts: string[] } {
  // a run stored before an option existed (or left at its default) has the default
  const kept = resolveRunOptions(stored);
  const out: Record<string, unknown> = { ...kept };
  const conflicts: string[] = [];
  for (const key of KEYS) {
    const value = given[key];
    if (value === undefined) continue;
    if (decl(key).onResume === 'given-wins') out[key] = value;
    else if (!sameValue(value, kept[key])) conflicts.push(`${longFlag(key)} ${showValue(value)} (the run used ${showValue(kept[key])})`);
  }
  return { values: out as RunOptionValues, conflicts };
}

/** The `execution` group of the settings, for the measurement helper. */
export function executionSettings(values: Readonly<GivenRunOptions>): ExecutionSettings {
  const out: Record<string, unknown> = {};
  for (const key of KEYS) if (decl(key).group === 'execution' && values[key] !== undefined) out[key] = values[key];
  return out;
}

/** The run options among `values` (e.g. the command's parsed options). */
export function pickRunOptions(values: Readonly<Record<string, unknown>>): GivenRunOptions {
  const out: Record<string, unknown> = {};
  for (const key of KEYS) if (values[key] !== undefined) out[key] = values[key];
  return out;
}

function longFlag(key: RunOptionKey): string {
  return /--[\w-]+/.exec(decl(key).flags)![0];
}

export function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export function showValue(v: unknown): string {
  if (v === undefined) return 'none';
  const text = (x: unknown) => (typeof x === 'string' ? x : JSON.stringify(x));
  return Array.isArray(v) ? v.map(text).join(' ') : text(v);
}
