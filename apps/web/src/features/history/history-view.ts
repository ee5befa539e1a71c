import { HISTORY_DEFAULT_POINTS, HISTORY_MAX_POINTS } from '@livestat/contracts';
import type { HistoryResponse } from '@livestat/contracts';
import type { Unit } from '../../lib/chart-units';
import { HISTORY_PRESETS } from './history-presets';
import type { HistoryPresetId } from './history-presets';

/** A time range in epoch ms, `from` before `to`. */
export interface TimeRange {
  from: number;
  to: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export { HISTORY_PRESETS } from './history-presets';
export type { HistoryPresetId } from './history-presets';

/** The preset's range, ending at `now`. */
export function presetRange(id: HistoryPresetId, now: number): TimeRange {
  const preset = HISTORY_PRESETS.find((p) => p.id === id) ?? HISTORY_PRESETS[0];
  return { from: now - preset.ms, to: now };
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Epoch ms as a `datetime-local` input's value (local time, to the minute). */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  return (
    `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}`
  );
}

const LOCAL_INPUT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;

/**
 * A `datetime-local` value (local time) as epoch ms; NaN when it is not one, including dates
 * that do not exist (`2025-02-30T10:00`).
 */
export function fromLocalInput(text: string): number {
  const match = LOCAL_INPUT.exec(text.trim());
  if (!match) return NaN;
  const [y, mo, d, h, mi, s] = match.slice(1, 7).map((part) => Number(part ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // `.5` is 500 ms, not 5.
  const ms = match[7] === undefined ? 0 : Number(match[7].padEnd(3, '0'));
  const date = new Date(y, mo - 1, d, h, mi, s, ms);
  // Date rolls an impossible day or time over into the next; refuse it instead.
  if (date.getFullYear() !== y || date.getMonth() !== mo - 1 || date.getDate() !== d) return NaN;
  if (h > 23 || mi > 59 || s > 59) return NaN;
  return date.getTime();
}

/** A custom range as typed: the range, or why it is not one (shown beside the inputs). */
export type CustomRangeResult = { ok: true; range: TimeRange } | { ok: false; error: string };

/** Checks the two `datetime-local` values of a custom range: both valid, start before end. */
export function parseCustomRange(fromText: string, toText: string, now: number): CustomRangeResult {
  if (fromText.trim() === '' || toText.trim() === '') {
    return { ok: false, error: 'Enter both a start and an end time.' };
  }
  const from = fromLocalInput(fromText);
  if (Number.isNaN(from)) return { ok: false, error: 'The start is not a valid date and time.' };
  const to = fromLocalInput(toText);
  if (Number.isNaN(to)) return { ok: false, error: 'The end is not a valid date and time.' };
  if (!(from < to)) return { ok: false, error: 'The start must be before the end.' };
  if (from >= now) return { ok: false, error: 'The range starts in the future: nothing to show.' };
  return { ok: true, range: { from, to } };
}

/** The fewest buckets asked for, however narrow the chart. */
export const MIN_HISTORY_POINTS = 50;

/**
 * Buckets to ask for on a chart `widthPx` wide: about one per pixel, within
 * [{@link MIN_HISTORY_POINTS}, HISTORY_MAX_POINTS]; the API's default when the width is unknown.
 */
export function pointsFor(widthPx: number): number {
  if (!(widthPx > 0) || !Number.isFinite(widthPx)) return HISTORY_DEFAULT_POINTS;
  return Math.min(HISTORY_MAX_POINTS, Math.max(MIN_HISTORY_POINTS, Math.round(widthPx)));
}

/** The narrowest range a zoom reaches (less holds too few samples to be worth a request). */
export const MIN_ZOOM_SPAN_MS = MINUTE;

/** A dataZoom window as percentages (0–100) of the base range. */
export interface ZoomPercent {
  start: number;
  end: number;
}

const FULL_EPSILON = 1e-6;

/**
 * The range a zoom window shows inside `base`, in whole ms: `base` itself when the window is
 * the whole of it, and never narrower than {@link MIN_ZOOM_SPAN_MS} (or `base`, if shorter).
 */
export function zoomedRange(base: TimeRange, zoom: ZoomPercent): TimeRange {
  const start = Math.min(100, Math.max(0, Math.min(zoom.start, zoom.end)));
  const end = Math.min(100, Math.max(0, Math.max(zoom.start, zoom.end)));
  if (start <= FULL_EPSILON && end >= 100 - FULL_EPSILON) return { ...base };
  const span = base.to - base.from;
  let from = Math.round(base.from + (span * start) / 100);
  let to = Math.round(base.from + (span * end) / 100);
  const minSpan = Math.min(MIN_ZOOM_SPAN_MS, span);
  if (to - from < minSpan) {
    const middle = (from + to) / 2;
    from = Math.round(Math.min(base.to - minSpan, Math.max(base.from, middle - minSpan / 2)));
    to = from + minSpan;
  }
  return { from, to };
}

/** Where `visible` sits inside `base`, as a dataZoom window. */
export function zoomPercent(base: TimeRange, visible: TimeRange): ZoomPercent {
  const span = base.to - base.from;
  if (!(span > 0)) return { start: 0, end: 100 };
  const clamp = (value: number) => Math.min(100, Math.max(0, value));
  return {
    start: clamp(((visible.from - base.from) / span) * 100),
    end: clamp(((visible.to - base.from) / span) * 100),
  };
}

/** Whether `visible` is narrower than `base` (a zoom to reset). */
export function isZoomed(base: TimeRange, visible: TimeRange): boolean {
  return visible.from > base.from || visible.to < base.to;
}

/** Whether two ranges are the same to the millisecond. */
export function sameRange(a: TimeRange | undefined, b: TimeRange | undefined): boolean {
  return a !== undefined && b !== undefined && a.from === b.from && a.to === b.to;
}

/** How long zooming must pause before the zoomed range is fetched at finer resolution. */
export const ZOOM_REFETCH_DELAY_MS = 300;

/**
 * The window of an ECharts `datazoom` event: a slider's `{start, end}`, or the first of an
 * inside zoom's `batch`. Null for anything else.
 */
export function zoomFromEvent(payload: unknown): ZoomPercent | null {
  if (payload === null || typeof payload !== 'object') return null;
  const record = payload as { start?: unknown; end?: unknown; batch?: unknown };
  const source =
    Array.isArray(record.batch) && record.batch.length > 0
      ? (record.batch[0] as { start?: unknown; end?: unknown })
      : record;
  const { start, end } = source;
  if (typeof start !== 'number' || typeof end !== 'number') return null;
  if (!Number.isFinite(start) || !Number.isFinite(end)) return null;
  return { start, end };
}

/** One charted series: a path the history API answers, and its short label. */
export interface HistorySeriesDef {
  path: string;
  label: string;
}

/** Series charted together: one chart, one unit. */
export interface SeriesGroup {
  id: string;
  label: string;
  unit: Unit;
  series: readonly HistorySeriesDef[];
}

const BUCKET_UNITS = [
  { ms: 24 * HOUR, unit: 'd' },
  { ms: HOUR, unit: 'h' },
  { ms: MINUTE, unit: 'min' },
  { ms: 1000, unit: 's' },
] as const;

/** A bucket width in its largest whole-ish unit: `500 ms`, `10 s`, `5 min`, `1.5 h`, `7 d`. */
export function formatBucket(ms: number): string {
  for (const { ms: size, unit } of BUCKET_UNITS) {
    if (ms >= size) return `${Number((ms / size).toFixed(1))} ${unit}`;
  }
  return `${Math.round(ms)} ms`;
}

/** Whether any bucket of the given series holds a value. */
export function hasData(response: HistoryResponse, paths: readonly string[]): boolean {
  return paths.some((path) => (response.series[path] ?? []).some((point) => point[1] !== null));
}
