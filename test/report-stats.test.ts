import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AGGREGATIONS } from '../src/report/aggregate.js';
import { formatReportBlock, parseReportBlocks } from '../src/core/report-blocks.js';
import * as stats from '../src/report/stats.js';

const close = (actual: number, expected: number, tol = 1e-9) =>
  assert.ok(Math.abs(actual - expected) <= tol, `expected ${expected}, got ${actual}`);

// Reference values computed with scipy.stats.mannwhitneyu (method='exact' / 'asymptotic').
test('Mann-Whitney U: exact distribution for small samples without ties', () => {
  const r = stats.mannWhitneyU([1, 2, 3, 4], [5, 6, 7, 8]);
  assert.equal(r.method, 'exact');
  assert.equal(r.u, 0);
  close(r.p, 2 / 70);

  const r2 = stats.mannWhitneyU([1.1, 2.3, 3.2, 4.8, 0.5], [5, 6, 2.5, 7, 8, 9.1]);
  assert.equal(r2.u, 2);
  close(r2.p, 0.017316017316017316);

  // symmetric in the order of the samples
  close(stats.mannWhitneyU([5, 6, 7, 8], [1, 2, 3, 4]).p, 2 / 70);
});

test('Mann-Whitney U: larger exact case (25 vs 25, overlapping)', () => {
  const a = [
    10.2, 10.5, 10.1, 10.4, 10.3, 10.6, 10.0, 10.7, 10.9, 10.8, 11.0, 11.2, 11.1, 11.3, 11.5, 11.4, 11.6, 11.8, 11.7, 11.9, 12.0, 12.1,
    12.2, 12.3, 12.4,
  ];
  const b = a.map((x) => x + 0.35);
  const r = stats.mannWhitneyU(a, b);
  assert.equal(r.method, 'exact');
  assert.equal(r.u, 231);
  close(r.p, 0.11663881126432638, 1e-9);
});

test('Mann-Whitney U: normal approximation with tie correction', () => {
  const r = stats.mannWhitneyU([1, 2, 2, 3, 3, 3, 4], [3, 4, 4, 5, 5, 6, 7]);
  assert.equal(r.method, 'normal');
  assert.equal(r.u, 3.5);
  close(r.p, 0.007659988586736321, 1e-6);

  const same = stats.mannWhitneyU([1, 1, 1, 1], [1, 1, 1, 1]);
  assert.equal(same.u, 8);
  assert.equal(same.p, 1);
});

test('geometric mean, including zeros and invalid input', () => {
  close(stats.geomean([1, 2, 4, 8]), 2.82842712474619);
  close(stats.geomean([1.1, 0.9]), Math.sqrt(0.99));
  assert.ok(stats.geomean([0, 4]) < 1e-3, 'a zero pulls the geometric mean to ~0');
  assert.ok(Number.isNaN(stats.geomean([-1, 4])));
  assert.ok(Number.isNaN(stats.geomean([])));
});

test('population stdev, variance, median, MAD, coefficient of variation', () => {
  const xs = [2, 4, 4, 4, 5, 5, 7, 9];
  close(stats.mean(xs), 5);
  close(stats.variance(xs), 4);
  close(stats.stdev(xs), 2);
  // the sample standard deviation divides by n - 1: sqrt(32 / 7)
  close(stats.sampleStdev(xs), Math.sqrt(32 / 7));
  assert.ok(Number.isNaN(stats.sampleStdev([1])));
  close(AGGREGATIONS.stdev_sample!.fn(xs, 'field x') as number, Math.sqrt(32 / 7));
  assert.equal(AGGREGATIONS.stdev_sample!.fn([1], 'field x'), null, 'one value has no sample deviation');
  close(stats.median(xs), 4.5);
  close(stats.median([3, 1, 2]), 2);
  // |x - 4.5| = 2.5 .5 .5 .5 .5 .5 2.5 4.5 -> median 0.5
  close(stats.mad(xs), 0.5);
  close(stats.cv(xs), 0.4);
  assert.ok(Number.isNaN(stats.median([])));
});

