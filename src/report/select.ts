import { unknownName, UserError } from '../core/errors.js';
import type { ExecutionStatus, FieldValue } from '../core/runner.js';
import { cellOf, RecordColumns, type Column } from '../results/columns.js';
import type { ExecutionRecord } from '../results/schema.js';
import { RECORD_KEYS, valueColumn } from './fields.js';

/** The results of one instance in one group (e.g. one benchmark). */
export class Cell {
  /** Rows (of the grouped columns) of the successful executions: the only ones aggregated. */
  readonly ok: number[] = [];
  /** Unsuccessful executions by status (failed, crashed, timeout, error): counted and shown. */
  readonly failures = new Map<ExecutionStatus, number>();
  private readonly cache = new Map<string, readonly FieldValue[]>();
  private readonly numberCache = new Map<string, readonly number[]>();

  constructor(private readonly columns: RecordColumns) {}

  /** Values of a field over the successful executions, in the order they were recorded (missing ones left out). */
  values(field: string): readonly FieldValue[] {
    let out = this.cache.get(field);
    if (!out) {
      const values: FieldValue[] = [];
      const column = valueColumn(this.columns, field);
      if (column) {
        for (const row of this.ok) {
          const v = cellOf(column, row);
          if (v !== undefined && v !== null) values.push(v);
        }
      }
      // frozen: shared by every statistic of the cell (see stats.ts)
      this.cache.set(field, (out = Object.freeze(values)));
    }
    return out;
  }

  /** The numbers among {@link values}. */
  numbers(field: string): readonly number[] {
    let out = this.numberCache.get(field);
    if (!out) {
      const values = this.values(field);
      const all = values.every((v) => typeof v === 'number');
      out = all ? values : Object.freeze(values.filter((v) => typeof v === 'number'));
      this.numberCache.set(field, out);
    }
    return out;
  }
}

export interface Grouped {
  groupby: string;
  /** Group values in natural order (benchmark names, connection counts...). */
  groups: string[];
  instances: string[];
  cells: Map<string, Map<string, Cell>>;
}

const collator = new Intl.Collator(undefined, { numeric: true });
/** Orders names as people expect: `bench2` before `bench10`. */
export const naturalCompare = (a: string, b: string): number => collator.compare(a, b);

/**
 * `--filter KEY=VALUE` arguments: different keys must all match; repeating a key accepts any
 * of its values (`--filter benchmark=a --filter benchmark=b`).
 */
export function parseFilters(filters: readonly string[], known: Map<string, string>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const f of filters) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new UserError(`--filter expects KEY=VALUE, got '${f}'`);
    const key = f.slice(0, eq);
    if (!known.has(key)) throw unknownName('field', key, known.keys());
    if (!out.has(key)) out.set(key, new Set());
    out.get(key)!.add(f.slice(eq + 1));
  }
  return out;
}

/** The rows whose fields match every filter (see {@link parseFilters}). */
export function applyFilters(columns: RecordColumns, filters: Map<string, Set<string>>): RecordColumns {
  if (!filters.size) return columns;
  const tests = [...filters].map(([key, values]) => matcher(valueColumn(columns, key), values, Object.hasOwn(RECORD_KEYS, key)));
  return columns.select(rowsWhere(columns.length, (row) => tests.every((t) => t(row))));
}

/**
 * Whether a row's value, as text (null as ''), is one of `values`: an absent field never is,
 * an absent record key (`reason` of a successful execution) is null.
 */
function matcher(column: Column | undefined, values: Set<string>, recordKey: boolean): (row: number) => boolean {
  const absent = recordKey && values.has('');
  if (!column) return () => absent;
  const text = labels(column);
  return (row) => {
    const t = text(row);
    return t === undefined ? absent : values.has(t);
  };
}

