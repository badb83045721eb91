import type { FieldValue, Measurement } from '../core/runner.js';
import { MEASURED_FIELDS } from '../results/schema.js';

/**
 * The fields of one execution's record, from several sources. Measured fields (the
 * {@link Measurement} keys: runtime, utime, stime, maxrss...) are the framework's: no other
 * source replaces them, whether or not this execution was measured. A source's field with a
 * measured name is stored under the source's own name instead:
 *
 *   source (in the order added)               a field named `maxrss` is stored as
 *   BenchmarkRun.fields (at submit)           `submit.maxrss`
 *   CheckOutcome.fields (the target's check)  `check.maxrss`
 *   a `[setup-report] begin NAME` block on    `NAME.maxrss` (RusageCounters: `rusage.maxrss`)
 *     the benchmark's stderr
 *   Target.parseOutfile (its stdout)          `output.maxrss`
 *
 * Among the other fields, a later source wins: output over stderr blocks over check over
 * submit (a later stderr block over an earlier one).
 */

/** Prefixes of the sources that have no name of their own. */
export const SUBMIT_PREFIX = 'submit';
export const CHECK_PREFIX = 'check';
export const OUTPUT_PREFIX = 'output';

const MEASURED = new Set(Object.keys(MEASURED_FIELDS));

/** A field stored under another name because the framework measures its own name. */
export interface RenamedField {
  field: string;
  /** The source's prefix (`check`, a block's name...). */
  source: string;
  storedAs: string;
}

export class RecordFields {
  readonly fields: Record<string, FieldValue> = {};
  /** Fields of other sources that had a measured field's name, in the order added. */
  readonly renamed: RenamedField[] = [];

  constructor(measurement: Measurement | null) {
    for (const [k, v] of Object.entries(measurement ?? {}) as Array<[string, FieldValue | undefined]>)
      if (v !== undefined) this.fields[k] = v;
  }

  /** Adds a source's fields; `source` is its prefix for fields with a measured name. */
  add(source: string, fields: Readonly<Record<string, FieldValue>> | undefined): void {
    for (const [field, value] of Object.entries(fields ?? {})) {
      if (!MEASURED.has(field)) {
        this.fields[field] = value;
        continue;
      }
      const storedAs = `${source}.${field}`;
      this.fields[storedAs] = value;
      this.renamed.push({ field, source, storedAs });
    }
  }
}
