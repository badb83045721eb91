import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  type ArgParser,
  type Awaitable,
  benchmarkSize,
  BuildStamp,
  type CheckOutcome,
  type Context,
  download,
  type EnvValue,
  type ExecutionResult,
  extractArchive,
  type FieldValue,
  type Instance,
  makeDirectory,
  requireProgram,
  removePath,
  type Runner,
  selectBenchmarks,
  type SizeName,
  Target,
  UserError,
  severalFailed,
  checkOptions,
} from '../api.js';
import { binariesInBuildDir, describeRecipe, runRecipe, toolchain, type BuildRecipe } from './recipes.js';

export type { BuildRecipe, RecipeEnv, RecipeSteps, Toolchain } from './recipes.js';

/** Where a program's source comes from: a release tarball pinned by its sha256. */
export interface SourceDescription {
  /** Download URL; the file is first looked up by sha256 in the offline source mirrors. */
  url: string;
  sha256: string;
  /** File name to store the tarball under (default: the URL's last path component). */
  file?: string;
  /** Leading directories to drop when extracting (default 1, the `name-version/` directory). */
  stripComponents?: number;
}

/** Everything a workload needs to describe one benchmark execution. */
export interface WorkloadEnv {
  ctx: Context;
  /** The benchmark's name, `<program>.<workload>`. */
  benchmark: string;
  size: SizeName;
  /** Absolute paths of the program's binaries, by the names in {@link ProgramDescription.binaries}. */
  bin: Record<string, string>;
  /** This instance's private directory for this workload and size; the benchmark runs here. */
  dir: string;
  /** Directory for generated inputs shared by every instance (made once, never modified). */
  inputs: string;
}

/** What to execute for a workload and how to verify its output. */
export interface WorkloadPlan {
  argv: string[];
  stdinFile?: string;
  env?: Record<string, EnvValue>;
  timeout?: number;
  fields?: Record<string, FieldValue>;
  /** Runs before each execution (e.g. removes the previous execution's output). */
  prepare?: () => Awaitable<void>;
  /** Executions write shared files, so iterations must not overlap (see BenchmarkRun.exclusive). */
  exclusive?: boolean;
  /** Verifies an execution: throw or return `{ failure }` for wrong output. */
  check: (result: ExecutionResult, ctx: Context) => Awaitable<CheckOutcome | void>;
}

/** What a workload is, as a target declares it. */
export interface WorkloadDescription {
  /** Short name; the benchmark is called `<program>.<workload>`. */
  name: string;
  description: string;
  /** Prepares inputs (not measured) and says what to run. */
  plan(env: WorkloadEnv): Awaitable<WorkloadPlan>;
}

/**
 * A real program built from its upstream release tarball, described as data: where the
 * source is, how to build it, which binaries it yields and which workloads to run.
 */
export interface ProgramDescription {
  name: string;
  version: string;
  source: SourceDescription;
  build: BuildRecipe;
  /** Flags put before the instance's cflags (default `['-O2']`, like most upstream builds). */
  defaultCflags?: string[];
  /** Programs the build needs besides the compiler (checked up front with a clear message). */
  buildRequires?: string[];
  /** Binaries by name, relative to the source directory (cmake, meson, out-of-tree configure: to the build directory). */
  binaries: Record<string, string>;
  workloads: WorkloadDescription[];
  /**
   * How long the build takes relative to the others (default 1): programs that build side by
   * side start longest first, so a long build (one large translation unit) does not begin
   * last and leave the other cores idle at the end.
   */
  buildWeight?: number;
}

/** Options of {@link ProgramSuite}. */
export interface ProgramSuiteOptions {
  /** Target name on the command line. */
  name: string;
  programs: ProgramDescription[];
  /** Named sets of programs or benchmarks for `--benchmarks` (`all` always exists). */
  sets?: Record<string, string[]>;
}

/** Bump when the build steps change in a way that needs a rebuild. */
const RECIPE_VERSION = 1;
const STAMP = '.infra-build';

/**
 * A target made of real programs built from upstream tarballs. Each program is extracted and
 * built once per instance in `build/targets/<name>/<instance>/<program>` (so instances never
 * share object files) and rebuilt only when the compiler or flags change.
 *
 * Options (build and run): `--benchmarks NAME...` takes programs (`bzip2`), benchmarks
 * (`bzip2.compress`) and sets; run: `--test` uses the small inputs (each under a second),
 * `--train` the medium ones (about half a second to a second each).
 * Every execution's output is verified.
 *
 * Use it directly for your own programs: `new ProgramSuite({ name: 'mine', programs: [desc] })`.
 */
