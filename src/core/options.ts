import { UserError, didYouMean } from './errors.js';

/**
 * The option interface targets and instances use to add their own command-line options
 * (`addBuildArgs` / `addRunArgs`). Values land in `ctx.args` under the camelCase name of the
 * long flag: `--spec-benchmarks` becomes `ctx.args.specBenchmarks`.
 */
export interface OptionSpec {
  /** commander-style flags: `-t, --test`, `--benchmarks <names...>`, `--size <n>`. */
  flags: string;
  description: string;
  default?: unknown;
  /** Allowed values; anything else is a clear error listing them. */
  choices?: readonly string[];
  /** Converts the raw string (e.g. `Number`); throw a UserError for bad input. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each parser knows the type of its own previous value
  parse?: (value: string, previous: any) => unknown;
}

/** What targets and instances declare their command-line options with. */
export interface ArgParser {
  /** Declares an option: commander-style `flags` (`--size <n>`), its help text, and choices, default or parser. */
  option(flags: string, description: string, extra?: Omit<OptionSpec, 'flags' | 'description'>): ArgParser;
}

/** Collects options so commands can register them with the real parser. */
export class OptionCollector implements ArgParser {
  readonly specs: OptionSpec[] = [];
  option(flags: string, description: string, extra: Omit<OptionSpec, 'flags' | 'description'> = {}): this {
    this.specs.push({ flags, description, ...extra });
    return this;
  }
}

/** Parses a positive integer option value, with a clear error otherwise. */
export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      throw new UserError(`${name} must be a positive integer, got '${value}'`);
    }
    return n;
  };
}

/** Parses a positive number option value (fractions allowed: `--timeout 2.5`), with a clear error otherwise. */
export function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0 || value.trim() === '') throw new UserError(`${name} must be a positive number, got '${value}'`);
    return n;
  };
}

/** Parses a non-negative integer option value, with a clear error otherwise. */
export function nonNegativeInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new UserError(`${name} must be a whole number (0 or more), got '${value}'`);
    return n;
  };
}

/**
 * The key an option's value is stored under: the camelCase name of its long flag, without a
 * leading `no-` (`--spec-benchmarks` is `specBenchmarks`, `--no-fork` is `fork`), as commander does.
 */
export function optionKey(spec: Pick<OptionSpec, 'flags'>): string {
  const flag =
    spec.flags.split(/[ ,|]+/).find((f) => f.startsWith('--')) ?? spec.flags.split(/[ ,|]+/).find((f) => f.startsWith('-')) ?? '';
  const name = flag.replace(/^-+/, '').replace(/^no-/, '');
  return name.replace(/-([a-z0-9])/gi, (_, c: string) => c.toUpperCase());
}

/**
 * Checks a constructor's options object at run time, as TypeScript does at compile time for
 * typed callers: a key that is not one of `valid` (a typo such as `optLevel` for `optlevel`,
 * from JavaScript or a spread) is a UserError naming the valid ones, instead of being ignored.
 * `valid` lists every option (the type makes the list complete).
 */
export function checkOptions<T extends object>(
  owner: string,
  given: T | undefined,
  valid: { readonly [K in keyof Required<T>]: true },
): void {
  if (given === undefined) return;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- setup scripts in JavaScript may pass anything
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new UserError(`${owner}: the options must be an object, got ${JSON.stringify(given)}`);
  }
  const names = Object.keys(valid);
  for (const key of Object.keys(given)) {
    if (!names.includes(key)) {
      throw new UserError(`${owner}: unknown option '${key}';${didYouMean(key, names)} valid options: ${names.join(', ')}`);
    }
  }
}
