import type { TimeRange } from './history-view';

/** The narrowest range a selection asks about: a second holds one sample at most. */
export const MIN_SELECTION_MS = 1000;

interface BrushArea {
  coordRange?: unknown;
}

/**
 * The time range of an ECharts `brushEnd` event on a time axis (`lineX` brush): whole ms,
 * `from` before `to`; null when the brush was cleared or is narrower than
 * {@link MIN_SELECTION_MS}.
 */
export function brushRange(event: unknown): TimeRange | null {
  const areas = (event as { areas?: BrushArea[] } | null)?.areas;
  const range = Array.isArray(areas) ? areas[0]?.coordRange : undefined;
  if (!Array.isArray(range) || range.length !== 2) return null;
  const [a, b] = range as unknown[];
  if (typeof a !== 'number' || typeof b !== 'number') return null;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return null;
  const from = Math.floor(Math.min(a, b));
  const to = Math.ceil(Math.max(a, b));
  return to - from >= MIN_SELECTION_MS ? { from, to } : null;
}

/**
 * The range a click at `time` asks about: the bucket the chart drew there (`bucketMs` wide,
 * centred on the point), and never less than `minMs` — a raw second is too narrow a question.
 * Kept inside `bounds`.
 */
export function pointRange(
  time: number,
  bucketMs: number,
  bounds: TimeRange,
  minMs = 10_000,
): TimeRange {
  const span = Math.min(Math.max(bucketMs, minMs), bounds.to - bounds.from);
  const from = Math.min(Math.max(bounds.from, Math.round(time - span / 2)), bounds.to - span);
  return { from, to: from + span };
}