export class ProgramSuite extends Target {
  readonly name: string;
  readonly programs: readonly ProgramDescription[];
  readonly sets: Readonly<Record<string, string[]>>;

  constructor(options: ProgramSuiteOptions) {
    super();
    checkOptions('ProgramSuite', options, { name: true, programs: true, sets: true });
    this.name = options.name;
    this.programs = options.programs;
    this.sets = options.sets ?? {};
    const names = new Set<string>();
    for (const p of this.programs) {
      if (names.has(p.name)) throw new UserError(`${this.name}: program '${p.name}' is described twice`);
      names.add(p.name);
    }
  }

  /** All benchmark names, `<program>.<workload>`, in suite order. */
  benchmarks(): string[] {
    return this.programs.flatMap((p) => p.workloads.map((w) => `${p.name}.${w.name}`));
  }

  /** Programs and sets, each mapped to the benchmarks it stands for. */
  private groups(): Record<string, string[]> {
    const groups: Record<string, string[]> = {};
    for (const p of this.programs) groups[p.name] = p.workloads.map((w) => `${p.name}.${w.name}`);
    for (const [set, members] of Object.entries(this.sets)) {
      groups[set] = members.flatMap((m) => groups[m] ?? [m]);
    }
    return groups;
  }

  /** The benchmarks `--benchmarks` selects (all by default). */
  selectedBenchmarks(ctx: Context): string[] {
    return selectBenchmarks(ctx.listOption('benchmarks'), this.benchmarks(), this.groups());
  }

  /** The programs of the selected benchmarks. */
  selectedPrograms(ctx: Context): ProgramDescription[] {
    const chosen = new Set(this.selectedBenchmarks(ctx).map((b) => b.split('.')[0]));
    return this.programs.filter((p) => chosen.has(p.name));
  }

  override addBuildArgs(parser: ArgParser): void {
    parser.option('--benchmarks <names...>', this.benchmarksHelp('build'));
  }

  override addRunArgs(parser: ArgParser): void {
    parser.option('--benchmarks <names...>', this.benchmarksHelp('run'));
    parser.option('-t, --test', 'run the small test inputs (each under a second) instead of the reference inputs');
    parser.option('--train', 'run the medium inputs (about 0.5-1 s each with clang -O2) instead of the reference inputs');
  }

  private benchmarksHelp(verb: string): string {
    const sets = ['all', ...Object.keys(this.sets)].join(', ');
    return `programs, benchmarks or sets to ${verb}: ${this.programs.map((p) => p.name).join(', ')}, <program>.<workload>, ${sets}`;
  }

  override reportableFields(): Record<string, string> {
    return {
      program: 'program the benchmark belongs to',
      workload: 'workload name within the program',
      size: 'input size: test, train or ref',
      inputBytes: 'size of a compressor workload input, bytes',
      compressedBytes: 'size of the compressed output, bytes',
    };
  }

  private archivePath(ctx: Context, p: ProgramDescription): string {
    const file = p.source.file ?? decodeURIComponent(new URL(p.source.url).pathname.split('/').pop() ?? `${p.name}.tar`);
    return this.path(ctx, 'sources', file);
  }

  isFetched(ctx: Context): boolean {
    return this.selectedPrograms(ctx).every((p) => existsSync(this.archivePath(ctx, p)));
  }

  async fetch(ctx: Context): Promise<void> {
    for (const p of this.selectedPrograms(ctx)) {
      await download(ctx, p.source.url, { sha256: p.source.sha256, outfile: this.archivePath(ctx, p) });
    }
  }

  /** build/targets/<name>/<instance>/<program> */
  programDir(ctx: Context, instance: Instance | string, p: ProgramDescription): string {
    return this.path(ctx, typeof instance === 'string' ? instance : instance.name, p.name);
  }

  async build(ctx: Context, instance: Instance): Promise<void> {
    // longest first (a stable sort: otherwise in their order)
    const programs = [...this.selectedPrograms(ctx)].sort((a, b) => (b.buildWeight ?? 1) - (a.buildWeight ?? 1));
    // with a jobserver sharing the cores, programs build side by side (one's configure step
    // overlaps another's compilation); without one, one after another with -j<jobs> each
    const width = ctx.jobserver ? Math.max(1, Math.min(ctx.jobs, programs.length)) : 1;
    const failures: Array<{ label: string; error: unknown }> = [];
    let next = 0;
    const worker = async () => {
      while (next < programs.length) {
        const p = programs[next++]!;
        try {
          await this.buildProgram(ctx, instance, p);
        } catch (e) {
          failures.push({ label: p.name, error: e });
        }
      }
    };
    await Promise.all(Array.from({ length: width }, worker));
    if (failures.length === 1) throw failures[0]!.error;
    // every failed program is told, not only the first
    if (failures.length)
      throw severalFailed(
        `${failures.length} of ${programs.length} programs of ${this.name} failed to build with ${instance.name}`,
        failures,
      );
  }

