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

/** Input size of a run: `test` (small inputs, each well under a second) or `ref` (the reference inputs). */
export type SizeName = 'test' | 'ref';

/**
 * The input size a run asks for: `test` when the target declared a `--test` run option and it
 * was given, otherwise `ref`. Declare the option with
 * `parser.option('-t, --test', 'run the small test inputs')` in `addRunArgs`.
 */
export function benchmarkSize(ctx: Context): SizeName {
  return ctx.flag('test') ? 'test' : 'ref';
}
