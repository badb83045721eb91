import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { Target } from '../core/target.js';
import { UserError } from '../core/errors.js';
import type { Context } from '../core/context.js';
import type { Instance } from '../core/instance.js';
import type { ArgParser } from '../core/options.js';
import type { ExecutionResult, Runner } from '../core/runner.js';
import { run } from '../exec/run.js';
import { buildInputsDigest } from '../core/build-inputs.js';
import { configHash, readStamp, writeStamp } from './stamp.js';
import { selectBenchmarks, sizeFromArgs, type SizeName } from './selection.js';
import { packageFile } from '../paths.js';

/** One bundled kernel: its size argument per input size and the checksum it must print. */
interface KernelSpec {
  description: string;
  sizes: Record<SizeName, { arg: number; checksum: string }>;
}

/**
 * Expected checksums, identical for gcc and clang at every optimisation level (the kernels
 * use unsigned integer arithmetic only). Reference sizes take about 1-3 s each on a 2-core
 * machine with -O2.
 */
const KERNELS: Record<string, KernelSpec> = {
  matmul: {
    description: 'dense integer matrix multiplication (N x N)',
    sizes: { test: { arg: 200, checksum: 'd4c1ca248a95870f' }, ref: { arg: 1500, checksum: 'ef94cd5fb39ad1fb' } },
  },
  hashtable: {
    description: 'open-addressing hash table: inserts, lookups, deletes (N thousand operations x 4)',
    sizes: { test: { arg: 200, checksum: '5a2d4c478a9da12d' }, ref: { arg: 8000, checksum: 'd2d1b4a593032c5a' } },
  },
  binarytrees: {
    description: 'allocate, walk and free complete binary trees (maximum depth N)',
    sizes: { test: { arg: 14, checksum: 'f160fe175a887c6e' }, ref: { arg: 18, checksum: 'c8c68ed0b1c45800' } },
  },
  sort: {
    description: 'quicksort and merge sort of N thousand 32-bit keys',
    sizes: { test: { arg: 500, checksum: 'da4191b101259913' }, ref: { arg: 10000, checksum: '696989f15ef2d4e3' } },
  },
  strsearch: {
    description: 'naive, KMP and Horspool search of 24 patterns in N KiB of text',
    sizes: { test: { arg: 500, checksum: '58465d3414b9ac85' }, ref: { arg: 8000, checksum: 'cbe22352761ec008' } },
  },
  alloclist: {
    description: 'doubly linked list of variably sized nodes under random inserts and deletes',
    sizes: { test: { arg: 500, checksum: 'e3a22e4ac30580a4' }, ref: { arg: 10000, checksum: '18ed434415558b2c' } },
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
 * Options: `--test` (small inputs, well under a second each) and `--benchmarks NAME...` (kernel
 * names or `all`).
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
  }

  override reportableFields(): Record<string, string> {
    return { size: 'input size: test or ref', checksum: 'checksum the kernel printed' };
  }

  isFetched(): boolean {
    return true; // bundled with the framework
  }

  fetch(): void {}

  private selected(ctx: Context): string[] {
    return selectBenchmarks(ctx.args.benchmarks, this.benchmarks(), {});
  }

  private binDir(ctx: Context, instance: Instance): string {
    return this.path(ctx, instance.name, 'bin');
  }

  async build(ctx: Context, instance: Instance): Promise<void> {
    const dir = this.binDir(ctx, instance);
    const dryRun = ctx.dryRun;
    if (!dryRun) mkdirSync(dir, { recursive: true });
    const cflags = [...DEFAULT_CFLAGS, ...ctx.cflags];
    const hash = this.configuration(ctx);
    await Promise.all(
      this.selected(ctx).map(async (kernel) => {
        const binary = `${dir}/${kernel}`;
        if (existsSync(binary) && readStamp(`${binary}.stamp`) === hash) {
          ctx.log.debug(`${this.name}/${instance.name}: ${kernel} is up to date`);
          return;
        }
        ctx.log.info(`building ${this.name}/${kernel} for ${instance.name}`);
        await run(ctx, [ctx.cc, ...cflags, '-o', binary, `${SOURCES}${kernel}.c`, ...ctx.ldflags], { cwd: dir });
        // a dry run compiled nothing: a stamp now would vouch for a stale binary later
        if (!dryRun) writeStamp(`${binary}.stamp`, hash);
      }),
    );
  }

  /** What a kernel's build depends on; compared again at run time, so stale binaries never run. */
  private configuration(ctx: Context): string {
    const cflags = [...DEFAULT_CFLAGS, ...ctx.cflags];
    return configHash({ cc: ctx.cc, cflags, ldflags: ctx.ldflags, sources: sourceDigest(), inputs: buildInputsDigest(ctx) });
  }

  override binaryPaths(ctx: Context, instance: Instance): string[] {
    return this.selected(ctx).map((k) => `${this.binDir(ctx, instance)}/${k}`);
  }

  run(ctx: Context, instance: Instance, runner: Runner): void {
    const size = sizeFromArgs(ctx.args);
    const cwd = this.path(ctx, instance.name, 'run');
    const hash = this.configuration(ctx);
    const stale = this.selected(ctx).filter((k) => readStamp(`${this.binDir(ctx, instance)}/${k}.stamp`) !== hash);
    if (stale.length && !ctx.dryRun) {
      throw new UserError(
        `${this.name}: ${stale.join(', ')} not built, or built with another compiler, flags or runtime, for ${instance.name}; build first (or use run --build)`,
      );
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
  digestCache ??= configHash(
    [...Object.keys(KERNELS).map((k) => `${k}.c`), 'kernel.h'].map((f) => readFileSync(SOURCES + f, 'utf8')),
  );
  return digestCache;
}
