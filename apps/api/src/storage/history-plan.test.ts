import { describe, expect, it } from 'vitest';
import {
  coarserPoints,
  historyCost,
  NICE_BUCKET_MS,
  planHistory,
  type HistoryPlanInput,
} from './history-plan.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const RAW_RETENTION = 7 * DAY;
const NOW = Date.UTC(2026, 2, 14, 9, 26, 53, 589);

const RESOLUTION = { raw: 1, '1m': MINUTE, '1h': HOUR } as const;

// A seeded generator, so a failing case can be reproduced from the seed in its message.
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function lastDays(days: number, points = 500): HistoryPlanInput {
  return { from: NOW - days * DAY, to: NOW, points, now: NOW, rawRetentionMs: RAW_RETENTION };
}

describe('planHistory', () => {
  it('never answers more buckets than points, and the buckets cover exactly from..to', () => {
    const random = mulberry32(20260314);
    const spans = [1, 999, MINUTE, HOUR, DAY, 30 * DAY, 400 * DAY, 5 * 365 * DAY, 200 * 365 * DAY];
    for (let n = 0; n < 10_000; n++) {
      const span =
        n < spans.length * 50 ? spans[n % spans.length]! : Math.ceil(random() ** 4 * 3e11);
      const points = n % 7 === 0 ? 1 : n % 11 === 0 ? 5000 : 1 + Math.floor(random() * 5000);
      // Mostly recent ranges, some before 1970 and some far in the past.
      const from = Math.round(NOW - random() * 3 * 365 * DAY) - (n % 13 === 0 ? 60 * 365 * DAY : 0);
      const input = { from, to: from + span, points, now: NOW, rawRetentionMs: RAW_RETENTION };
      const plan = planHistory(input);
      const context = `case ${n}: ${JSON.stringify(input)} → ${JSON.stringify(plan)}`;
      expect(plan.buckets, context).toBeLessThanOrEqual(points);
      expect(plan.buckets, context).toBeGreaterThanOrEqual(1);
      expect(plan.origin, context).toBeLessThanOrEqual(from);
      expect(from - plan.origin, context).toBeLessThan(plan.bucketMs);
      expect(plan.origin + plan.buckets * plan.bucketMs, context).toBeGreaterThanOrEqual(input.to);
      expect(plan.origin + (plan.buckets - 1) * plan.bucketMs, context).toBeLessThan(input.to);
      const resolution = RESOLUTION[plan.tier];
      expect(plan.bucketMs % resolution, context).toBe(0);
      expect(((plan.origin % resolution) + resolution) % resolution, context).toBe(0);
    }
  });

  it('takes the finest nice width that fits, aligned to a multiple of it', () => {
    // 1 h in 500 points wants 7.2 s: 5 s gives 720 buckets, 10 s gives 360 or 361.
    const plan = planHistory({ ...lastDays(1 / 24), from: NOW - HOUR });
    expect(plan).toEqual({
      tier: 'raw',
      bucketMs: 10 * SECOND,
      origin: NOW - HOUR - ((NOW - HOUR) % (10 * SECOND)),
      buckets: 361,
    });
  });

  it.each([
    ['1 h', 1 / 24, 'raw', 10 * SECOND],
    ['24 h', 1, '1m', 5 * MINUTE],
    ['7 d', 7, '1m', 30 * MINUTE],
    ['30 d', 30, '1h', 2 * HOUR],
  ] as const)('reads %s at 500 points from the %s tier', (_name, days, tier, bucketMs) => {
    const plan = planHistory(lastDays(days));
    expect(plan.tier).toBe(tier);
    expect(plan.bucketMs).toBe(bucketMs);
    expect(plan.buckets).toBeLessThanOrEqual(500);
  });

  it('reads rollups where retention pruned raw rows, even if fewer buckets result', () => {
    // 5000 points over 30 days would be 10-minute buckets, which the 1m tier serves.
    expect(planHistory(lastDays(30, 5000))).toMatchObject({ tier: '1m', bucketMs: 10 * MINUTE });
    // Two hours that are now eight days old: raw rows are gone, so whole minutes from 1m
    // (121 buckets: `from` sits 53.589 s into a minute).
    const old = { from: NOW - 8 * DAY, to: NOW - 8 * DAY + 2 * HOUR, points: 5000 };
    const plan = planHistory({ ...old, now: NOW, rawRetentionMs: RAW_RETENTION });
    expect(plan).toMatchObject({ tier: '1m', bucketMs: MINUTE, buckets: 121 });
    // The same two hours while still within raw retention: 2-second raw buckets.
    expect(planHistory({ ...old, now: old.to, rawRetentionMs: RAW_RETENTION })).toMatchObject({
      tier: 'raw',
      bucketMs: 2 * SECOND,
    });
    // Older than the 1m tier keeps (90 d): hourly buckets only.
    const ancient = { from: NOW - 100 * DAY, to: NOW - 100 * DAY + 2 * HOUR, points: 5000 };
    expect(planHistory({ ...ancient, now: NOW, rawRetentionMs: RAW_RETENTION })).toMatchObject({
      tier: '1h',
      bucketMs: HOUR,
      buckets: 3,
    });
    // A shorter raw retention moves a 1 h view to the 1m tier once it is older than that.
    expect(
      planHistory({
        from: NOW - HOUR,
        to: NOW,
        points: 500,
        now: NOW,
        rawRetentionMs: 30 * MINUTE,
      }),
    ).toMatchObject({ tier: '1m', bucketMs: MINUTE });
  });

  it('keeps the same bucket edges when a sliding window moves on by a second', () => {
    for (const [days, points] of [
      [1 / 24, 500],
      [1, 500],
      [7, 300],
      [30, 500],
      [1 / 1440, 5000],
    ] as const) {
      for (let step = 0; step < 120; step++) {
        const to = NOW + step * SECOND;
        const from = to - days * DAY;
        const base = { points, now: to, rawRetentionMs: RAW_RETENTION };
        const before = planHistory({ ...base, from, to });
        const after = planHistory({ ...base, from: from + SECOND, to: to + SECOND });
        expect(after.bucketMs).toBe(before.bucketMs);
        expect(after.tier).toBe(before.tier);
        // Edges are multiples of the width, so the windows share every bucket they overlap.
        expect((after.origin - before.origin) % before.bucketMs).toBe(0);
        expect(after.origin).toBeGreaterThanOrEqual(before.origin);
      }
    }
  });

  it('falls back to an exact width when no nice one fits', () => {
    // One point across a boundary of every nice width (a multiple of 2 d and of 7 d): no
    // nice bucket holds both ends.
    const boundary = Math.ceil(NOW / (14 * DAY)) * 14 * DAY;
    const plan = planHistory({
      from: boundary - 10 * MINUTE - 5,
      to: boundary + 10 * MINUTE,
      points: 1,
      now: boundary,
      rawRetentionMs: RAW_RETENTION,
    });
    expect(plan.buckets).toBe(1);
    expect(plan.tier).toBe('1m');
    expect(plan.origin).toBe(boundary - 11 * MINUTE);
    expect(plan.bucketMs).toBe(21 * MINUTE);
    expect(NICE_BUCKET_MS).not.toContain(plan.bucketMs);

    // Twenty years in 100 points: 73-day buckets of whole hours.
    const long = planHistory({ ...lastDays(20 * 365, 100) });
    expect(long.tier).toBe('1h');
    expect(long.buckets).toBeLessThanOrEqual(100);
  });

  it('never makes buckets narrower than the sampling interval, so no bucket falls between samples', () => {
    const minute = {
      from: NOW - MINUTE,
      to: NOW,
      points: 500,
      now: NOW,
      rawRetentionMs: RAW_RETENTION,
    };
    expect(planHistory(minute).bucketMs).toBe(200);
    const sampled = planHistory({ ...minute, minBucketMs: SECOND });
    expect(sampled).toMatchObject({ tier: 'raw', bucketMs: SECOND });
    expect(sampled.buckets).toBeLessThanOrEqual(61);
    // The seeds' 5-second interval.
    expect(planHistory({ ...minute, minBucketMs: 5 * SECOND }).bucketMs).toBe(5 * SECOND);
    // Wider ranges are unaffected.
    expect(planHistory({ ...lastDays(1), minBucketMs: SECOND }).bucketMs).toBe(5 * MINUTE);
  });

  it('refuses an empty range or no points', () => {
    const base = { now: NOW, rawRetentionMs: RAW_RETENTION };
    expect(() => planHistory({ ...base, from: NOW, to: NOW, points: 10 })).toThrow(RangeError);
    expect(() => planHistory({ ...base, from: 0, to: 1, points: 0 })).toThrow(RangeError);
  });
});

