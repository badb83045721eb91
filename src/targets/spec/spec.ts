import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  applyPatch,
  type ArgParser,
  benchmarkSize,
  buildInputsDigest,
  BuildStamp,
  type CheckOutcome,
  type Context,
  type ExecutionResult,
  type Instance,
  type Package,
  run,
  type Runner,
  selectBenchmarks,
  Target,
  UserError,
  writeOutput,
  checkOptions,
} from '../../api.js';
import { Nothp } from '../../packages/nothp.js';
import { configName, renderConfig } from './config.js';
import { harnessEnv, isSpecInstallation, readOutcome } from './harness.js';
import { installSpec, SPEC_SOURCE_TYPES, type SpecSourceType } from './install.js';
import { CPU2006, CPU2017, type SpecVersion } from './versions.js';

export type { SpecSourceType } from './install.js';

/** Options of the SPEC CPU targets. */
export interface SpecOptions {
  /** Where SPEC is: an installed SPEC directory, or an ISO's contents (see `sourceType`). */
  source: string;
  /** What `source` is (default `installed`); see {@link SpecSourceType}. */
  sourceType?: SpecSourceType;
  /** Patches applied (`patch -p1`) in the SPEC directory after installing. */
  patches?: string[];
  /** Run the harness with transparent huge pages disabled (default true; uses the `nothp` package). */
  nothp?: boolean;
  /** Pin the harness and benchmarks to this CPU core with `taskset` (default: no pinning; see also `run --cpus`). */
  forceCpu?: number;
  /** Benchmarks and sets built and run when none are named (default: the version's usual set). */
  defaultBenchmarks?: string[];
}

/**
 * A SPEC CPU suite, driven through its own harness (`runspec` for CPU2006, `runcpu` for CPU2017).
 * Use {@link SPEC2006} or {@link SPEC2017}; the version-specific parts are data in versions.ts.
 *
 * Build: writes `$SPEC/config/infra-<instance>.cfg` with the instance's compilers and flags and
 * runs `<harness> --config=infra-<instance> --action=build <benchmarks>`. A benchmark is rebuilt
 * (`--rebuild`) when the configuration or a build input (pass plugin, runtime library) changed.
 *
 * Run: one framework benchmark per SPEC benchmark; each framework iteration runs the harness for
 * that benchmark with `--iterations=1 --nobuild`, so the framework records every iteration (and
 * `run --resume` works). The record's `specRuntime` and `ratio` are what the harness reports for
 * the benchmark itself (from its log); `runtime`, as for every target, is the wall time the
 * framework measured: the whole harness invocation. A benchmark the harness does not report as `Success`
 * (miscompare, run error) is a failed execution. `ctx.targetRunWrapper` goes into the config's
 * `monitor_wrapper`, so it wraps the benchmark, not the harness.
 *
 * Options: build and run `--<name>-benchmarks NAME...` or its alias `--benchmarks NAME...`; run: `--test`,
 * `--runspec-args 'ARGS'` (passed to the harness, split on spaces).
 */
export class SpecCpu extends Target {
  readonly name: string;
  readonly version: SpecVersion;
  readonly sourceType: SpecSourceType;
  readonly source: string;
  readonly patches: string[];
  readonly nothp: Nothp | null;
  readonly forceCpu: number | undefined;
  readonly defaultBenchmarks: string[];

  constructor(version: SpecVersion, options: SpecOptions) {
    super();
    checkOptions('SPEC CPU', options, {
      source: true,
      sourceType: true,
      patches: true,
      nothp: true,
      forceCpu: true,
      defaultBenchmarks: true,
    });
    this.version = version;
    this.name = version.target;
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- setup scripts in JavaScript may pass anything
    if (!options || typeof options.source !== 'string' || !options.source) {
      throw new UserError(
        `${this.name}: give the SPEC source, e.g. new ${version.target.toUpperCase()}({ source: '/path/to/spec', sourceType: 'installed' })`,
      );
    }
    this.source = options.source;
    this.sourceType = options.sourceType ?? 'installed';
    if (!SPEC_SOURCE_TYPES.includes(this.sourceType)) {
      throw new UserError(`${this.name}: unknown sourceType '${this.sourceType}'; valid types: ${SPEC_SOURCE_TYPES.join(', ')}`);
    }
    this.patches = options.patches ?? [];
    this.nothp = (options.nothp ?? true) ? new Nothp() : null;
    if (options.forceCpu !== undefined && !(Number.isInteger(options.forceCpu) && options.forceCpu >= 0)) {
      throw new UserError(`${this.name}: forceCpu must be a CPU number (0, 1, ...), got ${options.forceCpu}`);
    }
    this.forceCpu = options.forceCpu;
    this.defaultBenchmarks = options.defaultBenchmarks ?? version.defaultBenchmarks;
    // an unknown default is a mistake in the setup script: say so when it is constructed
    selectBenchmarks(this.defaultBenchmarks, this.benchmarks(), version.sets);
  }

