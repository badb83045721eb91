/**
 * Statistics used by `report`: descriptive measures, the geometric mean, the Mann–Whitney U
 * test (as LLVM LNT uses it to decide whether a change is real) and a bootstrap confidence
 * interval. All functions take plain number arrays and never mutate them.
 */

export function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

export function mean(xs: readonly number[]): number {
  return xs.length ? sum(xs) / xs.length : NaN;
}

/**
 * Sorted copies of frozen samples (a report's cells), kept for the next statistic of the same
 * sample: a frozen array cannot change. Never handed out, so never changed either.
 */
const sortedOfFrozen = new WeakMap<readonly number[], Float64Array>();

function sorted(xs: readonly number[]): Float64Array {
  if (!Object.isFrozen(xs)) return new Float64Array(xs).sort();
  let s = sortedOfFrozen.get(xs);
  if (!s) sortedOfFrozen.set(xs, (s = new Float64Array(xs).sort()));
  return s;
}

export function median(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const s = sorted(xs);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Population variance (divides by n), as the reference's `variance` aggregation. */
export function variance(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  const m = mean(xs);
  let acc = 0;
  for (const x of xs) acc += (x - m) * (x - m);
  return acc / xs.length;
}

/** Population standard deviation. */
export function stdev(xs: readonly number[]): number {
  return Math.sqrt(variance(xs));
}

/**
 * Sample standard deviation (Bessel's n − 1 denominator), the estimate hyperfine and pyperf
 * report; NaN for fewer than two values.
 */
export function sampleStdev(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  return Math.sqrt((variance(xs) * xs.length) / (xs.length - 1));
}

/** Coefficient of variation: population stdev / mean (a fraction, not a percentage). */
export function cv(xs: readonly number[]): number {
  const m = mean(xs);
  return m === 0 ? (stdev(xs) === 0 ? 0 : Infinity) : stdev(xs) / Math.abs(m);
}

/** Median absolute deviation from the median (unscaled). */
export function mad(xs: readonly number[]): number {
  const m = median(xs);
  return median(xs.map((x) => Math.abs(x - m)));
}

/** Added to every value when some are zero, so one zero does not make the mean zero (as LNT). */
export const GEOMEAN_EPSILON = 1e-9;

/**
 * Geometric mean. Zeros are handled as LNT does (shift all values by a tiny epsilon);
 * a negative value has no geometric mean and gives NaN.
 */
export function geomean(xs: readonly number[]): number {
  if (!xs.length) return NaN;
  let hasZero = false;
  for (const x of xs) {
    if (x < 0 || Number.isNaN(x)) return NaN;
    if (x === 0) hasZero = true;
  }
  const shift = hasZero ? GEOMEAN_EPSILON : 0;
  let logs = 0;
  for (const x of xs) logs += Math.log(x + shift);
  const g = Math.exp(logs / xs.length) - shift;
  return Math.abs(g) < shift ? 0 : g;
}

/** Standard normal CDF, via a high-precision complementary error function. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

/** erfc with relative error below 1.2e-7 everywhere (Chebyshev fit). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

export interface MannWhitneyResult {
  /** U statistic of the first sample: pairs (a, b) with a > b, ties counting one half. */
  u: number;
  /** Two-sided p-value. */
  p: number;
  method: 'exact' | 'normal';
}

/** Largest n1·n2 for which the exact distribution is computed (when there are no ties). */
const EXACT_LIMIT = 2500;

