import {
  flattenSeries,
  SERIES_SECTIONS,
  type SeriesSection,
  type Snapshot,
} from '@livestat/contracts';

/** A rollup tier: its table, bucket width and how long its rows are kept. */
export interface Tier {
  name: '1m' | '1h';
  table: 'metrics_rollup_1m' | 'metrics_rollup_1h';
  bucketMs: number;
  retentionMs: number;
}

const DAY_MS = 86_400_000;

/** The rollup tiers, finest first. Raw rows are kept `RETENTION_DAYS`; rollups far longer. */
export const TIERS: readonly Tier[] = [
  { name: '1m', table: 'metrics_rollup_1m', bucketMs: 60_000, retentionMs: 90 * DAY_MS },
  { name: '1h', table: 'metrics_rollup_1h', bucketMs: 3_600_000, retentionMs: 730 * DAY_MS },
];

/** avg/min/max of one series in one bucket, as sums so buckets merge exactly. */
export interface Aggregate {
  host: string;
  series: string;
  bucketMs: number;
  samples: number;
  sum: number;
  min: number;
  max: number;
}

/**
 * Folds snapshot sections into per-(host, series, bucket) aggregates for every tier, ready to
 * merge into the tier tables. `sections` lists which section of which snapshot to count, so a
 * row the database already held (a retried batch) is never counted twice.
 */
export function aggregateSections(
  sections: Iterable<{ snapshot: Snapshot; section: SeriesSection }>,
  tiers: readonly Tier[] = TIERS,
): Map<Tier, Aggregate[]> {
  // tier → host → bucket → series: nested maps, because building a composite string key for
  // each of ~100 values per section was most of the rollups' cost (bench/ingest).
  const byTier = tiers.map(() => new Map<string, Map<number, Map<string, Aggregate>>>());
  for (const { snapshot, section } of sections) {
    const ts = Date.parse(snapshot.timestamp);
    const values = flattenSeries(section, snapshot[section]);
    if (values.size === 0) continue;
    for (let t = 0; t < tiers.length; t++) {
      const bucketMs = ts - (ts % tiers[t]!.bucketMs);
      const hosts = byTier[t]!;
      let buckets = hosts.get(snapshot.host);
      if (!buckets) hosts.set(snapshot.host, (buckets = new Map()));
      let bucket = buckets.get(bucketMs);
      if (!bucket) buckets.set(bucketMs, (bucket = new Map()));
      for (const [series, value] of values) {
        const current = bucket.get(series);
        if (current) {
          current.samples += 1;
          current.sum += value;
          if (value < current.min) current.min = value;
          if (value > current.max) current.max = value;
        } else {
          bucket.set(series, {
            host: snapshot.host,
            series,
            bucketMs,
            samples: 1,
            sum: value,
            min: value,
            max: value,
          });
        }
      }
    }
  }
  return new Map(
    tiers.map((tier, t) => [
      tier,
      [...byTier[t]!.values()].flatMap((buckets) =>
        [...buckets.values()].flatMap((bucket) => [...bucket.values()]),
      ),
    ]),
  );
}

/** Every section of a snapshot that is stored as its own row. */
export const STORED_SECTIONS: readonly SeriesSection[] = SERIES_SECTIONS;
