import type { LineSeriesOption } from 'echarts/charts';
import type { GridComponentOption } from 'echarts/components';
import type { ComposeOption } from 'echarts/core';
import type { Unit } from '../../lib/chart-units';
import { formatAxisValue, niceByteStep } from '../../lib/chart-units';
import { bandData, bandIds, bandSeries, valueAtTime, type ChartBand } from './chart-band';

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
  /** Values may fall below zero (a gauge): the axis then reaches down to the lowest. */
  signed?: boolean;
  /** A filled band between two of the lines (a timer's p50 → p99), drawn under them. */
  band?: ChartBand;
  /** Series the tooltip lists after the lines, each written its own way, without drawing them. */
  notes?: readonly { path: string; label: string; format: (value: number) => string }[];
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
  /** Bumped by any change but samples appended at the newest time (see `LiveSeries`). */
  readonly revision?: number;
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
  if (spec.band !== undefined) {
    const top = spec.lines.findIndex((line) => line.path === spec.band!.to);
    series.push(...bandSeries(spec.band, lineColor(palette, Math.max(0, top))));
  }
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
      min: spec.signed ? (extent: { min: number }) => Math.min(0, extent.min) : 0,
      // null, not absent: a merging setOption would otherwise keep a previous spec's top.
      max: (spec.yMax ?? null) as number | undefined,
      // Whole percents: a near-idle line (a cgroup at 0.02 %) would label its ticks 0, 0, 1, 1 %.
      ...(spec.unit === 'percent' ? { minInterval: 1 } : {}),
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
  /** A series of no points drawn after the lines: the alerts' marked areas. */
  extra?: LineSeriesOption,
): LiveChartOption {
  const from = source.cutoff;
  const templates = base.series as LineSeriesOption[];
  const series: LineSeriesOption[] = templates
    .slice(0, spec.lines.length)
    .map((line, i) => ({ line, path: spec.lines[i]!.path }))
    .filter(({ path }) => !hidden.has(path))
    .map(({ line, path }) => ({
      ...line,
      data: chartData(source.get(path), source.intervalMs, from, LIVE_MAX_POINTS),
    }));
  alignStacks(spec, source, series);
  const band = spec.band;
  // The band goes with its edges: hiding either line hides it.
  if (band !== undefined && !hidden.has(band.from) && !hidden.has(band.to)) {
    const upper = (series.find((line) => line.id === band.to)?.data ?? []) as ChartPoint[];
    const data = bandData(upper, source.get(band.from));
    const ids = bandIds(band);
    for (const template of templates.slice(spec.lines.length)) {
      series.push({ ...template, data: template.id === ids.base ? data.base : data.span });
    }
  }
  if (extra !== undefined) series.push(extra);
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

/**
 * Makes the lines of each stack share the times of its first shown line, in place. ECharts
 * stacks a line on the point of the one below at the same time; thinned separately, each line
 * keeps its own runs' lowest and highest samples, at different times, and the upper areas would
 * fall to their own values wherever the one below has no point. The first line's samples are
 * kept (memory's used: the one worth its spikes); the others give their value at those times.
 */
export function alignStacks(
  spec: ChartSpec,
  source: LiveSource,
  series: readonly LineSeriesOption[],
): void {
  const leads = new Map<string, ChartPoint[]>();
  for (const line of series) {
    const stack = spec.lines.find((l) => l.path === line.id)?.stack;
    if (stack === undefined) continue;
    const lead = leads.get(stack);
    if (lead === undefined) {
      leads.set(stack, line.data as ChartPoint[]);
      continue;
    }
    const ring = source.get(String(line.id));
    line.data = lead.map(([time, value]): ChartPoint => [
      time,
      value === null ? null : valueAtTime(ring, time),
    ]);
  }
}

/**
 * How a redraw goes to ECharts: the option to pass and the `setOption` settings. Not lazy: the
 * chart is updated and painted at once, in the animation frame its draw was given
 * (chart-frames.ts).
 */
export interface ChartUpdate {
  option: LiveChartOption;
  settings: { notMerge?: true };
}

/**
 * What a 1 Hz redraw sends to ECharts. When `next` keeps the structure of `previous` (the
 * same base option and the same lines), only what a tick changes — each line's data by id and
 * the axes' ranges — merged into the chart's models: ECharts then rebuilds no component, only
 * the data of each line. Otherwise the whole option, in place of the last (`notMerge`): a
 * theme change makes ECharts rebuild the chart from the option it keeps since the last
 * `notMerge` (its first `setOption` otherwise), so that must be the current whole option, or
 * the rebuilt chart lacks lines the ticks then update ("Unknown series").
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
  if (!sameLines) return { option: next, settings: { notMerge: true } };
  const xAxis = next.xAxis as { min?: number; max?: number };
  const yAxis = next.yAxis as { interval?: number | null; max?: number | null };
  const option: LiveChartOption = {
    xAxis: { min: xAxis.min, max: xAxis.max },
    // A series with marked areas (the alerts') sends them too: their open ends move with time.
    series: lines.map((line) =>
      line.markArea === undefined
        ? { id: line.id, data: line.data }
        : { id: line.id, data: line.data, markArea: line.markArea },
    ),
  };
  // Only byte charts move their top and step with the data; the others keep the base's.
  // Null (clearing a step or top) is what a merging setOption needs; ECharts' types omit it.
  if (next.yAxis !== base.yAxis) {
    option.yAxis = { interval: yAxis.interval, max: yAxis.max } as LiveChartOption['yAxis'];
  }
  return { option, settings: {} };
}

function sameIds(a: readonly LineSeriesOption[], b: readonly LineSeriesOption[]): boolean {
  return a.length === b.length && a.every((line, i) => line.id === b[i]!.id);
}

/**
 * Which whole pixel of a `plotWidth`-pixel chart the window's left edge has reached, offset by
 * `phase` (0–1) of a pixel; null when each sample moves the window a pixel or more (a 1- or
 * 5-minute window), or there is no width or window yet.
 *
 * A chart whose step is unchanged would draw its lines shifted by less than a pixel: over a
 * 15-minute window ~380 pixels wide a pixel is 2.4 samples, so it redraws on every second or
 * third sample instead of every one — unless a line's newest value moved (see
 * {@link newestMoved}): a spike is drawn with its sample. Charts get different phases, so they
 * take turns instead of all redrawing on the same tick. The figures above the charts show every
 * sample.
 */
export function pixelStep(
  source: Pick<LiveSource, 'cutoff' | 'windowMs' | 'intervalMs'>,
  plotWidth: number,
  phase: number,
): number | null {
  if (!(plotWidth > 0) || !Number.isFinite(source.cutoff)) return null;
  const msPerPixel = source.windowMs / plotWidth;
  if (msPerPixel <= source.intervalMs) return null;
  return Math.floor(source.cutoff / msPerPixel + phase);
}

/** The newest value of each shown line of `spec` (paths in `hidden` left out), by path. */
export function newestValues(
  spec: ChartSpec,
  source: LiveSource,
  hidden: ReadonlySet<string>,
): Map<string, number> {
  const values = new Map<string, number>();
  for (const { path } of spec.lines) {
    const ring = source.get(path);
    if (hidden.has(path) || ring === undefined || ring.length === 0) continue;
    values.set(path, ring.valueAt(ring.length - 1));
  }
  return values;
}

/**
 * Part of a chart's height a line's newest value may move, from the value it had when the
 * chart was last drawn, before the chart is drawn again even within the same pixel step: about
 * ten pixels of a 200-pixel plot. A spike is on screen with its sample, not a pixel later,
 * while a noisy line's small wobble waits for the pixel (with 1 %, CPU's noise redrew every
 * chart every second: bench/web's p50 per update went back to 34 ms).
 */
export const REDRAW_RISE = 0.05;

/**
 * Whether the newest values of `now` moved by more than {@link REDRAW_RISE} of `top` (the
 * chart's highest point when drawn) from `drawn`, or a line came or went.
 */
export function newestMoved(
  drawn: ReadonlyMap<string, number>,
  now: ReadonlyMap<string, number>,
  top: number,
): boolean {
  if (drawn.size !== now.size) return true;
  const limit = Math.abs(top) * REDRAW_RISE;
  for (const [path, value] of now) {
    const before = drawn.get(path);
    if (before === undefined || !(Math.abs(value - before) <= limit)) return true;
  }
  return false;
}

let phases = 0;
/** A phase for {@link pixelStep} for each chart made: spread over the pixel by the golden ratio. */
export function nextChartPhase(): number {
  phases += 1;
  return (phases * 0.618034) % 1;
}

/** Whether any line of `spec` has a point in the live window. */
export function hasChartData(spec: ChartSpec, source: LiveSource): boolean {
  return spec.lines.some((line) => (source.get(line.path)?.length ?? 0) > 0);
}