test('aggregations have the reference meanings', () => {
  const v = [3, 1, 2, 2];
  const what = 'field x';
  assert.equal(AGGREGATIONS.count!.fn(v, what), 4);
  close(AGGREGATIONS.mean!.fn(v, what) as number, 2);
  close(AGGREGATIONS.stdev_percent!.fn(v, what) as number, (100 * Math.sqrt(0.5)) / 2);
  assert.equal(AGGREGATIONS.min!.fn(v, what), 1);
  assert.equal(AGGREGATIONS.max!.fn(v, what), 3);
  assert.equal(AGGREGATIONS.sum!.fn(v, what), 8);
  assert.equal(AGGREGATIONS.first!.fn(v, what), 3);
  assert.equal(AGGREGATIONS.all!.fn(v, what), '3 1 2 2');
  assert.equal(AGGREGATIONS.sort!.fn([10, 9, 100], what), '9 10 100');
  assert.equal(AGGREGATIONS.same!.fn([5, 5], what), 5);
  assert.throws(() => AGGREGATIONS.same!.fn([5, 6], what), /different values: 5, 6/);
  assert.throws(() => AGGREGATIONS.one!.fn([5, 6], what), /2 values/);
  assert.throws(() => AGGREGATIONS.mean!.fn(['fast'], what), /needs numbers.*'fast'/);
});

test('bootstrap CI of a ratio of medians is deterministic and brackets the true ratio', () => {
  const a = Array.from({ length: 30 }, (_, i) => 10 + (i % 7) * 0.1);
  const b = a.map((x) => x * 1.2);
  const ci1 = stats.bootstrapRatioCI(a, b);
  const ci2 = stats.bootstrapRatioCI(a, b);
  assert.deepEqual(ci1, ci2);
  assert.ok(ci1[0] <= 1.2 && 1.2 <= ci1[1], `CI ${ci1} should contain 1.2`);
  assert.ok(ci1[1] - ci1[0] < 0.1);
});

test('setup-report blocks: values typed as the original wrote them, torn blocks dropped', () => {
  const text = [
    'some program output',
    '[setup-report] begin rusage',
    '[setup-report] benchmark: 401.bzip2',
    '[setup-report] maxrss: 1024',
    '[setup-report] runtime: 1.5',
    '[setup-report] success: True',
    '[setup-report] note: hello: world',
    '[setup-report] end rusage',
    '[setup-report] begin torn',
    '[setup-report] runtime: 3',
  ].join('\n');
  const blocks = parseReportBlocks(text);
  assert.equal(blocks.length, 1);
  assert.deepEqual(blocks[0], {
    name: 'rusage',
    fields: { benchmark: '401.bzip2', maxrss: 1024, runtime: 1.5, success: true, note: 'hello: world' },
  });
  assert.deepEqual(parseReportBlocks(formatReportBlock('x', { a: 1, b: 'two', c: false })), [
    { name: 'x', fields: { a: 1, b: 'two', c: false } },
  ]);
});

test('bootstrap medians: selection gives the same medians as sorting', () => {
  // a CI over identical values is exactly the ratio, whatever is resampled
  assert.deepEqual(stats.bootstrapRatioCI([2, 2, 2, 2], [3, 3, 3, 3, 3]), [1.5, 1.5]);
  // even-sized samples average the two middle values: {1, 3} resamples give medians 1, 2 or 3
  const [lo, hi] = stats.bootstrapRatioCI([1, 3], [1, 3], { resamples: 4000 });
  assert.ok(lo <= 1 / 3 + 1e-12 && hi >= 3 - 1e-12, `${lo} ${hi}`);
});

test('Mann-Whitney U: the statistic matches ranking every value of both samples together, ties included', () => {
  // the naive way: sort all values with their sample, average the ranks of tied values
  const naiveU = (a: number[], b: number[]) => {
    const all = [...a.map((v) => ({ v, first: true })), ...b.map((v) => ({ v, first: false }))].sort((x, y) => x.v - y.v);
    let rankSum = 0;
    for (let i = 0; i < all.length;) {
      let j = i;
      while (j + 1 < all.length && all[j + 1]!.v === all[i]!.v) j++;
      for (let k = i; k <= j; k++) if (all[k]!.first) rankSum += (i + j) / 2 + 1;
      i = j + 1;
    }
    return rankSum - (a.length * (a.length + 1)) / 2;
  };
  let seed = 11;
  const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let trial = 0; trial < 200; trial++) {
    // few distinct values make many ties; some trials have none
    const levels = trial % 3 === 0 ? 1e9 : 2 + (trial % 7);
    const sample = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * levels));
    const a = sample(1 + (trial % 13));
    const b = sample(1 + ((trial * 7) % 17));
    assert.equal(stats.mannWhitneyU(a, b).u, naiveU(a, b), `trial ${trial}: ${a.join(',')} vs ${b.join(',')}`);
  }
});