  /** All benchmark names of this SPEC version, in SPEC's order. */
  benchmarks(): string[] {
    return this.version.benchmarks.map((b) => b.name);
  }

  /** Benchmark sets by name (suites and language sets). */
  sets(): Readonly<Record<string, string[]>> {
    return this.version.sets;
  }

  private get benchmarksOption(): string {
    return `${this.name}-benchmarks`;
  }

  override addBuildArgs(parser: ArgParser): void {
    parser.option(`--${this.benchmarksOption} <names...>`, this.benchmarksHelp('build'));
    // (run takes the build options too)
    parser.option('--benchmarks <names...>', `alias for --${this.benchmarksOption}`);
  }

  override addRunArgs(parser: ArgParser): void {
    parser.option('-t, --test', 'run the test workloads instead of the reference workloads');
    parser.option('--runspec-args <args>', `extra arguments for ${this.version.harness}, e.g. '--define foo=1' (split on spaces)`);
  }

  private benchmarksHelp(verb: string): string {
    return (
      `benchmarks (e.g. ${this.version.benchmarks[1]!.name}) or sets to ${verb}: ${Object.keys(this.version.sets).join(', ')} ` +
      `(default: ${this.defaultBenchmarks.join(' ')})`
    );
  }

  override reportableFields(): Record<string, string> {
    return {
      ratio: 'SPEC ratio: reference time / runtime (higher is better)',
      specRuntime: "the benchmark's runtime as the SPEC harness timed it (the benchmark alone), seconds",
      workload: 'SPEC workload: test, ref (CPU2017: refrate, refspeed)',
      size: 'input size asked for: test or ref',
      suite: 'SPEC suite the benchmark belongs to',
      specLog: "the harness's log of this execution",
    };
  }

  /** The benchmarks the command line selects (the defaults when none are named). */
  selectedBenchmarks(ctx: Context): string[] {
    const requested = ctx.listOption('benchmarks') ?? ctx.listOption(camel(this.benchmarksOption));
    return selectBenchmarks(requested, this.benchmarks(), this.version.sets, this.defaultBenchmarks);
  }

  /** The SPEC directory ($SPEC) the harness runs in. */
  specDir(ctx: Context): string {
    return this.sourceType === 'installed' ? resolve(ctx.paths.root, this.source) : this.path(ctx, 'install');
  }

  override dependencies(): Iterable<Package> {
    return this.nothp ? [this.nothp] : [];
  }

  isFetched(ctx: Context): boolean {
    return isSpecInstallation(this.specDir(ctx), this.version) && this.patchesApplied(ctx);
  }

  private patchesApplied(ctx: Context): boolean {
    return this.patches.every((p) =>
      existsSync(
        join(
          this.specDir(ctx),
          `.patched-${p
            .split('/')
            .pop()!
            .replace(/\.(patch|diff)$/, '')}`,
        ),
      ),
    );
  }

  async fetch(ctx: Context): Promise<void> {
    const dir = this.specDir(ctx);
    if (this.sourceType === 'installed') {
      if (!isSpecInstallation(dir, this.version)) {
        throw new UserError(
          `${this.name}: ${dir} is not a SPEC ${this.version.suiteName} installation (no shrc and bin/${this.version.harness}); ` +
            "install SPEC with its install.sh, or give the ISO's contents with sourceType 'mounted', 'isofile', 'tarfile' or 'git'",
        );
      }
    } else if (!isSpecInstallation(dir, this.version)) {
      await installSpec(ctx, this.version, this.sourceType, this.source, dir, this.path(ctx, 'media'));
    }
    for (const patch of this.patches) await applyPatch(ctx, patch, { cwd: dir, strip: 1 });
  }

  private configFile(ctx: Context, instance: string): string {
    return join(this.specDir(ctx), 'config', `${configName(instance)}.cfg`);
  }

  private config(ctx: Context, instance: string, wrapper: string[]): string {
    // SPEC runs one make per benchmark; it does not take part in a jobserver
    const makeflags = `-j${ctx.jobs}`;
    return renderConfig(ctx, { version: this.version, instance, makeflags, wrapper, buildInputs: buildInputsDigest(ctx) });
  }

  /** Writes the instance's config file unless it already has this content. */
  private writeConfig(ctx: Context, instance: string): void {
    writeOutput(ctx, this.configFile(ctx, instance), this.config(ctx, instance, ctx.targetRunWrapper), { ifChanged: true });
  }

