import {
  flattenSeries,
  resolveSeries,
  type HistoryPoint,
  type HistoryResponse,
  type SeriesSection,
  type Snapshot,
} from '@livestat/contracts';

/** One snapshot this process streamed recently: its time and its JSON, as the stream's ring holds it. */
export interface RecentSnapshot {
  timestampMs: number;
  json: string;
}

/**
 * A host's recent snapshots, oldest first: everything this process streamed since the first
 * one listed (the stream's ring), including what the batch writer has not stored yet.
 */
export type RecentSource = (host: string) => readonly RecentSnapshot[];

/**
 * Completes a history answer with the recent snapshots the database may not hold yet (the batch
 * writer stores them in batches), so the newest buckets are never a batch behind the stream:
 *
 * - a bucket the recent snapshots cover whole (the first of them is at or before its start)
 *   is answered from them: they are every snapshot of that span, stored or not;
 * - a bucket the database has nothing in takes what the recent snapshots have of it;
 * - any other bucket keeps the database's answer.
 *
 * Pure: returns a new answer, `response` is left as it is. Each snapshot is parsed at most once.
 */
export function withRecent(
  response: HistoryResponse,
  recent: readonly RecentSnapshot[],
): HistoryResponse {
  const first = recent[0];
  const { from, to, bucketMs } = response;
  if (first === undefined || !(bucketMs > 0)) return response;
  const inRange = recent.filter((s) => s.timestampMs >= from && s.timestampMs < to);
  if (inRange.length === 0) return response;
  const coveredFrom = first.timestampMs;

  const parsed = new Map<RecentSnapshot, Snapshot | null>();
  const read = (entry: RecentSnapshot): Snapshot | null => {
    let snapshot = parsed.get(entry);
    if (snapshot === undefined) {
      try {
        snapshot = JSON.parse(entry.json) as Snapshot;
      } catch {
        snapshot = null;
      }
      parsed.set(entry, snapshot);
    }
    return snapshot;
  };
  const flattened = new Map<string, Map<string, number>>();
  const flat = (entry: RecentSnapshot, section: SeriesSection) => {
    const key = `${entry.timestampMs} ${section}`;
    let values = flattened.get(key);
    if (values === undefined) {
      const snapshot = read(entry);
      if (snapshot === null) return undefined;
      values = flattenSeries(section, snapshot[section]);
      flattened.set(key, values);
    }
    return values;
  };
  // The recent snapshots in each bucket, by bucket index.
  const byBucket = new Map<number, RecentSnapshot[]>();
  for (const entry of inRange) {
    const index = Math.floor((entry.timestampMs - from) / bucketMs);
    const list = byBucket.get(index) ?? [];
    list.push(entry);
    byBucket.set(index, list);
  }

  const series: Record<string, HistoryPoint[]> = {};
  for (const [path, points] of Object.entries(response.series)) {
    const resolved = resolveSeries(path);
    if (resolved === null) {
      series[path] = points;
      continue;
    }
    const valueOf = (entry: RecentSnapshot): number | undefined =>
      flat(entry, resolved.section)?.get(path);
    series[path] = points.map((point, index) => {
      const entries = byBucket.get(index);
      if (entries === undefined) return point;
      const covered = coveredFrom <= point[0];
      if (!covered && point[1] !== null) return point;
      let sum = 0;
      let count = 0;
      let min = Number.POSITIVE_INFINITY;
      let max = Number.NEGATIVE_INFINITY;
      for (const entry of entries) {
        const value = valueOf(entry);
        if (value === undefined) continue;
        sum += value;
        count += 1;
        min = Math.min(min, value);
        max = Math.max(max, value);
      }
      if (count === 0) return point;
      return [point[0], sum / count, min, max];
    });
  }
  return { ...response, series };
}
