import type { SanitizerOptions } from '../api.js';

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