/** A row's value as text (null as ''), undefined when absent; each distinct value converted once. */
function labels(column: Column): (row: number) => string | undefined {
  const asText = (v: FieldValue | undefined) => (v === undefined ? undefined : v === null ? '' : String(v));
  if (column.kind === 'dict') {
    const byCode = column.values.map(asText);
    return (row) => byCode[column.codes[row]!];
  }
  const seen = new Map<number, string>();
  return (row) => {
    const v = column.values[row]!;
    if (Number.isNaN(v)) return undefined;
    let t = seen.get(v);
    if (t === undefined) seen.set(v, (t = String(v)));
    return t;
  };
}

/** The rows of one target. */
export function selectTarget(columns: RecordColumns, name: string): RecordColumns {
  return columns.select(rowsWhere(columns.length, matcher(columns.keys.get('target'), new Set([name]), false)));
}

/** The rows (0 to length - 1) for which `keep` holds. */
export function rowsWhere(length: number, keep: (row: number) => boolean): Uint32Array {
  const rows = new Uint32Array(length);
  let n = 0;
  for (let row = 0; row < length; row++) if (keep(row)) rows[n++] = row;
  return rows.subarray(0, n);
}

/** The distinct values of a record key or field among the rows, as text (null as ''). */
export function distinctValues(columns: RecordColumns, name: string): Set<string> {
  const out = new Set<string>();
  const column = valueColumn(columns, name);
  if (!column) return out;
  const text = labels(column);
  for (let row = 0; row < columns.length; row++) {
    const t = text(row);
    if (t !== undefined) out.add(t);
  }
  return out;
}

/**
 * Chooses and orders instances: the ones asked for (each must be present), otherwise all
 * present in natural order; `first` (the overhead baseline) is put in front.
 */
export function selectInstances(present: Set<string>, asked: readonly string[] | undefined, first?: string): string[] {
  for (const name of [...(asked ?? []), ...(first ? [first] : [])]) {
    if (!present.has(name)) {
      throw new UserError(
        `instance '${name}' has no results in the given directories; instances present: ${[...present].sort(naturalCompare).join(', ')}`,
      );
    }
  }
  const order = asked?.length ? [...new Set(asked)] : [...present].sort(naturalCompare);
  return first ? [first, ...order.filter((i) => i !== first)] : order;
}

export function groupRecords(records: readonly ExecutionRecord[], groupby: string, instances: string[]): Grouped {
  return groupColumns(RecordColumns.fromRecords(records), groupby, instances);
}

/** The rows by group (the value of `groupby`, '' where it has none) and instance. */
export function groupColumns(columns: RecordColumns, groupby: string, instances: string[]): Grouped {
  const cells = new Map<string, Map<string, Cell>>();
  const instance = columns.keys.get('instance');
  const status = columns.keys.get('status');
  const groupColumn = valueColumn(columns, groupby);
  if (instance?.kind !== 'dict' || status?.kind !== 'dict') return { groupby, groups: [], instances, cells };
  const group = groupColumn ? labels(groupColumn) : () => undefined;
  const wanted = new Set(instances);
  // per group, the cell of each instance code
  const byCode = new Map<string, Array<Cell | undefined>>();
  for (let row = 0; row < columns.length; row++) {
    const code = instance.codes[row]!;
    const name = instance.values[code] as string;
    if (!wanted.has(name)) continue;
    const g = group(row) ?? '';
    let codes = byCode.get(g);
    if (!codes) {
      byCode.set(g, (codes = []));
      cells.set(g, new Map());
    }
    let cell = codes[code];
    if (!cell) cells.get(g)!.set(name, (cell = codes[code] = new Cell(columns)));
    const s = status.values[status.codes[row]!] as ExecutionStatus;
    if (s === 'ok') cell.ok.push(row);
    else cell.failures.set(s, (cell.failures.get(s) ?? 0) + 1);
  }
  return { groupby, groups: [...cells.keys()].sort(naturalCompare), instances, cells };
}

/** "2 failed, 1 timeout" */
export function describeFailures(failures: Map<ExecutionStatus, number>): string {
  return [...failures].map(([status, n]) => `${n} ${status}`).join(', ');
}
