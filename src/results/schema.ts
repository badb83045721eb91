import type { ExecutionStatus, FieldValue, Measurement } from '../core/runner.js';
import type { RunOptionValues } from '../run/settings.js';

/**
 * Layout of a results directory (the same for serial and parallel runs):
 *
 *   results/run.YYYY-MM-DD.HH-MM-SS/
 *     meta.json                 RunMeta: command line, host, compilers, system state
 *     records.jsonl             one ExecutionRecord per line, appended as executions finish
 *     logs/<target>/<instance>/<benchmark>.<iteration>.{stdout,stderr}
 *   results/last -> run.YYYY-MM-DD.HH-MM-SS
 *
 * Records are appended with one write each, so a run killed at any moment leaves every
 * finished execution readable; a torn last line is skipped with a warning when read.
 */
export const RECORDS_FILE = 'records.jsonl';
export const META_FILE = 'meta.json';
export const LOGS_DIR = 'logs';
export const SCHEMA_VERSION = 1;

export interface ExecutionRecord {
  schema: typeof SCHEMA_VERSION;
  target: string;
  instance: string;
  benchmark: string;
  /** 0-based iteration index. */
  iteration: number;
  host: string;
  status: ExecutionStatus;
  exitCode: number | null;
  signal: string | null;
  /** Why the execution did not succeed (crash, timeout, wrong output...). */
  reason?: string;
  /** ISO time the execution started. */
  start: string;
  /**
   * Measured fields ({@link MEASURED_FIELDS}) plus the target's own fields (set at submit, by
   * its check, printed in `[setup-report]` blocks, parsed from its output). Measured names
   * belong to the framework: another source's field of that name is stored with a prefix
   * (`submit.`, `check.`, the block's name as in `rusage.maxrss`, `output.`); see
   * src/run/fields.ts.
   */
  fields: Record<string, FieldValue>;
  /** Paths relative to the run directory. */
  stdout: string;
  stderr: string;
}

/** The key that identifies an execution across a resumed run. */
export function executionKey(r: Pick<ExecutionRecord, 'target' | 'instance' | 'benchmark' | 'iteration'>): string {
  return `${r.target}\u0000${r.instance}\u0000${r.benchmark}\u0000${r.iteration}`;
}

export interface InstanceMeta {
  name: string;
  /** Compiler commands, versions (first line of `cc --version`) and flags. */
  [key: string]: unknown;
}

export interface RunMeta {
  schema: typeof SCHEMA_VERSION;
  tool: { name: string; version: string };
  argv: string[];
  cwd: string;
  startedAt: string;
  finishedAt?: string;
  /** Set when the run was interrupted; a later `run --resume` clears it. */
  interrupted?: boolean;
  /** Measured executions the run consists of (every iteration of every benchmark and instance), once they started. */
  executions?: number;
  target: string;
  /** Only in run directories written before {@link settings} (now `settings.iterations`). */
  iterations?: number;
  /** Only in old run directories: `serial` or the `--parallel` mode (now `settings.parallel`). */
  parallel?: string;
  /** Only in old run directories (now `settings.parallelmax`). */
  parallelmax?: number;
  project: { gitCommit: string | null; gitDirty: boolean | null };
  host: {
    hostname: string;
    cpuModel: string;
    cores: number;
    memoryBytes: number;
    kernel: string;
    thp: string | null;
    aslr: string | null;
    governor: string | null;
  };
  instances: InstanceMeta[];
  /**
   * The target's own fields with their descriptions (units included), so the results can be
   * reported where the target is not registered. Absent in older run directories.
   */
  fields?: Record<string, string>;
  /** The target's field to group results on (its `aggregationField`), for reports where it is not registered. */
  aggregationField?: string;
  /**
   * What the run was asked to do, so `run --resume` continues the same experiment. Absent only
   * in run directories written before settings were stored.
   */
  settings?: RunSettings;
}

/**
 * The effective options of a run (everything but build flags and `--resume`): the values of
 * the run options declared in src/run/settings.ts (`iterations`, `timeout`, `parallel`...),
 * the instances and the target's and instances' own options. `run --resume` restores them;
 * options given again must agree with them. Older run directories may hold the remote
 * options nested in `remote`; readers accept both.
 */
export interface RunSettings extends RunOptionValues {
  /** Instance names, in command-line order. */
  instances: string[];
  /** The target's and instances' own options, a copy of `ctx.args` (JSON values). */
  args: Record<string, unknown>;
}

/** Fields the framework measures for every execution, with descriptions for --help-fields. */
export const MEASURED_FIELDS: Readonly<Record<keyof Measurement, string>> = {
  runtime: 'wall-clock time of the execution, seconds',
  utime: 'user CPU time of the process tree, seconds',
  stime: 'system CPU time of the process tree, seconds',
  maxrss: 'peak resident set size of the largest single process of the tree, KiB (a maximum, not a sum)',
  minflt: 'minor page faults',
  majflt: 'major page faults',
  nvcsw: 'voluntary context switches',
  nivcsw: 'involuntary context switches',
  cgroupPeak:
    'peak memory of the whole process tree together as charged to its cgroup, KiB, page cache and kernel memory included (where available)',
};
