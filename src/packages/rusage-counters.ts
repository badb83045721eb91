import { packageFile } from '../api.js';
import { RuntimeLibrary } from './runtime-library.js';

/**
 * Field names and descriptions of the `rusage` report block as they appear in records (for
 * `reportableFields`). The framework measures runtime, maxrss, utime, stime and the fault
 * and context-switch counts itself, so the block's values of those are `rusage.<name>`.
 */
export const RUSAGE_FIELDS: Record<string, string> = {
  'rusage.maxrss': 'peak resident set size of the benchmark process, KiB (rusage-counters)',
  'rusage.minflt': 'minor page faults (rusage-counters)',
  'rusage.majflt': 'major page faults (rusage-counters)',
  inblock: 'block input operations (rusage-counters)',
  oublock: 'block output operations (rusage-counters)',
  'rusage.nvcsw': 'voluntary context switches (rusage-counters)',
  'rusage.nivcsw': 'involuntary context switches (rusage-counters)',
  'rusage.utime': 'user CPU seconds (rusage-counters)',
  'rusage.stime': 'system CPU seconds (rusage-counters)',
  'rusage.runtime': 'seconds from the first constructor to the last destructor (rusage-counters)',
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
