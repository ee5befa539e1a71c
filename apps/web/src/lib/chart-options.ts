import type { LineSeriesOption } from 'echarts/charts';
import type { GridComponentOption } from 'echarts/components';
import type { ComposeOption } from 'echarts/core';
import {
  NO_VALUE,
  formatByteRate,
  formatBytes,
  formatCount,
  formatDecimal,
  formatPercent,
  formatRate,
  niceScale,
} from './format';
import type { ThemeColors } from './theme';

/** What a chart's numbers measure, which decides how its axis and tooltip write them. */
export type Unit = 'percent' | 'bytes' | 'byteRate' | 'rate' | 'count' | 'ratio';

/** One line of a chart: a series path of the live window and its legend label. */
export interface ChartLine {
  path: string;
  label: string;
  /** Lines sharing a stack name are drawn as stacked areas (memory's used/cached/free). */
  stack?: string;
}

/** What a chart shows: its lines and their unit. */
export interface ChartSpec {
  unit: Unit;
  lines: readonly ChartLine[];
  /** A fixed top of the y axis (100 for percentages); otherwise it follows the data. */
  yMax?: number;
}

/**
 * The option of a live chart, as `setOption` takes it: lines on a grid, nothing more. The
 * legend and the tooltip are the page's own HTML (`LiveChart.vue`), so the dashboard route
 * does not carry ECharts' legend, tooltip and axis-pointer components.
 */
export type LiveChartOption = ComposeOption<LineSeriesOption | GridComponentOption>;

/** A point of a chart's data: a null value breaks the line there. */
export type ChartPoint = [time: number, value: number | null];

/** The read side of a {@link import('./series-ring').SeriesRing}. */
export interface RingReader {
  readonly length: number;
  timeAt(index: number): number;
  valueAt(index: number): number;
  lowerBound(time: number): number;
}

/** The read side of the store's {@link import('./live-series').LiveSeries}. */
export interface LiveSource {
  readonly windowMs: number;
  readonly intervalMs: number;
  /** The newest sample time − the window: the left edge of the chart. */
  readonly cutoff: number;
  get(path: string): RingReader | undefined;
}

/**
 * Consecutive points further apart than this many sampling intervals have a gap between them
 * (the sampler stopped, the socket was down and nothing filled it): the line breaks there.
 * Under it, jitter or a late tick still draws as one continuous line.
 */
export const GAP_FACTOR = 2.5;

/**
 * A ring's points from `from` on, oldest first, as chart data: a `[time, null]` point is put
 * one interval after the last point before each gap longer than {@link GAP_FACTOR} intervals,
 * so ECharts breaks the line there instead of drawing a straight segment across the gap.
 *
 * Past `maxPoints` the samples are thinned before ECharts sees them (it clones, stores and
 * draws every point it is given, a second, for every line): runs of consecutive samples
 * become their lowest and their highest, in time order. What is drawn is still real samples,
 * and a one-second spike in a 15-minute window survives, as it would not an average.
 */
export function chartData(
  ring: RingReader | undefined,
  intervalMs: number,
  from = Number.NEGATIVE_INFINITY,
  maxPoints = Number.POSITIVE_INFINITY,
): ChartPoint[] {
  if (ring === undefined) return [];
  const start = Number.isFinite(from) ? ring.lowerBound(from) : 0;
  const count = ring.length - start;
  // Two points (a low and a high) a run; a run never spans a gap.
  const run = count > maxPoints ? Math.ceil((2 * count) / Math.max(2, maxPoints)) : 1;
  const maxStep = GAP_FACTOR * intervalMs;
  const points: ChartPoint[] = [];
  let previous = Number.NaN;
  let i = start;
  while (i < ring.length) {
    const time = ring.timeAt(i);
    if (time - previous > maxStep) points.push([previous + intervalMs, null]);
    if (run === 1) {
      points.push([time, ring.valueAt(i)]);
      previous = time;
      i += 1;
      continue;
    }
    let low = i;
    let high = i;
    let end = i + 1;
    while (
      end < ring.length &&
      end - i < run &&
      ring.timeAt(end) - ring.timeAt(end - 1) <= maxStep
    ) {
      if (ring.valueAt(end) < ring.valueAt(low)) low = end;
      if (ring.valueAt(end) > ring.valueAt(high)) high = end;
      end += 1;
    }
    const [first, second] = low <= high ? [low, high] : [high, low];
    points.push([ring.timeAt(first), ring.valueAt(first)]);
    if (second !== first) points.push([ring.timeAt(second), ring.valueAt(second)]);
    previous = ring.timeAt(end - 1);
    i = end;
  }
  return points;
}