/**
 * Two-sided Mann–Whitney U test. Without ties and for small samples the p-value comes from
 * the exact distribution of U; otherwise from the normal approximation with tie correction
 * and continuity correction (the same choices as scipy's `mannwhitneyu`).
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  const n1 = a.length;
  const n2 = b.length;
  if (!n1 || !n2) throw new Error('mannWhitneyU needs two non-empty samples');
  // ranks from the two samples sorted apart and merged: no object per value
  const sa = sorted(a);
  const sb = sorted(b);
  const n = n1 + n2;
  let rankSumA = 0;
  let tieTerm = 0;
  for (let i = 0, j = 0; i < n1 || j < n2;) {
    const v = j >= n2 || (i < n1 && sa[i]! <= sb[j]!) ? sa[i]! : sb[j]!;
    const rank = i + j + 1;
    const [i0, j0] = [i, j];
    while (i < n1 && sa[i] === v) i++;
    while (j < n2 && sb[j] === v) j++;
    const ta = i - i0;
    const t = ta + j - j0;
    // the tied values share the mean of the ranks they span
    rankSumA += ta * (rank + (t - 1) / 2);
    if (t > 1) tieTerm += t * t * t - t;
  }
  const u = rankSumA - (n1 * (n1 + 1)) / 2;
  if (tieTerm === 0 && n1 * n2 <= EXACT_LIMIT) {
    const cdf = exactUCdf(n1, n2);
    const lower = Math.min(u, n1 * n2 - u);
    return { u, p: Math.min(1, 2 * cdf[lower]!), method: 'exact' };
  }
  const mu = (n1 * n2) / 2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  if (sigma === 0) return { u, p: 1, method: 'normal' };
  const z = Math.max(0, Math.abs(u - mu) - 0.5) / sigma;
  return { u, p: Math.min(1, 2 * (1 - normalCdf(z))), method: 'normal' };
}

const exactCache = new Map<string, Float64Array>();

/** P(U <= k) for k = 0..n1·n2 under the null hypothesis, by counting arrangements. */
function exactUCdf(n1: number, n2: number): Float64Array {
  const key = `${Math.min(n1, n2)},${Math.max(n1, n2)}`;
  const hit = exactCache.get(key);
  if (hit) return hit;
  const max = n1 * n2;
  // counts[i][j][u]: arrangements of i first-sample and j second-sample values with statistic u;
  // f(i, j) = f(i-1, j) shifted by j  +  f(i, j-1). Rows are rolled over i.
  let prev: Float64Array[] = [];
  for (let i = 0; i <= n1; i++) {
    const cur: Float64Array[] = [];
    for (let j = 0; j <= n2; j++) {
      const f = new Float64Array(i * j + 1);
      if (i === 0 || j === 0) f[0] = 1;
      else {
        const up = prev[j]!;
        for (let k = 0; k < up.length; k++) f[k + j]! += up[k]!;
        const left = cur[j - 1]!;
        for (let k = 0; k < left.length; k++) f[k]! += left[k]!;
      }
      cur.push(f);
    }
    prev = cur;
  }
  const counts = prev[n2]!;
  const total = sum(Array.from(counts));
  const cdf = new Float64Array(max + 1);
  let acc = 0;
  for (let k = 0; k <= max; k++) {
    acc += counts[k]!;
    cdf[k] = acc / total;
  }
  exactCache.set(key, cdf);
  return cdf;
}

/** Minimum samples per side before the significance test is trusted (as LNT). */
export const MIN_SAMPLES_FOR_TEST = 4;

/** A small, fast, seedable PRNG so bootstrap results are reproducible. */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The k-th smallest value (0-based) of `buf`, which is reordered (Hoare's selection). */
function select(buf: Float64Array, k: number): number {
  let lo = 0;
  let hi = buf.length - 1;
  while (lo < hi) {
    const pivot = buf[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (buf[i]! < pivot) i++;
      while (buf[j]! > pivot) j--;
      if (i <= j) {
        const t = buf[i]!;
        buf[i++] = buf[j]!;
        buf[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return buf[k]!;
  }
  return buf[k]!;
}

function medianInPlace(buf: Float64Array): number {
  const mid = buf.length >> 1;
  const upper = select(buf, mid);
  if (buf.length % 2) return upper;
  // after selecting `mid`, everything before it is smaller or equal: the lower middle is their max
  let lower = -Infinity;
  for (let i = 0; i < mid; i++) if (buf[i]! > lower) lower = buf[i]!;
  return (lower + upper) / 2;
}

/**
 * Percentile bootstrap confidence interval of median(b) / median(a) (b relative to the
 * baseline a). Deterministic for a given seed.
 */
export function bootstrapRatioCI(
  a: readonly number[],
  b: readonly number[],
  opts: { resamples?: number; confidence?: number; seed?: number } = {},
): [number, number] {
  const resamples = opts.resamples ?? 1000;
  const confidence = opts.confidence ?? 0.95;
  const rand = mulberry32(opts.seed ?? 0x1f2e3d4c);
  const bufA = new Float64Array(a.length);
  const bufB = new Float64Array(b.length);
  const ratios = new Float64Array(resamples);
  const resampleMedian = (xs: readonly number[], buf: Float64Array): number => {
    for (let i = 0; i < buf.length; i++) buf[i] = xs[Math.floor(rand() * xs.length)]!;
    return medianInPlace(buf);
  };
  for (let r = 0; r < resamples; r++) ratios[r] = resampleMedian(b, bufB) / resampleMedian(a, bufA);
  ratios.sort();
  const lo = Math.floor(((1 - confidence) / 2) * (resamples - 1));
  const hi = Math.ceil((1 - (1 - confidence) / 2) * (resamples - 1));
  return [ratios[lo]!, ratios[hi]!];
}
