import type { FieldValue } from '../core/runner.js';
import { getAggregation, type Aggregated } from './aggregate.js';
import type { FieldSpec } from './fields.js';
import { describeFailures, type Cell as GroupCell, type Grouped } from './select.js';
import { cellValue, type Cell, type Column, type ReportTable } from './table.js';

/** Values of a field over the successful executions of a group (missing values left out). */
export function fieldValues(cell: GroupCell | undefined, field: string): readonly FieldValue[] {
  return cell ? cell.values(field) : [];
}

export function numericValues(cell: GroupCell | undefined, field: string): readonly number[] {
  return cell ? cell.numbers(field) : [];
}

export function aggregateCell(data: Grouped, group: string, instance: string, field: string, agg: string): Aggregated {
  const cell = data.cells.get(group)?.get(instance);
  if (!cell) return null;
  return getAggregation(agg).fn(fieldValues(cell, field), `field '${field}' of ${group} [${instance}]`);
}

/** Whether any group has unsuccessful executions, so a column shows them. */
export function hasFailures(data: Grouped): boolean {
  for (const row of data.cells.values()) for (const c of row.values()) if (c.failures.size) return true;
  return false;
}

export function failureCell(data: Grouped, group: string, instance: string): Cell {
  const c = data.cells.get(group)?.get(instance);
  return c?.failures.size ? describeFailures(c.failures) : '';
}

/**
 * The default view: one row per group, and for each instance a column per field and
 * aggregation (plus a column counting unsuccessful executions, when there are any).
 */
export function aggregatedTable(data: Grouped, specs: FieldSpec[]): ReportTable {
  const failures = hasFailures(data);
  const columns: Column[] = [{ name: data.groupby }];
  for (const instance of data.instances) {
    for (const s of specs) {
      for (const a of s.aggregations)
        columns.push({ group: instance, name: `${s.field}:${a}`, ...(getAggregation(a).scaled ? { field: s.field } : {}) });
    }
    if (failures) columns.push({ group: instance, name: 'unsuccessful' });
  }
  const rows = data.groups.map((group) => {
    const row: Cell[] = [group];
    for (const instance of data.instances) {
      for (const s of specs) for (const a of s.aggregations) row.push(aggregateCell(data, group, instance, s.field, a));
      if (failures) row.push(failureCell(data, group, instance));
    }
    return row;
  });
  return { columns, rows, summary: [], notes: [] };
}

/** A row applying `fn` to the numbers of each column (`--aggregate FN`); other columns stay empty. */
export function summaryRow(table: ReportTable, fn: string, label = fn): Cell[] {
  const agg = getAggregation(fn);
  return table.columns.map((col, i) => {
    if (i === 0) return label;
    const xs: number[] = [];
    for (const row of table.rows) {
      const v = cellValue(row[i] ?? null);
      if (typeof v === 'number' && Number.isFinite(v)) xs.push(v);
    }
    return xs.length ? agg.fn(xs, `column '${col.group ? col.group + '/' : ''}${col.name}'`) : null;
  });
}