/**
 * Points a live line is given at most: about one every two pixels of the widest chart the
 * layout makes (three columns of ~22 rem, or one column on a phone).
 */
export const LIVE_MAX_POINTS = 300;

/** A value in full, as a tooltip or a headline figure shows it. */
export function formatValue(unit: Unit, value: number | null | undefined): string {
  switch (unit) {
    case 'percent':
      return formatPercent(value);
    case 'bytes':
      return value === null || value === undefined ? NO_VALUE : formatBytes(value);
    case 'byteRate':
      return formatByteRate(value);
    case 'rate':
      return formatRate(value);
    case 'count':
      return formatCount(value);
    case 'ratio':
      return formatDecimal(value);
  }
}

/** `1.50 KiB` → `1.5 KiB`, `2.00 MiB` → `2 MiB`: trailing zeros of the number dropped. */
const trimZeros = (text: string) => text.replace(/(\.\d*?[1-9])0+ /, '$1 ').replace(/\.0+ /, ' ');

/** A y-axis tick: as {@link formatValue}, shorter where the axis allows (`50 %`, `1.5`, `2 MiB/s`). */
export function formatAxisValue(unit: Unit, value: number): string {
  switch (unit) {
    case 'percent':
      return formatPercent(value, 0);
    case 'ratio':
      return String(Number(value.toFixed(2)));
    default:
      // Ticks fall on round values (see niceScale): `2.00 MiB` reads as `2 MiB`, `2.00 k/s` as `2 k/s`.
      return trimZeros(formatValue(unit, value));
  }
}

/**
 * A y-axis step for byte values up to `max`: a power of two of bytes, about `splits` steps to
 * the top, so ticks read `0 · 256 · 512 · 768 KiB` or `0 · 2 · 4 · 6 MiB` rather than ECharts'
 * decimal `977 KiB · 1.91 MiB` (see {@link niceScale}). Undefined when there is nothing to
 * scale (no data, all zero).
 */
export function niceByteStep(max: number, splits = 3): number | undefined {
  if (!(max > 0) || !Number.isFinite(max)) return undefined;
  return niceScale(max, 'binary', splits).interval;
}

