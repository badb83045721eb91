import { unknownName, UserError } from '../core/errors.js';
import type { FieldValue } from '../core/runner.js';
import type { Target } from '../core/target.js';
import { ORIGINAL_RUSAGE_FIELDS } from '../results/read-legacy.js';
import type { Column, KeyColumn, RecordColumns } from '../results/columns.js';
import { MEASURED_FIELDS, type ExecutionRecord } from '../results/schema.js';
import { AGGREGATIONS, getAggregation } from './aggregate.js';

/** Keys of the record itself (not in `fields`) that can be reported, grouped and filtered on. */
export const RECORD_KEYS: Record<string, string> = {
  target: 'target name',
  instance: 'instance name',
  benchmark: 'benchmark name',
  iteration: 'iteration index (0-based)',
  host: 'host the execution ran on',
  status: 'ok, failed, crashed, timeout or error',
  exitCode: 'exit status of the benchmark command',
  signal: 'signal that ended the benchmark, if any',
  reason: 'why the execution did not succeed',
};

/** One `-f FIELD[:AGG...]` argument. */
export interface FieldSpec {
  field: string;
  aggregations: string[];
}

/** Reads a field of a record: record keys first, then measured and target fields. */
export function getField(r: ExecutionRecord, name: string): FieldValue | undefined {
  if (Object.prototype.hasOwnProperty.call(RECORD_KEYS, name))
    return (r as unknown as Record<string, FieldValue | undefined>)[name] ?? null;
  return r.fields[name];
}

/** The column of a record key or field, named as {@link getField} names them. */
export function valueColumn(columns: RecordColumns, name: string): Column | undefined {
  return Object.prototype.hasOwnProperty.call(RECORD_KEYS, name) ? columns.keys.get(name as KeyColumn) : columns.fields.get(name);
}

/** Every field that can be named: record keys, measured fields, the target's and any in the results. */
export function knownFields(target: Target, ...results: RecordColumns[]): Map<string, string> {
  const known = new Map<string, string>();
  for (const [k, d] of Object.entries(RECORD_KEYS)) known.set(k, d);
  for (const [k, d] of Object.entries(MEASURED_FIELDS)) known.set(k, d);
  for (const [k, d] of Object.entries(target.reportableFields())) known.set(k, d);
  for (const k of results.flatMap((r) => [...r.fields.keys()]))
    if (!known.has(k)) known.set(k, Object.hasOwn(ORIGINAL_RUSAGE_FIELDS, k) ? ORIGINAL_RUSAGE_FIELDS[k]! : '(found in the results)');
  return known;
}

/** Parses `runtime:median:stdev` specs, checking field and aggregation names. */
export function parseFieldSpecs(specs: readonly string[], known: Map<string, string>, needAggregation: boolean): FieldSpec[] {
  return specs.map((spec) => {
    const [field = '', ...aggregations] = spec.split(':');
    if (!known.has(field)) throw unknownName('field', field, known.keys());
    for (const a of aggregations) getAggregation(a);
    if (needAggregation && !aggregations.length) {
      throw new UserError(
        `field '${field}' needs an aggregation, e.g. '${field}:median'; valid aggregations: ${Object.keys(AGGREGATIONS).join(', ')}`,
      );
    }
    return { field, aggregations };
  });
}

/** Text of `report --help-fields`. */
export function helpFieldsText(target: Target, results: RecordColumns): string {
  const known = knownFields(target, results);
  const width = Math.max(...[...known.keys(), ...Object.keys(AGGREGATIONS)].map((k) => k.length));
  const lines = [`Fields of target '${target.name}' (use -f FIELD:AGGREGATION..., --groupby FIELD, --filter FIELD=VALUE):`];
  for (const [k, d] of known) lines.push(`  ${k.padEnd(width)}  ${d}`);
  lines.push('', 'Aggregations:');
  for (const [k, a] of Object.entries(AGGREGATIONS)) lines.push(`  ${k.padEnd(width)}  ${a.description}`);
  return lines.join('\n') + '\n';
}
