import type { Context, EnvValue } from './context.js';

/** A value that a result record field can hold. */
export type FieldValue = string | number | boolean | null;

/** What the framework measured for one execution of a benchmark. */
export interface Measurement {
  /** Wall-clock seconds. */
  runtime: number;
  /** User and system CPU seconds of the whole process tree. */
  utime: number;
  stime: number;
  /** Peak resident set size of the largest single process of the tree, KiB (a maximum, not a sum). */
  maxrss: number;
  minflt: number;
  majflt: number;
  nvcsw: number;
  nivcsw: number;
  /**
   * Peak memory of the whole process tree together as charged to its cgroup, KiB, page cache
   * and kernel memory included, where a cgroup memory controller exists.
   */
  cgroupPeak?: number;
}

/** How an execution ended. */
export type ExecutionStatus = 'ok' | 'failed' | 'crashed' | 'timeout' | 'error';

/** The outcome of one execution, before the target's check is applied. */
export interface ExecutionResult {
  status: ExecutionStatus;
  exitCode: number | null;
  signal: string | null;
  measurement: Measurement | null;
  stdoutPath: string;
  stderrPath: string;
  cwd: string;
  /** Why the status is not 'ok', or a note on an 'ok' execution (e.g. processes killed after the grace period). */
  reason?: string;
}

/** What a target's check says about an execution: extra fields, or why it failed. */
export interface CheckOutcome {
  /**
   * Fields for the record. They replace the submit fields ({@link BenchmarkRun.fields}) of the
   * same name, and are replaced by `[setup-report]` blocks on stderr and by what the target's
   * `parseOutfile` returns. A measured field's name (runtime, maxrss...) is recorded as
   * `check.<name>`: measured fields are the framework's.
   */
  fields?: Record<string, FieldValue>;
  /** When set, the execution is recorded as failed with this reason. */
  failure?: string;
}

/**
 * One benchmark a target asks the framework to execute, measure and record. The framework
 * repeats it `iterations` times (default: the run command's `--iterations`).
 */
export interface BenchmarkRun {
  /** Benchmark name as it appears in reports (the default aggregation field). */
  benchmark: string;
  /** Command to execute; `ctx.targetRunWrapper` is put in front of it. */
  argv: string[];
  cwd?: string;
  /** Added on top of the process environment and `ctx.runenv`. */
  env?: Record<string, EnvValue>;
  /** A file fed to the benchmark on standard input. */
  stdinFile?: string;
  /** Seconds after which the whole process tree is killed (default: `--timeout`). */
  timeout?: number;
  /**
   * Extra fields stored with each execution (e.g. the workload name). Of the target's sources
   * these come first: the check's fields, `[setup-report]` blocks on stderr and the parsed
   * output replace them, in that order. A measured field's name (runtime, maxrss...) is
   * recorded as `submit.<name>`; a block's as `<block name>.<name>` (`rusage.maxrss`); the
   * output's as `output.<name>`.
   */
  fields?: Record<string, FieldValue>;
  iterations?: number;
  /**
   * Executions of this benchmark (for one instance) must not overlap, e.g. because they write
   * the same output file; the framework then runs its iterations one after another even in a
   * parallel run (other benchmarks still run beside them). A string names a group instead:
   * no two executions of the group overlap, whatever their instance and benchmark (e.g. loads
   * of web servers that share a port).
   */
  exclusive?: boolean | string;
  /**
   * With `--parallel ssh`: the machine to run on, one of the `--ssh-nodes` entries exactly as
   * given (e.g. the load generator's host of a two-host web server benchmark). Ignored by the
   * other backends.
   */
  node?: string;
  /** Runs once before each execution (e.g. to recreate an input that the benchmark consumes). */
  prepare?: (ctx: Context) => void | Promise<void>;
  /** Verifies the output and may add fields; a thrown error or `failure` marks it failed. */
  check?: (result: ExecutionResult, ctx: Context) => CheckOutcome | void | Promise<CheckOutcome | void>;
}

/**
 * Where a target's `run` submits its benchmarks. The framework decides where and when each
 * execution happens (serially, in a local pool, over SSH, on a cluster), measures it and
 * writes the record; the target only describes what to run.
 */
export interface Runner {
  /** Queues one benchmark execution (repeated for the run's iterations). */
  submit(ctx: Context, run: BenchmarkRun): void;
}
