import type { LineSeriesOption } from 'echarts/charts';
import type { ChartPoint, ChartSpec, LiveChartOption, LiveSource } from './chart-options';
import { valueAtTime } from './chart-band';
import { lineColor } from './chart-options';
import { formatValue } from '../../lib/chart-units';
import { NO_VALUE } from '../../lib/format';

/** The index of the point of `points` (in time order) nearest to `time`; -1 when empty. */
export function nearestIndex(points: readonly ChartPoint[], time: number): number {
  if (points.length === 0) return -1;
  let lo = 0;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]![0] < time) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && time - points[lo - 1]![0] <= points[lo]![0] - time) return lo - 1;
  return lo;
}

/** One line's row in the tooltip. */
export interface TooltipRow {
  path: string;
  label: string;
  color: string;
  /** The value formatted in the chart's unit, or {@link NO_VALUE} where the line has none. */
  text: string;
  value: number | null;
}

/** What the tooltip shows at one sample time. */
export interface TooltipContent {
  /** The sample time the pointer snapped to (epoch ms). */
  time: number;
  rows: TooltipRow[];
  /** Lines left out of a long list (per-core charts of big machines). */
  more: number;
}

/** A tooltip lists at most this many lines; past it, the highest values. */
export const TOOLTIP_MAX_ROWS = 12;

/**
 * The tooltip at `time`: snapped to the nearest sample of any shown line, then each shown line's
 * value at that sample in the chart's unit ({@link NO_VALUE} at a gap or where it has no sample
 * then). Beyond {@link TOOLTIP_MAX_ROWS} lines, the highest values are listed and the rest
 * counted. The spec's notes (a timer's count) follow, read from `source` at that sample, with
 * no colour. Null when no line has a point.
 */
export function tooltipAt(
  spec: ChartSpec,
  option: LiveChartOption,
  time: number,
  palette: readonly string[],
  source?: Pick<LiveSource, 'get'>,
): TooltipContent | null {
  const shown = (option.series as LineSeriesOption[]).map((series) => ({
    id: String(series.id),
    points: (series.data ?? []) as ChartPoint[],
  }));
  let snapped: number | undefined;
  for (const { points } of shown) {
    const index = nearestIndex(points, time);
    if (index === -1) continue;
    const t = points[index]![0];
    if (snapped === undefined || Math.abs(t - time) < Math.abs(snapped - time)) snapped = t;
  }
  if (snapped === undefined) return null;
  const at = snapped;
  const rows: TooltipRow[] = [];
  for (const { id, points } of shown) {
    const lineIndex = spec.lines.findIndex((line) => line.path === id);
    if (lineIndex === -1) continue;
    const index = nearestIndex(points, at);
    const point = index === -1 ? undefined : points[index];
    const value = point !== undefined && point[0] === at ? point[1] : null;
    rows.push({
      path: id,
      label: spec.lines[lineIndex]!.label,
      color: lineColor(palette, lineIndex),
      text: value === null ? NO_VALUE : formatValue(spec.unit, value),
      value,
    });
  }
  const notes = (spec.notes ?? []).map((note): TooltipRow => {
    const value = valueAtTime(source?.get(note.path), at);
    const text = value === null ? NO_VALUE : note.format(value);
    return { path: note.path, label: note.label, color: 'transparent', text, value };
  });
  if (rows.length <= TOOLTIP_MAX_ROWS) return { time: at, rows: [...rows, ...notes], more: 0 };
  const top = [...rows]
    .sort((a, b) => (b.value ?? Number.NEGATIVE_INFINITY) - (a.value ?? Number.NEGATIVE_INFINITY))
    .slice(0, TOOLTIP_MAX_ROWS);
  return { time: at, rows: [...top, ...notes], more: rows.length - TOOLTIP_MAX_ROWS };
}
