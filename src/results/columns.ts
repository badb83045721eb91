/**
 * Records held column by column: what reports aggregate over. A million records as objects
 * cost about a second to create and as much again to collect; as columns they are a few typed
 * arrays (numbers) and small dictionaries (names, statuses, a field's repeated strings).
 */
import type { FieldValue } from '../core/runner.js';
import type { ExecutionRecord } from './schema.js';

/** What identifies an execution (see `executionKey` in schema.ts). */
type ExecutionKeyParts = Pick<ExecutionRecord, 'target' | 'instance' | 'benchmark' | 'iteration'>;

/** Values that are all numbers (or absent): NaN marks an absent value (JSON has no NaN). */
export interface NumberColumn {
  kind: 'number';
  values: Float64Array;
}

/** Any other values: a code per row into `values`, where code 0 is absent. */
export interface DictColumn {
  kind: 'dict';
  codes: Uint8Array | Uint16Array | Uint32Array;
  values: ReadonlyArray<FieldValue | undefined>;
}

export type Column = NumberColumn | DictColumn;

/** The record's own keys kept as columns (everything but `schema`, `start` and the log paths). */
export const KEY_COLUMNS = ['target', 'instance', 'benchmark', 'iteration', 'host', 'status', 'exitCode', 'signal', 'reason'] as const;
export type KeyColumn = (typeof KEY_COLUMNS)[number];

/** The value of a row in a column (undefined: absent). */
export function cellOf(column: Column, row: number): FieldValue | undefined {
  if (column.kind === 'number') {
    const v = column.values[row]!;
    return Number.isNaN(v) ? undefined : v;
  }
  return column.values[column.codes[row]!];
}

/** The code arrays of a dictionary of `size` values (code 0 included): the narrowest that holds them. */
function codeArray(size: number, length: number): Uint8Array | Uint16Array | Uint32Array {
  return size <= 0x100 ? new Uint8Array(length) : size <= 0x10000 ? new Uint16Array(length) : new Uint32Array(length);
}

export class RecordColumns {
  private materialized?: ExecutionRecord[];

  /**
   * @param records the same records as objects, in row order, read only when asked for
   *   ({@link records}): by parts of a report that need whole records
   */
  constructor(
    readonly length: number,
    readonly keys: ReadonlyMap<KeyColumn, Column>,
    readonly fields: ReadonlyMap<string, Column>,
    private readonly records_: () => ExecutionRecord[],
  ) {}

  /** The records as objects, in row order (read once, then kept). */
  records(): ExecutionRecord[] {
    if (!this.materialized) {
      const records = this.records_();
      if (records.length !== this.length)
        throw new Error(`${records.length} records read where ${this.length} were expected: the results changed while being read`);
      this.materialized = records;
    }
    return this.materialized;
  }

