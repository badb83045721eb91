// The quick start's project: the built-in suites (the bundled kernels and the open-source
// programs from upstream tarballs) with a baseline (clang -O2) and an instrumented instance
// (AddressSanitizer), run together as one target so that one run gives one table and one HTML
// report. By default a selection at the medium (`train`) inputs; `--full` runs every benchmark
// of both suites at its reference input.
import {
  ASan,
  Clang,
  Kernels,
  LLVM,
  OpenSourceSuite,
  Setup,
  Target,
  type ArgParser,
  type BenchmarkRun,
  type Context,
  type Instance,
  type Package,
  type Runner,
} from 'instrumentation-infra';

const FULL = 'every benchmark of the suites at its reference input (default: the quick selection at the train inputs)';

/** A suite and the benchmarks of it the quick selection runs. */
interface Part {
  target: Target;
  quick: string[];
}

/**
 * Several targets built and run as one. Each keeps its own build directory, options and output
 * checks; every record gets `cputime`, the user plus system CPU seconds of the execution's process
 * tree, which varies less than wall time when other work shares the machine.
 */
class Suites extends Target {
  readonly name = 'quickstart';

  constructor(private readonly parts: Part[]) {
    super();
  }

  override addBuildArgs(parser: ArgParser): void {
    parser.option('--full', FULL);
  }

  override addRunArgs(parser: ArgParser): void {
    parser.option('--full', FULL);
  }

  override reportableFields(): Record<string, string> {
    const fields = Object.assign({}, ...this.parts.map((p) => p.target.reportableFields())) as Record<string, string>;
    return { ...fields, cputime: 'user + system CPU time of the process tree, seconds (utime + stime)' };
  }

  override dependencies(): Package[] {
    return this.parts.flatMap((p) => [...p.target.dependencies()]);
  }

  /** The context a part sees: its own selection and input size in place of `--full`. */
  private contextFor(ctx: Context, part: Part): Context {
    const copy = ctx.clone();
    copy.args = ctx.flag('full') ? {} : { benchmarks: part.quick, train: true };
    return copy;
  }

  async isFetched(ctx: Context): Promise<boolean> {
    for (const p of this.parts) if (!(await p.target.isFetched(this.contextFor(ctx, p)))) return false;
    return true;
  }

  async fetch(ctx: Context): Promise<void> {
    for (const p of this.parts) await p.target.fetch(this.contextFor(ctx, p));
  }

  async build(ctx: Context, instance: Instance): Promise<void> {
    for (const p of this.parts) await p.target.build(this.contextFor(ctx, p), instance);
  }

  override async binaryPaths(ctx: Context, instance: Instance): Promise<string[]> {
    const paths = await Promise.all(this.parts.map((p) => p.target.binaryPaths(this.contextFor(ctx, p), instance)));
    return paths.flat();
  }

  async run(ctx: Context, instance: Instance, runner: Runner): Promise<void> {
    const withCpuTime: Runner = { submit: (c, run) => runner.submit(c, addCpuTime(run)) };
    for (const p of this.parts) await p.target.run(this.contextFor(ctx, p), instance, withCpuTime);
  }

  /** Kept with the run (meta.json and the HTML report): which benchmarks ran, at which input size. */
  override describeRun(ctx: Context): Record<string, unknown> {
    const full = ctx.flag('full');
    return Object.fromEntries(
      this.parts.map((p) => [p.target.name, { benchmarks: full ? 'all' : p.quick.join(' '), inputs: full ? 'ref' : 'train' }]),
    );
  }

  override async afterRun(ctx: Context, instance: Instance): Promise<void> {
    for (const p of this.parts) await p.target.afterRun(this.contextFor(ctx, p), instance);
  }

  override async clean(ctx: Context): Promise<void> {
    for (const p of this.parts) await p.target.clean(ctx);
  }

  override async isClean(ctx: Context): Promise<boolean> {
    for (const p of this.parts) if (!(await p.target.isClean(ctx))) return false;
    return true;
  }
}

/** The benchmark with `cputime` added to what its own check returns. */
function addCpuTime(run: BenchmarkRun): BenchmarkRun {
  return {
    ...run,
    async check(result, ctx) {
      const outcome = (await run.check?.(result, ctx)) ?? {};
      const m = result.measurement;
      return m ? { ...outcome, fields: { ...outcome.fields, cputime: m.utime + m.stime } } : outcome;
    },
  };
}

const llvm = LLVM.installed({ version: '22' });

const setup = new Setup(import.meta.url);
setup.addTarget(
  new Suites([
    // binarytrees is left out: AddressSanitizer makes it about 17 times slower (12 s an execution
    // at the train input), longer than the rest of the selection together
    { target: new Kernels(), quick: ['matmul', 'hashtable', 'sort', 'strsearch', 'alloclist'] },
    // zstd and lz4 are left out: their builds take most of the suite's build time, and their
    // compressors measure what bzip2.compress does
    { target: new OpenSourceSuite(), quick: ['bzip2', 'lua', 'sqlite'] },
  ]),
);
// the suites on their own, for runs of one of them
setup.addTarget(new Kernels());
setup.addTarget(new OpenSourceSuite());
setup.addInstance(new Clang(llvm)); // the baseline
setup.addInstance(new ASan(llvm)); // the instrumentation whose overhead we measure
await setup.main();