// On the hour, so ranges ending here need no alignment and the counts are round.
const END = Date.UTC(2026, 2, 14, 10, 0, 0, 0);

describe('historyCost', () => {
  const base = { now: END, rawRetentionMs: RAW_RETENTION, minBucketMs: SECOND };
  const cost = (span: number, points: number, series = 20, samplingIntervalMs = SECOND) => {
    const input = { ...base, from: END - span, to: END, points, minBucketMs: samplingIntervalMs };
    return historyCost(planHistory(input), { to: END, series, samplingIntervalMs });
  };

  it('counts one raw row per sampling interval, or one rollup row per tier bucket, per series', () => {
    // 6 h at 5000 points: 5 s buckets, read from raw rows.
    expect(cost(6 * HOUR, 5000)).toEqual({ rowsPerSeries: 21_600, rows: 432_000 });
    expect(cost(6 * HOUR, 5000, 20, 500).rows).toBe(864_000);
    // 24 h at 1000 points: 2-minute buckets, read from 1-minute rollups.
    expect(cost(DAY, 1000).rowsPerSeries).toBe(1440);
    // 30 days: hourly rollups.
    expect(cost(30 * DAY, 500, 1).rowsPerSeries).toBe(720);
  });

  it('keeps every request the dashboard makes under the default cap of 500,000 rows', () => {
    const CAP = 500_000;
    // The live window's backfill: 15 minutes, one bucket per sample, 20 series a request, at
    // the fastest sampling the dashboard sizes for.
    expect(cost(15 * MINUTE, 1800, 20, 500).rows).toBeLessThanOrEqual(CAP);
    expect(cost(15 * MINUTE, 900).rows).toBeLessThanOrEqual(CAP);
    // The history view's presets at about one bucket per pixel of a chart up to 2000 px wide.
    for (const span of [HOUR, 6 * HOUR, DAY, 7 * DAY]) {
      for (const points of [50, 500, 1000, 2000]) {
        expect(cost(span, points).rows, `${span / HOUR} h at ${points} points`).toBeLessThanOrEqual(
          CAP,
        );
      }
    }
  });
});