  /** Records of the given rows, as objects. */
  recordsAt(rows: ArrayLike<number>): ExecutionRecord[] {
    const all = this.records();
    const out = new Array<ExecutionRecord>(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = all[rows[i]!]!;
    return out;
  }

  /** Columns of records given as objects. */
  static fromRecords(records: readonly ExecutionRecord[]): RecordColumns {
    const b = new ColumnsBuilder();
    for (const r of records) b.add(r);
    return b.finish(() => records.slice());
  }

  /** The rows of several sets one after the other; their records likewise. */
  static concat(parts: readonly RecordColumns[]): RecordColumns {
    if (parts.length === 1) return parts[0]!;
    const length = parts.reduce((n, p) => n + p.length, 0);
    const join = (get: (p: RecordColumns) => Column | undefined): Column => {
      const present = parts.map(get);
      if (present.every((c) => !c || c.kind === 'number')) {
        const values = new Float64Array(length).fill(NaN);
        let at = 0;
        parts.forEach((p, i) => {
          const c = present[i] as NumberColumn | undefined;
          if (c) values.set(c.values, at);
          at += p.length;
        });
        return { kind: 'number', values };
      }
      // a dictionary per part becomes a table from its codes to the joined one's: no lookup per row
      const dict = new DictBuilder();
      const joined = new Uint32Array(length);
      let at = 0;
      parts.forEach((p, i) => {
        const c = present[i];
        if (c?.kind === 'dict') {
          const table = new Uint32Array(c.values.length);
          for (let j = 1; j < c.values.length; j++) table[j] = c.values[j] === undefined ? 0 : dict.code(c.values[j]!);
          for (let row = 0; row < p.length; row++) joined[at + row] = table[c.codes[row]!]!;
        } else if (c) {
          for (let row = 0; row < p.length; row++) {
            const v = c.values[row]!;
            if (!Number.isNaN(v)) joined[at + row] = dict.code(v);
          }
        }
        at += p.length;
      });
      const codes = codeArray(dict.values.length, length);
      codes.set(joined);
      return { kind: 'dict', codes, values: dict.values };
    };
    const keys = new Map<KeyColumn, Column>();
    for (const k of KEY_COLUMNS)
      if (parts.some((p) => p.keys.has(k)))
        keys.set(
          k,
          join((p) => p.keys.get(k)),
        );
    const fields = new Map<string, Column>();
    for (const name of new Set(parts.flatMap((p) => [...p.fields.keys()])))
      fields.set(
        name,
        join((p) => p.fields.get(name)),
      );
    return new RecordColumns(length, keys, fields, () => parts.flatMap((p) => p.records()));
  }

  /** The given rows only; their records likewise. */
  select(rows: Uint32Array): RecordColumns {
    if (rows.length === this.length) return this;
    const pick = (c: Column): Column => {
      if (c.kind === 'number') {
        const values = new Float64Array(rows.length);
        for (let i = 0; i < rows.length; i++) values[i] = c.values[rows[i]!]!;
        return { kind: 'number', values };
      }
      const codes = codeArray(c.values.length, rows.length);
      for (let i = 0; i < rows.length; i++) codes[i] = c.codes[rows[i]!]!;
      return { kind: 'dict', codes, values: c.values };
    };
    const keys = new Map<KeyColumn, Column>([...this.keys].map(([k, c]) => [k, pick(c)]));
    // a field none of the rows has is not among theirs (another target's, say)
    const fields = new Map<string, Column>();
    for (const [k, c] of this.fields) {
      const picked = pick(c);
      if (!isEmpty(picked)) fields.set(k, picked);
    }
    return new RecordColumns(rows.length, keys, fields, () => this.recordsAt(rows));
  }
}

/** Whether no row has a value. */
function isEmpty(c: Column): boolean {
  if (c.kind === 'number') return c.values.every(Number.isNaN);
  return c.codes.every((code) => code === 0);
}

/** Builds a dictionary column row by row (rows not set are absent). */
class DictBuilder {
  private readonly index = new Map<FieldValue, number>();
  readonly values: Array<FieldValue | undefined> = [undefined];
  private codes: number[] = [];

  set(row: number, value: FieldValue | undefined): void {
    if (value === undefined) return;
    const code = this.code(value);
    while (this.codes.length < row) this.codes.push(0);
    this.codes[row] = code;
  }

  /** The code of `value`, a new one the first time. */
  code(value: FieldValue): number {
    let code = this.index.get(value);
    if (code === undefined) {
      code = this.values.length;
      this.index.set(value, code);
      this.values.push(value);
    }
    return code;
  }

  finish(length: number): DictColumn {
    const codes = codeArray(this.values.length, length);
    for (let row = 0; row < length; row++) codes[row] = this.codes[row] ?? 0;
    return { kind: 'dict', codes, values: this.values };
  }
}

/** Builds one column: numbers while every value is one, a dictionary from the first that is not. */
class ColumnBuilder {
  private numbers: number[] | null = [];
  private dict: DictBuilder | null = null;

  set(row: number, value: FieldValue | undefined): void {
    if (this.numbers) {
      if (typeof value === 'number' || value === undefined) {
        while (this.numbers.length < row) this.numbers.push(NaN);
        this.numbers[row] = value ?? NaN;
        return;
      }
      this.dict = new DictBuilder();
      this.numbers.forEach((v, r) => this.dict!.set(r, Number.isNaN(v) ? undefined : v));
      this.numbers = null;
    }
    this.dict!.set(row, value);
  }

  finish(length: number): Column {
    if (!this.numbers) return this.dict!.finish(length);
    const values = new Float64Array(length);
    for (let row = 0; row < length; row++) values[row] = this.numbers[row] ?? NaN;
    return { kind: 'number', values };
  }
}

/** Collects records into columns, one at a time, so a file of them is read without keeping an object per record. */
export class ColumnsBuilder {
  private n = 0;
  private readonly keys = KEY_COLUMNS.map((k) => [k, new ColumnBuilder()] as const);
  private readonly fields = new Map<string, ColumnBuilder>();

  /** Records added so far. */
  get length(): number {
    return this.n;
  }

  add(r: ExecutionRecord): void {
    const row = this.n++;
    for (let i = 0; i < this.keys.length; i++) {
      const [k, b] = this.keys[i]!;
      const v = r[k];
      if (v !== undefined && v !== null) b.set(row, v);
    }
    for (const name in r.fields) {
      let b = this.fields.get(name);
      if (!b) this.fields.set(name, (b = new ColumnBuilder()));
      b.set(row, r.fields[name]);
    }
  }

