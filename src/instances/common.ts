import type { Context } from '../core/context.js';
import { UserError } from '../core/errors.js';

/** Optimization levels accepted by `-O`. */
export const OPT_LEVELS = ['0', '1', '2', '3', 's', 'z', 'fast', 'g'] as const;
export type OptLevel = 0 | 1 | 2 | 3 | 's' | 'z' | 'fast' | 'g';

/** Validates an optimization level at construction time, so a typo fails before any build. */
export function checkOptLevel(level: OptLevel | string | number): string {
  const s = String(level);
  if (!(OPT_LEVELS as readonly string[]).includes(s)) {
    throw new UserError(`invalid optimization level '${s}'; valid levels: ${OPT_LEVELS.join(', ')}`);
  }
  return s;
}

/** `-O<n>` name part, omitted for the default level 2. */
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
