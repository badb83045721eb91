import type { Context } from '../core/context.js';

/** Options for `ASAN_OPTIONS`; keys and values as the sanitizer runtime reads them. */
export type SanitizerOptions = Record<string, string | number | boolean>;

/**
 * Run-time AddressSanitizer options: always `alloc_dealloc_mismatch=0`, `detect_odr_violation=0`
 * and `detect_leaks=0` (benchmarks are measured, not debugged), plus the option-dependent ones.
 */
export function asanRuntimeOptions(o: { temporal?: boolean; redzone?: number }): SanitizerOptions {
  const opts: SanitizerOptions = { alloc_dealloc_mismatch: 0, detect_odr_violation: 0, detect_leaks: 0 };
  if (o.temporal === false) opts.quarantine_size_mb = 0;
  if (o.redzone !== undefined) opts.redzone = o.redzone;
  return opts;
}

/** Run-time UBSan options: report with a stack trace and stop at the first error. */
export function ubsanRuntimeOptions(o: { recover?: boolean } = {}): SanitizerOptions {
  return { print_stacktrace: 1, halt_on_error: o.recover ? 0 : 1 };
}

/**
 * Merges options into a `NAME=a=1:b=2` variable of `ctx.runenv`, keeping what is there and
 * letting values the user already set (in the runenv) win.
 */
export function addRuntimeOptions(ctx: Context, variable: string, options: SanitizerOptions): void {
  const current = ctx.runenv[variable];
  const existing = parseOptions(Array.isArray(current) ? current.join(':') : current ?? '');
  const merged: SanitizerOptions = { ...options, ...existing };
  ctx.runenv[variable] = Object.entries(merged)
    .map(([k, v]) => `${k}=${typeof v === 'boolean' ? Number(v) : v}`)
    .join(':');
}

function parseOptions(s: string): SanitizerOptions {
  const out: SanitizerOptions = {};
  for (const part of s.split(':')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}