  /** The columns; `records` gives the same records as objects, in the same order. */
  finish(records: () => ExecutionRecord[]): RecordColumns {
    const length = this.n;
    const keys = new Map<KeyColumn, Column>();
    for (const [k, b] of this.keys) keys.set(k, b.finish(length));
    const fields = new Map<string, Column>();
    for (const [k, b] of this.fields) fields.set(k, b.finish(length));
    return new RecordColumns(length, keys, fields, records);
  }
}

/**
 * The rows to keep of `columns` when only the last record of each execution (target, instance,
 * benchmark, iteration) counts, in order; null when no execution is recorded twice. As
 * {@link LatestRecords} does for objects, but over the columns' codes where the keys allow (a
 * slot per possible execution: 20-45 ms per million rows, against 0.2-0.25 s through
 * {@link LatestRecords}, the fallback).
 */
export function latestRows(columns: RecordColumns): Uint32Array | null {
  const n = columns.length;
  if (n < 2) return null;
  const dict = (k: KeyColumn) => {
    const c = columns.keys.get(k);
    return c?.kind === 'dict' ? c : undefined;
  };
  const [t, i, b] = [dict('target'), dict('instance'), dict('benchmark')];
  const iteration = columns.keys.get('iteration');
  if (!t || !i || !b || iteration?.kind !== 'number') return latestRowsByKey(columns);
  let maxIteration = 0;
  for (let row = 0; row < n; row++) {
    const v = iteration.values[row]!;
    if (!(v >= 0 && Number.isInteger(v))) return latestRowsByKey(columns);
    if (v > maxIteration) maxIteration = v;
  }
  // as usual, few (target, instance, benchmark) and iterations from 0: a slot per possible execution
  const nI = i.values.length;
  const nB = b.values.length;
  const perGroup = maxIteration + 1;
  const slots = t.values.length * nI * nB * perGroup;
  if (slots > Math.max(4 * n, 1 << 22)) return latestRowsByKey(columns);
  const latest = new Uint32Array(slots); // the row + 1 of each execution's record so far
  let gone: Uint8Array | null = null;
  let dropped = 0;
  for (let row = 0; row < n; row++) {
    const slot = ((t.codes[row]! * nI + i.codes[row]!) * nB + b.codes[row]!) * perGroup + iteration.values[row]!;
    const earlier = latest[slot]!;
    if (earlier) {
      (gone ??= new Uint8Array(n))[earlier - 1] = 1;
      dropped++;
    }
    latest[slot] = row + 1;
  }
  return gone && kept(gone, n - dropped);
}

/** The rows not `gone`, `count` of them. */
function kept(gone: Uint8Array, count: number): Uint32Array {
  const keep = new Uint32Array(count);
  let out = 0;
  for (let row = 0; row < gone.length; row++) if (!gone[row]) keep[out++] = row;
  return keep;
}

/** {@link latestRows} for any columns: the records' own keys, in nested maps as `latestRecords` (read.ts) keeps them. */
function latestRowsByKey(columns: RecordColumns): Uint32Array | null {
  const n = columns.length;
  const [target, instance, benchmark, iteration] = (['target', 'instance', 'benchmark', 'iteration'] as const).map((k) =>
    columns.keys.get(k),
  );
  const cell = (c: Column | undefined, row: number) => (c ? cellOf(c, row) : undefined);
  const latest = new LatestRecords();
  let gone: Uint8Array | null = null;
  let dropped = 0;
  for (let row = 0; row < n; row++) {
    const key = {
      target: cell(target, row),
      instance: cell(instance, row),
      benchmark: cell(benchmark, row),
      iteration: cell(iteration, row),
    };
    const earlier = latest.see(key as ExecutionKeyParts, row);
    if (earlier !== undefined) {
      (gone ??= new Uint8Array(n))[earlier] = 1;
      dropped++;
    }
  }
  return gone && kept(gone, n - dropped);
}

/**
 * Which record of each execution (target, instance, benchmark, iteration) came last: an
 * execution cut short by an interrupt is recorded as crashed and `run --resume` records it
 * again. Nested maps of the record's own strings cost far less than a joined key per record.
 */
export class LatestRecords {
  private readonly rows = new Map<string, Map<string, Map<string, Map<number, number>>>>();

  /** Notes that `row` holds `r`; returns the row of the execution's earlier record, if any. */
  see(r: ExecutionKeyParts, row: number): number | undefined {
    let byInstance = this.rows.get(r.target);
    if (!byInstance) this.rows.set(r.target, (byInstance = new Map<string, Map<string, Map<number, number>>>()));
    let byBenchmark = byInstance.get(r.instance);
    if (!byBenchmark) byInstance.set(r.instance, (byBenchmark = new Map<string, Map<number, number>>()));
    let byIteration = byBenchmark.get(r.benchmark);
    if (!byIteration) byBenchmark.set(r.benchmark, (byIteration = new Map<number, number>()));
    const earlier = byIteration.get(r.iteration);
    byIteration.set(r.iteration, row);
    return earlier;
  }
}
