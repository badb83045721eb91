import { UserError } from '../core/errors.js';
import type { FieldValue } from '../core/runner.js';
import * as stats from './stats.js';

/** A table cell value an aggregation produces. */
export type Aggregated = number | string | boolean | null;

export interface Aggregation {
  description: string;
  /** Whether the result is a number on the field's own scale (so a ratio to a baseline makes sense). */
  scaled: boolean;
  /** `what` names the field and group for error messages. */
  fn(values: readonly FieldValue[], what: string): Aggregated;
}

function numbers(name: string, values: readonly FieldValue[], what: string): readonly number[] {
  // all numbers (the usual case): the sample itself, which statistics may know already
  if (values.every((v) => typeof v === 'number')) return values;
  const out: number[] = [];
  for (const v of values) {
    if (typeof v === 'number') out.push(v);
    else if (typeof v === 'boolean') out.push(v ? 1 : 0);
    else throw new UserError(`aggregation '${name}' needs numbers, but ${what} has the value '${String(v)}'`);
  }
  return out;
}

function numeric(name: string, description: string, scaled: boolean, f: (xs: readonly number[]) => number | null): Aggregation {
  return {
    description,
    scaled,
    fn: (values, what) => (values.length ? f(numbers(name, values, what)) : null),
  };
}

const text = (v: FieldValue): string => (v === null ? '' : String(v));

function compareValues(a: FieldValue, b: FieldValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return text(a).localeCompare(text(b), undefined, { numeric: true });
}

/**
 * The aggregations `-f FIELD:AGG` accepts, with the reference's meanings (stdev and variance
 * are population measures, mad is the unscaled median absolute deviation).
 */
export const AGGREGATIONS: Record<string, Aggregation> = {
  count: { description: 'number of values', scaled: false, fn: (v) => v.length },
  mean: numeric('mean', 'arithmetic mean', true, stats.mean),
  median: numeric('median', 'median', true, stats.median),
  stdev: numeric('stdev', 'population standard deviation (divides by n, as the reference does)', true, stats.stdev),
  stdev_sample: numeric(
    'stdev_sample',
    'sample standard deviation (divides by n - 1, as hyperfine and pyperf report; needs 2 values)',
    true,
    (xs) => (xs.length < 2 ? null : stats.sampleStdev(xs)),
  ),
  stdev_percent: numeric(
    'stdev_percent',
    'population standard deviation as a percentage of the mean',
    false,
    (xs) => (100 * stats.stdev(xs)) / stats.mean(xs),
  ),
  variance: numeric('variance', 'population variance', false, stats.variance),
  mad: numeric('mad', 'median absolute deviation from the median', true, stats.mad),
  min: numeric('min', 'smallest value', true, (xs) => xs.reduce((a, b) => (b < a ? b : a))),
  max: numeric('max', 'largest value', true, (xs) => xs.reduce((a, b) => (b > a ? b : a))),
  sum: numeric('sum', 'sum of the values', true, stats.sum),
  geomean: numeric('geomean', 'geometric mean', true, stats.geomean),
  same: {
    description: 'the value, which must be the same in every result (an error otherwise)',
    scaled: true,
    fn(values, what) {
      if (!values.length) return null;
      const distinct = [...new Set(values.map(text))];
      if (distinct.length > 1) {
        throw new UserError(`aggregation 'same': ${what} has different values: ${distinct.slice(0, 5).join(', ')}`);
      }
      return values[0]!;
    },
  },
  one: {
    description: 'the value of the only result (an error if there are several)',
    scaled: true,
    fn(values, what) {
      if (values.length > 1) throw new UserError(`aggregation 'one': ${what} has ${values.length} values, expected one`);
      return values.length ? values[0]! : null;
    },
  },
  first: { description: 'the first value found', scaled: true, fn: (v) => (v.length ? v[0]! : null) },
  all: { description: 'all values, space-separated', scaled: false, fn: (v) => v.map(text).join(' ') },
  sort: {
    description: 'all values sorted, space-separated',
    scaled: false,
    fn: (v) => [...v].sort(compareValues).map(text).join(' '),
  },
};

export function aggregationNames(): string[] {
  return Object.keys(AGGREGATIONS);
}

/** Looks up an aggregation, with an error that lists the valid ones. */
export function getAggregation(name: string): Aggregation {
  const agg = AGGREGATIONS[name];
  if (!agg) throw new UserError(`unknown aggregation '${name}'; valid aggregations: ${aggregationNames().join(', ')}`);
  return agg;
}
