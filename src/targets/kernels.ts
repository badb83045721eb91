import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import {
  type ArgParser,
  benchmarkSize,
  BuildStamp,
  type Context,
  type ExecutionResult,
  type Instance,
  makeDirectory,
  packageFile,
  run,
  type Runner,
  selectBenchmarks,
  type SizeName,
  Target,
} from '../api.js';

/** One bundled kernel: its size argument per input size and the checksum it must print. */
interface KernelSpec {
  description: string;
  sizes: Record<SizeName, { arg: number; checksum: string }>;
}

/**
 * Expected checksums, identical for gcc and clang at every optimisation level (the kernels
 * use unsigned integer arithmetic only). With clang -O2 on a 2-core machine, train sizes take
 * about 0.5-1 s each and reference sizes about 1-3 s (matmul's reference input is already this
 * short, so its train input is the same).
 */
const KERNELS: Record<string, KernelSpec> = {
  matmul: {
    description: 'dense integer matrix multiplication (N x N)',
    sizes: {
      test: { arg: 200, checksum: 'd4c1ca248a95870f' },
      train: { arg: 1500, checksum: 'ef94cd5fb39ad1fb' },
      ref: { arg: 1500, checksum: 'ef94cd5fb39ad1fb' },
    },
  },
  hashtable: {
    description: 'open-addressing hash table: inserts, lookups, deletes (N thousand operations x 4)',
    sizes: {
      test: { arg: 200, checksum: '5a2d4c478a9da12d' },
      train: { arg: 2200, checksum: '4b1058098f411aeb' },
      ref: { arg: 8000, checksum: 'd2d1b4a593032c5a' },
    },
  },
  binarytrees: {
    description: 'allocate, walk and free complete binary trees (maximum depth N)',
    sizes: {
      test: { arg: 14, checksum: 'f160fe175a887c6e' },
      train: { arg: 17, checksum: 'c513213d3a334fea' },
      ref: { arg: 18, checksum: 'c8c68ed0b1c45800' },
    },
  },
  sort: {
    description: 'quicksort and merge sort of N thousand 32-bit keys',
    sizes: {
      test: { arg: 500, checksum: 'da4191b101259913' },
      train: { arg: 4500, checksum: 'ce1ed68dcd0f7b7a' },
      ref: { arg: 10000, checksum: '696989f15ef2d4e3' },
    },
  },
  strsearch: {
    description: 'naive, KMP and Horspool search of 24 patterns in N KiB of text',
    sizes: {
      test: { arg: 500, checksum: '58465d3414b9ac85' },
      train: { arg: 3000, checksum: '520058bc0de01836' },
      ref: { arg: 8000, checksum: 'cbe22352761ec008' },
    },
  },
  alloclist: {
    description: 'doubly linked list of variably sized nodes under random inserts and deletes',
    sizes: {
      test: { arg: 500, checksum: 'e3a22e4ac30580a4' },
      train: { arg: 3500, checksum: '93ee84ab77c60390' },
      ref: { arg: 10000, checksum: '18ed434415558b2c' },
    },
  },
};

const SOURCES = packageFile('benchmarks', 'kernels') + '/';

/** The default optimisation level; an instance's own `-O` flag comes later and wins. */
const DEFAULT_CFLAGS = ['-O2'];

/**
 * Six small C kernels bundled with the framework (benchmarks/kernels), so a project can build,
 * run and measure something real without downloading anything. Each prints a checksum that is
 * verified on every execution.
 *
 * Options: `--test` (small inputs, well under a second each), `--train` (medium inputs, about
 * half a second to a second each) and `--benchmarks NAME...` (kernel names or `all`).
 */
export class Kernels extends Target {
  readonly name: string;

  constructor(options: { name?: string } = {}) {
    super();
    this.name = options.name ?? 'kernels';
  }

  /** Kernel names in suite order. */
  benchmarks(): string[] {
    return Object.keys(KERNELS);
  }

  override addBuildArgs(parser: ArgParser): void {
    parser.option('--benchmarks <names...>', `kernels to build: ${this.benchmarks().join(', ')} or all`);
  }

