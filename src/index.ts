/**
 * instrumentation-infra: build, run and measure instrumented programs.
 *
 * What a setup script imports: the public API (./api.ts) and the built-in targets, instances
 * and packages. The built-ins import only ./api.ts themselves (test/api-boundary.test.ts checks
 * it), so a user's own target, instance or package can do whatever a built-in does.
 */
export * from './api.js';
// the one class a setup script needs that built-ins do not: the registry with its command line
export { Setup } from './cli/setup.js';

// the built-ins: written with the API above only, like a user's own targets, instances and packages
export { Gcc, type GccOptions } from './instances/gcc.js';
export { Clang, type ClangOptions } from './instances/clang.js';
export { ASan, type ASanOptions } from './instances/asan.js';
export { asanRuntimeOptions, ubsanRuntimeOptions } from './instances/sanitizer-options.js';
export { UBSan, type UBSanOptions } from './instances/ubsan.js';
export { LLVM } from './packages/llvm.js';
export { Gperftools, type GperftoolsOptions } from './packages/gperftools.js';
export { LLVMPasses, PASSES_DIR, type LLVMPassesOptions, type PassesConfigureOptions, type PassPoint } from './packages/llvm-passes.js';
export { BuiltinLLVMPasses, type BuiltinLLVMPassesOptions } from './packages/llvm-passes-builtin.js';
export { PassPlugin, type PassCompileOptions } from './packages/llvm-passes-plugin.js';
export { RuntimeLibrary, type RuntimeLibraryOptions } from './packages/runtime-library.js';
export { RusageCounters, RUSAGE_FIELDS } from './packages/rusage-counters.js';
export { Nothp } from './packages/nothp.js';
export { M4, AutoConf, LibTool, AutoMake, type BootstrappedOptions } from './packages/autotools.js';
export { PatchElf } from './packages/patchelf.js';
export { Make } from './packages/make.js';
export { Ninja, type NinjaOptions } from './packages/ninja.js';
export { LibElf } from './packages/libelf.js';
export { LibUnwind } from './packages/libunwind.js';
export { BinUtils, type BinUtilsOptions } from './packages/binutils.js';
export { CMake } from './packages/cmake.js';
export { CoreUtils } from './packages/coreutils.js';
export { Bash } from './packages/bash.js';
export { Wrk } from './packages/wrk.js';
export { APR, APRUtil } from './packages/apr.js';
export { ApacheBench } from './packages/ab.js';
export type { LLVMInstalledOptions, LLVMSourceOptions, LLVMConfigureOptions } from './packages/llvm.js';
export type { GccSanitizer } from './instances/gcc.js';
export type { Allocator } from './instances/clang.js';
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
export { compressorWorkloads, expectedOutputWorkload, textInput } from './targets/workloads.js';
export { SIZEOF_TYPES_CC, SIZEOF_TYPES_CXX } from './packages/llvm-passes.js';
export { Nginx, type NginxOptions } from './targets/webserver/nginx.js';
export { Lighttpd, type LighttpdOptions } from './targets/webserver/lighttpd.js';
export { ApacheHttpd, type ApacheHttpdOptions } from './targets/webserver/apache.js';
export { TarballServer, serverCflags, type ServerBuildDirs } from './targets/webserver/tarball-server.js';
export { LOAD_CLIENTS, type LoadClientName } from './targets/webserver/client.js';
export {
  WebServer,
  SATURATION_THRESHOLD,
  renderTemplate,
  type WebServerRole,
  type WebServerSettings,
  type ServeSpec,
  type ServerCommand,
} from './targets/webserver/webserver.js';
export {
  SpecCpu,
  SPEC2006,
  SPEC2017,
  CPU2006,
  CPU2017,
  type SpecOptions,
  type SpecSourceType,
  type SpecVersion,
  type SpecBenchmark,
  type SpecResult,
} from './targets/spec/index.js';
export { Juliet, julietPassed, CWE_ALIASES, type JulietOptions, type JulietKind } from './targets/juliet/index.js';

// types that appear in the signatures above, for users' annotations and the API reference
export type { Logger, LogLevel } from './core/log.js';
export type { RunSettings } from './results/schema.js';
export type { SpecLanguage } from './targets/spec/versions.js';
export type { ServerStat } from './targets/webserver/stats.js';
export type { MannWhitneyResult } from './report/stats.js';
export type { ReportBlock } from './core/report-blocks.js';
export type { JulietRunDescription } from './targets/juliet/summary.js';
export type { JulietSelection } from './targets/juliet/juliet.js';
export type { JulietTestCase } from './targets/juliet/testcases.js';
export type { Toolchain as JulietToolchain } from './targets/juliet/files.js';
export type { CompressorOptions, ExpectedOutputOptions } from './targets/workloads.js';
export type { ProgramSuiteOptions } from './targets/program.js';
export type { FileCommand } from './targets/workloads.js';
export type { JulietFamily } from './targets/juliet/cwes.js';
export type { JulietFile } from './targets/juliet/testcases.js';
export type { SelectionCount as JulietSelectionCount } from './targets/juliet/summary.js';
