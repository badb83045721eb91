// What the built-in instances do to a context's flags and run-time environment, for a user's
// own instance to do the same.
import type { Context } from './context.js';
import { UserError } from './errors.js';

/** Optimization levels accepted by `-O`. */
export const OPT_LEVELS = ['0', '1', '2', '3', 's', 'z', 'fast', 'g'] as const;
/** An optimization level as written after `-O` (2 for `-O2`). */
export type OptLevel = 0 | 1 | 2 | 3 | 's' | 'z' | 'fast' | 'g';

/** Validates an optimization level at construction time, so a typo fails before any build. */
export function checkOptLevel(level: string | number): string {
  const s = String(level);
  if (!(OPT_LEVELS as readonly string[]).includes(s)) {
    throw new UserError(`invalid optimization level '${s}'; valid levels: ${OPT_LEVELS.join(', ')}`);
  }
  return s;
}

/** `-O<n>` part of an instance name (`clang-O3`), empty for the default level 2. */
export function optSuffix(level: string): string {
  return level === '2' ? '' : `-O${level}`;
}

/** Adds `-O<level>` to cflags and cxxflags (after whatever dependencies added). */
export function addOptFlags(ctx: Context, level: string): void {
  ctx.cflags.push(`-O${level}`);
  ctx.cxxflags.push(`-O${level}`);
}

/** Adds a flag to cflags, cxxflags and ldflags (sanitizers, LTO: needed at compile and link time). */
export function addCompileAndLinkFlag(ctx: Context, ...flags: string[]): void {
  ctx.cflags.push(...flags);
  ctx.cxxflags.push(...flags);
  ctx.ldflags.push(...flags);
}

/**
 * What every compiler instance records in a run's metadata. The compiler's version is not here:
 * the run command records it for every instance as `ccVersion`.
 */
export function describeCompiler(ctx: Context, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    cc: ctx.cc,
    cxx: ctx.cxx,
    cflags: [...ctx.cflags],
    cxxflags: [...ctx.cxxflags],
    ldflags: [...ctx.ldflags],
    ...extra,
  };
}

/** Options of a sanitizer's run-time variable (`ASAN_OPTIONS`); keys and values as the runtime reads them. */
export type SanitizerOptions = Record<string, string | number | boolean>;

/**
 * Merges options into a `NAME=a=1:b=2` variable of `ctx.runenv`, keeping what is there and
 * letting values the user set win: those already in the runenv or, when the runenv does not
 * set the variable yet, those of the process environment (`ASAN_OPTIONS=detect_leaks=1 infra
 * run ...`). The runenv then holds every option in force, so the run's metadata records them.
 */
export function addRuntimeOptions(ctx: Context, variable: string, options: SanitizerOptions): void {
  const current = ctx.runenv[variable];
  const existing = parseRuntimeOptions(Array.isArray(current) ? current.join(':') : (current ?? process.env[variable]));
  ctx.runenv[variable] = formatRuntimeOptions({ ...options, ...existing });
}

/** The options the user gave in the process environment's `NAME=a=1:b=2` variable. */
export function userRuntimeOptions(variable: string): SanitizerOptions {
  return parseRuntimeOptions(process.env[variable]);
}

/** Reads a sanitizer options value (`a=1:b=2`; the runtimes also accept spaces and commas between options). */
export function parseRuntimeOptions(s: string | undefined): SanitizerOptions {
  const out: SanitizerOptions = {};
  for (const part of (s ?? '').split(/[:\s,]+/)) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

/** Writes sanitizer options as the runtimes read them (`a=1:b=2`; booleans as 0/1). */
export function formatRuntimeOptions(options: SanitizerOptions): string {
  return Object.entries(options)
    .map(([k, v]) => `${k}=${typeof v === 'boolean' ? Number(v) : v}`)
    .join(':');
}
