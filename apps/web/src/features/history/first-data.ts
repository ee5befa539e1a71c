import type { HistoryPoint, HistoryResponse } from '@livestat/contracts';
import type { TimeRange } from './history-view';

/** The start of the earliest bucket of `paths` that holds a value; null when none does. */
export function firstDataTime(response: HistoryResponse, paths: readonly string[]): number | null {
  let first: number | null = null;
  for (const path of paths) {
    const point = (response.series[path] ?? []).find((p) => p[1] !== null);
    if (point !== undefined && (first === null || point[0] < first)) first = point[0];
  }
  return first;
}

/**
 * When the data of a range begins, if the range reaches back before it: the first stored
 * bucket's time when it starts a whole bucket or more after `range.from` (a first start, a
 * host added an hour ago), else null — the range is covered from its start, or holds nothing.
 */
export function collectingSince(
  range: TimeRange,
  bucketMs: number,
  first: number | null,
): number | null {
  if (first === null) return null;
  return first - range.from >= bucketMs ? first : null;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/**
 * "Collecting since 14:05" in local time; the date is added (`2025-06-01 14:05`) when
 * `since` is not on the same local day as `now`.
 */
export function collectingSinceText(since: number, now: number): string {
  const at = new Date(since);
  const today = new Date(now);
  const time = `${pad(at.getHours())}:${pad(at.getMinutes())}`;
  const sameDay =
    at.getFullYear() === today.getFullYear() &&
    at.getMonth() === today.getMonth() &&
    at.getDate() === today.getDate();
  const date = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}`;
  return `Collecting since ${sameDay ? time : `${date} ${time}`}`;
}

/**
 * For each bucket, whether its average stands alone — a value with no value in the bucket
 * before or after it. A line cannot draw such a point (it has no length), so the chart marks it
 * with a dot: the first bucket after a start, or a lone sample between gaps, stays visible.
 */
export function isolatedPoints(points: readonly HistoryPoint[]): boolean[] {
  return points.map(
    (point, i) =>
      point[1] !== null &&
      (points[i - 1]?.[1] ?? null) === null &&
      (points[i + 1]?.[1] ?? null) === null,
  );
}

/**
 * The part of `base` worth opening on when its data begins at `since`: from a bucket before
 * the first data to the end, so the first minutes after a start fill the chart instead of a
 * sliver at the edge of an empty hour. Null when the data covers most of the range (the gap
 * is under a tenth of it) or there is no data. The zoom slider still shows the whole range.
 */
export function collectedWindow(
  base: TimeRange,
  since: number | null,
  bucketMs: number,
): TimeRange | null {
  if (since === null) return null;
  const span = base.to - base.from;
  if (since - base.from < 0.1 * span) return null;
  return { from: Math.max(base.from, since - bucketMs), to: base.to };
}
