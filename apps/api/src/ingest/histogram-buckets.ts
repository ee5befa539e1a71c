import type { Distribution } from './app-aggregator.js';

/**
 * Histogram buckets in OTLP's explicit form: `counts[i]` values fell in
 * (`bounds[i-1]`, `bounds[i]`], the first bucket open below (from `lowest` when known) and the
 * last open above. `counts` has one more entry than `bounds`, or none at all.
 */
export interface Buckets {
  bounds: number[];
  counts: number[];
  /** Lower edge of the first bucket, when the encoding gives one (exponential histograms). */
  lowest?: number;
}

const asObj = (value: unknown): Record<string, unknown> | null =>
  typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
const num = (value: unknown): number =>
  typeof value === 'number'
    ? value
    : typeof value === 'string' && value !== ''
      ? Number(value)
      : NaN;

/** Most buckets one exponential data point may expand to (OTLP's default is 160 a side). */
const MAX_EXPONENTIAL_BUCKETS = 4096;

/**
 * An exponential histogram data point as explicit {@link Buckets}: bucket `index` covers
 * (base^index, base^(index+1)] with base = 2^(2^-scale), negative ones mirrored, and the zero
 * bucket in between. Null when the point is malformed.
 */
export function exponentialBuckets(point: Record<string, unknown>): Buckets | null {
  const scale = num(point.scale ?? 0);
  if (!Number.isInteger(scale) || scale < -10 || scale > 20) return null;
  const base = 2 ** (2 ** -scale);
  const side = (value: unknown) => {
    const o = asObj(value);
    const offset = num(o?.offset ?? 0);
    const counts = (Array.isArray(o?.bucketCounts) ? o.bucketCounts : []).map(num);
    if (!Number.isInteger(offset) || counts.some((c) => !Number.isFinite(c) || c < 0)) return null;
    return { offset, counts };
  };
  const positive = side(point.positive);
  const negative = side(point.negative);
  const zero = num(point.zeroCount ?? 0);
  if (positive === null || negative === null || !(zero >= 0)) return null;
  if (positive.counts.length + negative.counts.length > MAX_EXPONENTIAL_BUCKETS) return null;

  const bounds: number[] = [];
  const counts: number[] = [];
  let lowest: number | undefined;
  // Negative buckets from the most negative up: index i covers [-base^(i+1), -base^i).
  for (let k = negative.counts.length - 1; k >= 0; k -= 1) {
    const index = negative.offset + k;
    lowest ??= -(base ** (index + 1));
    counts.push(negative.counts[k]!);
    bounds.push(-(base ** index));
  }
  // The zero bucket, up to the first positive bucket's lower edge.
  lowest ??= 0;
  counts.push(zero);
  bounds.push(positive.counts.length > 0 ? base ** positive.offset : 0);
  for (let k = 0; k < positive.counts.length; k += 1) {
    counts.push(positive.counts[k]!);
    bounds.push(base ** (positive.offset + k + 1));
  }
  // Nothing falls above the last positive bucket.
  counts.push(0);
  return { bounds, counts, lowest };
}

/**
 * Count, sum, min, max and p50/p90/p99 of a bucketed histogram, each percentile interpolated
 * linearly within the bucket that holds its rank (open edges closed by min and max).
 */
export function histogramDistribution(
  count: number,
  sum: number,
  min: number | undefined,
  max: number | undefined,
  buckets: Buckets,
): Distribution {
  const at = (q: number) => estimate(buckets, count, q, min, max);
  return { count, sum, min, max, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

function estimate(
  buckets: Buckets,
  count: number,
  q: number,
  min: number | undefined,
  max: number | undefined,
): number | undefined {
  const total = buckets.counts.reduce((a, b) => a + b, 0);
  if (total <= 0 || count <= 0) return undefined;
  const rank = q * total;
  let before = 0;
  for (let i = 0; i < buckets.counts.length; i += 1) {
    const c = buckets.counts[i]!;
    if (c > 0 && before + c >= rank) {
      let lower =
        i === 0
          ? (buckets.lowest ?? min ?? Math.min(0, buckets.bounds[0] ?? 0))
          : buckets.bounds[i - 1]!;
      let upper = buckets.bounds[i] ?? max ?? lower;
      if (min !== undefined && lower < min) lower = min;
      if (max !== undefined && upper > max) upper = max;
      if (upper < lower) upper = lower;
      return lower + ((upper - lower) * (rank - before)) / c;
    }
    before += c;
  }
  return max;
}
