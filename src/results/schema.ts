import type { ExecutionStatus, FieldValue } from '../core/runner.js';

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
   * Measured fields (runtime, utime, stime, maxrss, minflt, majflt, nvcsw, nivcsw,
   * cgroupPeak) plus the target's own fields (parsed from its output or set at submit).
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
  target: string;
  iterations: number;
  parallel: string;
  parallelmax: number;
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
  /** What the run was asked to do, so `run --resume` continues the same experiment. */
  settings?: RunSettings;
}

/**
 * The effective options of a run (everything but build flags and `--resume`). `run --resume`
 * restores them; options given again must agree with them.
 */
export interface RunSettings {
  /** Instance names, in command-line order. */
  instances: string[];
  iterations: number;
  /** Unrecorded warm-up executions per benchmark and instance. */
  warmup?: number;
  /** Grace period for processes left running after the main process exits, seconds. */
  linger?: number;
  /** Where a remote run ran; a resumed run uses these unless given again. */
  remote?: { sshNodes?: string[]; slurmOpts?: string; prunOpts?: string };
  timeout?: number;
  cpus?: string;
  nothp: boolean;
  /** `--parallel` mode, absent for a serial run. */
  parallel?: string;
  /** Executions at once (1 for a serial run). */
  parallelmax: number;
  /** The target's and instances' own options as parsed into `ctx.args` (JSON values). */
  args: Record<string, unknown>;
}

/** Fields the framework measures for every execution, with descriptions for --help-fields. */
export const MEASURED_FIELDS: Record<string, string> = {
  runtime: 'wall-clock time of the execution, seconds',
  utime: 'user CPU time of the process tree, seconds',
  stime: 'system CPU time of the process tree, seconds',
  maxrss: 'peak resident set size of the largest single process of the tree, KiB (a maximum, not a sum)',
  minflt: 'minor page faults',
  majflt: 'major page faults',
  nvcsw: 'voluntary context switches',
  nivcsw: 'involuntary context switches',
  cgroupPeak: 'peak memory of the whole process tree together as charged to its cgroup, KiB, page cache and kernel memory included (where available)',
};