describe('coarserPoints', () => {
  const base = { now: END, rawRetentionMs: RAW_RETENTION, minBucketMs: SECOND };
  const limits = { series: 20, samplingIntervalMs: SECOND, maxRows: 500_000 };

  it('suggests the most points whose plan fits under the cap: here 1-minute rollups', () => {
    const input = { ...base, from: END - DAY, to: END, points: 5000 };
    // 24 h at 5000 points is 30 s buckets of raw rows: 86,400 rows per series.
    expect(historyCost(planHistory(input), { ...limits, to: END }).rowsPerSeries).toBe(86_400);
    const suggestion = coarserPoints(input, limits);
    expect(suggestion?.plan).toMatchObject({ tier: '1m', bucketMs: MINUTE });
    // 2880 points would be 30 s raw buckets again; 1440 to 2879 all read 1-minute rollups.
    expect(suggestion?.points).toBe(2879);
    // One point more is the raw plan again, over the cap.
    const finer = planHistory({ ...input, points: suggestion!.points + 1 });
    expect(finer.bucketMs).toBeLessThan(MINUTE);
  });

  it('finds nothing when even one bucket reads too many rows', () => {
    const input = { ...base, from: END - 700 * DAY, to: END, points: 10 };
    expect(coarserPoints(input, { ...limits, series: 20, maxRows: 10_000 })).toBeNull();
  });
});