/** The highest point of a chart's lines, stacked lines summed at each time. */
export function chartMax(spec: ChartSpec, series: readonly LineSeriesOption[]): number {
  let max = 0;
  const stacks = new Map<string, Map<number, number>>();
  for (const line of series) {
    const stack = spec.lines.find((l) => l.path === line.id)?.stack;
    const sums = stack === undefined ? undefined : (stacks.get(stack) ?? new Map<number, number>());
    if (stack !== undefined && sums !== undefined) stacks.set(stack, sums);
    for (const [time, value] of (line.data ?? []) as ChartPoint[]) {
      if (value === null) continue;
      if (sums === undefined) max = Math.max(max, value);
      else sums.set(time, (sums.get(time) ?? 0) + value);
    }
  }
  for (const sums of stacks.values()) for (const sum of sums.values()) max = Math.max(max, sum);
  return max;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for the tooltip's HTML (interface and mount names come from the host). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

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
 * counted. Null when no line has a point.
 */
export function tooltipAt(
  spec: ChartSpec,
  option: LiveChartOption,
  time: number,
  palette: readonly string[],
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
  if (rows.length <= TOOLTIP_MAX_ROWS) return { time: at, rows, more: 0 };
  const top = [...rows]
    .sort((a, b) => (b.value ?? Number.NEGATIVE_INFINITY) - (a.value ?? Number.NEGATIVE_INFINITY))
    .slice(0, TOOLTIP_MAX_ROWS);
  return { time: at, rows: top, more: rows.length - TOOLTIP_MAX_ROWS };
}

/** The colour of the `index`-th line of a chart: the theme's palette, in order, repeating. */
export function lineColor(palette: readonly string[], index: number): string {
  return palette.length === 0 ? 'currentColor' : palette[index % palette.length]!;
}

/**
 * The structure of a live chart, its data left empty: axes in `spec.unit`, one line a series
 * (its `id` the series path, so updates and line changes match by path, its colour fixed by
 * its place in `spec`), and no animation (a 1 Hz redraw should not slide).
 */
export function baseChartOption(spec: ChartSpec, palette: readonly string[]): LiveChartOption {
  const series: LineSeriesOption[] = spec.lines.map((line, i) => ({
    id: line.path,
    name: line.label,
    type: 'line',
    color: lineColor(palette, i),
    showSymbol: false,
    symbol: 'none',
    lineStyle: { width: 1.5 },
    ...(line.stack === undefined
      ? {}
      : { stack: line.stack, areaStyle: { opacity: 0.35 }, lineStyle: { width: 1 } }),
    emphasis: { disabled: true },
    data: [],
  }));
  return {
    animation: false,
    grid: {
      left: 4,
      right: 12,
      top: 10,
      bottom: 4,
      outerBoundsMode: 'same',
      outerBoundsContain: 'axisLabel',
    },
    xAxis: {
      type: 'time',
      // The newest time sits at the right edge: its label ends there instead of overflowing.
      axisLabel: { hideOverlap: true, fontSize: 11, alignMaxLabel: 'right' },
      splitLine: { show: false },
    },
    yAxis: {
      type: 'value',
      min: 0,
      // null, not absent: a merging setOption would otherwise keep a previous spec's top.
      max: (spec.yMax ?? null) as number | undefined,
      splitNumber: 3,
      axisLabel: {
        fontSize: 11,
        formatter: (value: number) => formatAxisValue(spec.unit, value),
      },
    },
    series,
  };
}

/**
 * The option of one redraw: `base` (from {@link baseChartOption} of the same spec) with each
 * shown line's data from `source` and the x axis spanning the live window up to the newest
 * sample. Lines in `hidden` (paths) are left out. Only the data arrays and the axis range are
 * new; the rest is shared with `base`.
 */
export function liveChartOption(
  base: LiveChartOption,
  spec: ChartSpec,
  source: LiveSource,
  hidden: ReadonlySet<string> = new Set(),
): LiveChartOption {
  const from = source.cutoff;
  const series = (base.series as LineSeriesOption[])
    .map((line, i) => ({ line, path: spec.lines[i]!.path }))
    .filter(({ path }) => !hidden.has(path))
    .map(({ line, path }) => ({
      ...line,
      data: chartData(source.get(path), source.intervalMs, from, LIVE_MAX_POINTS),
    }));
  const xAxis = Number.isFinite(from)
    ? { ...base.xAxis, min: from, max: from + source.windowMs }
    : base.xAxis;
  if (spec.unit !== 'bytes' && spec.unit !== 'byteRate') {
    return { ...base, xAxis, series } as LiveChartOption;
  }
  // The top is a whole number of steps (ECharts would round it in decimal: 2.93 KiB). Null,
  // not absent, without data: a merging setOption would otherwise keep the last ones.
  const highest = chartMax(spec, series);
  const step = niceByteStep(highest);
  const yAxis =
    step === undefined
      ? { ...base.yAxis, interval: null, max: null }
      : { ...base.yAxis, interval: step, max: Math.ceil(highest / step) * step };
  return { ...base, xAxis, yAxis, series } as LiveChartOption;
}

/** How a redraw goes to ECharts: the option to pass and the `setOption` settings. */
export interface ChartUpdate {
  option: LiveChartOption;
  settings: { replaceMerge?: string[]; lazyUpdate: true };
}

/**
 * What a 1 Hz redraw sends to ECharts. When `next` keeps the structure of `previous` (the
 * same base option and the same lines), only what a tick changes — each line's data by id and
 * the axes' ranges — merged into the chart's models: ECharts then rebuilds no component, only
 * the data of each line. Otherwise the whole option, its lines replaced.
 */
export function liveChartUpdate(
  previous: { base: LiveChartOption; option: LiveChartOption } | null,
  base: LiveChartOption,
  next: LiveChartOption,
): ChartUpdate {
  const lines = next.series as LineSeriesOption[];
  const sameLines =
    previous !== null &&
    previous.base === base &&
    sameIds(previous.option.series as LineSeriesOption[], lines);
  if (!sameLines) return { option: next, settings: { replaceMerge: ['series'], lazyUpdate: true } };
  const xAxis = next.xAxis as { min?: number; max?: number };
  const yAxis = next.yAxis as { interval?: number | null; max?: number | null };
  const option: LiveChartOption = {
    xAxis: { min: xAxis.min, max: xAxis.max },
    series: lines.map((line) => ({ id: line.id, data: line.data })),
  };
  // Only byte charts move their top and step with the data; the others keep the base's.
  // Null (clearing a step or top) is what a merging setOption needs; ECharts' types omit it.
  if (next.yAxis !== base.yAxis) {
    option.yAxis = { interval: yAxis.interval, max: yAxis.max } as LiveChartOption['yAxis'];
  }
  return { option, settings: { lazyUpdate: true } };
}

function sameIds(a: readonly LineSeriesOption[], b: readonly LineSeriesOption[]): boolean {
  return a.length === b.length && a.every((line, i) => line.id === b[i]!.id);
}

/** Whether any line of `spec` has a point in the live window. */
export function hasChartData(spec: ChartSpec, source: LiveSource): boolean {
  return spec.lines.some((line) => (source.get(line.path)?.length ?? 0) > 0);
}

/**
 * An ECharts theme from the page's colours: text and axes in the theme's foreground, muted and
 * border colours, a transparent background (the panel's surface shows through), the tooltip
 * on the surface colour, and the theme's series palette.
 */
export function chartTheme(colors: ThemeColors, dark: boolean): Record<string, unknown> {
  const axis = {
    axisLine: { lineStyle: { color: colors.border } },
    axisTick: { lineStyle: { color: colors.border } },
    axisLabel: { color: colors.muted },
    splitLine: { lineStyle: { color: colors.border } },
    nameTextStyle: { color: colors.muted },
  };
  return {
    darkMode: dark,
    color: [...colors.palette],
    backgroundColor: 'transparent',
    textStyle: { color: colors.fg },
    legend: {
      textStyle: { color: colors.fg },
      pageTextStyle: { color: colors.muted },
      pageIconColor: colors.fg,
      pageIconInactiveColor: colors.border,
    },
    tooltip: {
      backgroundColor: colors.surface,
      borderColor: colors.border,
      textStyle: { color: colors.fg },
    },
    axisPointer: { lineStyle: { color: colors.muted }, label: { color: colors.fg } },
    timeAxis: axis,
    valueAxis: axis,
    categoryAxis: axis,
    dataZoom: {
      borderColor: colors.border,
      textStyle: { color: colors.muted },
      dataBackground: { lineStyle: { color: colors.muted }, areaStyle: { color: colors.border } },
    },
    line: { symbol: 'none' },
  };
}
