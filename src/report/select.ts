import { unknownName, UserError } from '../core/errors.js';
import type { ExecutionStatus } from '../core/runner.js';
import type { ExecutionRecord } from '../results/schema.js';
import { getField } from './fields.js';

/** The results of one instance in one group (e.g. one benchmark). */
export interface Cell {
  /** Successful executions: the only ones aggregated. */
  ok: ExecutionRecord[];
  /** Unsuccessful executions by status (failed, crashed, timeout, error): counted and shown. */
  failures: Map<ExecutionStatus, number>;
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

export function applyFilters(records: ExecutionRecord[], filters: Map<string, Set<string>>): ExecutionRecord[] {
  if (!filters.size) return records;
  const tests = [...filters];
  return records.filter((r) =>
    tests.every(([key, values]) => {
      const v = getField(r, key);
      return v !== undefined && values.has(v === null ? '' : String(v));
    }),
  );
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
  const wanted = new Set(instances);
  const cells = new Map<string, Map<string, Cell>>();
  for (const r of records) {
    if (!wanted.has(r.instance)) continue;
    const g = getField(r, groupby);
    const group = g === undefined || g === null ? '' : String(g);
    let row = cells.get(group);
    if (!row) cells.set(group, (row = new Map<string, Cell>()));
    let cell = row.get(r.instance);
    if (!cell) row.set(r.instance, (cell = { ok: [], failures: new Map() }));
    if (r.status === 'ok') cell.ok.push(r);
    else cell.failures.set(r.status, (cell.failures.get(r.status) ?? 0) + 1);
  }
  return { groupby, groups: [...cells.keys()].sort(naturalCompare), instances, cells };
}

/** "2 failed, 1 timeout" */
export function describeFailures(failures: Map<ExecutionStatus, number>): string {
  return [...failures].map(([status, n]) => `${n} ${status}`).join(', ');
}