  /** What a program's build depends on; compared again at run time, so stale binaries never run. */
  private stamp(ctx: Context, instance: Instance, p: ProgramDescription): BuildStamp {
    const config = {
      recipe: RECIPE_VERSION,
      source: { sha256: p.source.sha256 },
      build: describeRecipe(ctx, p.build),
      toolchain: { ...toolchain(ctx, p.defaultCflags), jobs: 0 },
    };
    const binaries = Object.values(this.programBinaries(ctx, instance, p));
    return new BuildStamp(ctx, join(this.programDir(ctx, instance, p), STAMP), config, binaries);
  }

  /** Builds one program for one instance unless it is built with the same configuration. */
  async buildProgram(ctx: Context, instance: Instance, p: ProgramDescription): Promise<void> {
    const dir = this.programDir(ctx, instance, p);
    const tc = toolchain(ctx, p.defaultCflags);
    const stamp = this.stamp(ctx, instance, p);
    if (stamp.isUpToDate()) {
      ctx.log.debug(`${this.name}/${instance.name}: ${p.name} is up to date`);
      return;
    }
    for (const prog of p.buildRequires ?? []) requireProgram(ctx, prog);
    ctx.log.info(`building ${p.name} ${p.version} for ${instance.name}`);
    // a fresh tree: stale objects built with other flags must never end up in the binary (a dry
    // run only prints what it would do and leaves the tree, binaries and stamp as they are)
    removePath(ctx, dir);
    makeDirectory(ctx, dir);
    const src = join(dir, 'src');
    const archive = this.archivePath(ctx, p);
    if (!existsSync(archive)) await download(ctx, p.source.url, { sha256: p.source.sha256, outfile: archive });
    await extractArchive(ctx, archive, src, { stripComponents: p.source.stripComponents ?? 1 });
    await runRecipe(ctx, p.build, tc, src, join(dir, 'build'));
    if (ctx.dryRun) return;
    for (const b of stamp.outputs) {
      if (!existsSync(b)) throw new UserError(`${p.name}: the build finished but did not produce ${b}`);
    }
    stamp.record();
  }

  /** Binaries of one program for an instance, by name. */
  programBinaries(ctx: Context, instance: Instance | string, p: ProgramDescription): Record<string, string> {
    const base = join(this.programDir(ctx, instance, p), binariesInBuildDir(p.build) ? 'build' : 'src');
    return Object.fromEntries(Object.entries(p.binaries).map(([name, rel]) => [name, join(base, rel)]));
  }

  override binaryPaths(ctx: Context, instance: Instance): string[] {
    return this.selectedPrograms(ctx).flatMap((p) => Object.values(this.programBinaries(ctx, instance, p)));
  }

  async run(ctx: Context, instance: Instance, runner: Runner): Promise<void> {
    const size = benchmarkSize(ctx);
    const selected = new Set(this.selectedBenchmarks(ctx));
    for (const p of this.programs) {
      const bin = this.programBinaries(ctx, instance, p);
      for (const w of p.workloads) {
        const benchmark = `${p.name}.${w.name}`;
        if (!selected.has(benchmark)) continue;
        const what = `${benchmark}: the build of ${p.name} for ${instance.name}`;
        this.stamp(ctx, instance, p).refuseIfStale({ what, target: this.name, instance: instance.name });
        const dir = join(this.programDir(ctx, instance, p), 'run', size, w.name);
        mkdirSync(dir, { recursive: true });
        const plan = await w.plan({ ctx, benchmark, size, bin, dir, inputs: this.path(ctx, '.inputs') });
        runner.submit(ctx, {
          benchmark,
          argv: plan.argv,
          cwd: dir,
          env: plan.env,
          stdinFile: plan.stdinFile,
          timeout: plan.timeout,
          fields: { program: p.name, workload: w.name, size, ...plan.fields },
          prepare: plan.prepare && (() => plan.prepare!()),
          check: plan.check,
          exclusive: plan.exclusive,
        });
      }
    }
  }
}

/** A single upstream program as a target named after it. */
export class ProgramTarget extends ProgramSuite {
  constructor(description: ProgramDescription, options: { name?: string } = {}) {
    super({ name: options.name ?? description.name, programs: [description] });
  }
}
