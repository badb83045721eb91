/**
 * The framework's public API: the model (Target, Instance, Package, Context), running commands,
 * fetching sources, and the helpers the built-in targets, instances and packages are written
 * with. Built-ins import from this module and nothing else of the framework (a test checks it),
 * so a user's own target can do everything a built-in does. `src/index.ts` re-exports it with
 * the built-ins.
 */
export type { Command, Setup as Registry } from './core/setup.js';
export { Context, type ContextPaths, type ContextHooks, type Hook, type EnvValue } from './core/context.js';
export { Target, type ReportedExecution, type TargetReportInput, type TargetReportTable } from './core/target.js';
export { Instance } from './core/instance.js';
export { Package, type PkgConfigOption, type Awaitable } from './core/package.js';
export {
  SourcePackage,
  AutotoolsPackage,
  pinnedSource,
  type PackageSource,
  type SourceOptions,
  type SourceDirs,
  type MakeStep,
} from './core/source-package.js';
export { UserError, InterruptedError, severalFailed } from './core/errors.js';
export type { ArgParser, OptionSpec } from './core/options.js';
export { positiveInt, checkOptions } from './core/options.js';
export type { Runner, BenchmarkRun, ExecutionResult, ExecutionStatus, CheckOutcome, Measurement, FieldValue } from './core/runner.js';
export { dependencyOrder } from './core/graph.js';
export { parseReportBlocks, formatReportBlock, REPORT_PREFIX } from './core/report-blocks.js';

// building: up-to-date checks, benchmark selection, dry-run aware file changes
export { BuildStamp, type BuildConfig, type BuildDescription } from './core/build-stamp.js';
export { buildInputsDigest } from './core/build-inputs.js';
export { selectBenchmarks, benchmarkSize, sizeValue, type SizeName, type SizeValues } from './core/selection.js';
export { writeOutput, makeDirectory, removePath, type WriteOutputOptions } from './core/output.js';
export { unitInputs, upToDate, inParallel, type CompileUnit } from './util/incremental.js';

// what instances do to a context
export {
  OPT_LEVELS,
  checkOptLevel,
  optSuffix,
  addOptFlags,
  addCompileAndLinkFlag,
  describeCompiler,
  addRuntimeOptions,
  userRuntimeOptions,
  parseRuntimeOptions,
  formatRuntimeOptions,
  type OptLevel,
  type SanitizerOptions,
} from './core/flags.js';

// processes and sources
export { run, runDeferred, type RunOptions, type RunResult } from './exec/run.js';
export { makeJobs } from './exec/jobserver.js';
export { throwIfInterrupted, isInterrupted, onInterrupt } from './exec/interrupt.js';
export { qjoin, quote } from './util/shell.js';
export { download, type DownloadOptions } from './util/download.js';
export { sha256File } from './util/hash.js';
export { extractArchive, type ExtractOptions } from './util/archive.js';
export { applyPatch, type PatchOptions } from './util/patch.js';
export { findProgram, requireProgram } from './util/programs.js';
export { packageFile } from './paths.js';

export { mannWhitneyU, geomean } from './report/stats.js';
export { DEFAULT_SATURATION_THRESHOLD } from './report/saturation.js';
export { sshDestination } from './parallel/ssh.js';
