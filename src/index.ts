/**
 * instrumentation-infra: build, run and measure instrumented programs.
 *
 * The public API a setup script uses. Built-in targets, instances and packages are exported
 * here too and use nothing beyond this API.
 */
export { Setup } from './cli/setup.js';
export type { Command, Setup as Registry } from './core/setup.js';
export { Context, type ContextPaths, type ContextHooks, type Hook, type EnvValue } from './core/context.js';
export { Target } from './core/target.js';
export { Instance } from './core/instance.js';
export { Package, type PkgConfigOption, type Awaitable } from './core/package.js';
export { UserError } from './core/errors.js';
export type { ArgParser, OptionSpec } from './core/options.js';
export { positiveInt } from './core/options.js';
export type {
  Runner,
  BenchmarkRun,
  ExecutionResult,
  ExecutionStatus,
  CheckOutcome,
  Measurement,
  FieldValue,
} from './core/runner.js';
export { dependencyOrder } from './core/graph.js';
export { run, runDeferred, type RunOptions, type RunResult } from './exec/run.js';
export { qjoin, quote } from './util/shell.js';
export { Gcc, type GccOptions } from './instances/gcc.js';
export { Clang, type ClangOptions } from './instances/clang.js';
export { ASan, type ASanOptions } from './instances/asan.js';
export { UBSan, type UBSanOptions } from './instances/ubsan.js';
export { LLVM } from './packages/llvm.js';
export { Gperftools } from './packages/gperftools.js';
export { download, type DownloadOptions } from './util/download.js';
export { sha256File } from './util/hash.js';
export { extractArchive, type ExtractOptions } from './util/archive.js';
export { applyPatch, type PatchOptions } from './util/patch.js';
export { findProgram, requireProgram } from './util/programs.js';
export { parseReportBlocks, formatReportBlock, REPORT_PREFIX } from './core/report-blocks.js';
export { mannWhitneyU, geomean } from './report/stats.js';
export { makeJobs } from './exec/jobserver.js';
export { LLVMPasses, PASSES_DIR, type LLVMPassesOptions, type PassesConfigureOptions, type PassPoint } from './packages/llvm-passes.js';
export { RuntimeLibrary, type RuntimeLibraryOptions } from './packages/runtime-library.js';
export { RusageCounters, RUSAGE_FIELDS } from './packages/rusage-counters.js';
export { Nothp } from './packages/nothp.js';
export type { LLVMInstalledOptions, LLVMSourceOptions, LLVMConfigureOptions } from './packages/llvm.js';
export type { GccSanitizer } from './instances/gcc.js';
export type { Allocator } from './instances/clang.js';
export type { OptLevel } from './instances/common.js';
export {
  ProgramSuite,
  ProgramTarget,
  type ProgramDescription,
  type SourceDescription,
  type BuildRecipe,
  type RecipeEnv,
  type RecipeSteps,
  type Toolchain,
  type WorkloadDescription,
  type WorkloadEnv,
  type WorkloadPlan,
} from './targets/program.js';
export { OpenSourceSuite, OPENSOURCE_SETS, bzip2, lua, sqlite, zstd, lz4 } from './targets/opensource/index.js';
export { Kernels } from './targets/kernels.js';
export { Prng, compressorWorkloads, expectedOutputWorkload, textInput } from './targets/workloads.js';
export { selectBenchmarks, type SizeName } from './targets/selection.js';
export { SIZEOF_TYPES_CC, SIZEOF_TYPES_CXX } from './packages/llvm-passes.js';
export { buildInputsDigest } from './core/build-inputs.js';
export { Nginx, type NginxOptions } from './targets/webserver/nginx.js';
export {
  WebServer,
  fileContent,
  SATURATION_THRESHOLD,
  type WebServerRole,
  type WebServerSettings,
  type ServeSpec,
  type ServerCommand,
} from './targets/webserver/webserver.js';
export { ServerProcess, type ServerStart, type ServerExit } from './targets/webserver/server.js';
export { ServerSampler, processTree, type ServerStat, type ServerStats } from './targets/webserver/stats.js';
export { parseWrkOutput, wrkArgv, type WrkLoad, type WrkReport } from './targets/webserver/wrk.js';
export { SpecCpu, SPEC2006, SPEC2017, CPU2006, CPU2017, parseResults as parseSpecResults, type SpecOptions, type SpecSourceType, type SpecVersion, type SpecBenchmark, type SpecResult } from './targets/spec/index.js';
export { Juliet, julietPassed, CWE_ALIASES, type JulietOptions, type JulietKind } from './targets/juliet/index.js';