  override addRunArgs(parser: ArgParser): void {
    parser.option('--benchmarks <names...>', `kernels to run: ${this.benchmarks().join(', ')} or all`);
    parser.option('-t, --test', 'run the small test inputs instead of the reference inputs');
    parser.option('--train', 'run the medium inputs (about 0.5-1 s each with clang -O2) instead of the reference inputs');
  }

  override reportableFields(): Record<string, string> {
    return { size: 'input size: test, train or ref', checksum: 'checksum the kernel printed' };
  }

  isFetched(): boolean {
    return true; // bundled with the framework
  }

  fetch(): void {}

  private selected(ctx: Context): string[] {
    return selectBenchmarks(ctx.listOption('benchmarks'), this.benchmarks(), {});
  }

  private binDir(ctx: Context, instance: Instance): string {
    return this.path(ctx, instance.name, 'bin');
  }

  async build(ctx: Context, instance: Instance): Promise<void> {
    const dir = this.binDir(ctx, instance);
    makeDirectory(ctx, dir);
    const cflags = [...DEFAULT_CFLAGS, ...ctx.cflags];
    await Promise.all(
      this.selected(ctx).map(async (kernel) => {
        const binary = `${dir}/${kernel}`;
        const stamp = this.stamp(ctx, instance, kernel);
        if (stamp.isUpToDate()) {
          ctx.log.debug(`${this.name}/${instance.name}: ${kernel} is up to date`);
          return;
        }
        ctx.log.info(`building ${this.name}/${kernel} for ${instance.name}`);
        await run(ctx, [ctx.cc, ...cflags, '-o', binary, `${SOURCES}${kernel}.c`, ...ctx.ldflags], { cwd: dir });
        stamp.record();
      }),
    );
  }

  /** What a kernel's build depends on; compared again at run time, so stale binaries never run. */
  private stamp(ctx: Context, instance: Instance, kernel: string): BuildStamp {
    const binary = `${this.binDir(ctx, instance)}/${kernel}`;
    const config = { cc: ctx.cc, cflags: [...DEFAULT_CFLAGS, ...ctx.cflags], ldflags: ctx.ldflags, sources: sourceDigest() };
    return new BuildStamp(ctx, `${binary}.stamp`, config, [binary]);
  }

  override binaryPaths(ctx: Context, instance: Instance): string[] {
    return this.selected(ctx).map((k) => `${this.binDir(ctx, instance)}/${k}`);
  }

  run(ctx: Context, instance: Instance, runner: Runner): void {
    const size = benchmarkSize(ctx);
    const cwd = this.path(ctx, instance.name, 'run');
    for (const kernel of this.selected(ctx)) {
      const what = `${this.name}/${kernel} for ${instance.name}`;
      this.stamp(ctx, instance, kernel).refuseIfStale({ what, target: this.name, instance: instance.name });
    }
    mkdirSync(cwd, { recursive: true });
    for (const kernel of this.selected(ctx)) {
      const { arg, checksum } = KERNELS[kernel]!.sizes[size];
      runner.submit(ctx, {
        benchmark: kernel,
        argv: [`${this.binDir(ctx, instance)}/${kernel}`, String(arg)],
        cwd,
        fields: { size },
        check: (result: ExecutionResult) => checkChecksum(result, kernel, arg, checksum),
      });
    }
  }
}

function checkChecksum(result: ExecutionResult, kernel: string, arg: number, expected: string) {
  const out = readFileSync(result.stdoutPath, 'utf8');
  const line = out.split('\n').find((l) => l.startsWith(`${kernel} size=`));
  const expectedLine = `${kernel} size=${arg} checksum=${expected}`;
  if (line?.trim() !== expectedLine) {
    return { failure: `wrong output: expected '${expectedLine}', got '${line?.trim() ?? out.trim().slice(0, 200)}'` };
  }
  return { fields: { checksum: expected } };
}

let digestCache: string | undefined;
/** Changes when a kernel's source changes, so edited kernels are rebuilt. */
function sourceDigest(): string {
  digestCache ??= [...Object.keys(KERNELS).map((k) => `${k}.c`), 'kernel.h']
    .reduce((hash, f) => hash.update(readFileSync(SOURCES + f)), createHash('sha256'))
    .digest('hex');
  return digestCache;
}
