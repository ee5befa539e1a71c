import type { HistoryPoint } from '@livestat/contracts';

/**
 * Series whose highest values differ by more than this factor do not share a y axis: on one
 * axis the smaller would lie flat along zero (page faults in thousands a second beside
 * migrations in tens).
 */
export const AXIS_SPLIT_RATIO = 20;

/** The highest value a series reaches (its buckets' max, else avg), 0 with no data. */
export function seriesPeak(points: readonly HistoryPoint[]): number {
  let peak = 0;
  for (const [, avg, , max] of points) {
    const value = max ?? avg;
    if (value !== null && Number.isFinite(value) && value > peak) peak = value;
  }
  return peak;
}

/**
 * The y axis each series of a chart is drawn against, by its peak: all on axis 0 while the
 * highest peak is within {@link AXIS_SPLIT_RATIO} × the lowest; otherwise split where the
 * peaks, sorted, are furthest apart (as a ratio): the larger ones on axis 0 (left), the smaller
 * on axis 1 (right). A series with no data (peak 0) rides on axis 0 and decides nothing.
 */
export function splitAxes(peaks: readonly number[], ratio = AXIS_SPLIT_RATIO): (0 | 1)[] {
  const positive = [...new Set(peaks.filter((peak) => peak > 0))].sort((a, b) => b - a);
  const single = peaks.map(() => 0 as const);
  if (positive.length < 2 || positive[0]! / positive.at(-1)! <= ratio) return single;
  let cut = 1;
  let widest = 0;
  for (let i = 1; i < positive.length; i += 1) {
    const gap = positive[i - 1]! / positive[i]!;
    if (gap > widest) {
      widest = gap;
      cut = i;
    }
  }
  // Everything at or above the larger side of the widest gap stays on the left axis.
  const threshold = positive[cut - 1]!;
  return peaks.map((peak) => (peak > 0 && peak < threshold ? 1 : 0));
}
