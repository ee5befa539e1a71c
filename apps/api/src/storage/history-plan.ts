import { TIERS, type Tier } from './rollup.js';

/** Where history buckets are computed from: raw snapshot rows or one of the rollup tiers. */
export type HistoryTier = 'raw' | Tier['name'];

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Bucket widths a chart's axis reads well, finest first. Buckets are aligned to multiples of
 * their width (from the epoch), so a chart refetching a sliding window gets the same buckets.
 */
export const NICE_BUCKET_MS: readonly number[] = [
  100,
  200,
  500,
  SECOND,
  2 * SECOND,
  5 * SECOND,
  10 * SECOND,
  15 * SECOND,
  30 * SECOND,
  MINUTE,
  2 * MINUTE,
  5 * MINUTE,
  10 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  DAY,
  2 * DAY,
  7 * DAY,
];

/** A history request as far as planning cares, in epoch ms. */
export interface HistoryPlanInput {
  from: number;
  /** Exclusive end; must be after `from`. */
  to: number;
  /** Most buckets wanted, at least 1. */
  points: number;
  /** The current time, to tell which rows retention has pruned. */
  now: number;
  /** How long raw rows are kept (`RETENTION_DAYS`). */
  rawRetentionMs: number;
  /**
   * The narrowest bucket worth answering — the sampling interval: a bucket narrower than the
   * gap between samples would show every other bucket empty. Default 0.
   */
  minBucketMs?: number;
}

/** How to answer a history request: which stored tier, and the buckets `[origin + k·bucketMs, …)`. */
export interface HistoryPlan {
  tier: HistoryTier;
  bucketMs: number;
  /** Start of the first bucket: at or before `from`, less than one bucket before it. */
  origin: number;
  /** How many buckets reach from `origin` to `to`: never more than `points`. */
  buckets: number;
}

function tierNamed(name: Tier['name']): Tier {
  const tier = TIERS.find((t) => t.name === name);
  if (tier === undefined) throw new Error(`no rollup tier named ${name}`);
  return tier;
}

const MINUTE_TIER = tierNamed('1m');
const HOUR_TIER = tierNamed('1h');

/** Floor of `value` to a multiple of `step`, also for times before 1970. */
function alignDown(value: number, step: number): number {
  return value - (((value % step) + step) % step);
}

/** ceil(a / b) for non-negative integers, exact where the float division is off by an ulp. */
function ceilDiv(a: number, b: number): number {
  let q = Math.ceil(a / b);
  if (q * b < a) q += 1;
  else if (q > 0 && (q - 1) * b >= a) q -= 1;
  return q;
}

/** The coarsest tier whose bucket width divides `bucketMs`: the fewest rows to read. */
function tierFor(bucketMs: number): HistoryTier {
  if (bucketMs % HOUR_TIER.bucketMs === 0) return '1h';
  if (bucketMs % MINUTE_TIER.bucketMs === 0) return '1m';
  return 'raw';
}

function resolutionOf(tier: HistoryTier): number {
  if (tier === '1h') return HOUR_TIER.bucketMs;
  if (tier === '1m') return MINUTE_TIER.bucketMs;
  return 1;
}

/**
 * Chooses buckets and the tier to read them from. Buckets take the finest nice width that
 * fits the range in at most `points` buckets; the tier is the coarsest whose resolution
 * divides that width — so a 30-day view reads hourly rollups, whose `max` still holds a
 * one-second spike. Where retention has pruned the finer rows for part of the range, the
 * plan moves to a coarser tier and may answer fewer buckets than asked.
 */
export function planHistory(input: HistoryPlanInput): HistoryPlan {
  const { from, to, points, now, rawRetentionMs } = input;
  const minBucketMs = input.minBucketMs ?? 0;
  if (!(to > from)) throw new RangeError('history range: from must be before to');
  if (!Number.isInteger(points) || points < 1) throw new RangeError('history points: at least 1');
  let floorTier: HistoryTier = 'raw';
  if (from < now - MINUTE_TIER.retentionMs) floorTier = '1h';
  else if (from < now - rawRetentionMs) floorTier = '1m';
  const minRes = resolutionOf(floorTier);

  for (const bucketMs of NICE_BUCKET_MS) {
    if (bucketMs % minRes !== 0 || bucketMs < minBucketMs) continue;
    const origin = alignDown(from, bucketMs);
    const buckets = ceilDiv(to - origin, bucketMs);
    if (buckets <= points) return { tier: tierFor(bucketMs), bucketMs, origin, buckets };
  }

  // No nice width fits (points=1 across a boundary, or ranges of years): an exact width,
  // rounded to the coarsest tier resolution it spans so long ranges still read rollups.
  const perPoint = (to - from) / points;
  const res = Math.max(
    minRes,
    perPoint >= HOUR_TIER.bucketMs
      ? HOUR_TIER.bucketMs
      : perPoint >= MINUTE_TIER.bucketMs
        ? MINUTE_TIER.bucketMs
        : 1,
  );
  const origin = alignDown(from, res);
  const bucketMs =
    Math.max(ceilDiv(ceilDiv(to - origin, points), res), ceilDiv(minBucketMs, res)) * res;
  return { tier: tierFor(bucketMs), bucketMs, origin, buckets: ceilDiv(to - origin, bucketMs) };
}

/** What a plan costs: rows each series' query reads, and all of them together. */
export interface HistoryCost {
  rowsPerSeries: number;
  rows: number;
}

/**
 * The rows a plan makes the database read before it answers: per series, one raw row per
 * sampling interval of the range, or one rollup row per tier bucket — counted before running,
 * so a request that would scan hours of raw rows can be refused rather than run.
 */
export function historyCost(
  plan: HistoryPlan,
  range: { to: number; series: number; samplingIntervalMs: number },
): HistoryCost {
  const span = Math.max(0, range.to - plan.origin);
  const resolution =
    plan.tier === 'raw' ? Math.max(1, range.samplingIntervalMs) : resolutionOf(plan.tier);
  const rowsPerSeries = Math.ceil(span / resolution);
  return { rowsPerSeries, rows: rowsPerSeries * range.series };
}

/** The largest `points` below the asked one whose plan reads at most `maxRows`, and that plan. */
export function coarserPoints(
  input: HistoryPlanInput,
  range: { series: number; samplingIntervalMs: number; maxRows: number },
): { points: number; plan: HistoryPlan } | null {
  const fits = (points: number) => {
    const plan = planHistory({ ...input, points });
    const { rows } = historyCost(plan, { ...range, to: input.to });
    return rows <= range.maxRows ? plan : null;
  };
  const bucketsOf = (bucketMs: number) =>
    ceilDiv(input.to - alignDown(input.from, bucketMs), bucketMs);
  // Each nice width, finest first, at the fewest points that reach it: the first that fits is
  // the finest answer under the limit. Offered at the most points that still plan that width
  // (one fewer than the next finer width needs).
  let finerBuckets = input.points;
  for (const bucketMs of NICE_BUCKET_MS) {
    const least = bucketsOf(bucketMs);
    const most = Math.min(input.points, finerBuckets) - 1;
    finerBuckets = least;
    if (least > most) continue;
    const plan = fits(least);
    if (!plan) continue;
    const widest = fits(most);
    return widest ? { points: most, plan: widest } : { points: least, plan };
  }
  const plan = fits(1);
  return plan && input.points > 1 ? { points: 1, plan } : null;
}