  /**
   * What a benchmark's build depends on: the config without run-time settings (the build
   * inputs are part of every stamp already).
   */
  private stamp(ctx: Context, instance: string, benchmark: string): BuildStamp {
    const config = this.config(ctx, instance, []).replace(/^(makeflags|# build inputs:).*$/gm, '');
    return new BuildStamp(ctx, this.path(ctx, instance, 'built', benchmark), { benchmark, config });
  }

  private harnessArgv(ctx: Context, args: string[]): string[] {
    const prefix: string[] = [];
    // both are inherited by everything the harness starts
    if (this.nothp) prefix.push(this.nothp.wrapperPath(ctx));
    if (this.forceCpu !== undefined) prefix.push('taskset', '-c', String(this.forceCpu));
    return [...prefix, join(this.specDir(ctx), 'bin', this.version.harness), `--config=${configName(ctxInstance(ctx))}`, ...args];
  }

  async build(ctx: Context, instance: Instance): Promise<void> {
    const benchmarks = this.selectedBenchmarks(ctx);
    this.writeConfig(ctx, instance.name);
    const stamps = benchmarks.map((b) => this.stamp(ctx, instance.name, b));
    const stale = benchmarks.filter((_, i) => !stamps[i]!.isUpToDate());
    if (!stale.length) {
      ctx.log.debug(`${this.name}/${instance.name}: ${benchmarks.join(' ')} up to date`);
      return;
    }
    ctx.log.info(`building ${this.name} ${stale.join(' ')} for ${instance.name}`);
    const argv = this.harnessArgv(ctx, ['--action=build', '--rebuild', ...stale]);
    const result = await run(ctx, argv, { cwd: this.specDir(ctx), env: harnessEnv(this.specDir(ctx)), allowError: true });
    const errors = /Build errors?:?\s*(.*)/.exec(result.output)?.[1];
    if (result.exitCode !== 0 || result.signal || errors) {
      const tail = result.output.trimEnd().split('\n').slice(-15).join('\n    ');
      throw new UserError(
        `${this.name}: building ${stale.join(' ')} for ${instance.name} failed${errors ? ` (build errors: ${errors.trim()})` : ''}; ` +
          `full output in ${ctx.paths.runlog}, build logs in ${join(this.specDir(ctx), 'result')}\n    ${tail}`,
      );
    }
    for (const s of stamps) s.record();
  }

  override binaryPaths(ctx: Context, instance: Instance): string[] {
    const suffix = `_base.${configName(instance.name)}`;
    return this.selectedBenchmarks(ctx).flatMap((b) => {
      const exe = join(this.specDir(ctx), 'benchspec', this.version.benchspecDir, b, 'exe');
      return existsSync(exe)
        ? readdirSync(exe)
            .filter((f) => f.endsWith(suffix))
            .map((f) => join(exe, f))
        : [];
    });
  }

  run(ctx: Context, instance: Instance, runner: Runner): void {
    const benchmarks = this.selectedBenchmarks(ctx);
    for (const b of benchmarks) {
      const what = `${this.name}/${b} for ${instance.name}`;
      this.stamp(ctx, instance.name, b).refuseIfStale({ what, target: this.name, instance: instance.name });
    }
    // the wrapper may be set only for running: the config carries it to the benchmark commands
    this.writeConfig(ctx, instance.name);
    const size = benchmarkSize(ctx);
    const extra = (ctx.stringOption('runspecArgs') ?? '').split(/\s+/).filter(Boolean);
    // the harness is not wrapped itself; monitor_wrapper wraps each benchmark command
    const runCtx = ctx.clone();
    runCtx.targetRunWrapper = [];
    for (const b of this.version.benchmarks.filter((x) => benchmarks.includes(x.name))) {
      runner.submit(runCtx, {
        benchmark: b.name,
        argv: this.harnessArgv(ctx, ['--nobuild', `--size=${size}`, '--iterations=1', ...extra, b.name]),
        cwd: this.specDir(ctx),
        env: harnessEnv(this.specDir(ctx)),
        fields: { size, suite: b.suite },
        // the harness numbers its result files and run directories; one at a time per instance
        exclusive: true,
        check: (result: ExecutionResult): CheckOutcome => {
          return readOutcome(result.stdoutPath, b.name);
        },
      });
    }
  }
}

function camel(flag: string): string {
  return flag.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
}

function ctxInstance(ctx: Context): string {
  const name = ctx.instanceName;
  if (typeof name !== 'string') throw new Error('SPEC harness commands need ctx.instanceName');
  return name;
}

/**
 * SPEC CPU2006 (target `spec2006`), run with `runspec`. Sets: all_c, all_cpp, all_fortran,
 * all_mixed, int, fp; default all_c all_cpp (the 19 C and C++ benchmarks).
 */
export class SPEC2006 extends SpecCpu {
  constructor(options: SpecOptions) {
    super(CPU2006, options);
  }
}

/**
 * SPEC CPU2017 (target `spec2017`), run with `runcpu`. Sets: intspeed, fpspeed, intrate,
 * fprate and their `_pure_c`, `_pure_cpp`, `_pure_fortran` subsets; default intspeed_pure_c
 * intspeed_pure_cpp fpspeed_pure_c.
 */
export class SPEC2017 extends SpecCpu {
  constructor(options: SpecOptions) {
    super(CPU2017, options);
  }
}
