import { type Context, formatRuntimeOptions, parseRuntimeOptions, type SanitizerOptions, userRuntimeOptions } from '../api.js';

/**
 * Sets an instance's run-time options in `ctx.runenv[variable]` over what its build set
 * there, under the options the user gave in the environment (which always win).
 */
export function setRunOptions(ctx: Context, variable: string, options: SanitizerOptions): void {
  const current = ctx.runenv[variable];
  const before = parseRuntimeOptions(Array.isArray(current) ? current.join(':') : current);
  ctx.runenv[variable] = formatRuntimeOptions({ ...before, ...options, ...userRuntimeOptions(variable) });
}

/**
 * Run-time AddressSanitizer options: `alloc_dealloc_mismatch` and `detect_leaks` off unless
 * asked for (benchmarks are measured, not debugged), `detect_odr_violation=0`, plus the
 * option-dependent ones.
 */
export function asanRuntimeOptions(o: {
  temporal?: boolean;
  redzone?: number;
  leaks?: boolean;
  allocDeallocMismatch?: boolean;
}): SanitizerOptions {
  const opts: SanitizerOptions = {
    alloc_dealloc_mismatch: o.allocDeallocMismatch ? 1 : 0,
    detect_odr_violation: 0,
    detect_leaks: o.leaks ? 1 : 0,
  };
  if (o.temporal === false) opts.quarantine_size_mb = 0;
  if (o.redzone !== undefined) opts.redzone = o.redzone;
  return opts;
}

/** Run-time UBSan options: report with a stack trace and stop at the first error. */
export function ubsanRuntimeOptions(o: { recover?: boolean } = {}): SanitizerOptions {
  return { print_stacktrace: 1, halt_on_error: o.recover ? 0 : 1 };
}
