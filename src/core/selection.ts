import type { Context } from './context.js';
import { UserError } from './errors.js';

/**
 * Resolves `--benchmarks` names against a suite: a benchmark (`bzip2.compress`), a group of
 * benchmarks (`bzip2`, every workload of the program) or a named set (`compressors`, `all`).
 * The result keeps the suite's order and has no duplicates. Unknown names are a UserError
 * that lists every valid name and set.
 */
export function selectBenchmarks(
  requested: readonly string[] | undefined,
  benchmarks: readonly string[],
  groups: Readonly<Record<string, readonly string[]>>,
  defaultNames: readonly string[] = ['all'],
): string[] {
  const names = requested && requested.length ? requested : defaultNames;
  const chosen = new Set<string>();
  const unknown: string[] = [];
  for (const name of names) {
    if (name === 'all') benchmarks.forEach((b) => chosen.add(b));
    else if (benchmarks.includes(name)) chosen.add(name);
    else if (groups[name]) groups[name].forEach((b) => chosen.add(b));
    else unknown.push(name);
  }
  if (unknown.length) {
    const sets = ['all', ...Object.keys(groups)].sort();
    throw new UserError(
      `unknown benchmark${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')}; ` +
        `valid benchmarks: ${benchmarks.join(', ')}; valid sets: ${sets.join(', ')}`,
    );
  }
  return benchmarks.filter((b) => chosen.has(b));
}

/**
 * Input size of a run: `test` (small inputs, each well under a second), `train` (medium inputs,
 * about half a second to a second each with clang -O2: long enough to measure, short enough for
 * many iterations) or `ref` (the reference inputs). The names are SPEC CPU's.
 */
export type SizeName = 'test' | 'train' | 'ref';

/**
 * A value per input size. `train` is optional, so descriptions written for `test` and `ref` only
 * stay valid; {@link sizeValue} refuses a run that asks for a size a benchmark does not have.
 */
export type SizeValues<T> = { test: T; ref: T; train?: T };

/**
 * The input size a run asks for: `test` or `train` when the target declared that run option
 * (`--test`, `--train`) and it was given, otherwise `ref`. Declare them with
 * `parser.option('-t, --test', 'run the small test inputs')` and
 * `parser.option('--train', 'run the medium inputs')` in `addRunArgs`.
 */
export function benchmarkSize(ctx: Context): SizeName {
  const test = ctx.flag('test');
  const train = ctx.flag('train');
  if (test && train)
    throw new UserError('--test and --train ask for different input sizes; give one of them (neither: the reference inputs)');
  return test ? 'test' : train ? 'train' : 'ref';
}

/** The value for `size`; a UserError naming `what` when it has none (only `train` can be missing). */
export function sizeValue<T>(values: SizeValues<T>, size: SizeName, what: string): T {
  const value = values[size];
  if (value === undefined)
    throw new UserError(`${what} has no ${size} input; run it with --test, or with neither option for the reference input`);
  return value;
}
