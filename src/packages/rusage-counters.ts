import { packageFile } from '../api.js';
import { RuntimeLibrary } from './runtime-library.js';

/** Field names and descriptions of the `rusage` report block (for `reportableFields`). */
export const RUSAGE_FIELDS: Record<string, string> = {
  maxrss: 'peak resident set size of the benchmark process, KiB (rusage-counters)',
  minflt: 'minor page faults (rusage-counters)',
  majflt: 'major page faults (rusage-counters)',
  inblock: 'block input operations (rusage-counters)',
  oublock: 'block output operations (rusage-counters)',
  nvcsw: 'voluntary context switches (rusage-counters)',
  nivcsw: 'involuntary context switches (rusage-counters)',
  utime: 'user CPU seconds (rusage-counters)',
  stime: 'system CPU seconds (rusage-counters)',
  runtime: 'seconds from the first constructor to the last destructor (rusage-counters)',
};

/**
 * A static library that, linked into a benchmark, prints its resource usage at exit as a
 * `[setup-report] begin rusage ... end rusage` block on stderr (fields: {@link RUSAGE_FIELDS}).
 * Call `configure(ctx)` in a target's build (or an instance's configure) to link it.
 * Identifier: `runtime-rusage-counters`.
 */
export class RusageCounters extends RuntimeLibrary {
  constructor() {
    super({ name: 'rusage-counters', srcdir: packageFile('runtime', 'rusage-counters') });
  }
}
