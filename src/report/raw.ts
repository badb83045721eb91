import type { ExecutionRecord } from '../results/schema.js';
import { getField, type FieldSpec } from './fields.js';
import { naturalCompare } from './select.js';
import type { Cell, ReportTable } from './table.js';

/** Fields printed by `--raw` when none are given. */
export const DEFAULT_RAW_FIELDS = ['benchmark', 'iteration', 'status', 'runtime', 'maxrss'];

/**
 * `--raw`: one row per execution (successful or not), without aggregation, ordered by
 * instance (as selected), benchmark and iteration.
 */
export function rawTable(records: readonly ExecutionRecord[], specs: FieldSpec[], instances: string[]): ReportTable {
  const order = new Map(instances.map((name, i) => [name, i]));
  const selected = records.filter((r) => order.has(r.instance));
  selected.sort(
    (a, b) => order.get(a.instance)! - order.get(b.instance)! || naturalCompare(a.benchmark, b.benchmark) || a.iteration - b.iteration,
  );
  // which execution a row is stays visible whatever fields are asked for
  const asked = specs.map((s) => s.field).filter((f) => f !== 'instance');
  const fields = [...['benchmark', 'iteration'].filter((k) => !asked.includes(k)), ...asked];
  const rows = selected.map((r) => {
    const row: Cell[] = [r.instance];
    for (const f of fields) row.push(getField(r, f) ?? null);
    return row;
  });
  return { columns: [{ name: 'instance' }, ...fields.map((name) => ({ name, field: name }))], rows, summary: [], notes: [] };
}
