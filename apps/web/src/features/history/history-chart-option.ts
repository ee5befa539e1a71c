import type { HistoryPoint, HistoryResponse } from '@livestat/contracts';
import type { LineSeriesOption } from 'echarts/charts';
import type {
  BrushComponentOption,
  DataZoomComponentOption,
  GridComponentOption,
  LegendComponentOption,
  TooltipComponentOption,
} from 'echarts/components';
import type { ComposeOption } from 'echarts/core';
import { escapeHtml, formatAxisValue, formatValue } from '../../lib/chart-units';
import type { Unit } from '../../lib/chart-units';
import { niceScale } from '../../lib/format';
import { MIN_ZOOM_SPAN_MS, zoomPercent } from './history-view';
import type { SeriesGroup, TimeRange } from './history-view';
import { seriesPeak, splitAxes } from './axis-split';
import { isolatedPoints } from './first-data';

/** The ECharts option type of a history chart: only what lib/echarts registers. */
export type HistoryChartOption = ComposeOption<
  | LineSeriesOption
  | GridComponentOption
  | TooltipComponentOption
  | LegendComponentOption
  | DataZoomComponentOption
  | BrushComponentOption
>;

/** The ids a history chart gives the three series drawing one history series. */
export const seriesIds = (path: string) =>
  ({ avg: `${path}:avg`, min: `${path}:min`, band: `${path}:band` }) as const;

interface TooltipParam {
  seriesId?: string;
  marker?: unknown;
  value?: unknown;
  axisValue?: unknown;
}

/**
 * A history chart's tooltip: the bucket's time, then per series `avg (min – max)` with units.
 * Reads the avg series' items `[time, avg, min, max]`; the band's helper series are skipped.
 */
export function historyTooltip(group: SeriesGroup, params: unknown): string {
  const list = (Array.isArray(params) ? params : [params]) as TooltipParam[];
  const rows: string[] = [];
  let time: number | undefined;
  for (const def of group.series) {
    const param = list.find((p) => p?.seriesId === seriesIds(def.path).avg);
    if (!param || !Array.isArray(param.value)) continue;
    const [t, avg, min, max] = param.value as (number | null)[];
    if (typeof t === 'number') time ??= t;
    const marker = typeof param.marker === 'string' ? param.marker : '';
    const values =
      avg === null || avg === undefined
        ? 'no data'
        : `<b>${formatValue(group.unit, avg)}</b> (${formatValue(group.unit, min)} – ${formatValue(group.unit, max)})`;
    // A label breaks between words at most, never inside one (`page fa|ults`).
    rows.push(
      `<div style="white-space:nowrap;word-break:keep-all">${marker}${escapeHtml(def.label)}: ${values}</div>`,
    );
  }
  if (time === undefined && typeof list[0]?.axisValue === 'number') time = list[0].axisValue;
  if (rows.length === 0) rows.push('<div>no data</div>');
  const head =
    time === undefined ? '' : `<div>${escapeHtml(new Date(time).toLocaleString())}</div>`;
  return `${head}${rows.join('')}<div style="opacity:.7">avg (min – max)</div>`;
}

/** What one chart draws: a group of series from a history answer, inside `base`, zoomed to `visible`. */
export interface HistoryChartInput {
  group: SeriesGroup;
  response: HistoryResponse;
  base: TimeRange;
  visible: TimeRange;
  /**
   * A touch screen: a one-finger drag scrolls the page instead of panning the chart (which
   * would trap the page under a finger); pinch and the slider still zoom.
   */
  touch?: boolean;
  /** A series of no points drawn after the lines: the alerts' marked areas. */
  extra?: LineSeriesOption;
}

const spread = (point: HistoryPoint): number | null =>
  point[2] === null || point[3] === null ? null : point[3] - point[2];

/**
 * The y axes of a chart: one, or a second on the right for series far smaller than the rest
 * (see {@link splitAxes}), each named by its series then. Each runs from 0 to a round top in
 * round steps of its unit (see {@link niceScale}); a percentage axis stops at 100.
 */
function yAxes(
  group: SeriesGroup,
  peaks: readonly number[],
  axisOf: readonly (0 | 1)[],
): YAxisOption[] {
  const count = axisOf.includes(1) ? 2 : 1;
  return Array.from({ length: count }, (_, axis) => {
    const peak = Math.max(0, ...peaks.filter((_, i) => axisOf[i] === axis));
    const scale =
      group.unit === 'percent'
        ? { max: 100, interval: 25 }
        : niceScale(peak, axisSteps(group.unit));
    const names = group.series.filter((_, i) => axisOf[i] === axis).map((def) => def.label);
    return {
      type: 'value',
      min: 0,
      ...scale,
      position: axis === 0 ? 'left' : 'right',
      ...(count === 2
        ? {
            name: names.join(' · '),
            nameLocation: 'end',
            nameGap: 8,
            nameTextStyle: { fontSize: 10, align: axis === 0 ? 'left' : 'right' },
          }
        : {}),
      // One set of grid lines: the second axis's would not line up with the first's.
      splitLine: { show: axis === 0 },
      axisLabel: { fontSize: 11, formatter: (v: number) => formatAxisValue(group.unit, v) },
    };
  });
}

/** One y axis of a history chart. */
type YAxisOption = Exclude<HistoryChartOption['yAxis'], unknown[] | undefined>;

/** Bytes step in binary units, everything else in decimal ones. */
const axisSteps = (unit: Unit) => (unit === 'bytes' || unit === 'byteRate' ? 'binary' : 'decimal');

/**
 * The ECharts option of one history chart. Each history series is three line series sharing
 * its name, so the legend toggles all three and ECharts gives them one palette colour (it picks
 * colours by series name): the average line, and a min–max band drawn the standard way, `min`
 * as an invisible base with `max − min` stacked on it and filled. Empty buckets are nulls, drawn
 * as gaps. The x axis spans `base` and the dataZoom window is `visible`, so the slider shows
 * where the zoom sits in the whole range. Colours come from the registered chart theme.
 */
export function historyChartOption(input: HistoryChartInput): HistoryChartOption {
  const { group, response, base, visible, touch = false } = input;
  const zoom = zoomPercent(base, visible);
  const minValueSpan = Math.min(MIN_ZOOM_SPAN_MS, base.to - base.from);
  const legend = group.series.length > 1;
  const peaks = group.series.map((def) => seriesPeak(response.series[def.path] ?? []));
  // A share of a whole has one scale, 0–100, whatever the magnitudes.
  const axisOf = group.unit === 'percent' ? peaks.map(() => 0 as const) : splitAxes(peaks);
  const split = axisOf.includes(1);
  const series: LineSeriesOption[] = [];
  group.series.forEach((def, index) => {
    const points = response.series[def.path] ?? [];
    const ids = seriesIds(def.path);
    const lone = isolatedPoints(points);
    const common = {
      type: 'line' as const,
      name: def.label,
      yAxisIndex: axisOf[index],
      showSymbol: false,
      symbol: 'none',
      connectNulls: false,
    };
    const helper = {
      ...common,
      z: 1,
      stack: `band:${def.path}`,
      // Stack whatever the signs: the band is max − min on min, always.
      stackStrategy: 'all' as const,
      silent: true,
      lineStyle: { opacity: 0 },
      emphasis: { disabled: true },
    };
    // The average first: the legend draws its icon from the first series of a name.
    series.push(
      {
        ...common,
        id: ids.avg,
        z: 3,
        lineStyle: { width: 1.5 },
        emphasis: { disabled: true },
        // Symbols only where a bucket stands alone: a line of one point has no length.
        showSymbol: lone.includes(true),
        // Min and max ride along for the tooltip; the line plots [time, avg].
        data: points.map((p, i) =>
          lone[i]
            ? { value: [p[0], p[1], p[2], p[3]], symbol: 'circle', symbolSize: 6 }
            : [p[0], p[1], p[2], p[3]],
        ),
        encode: { x: 0, y: 1 },
      },
      { ...helper, id: ids.min, data: points.map((p) => [p[0], p[2]]) },
      {
        ...helper,
        id: ids.band,
        areaStyle: { opacity: 0.2 },
        data: points.map((p) => [p[0], spread(p)]),
      },
    );
  });
  if (input.extra !== undefined) series.push(input.extra);

  return {
    animation: false,
    grid: {
      left: 4,
      // Room for half the last time label, which centres on the axis end.
      right: split ? 4 : 20,
      top: legend || split ? 32 : 10,
      bottom: 40,
      outerBoundsMode: 'same',
      outerBoundsContain: 'axisLabel',
    },
    legend: {
      show: legend,
      type: 'scroll',
      data: group.series.map((def) => def.label),
      top: 0,
      left: 0,
      right: 0,
      itemWidth: 14,
      itemHeight: 8,
      textStyle: { fontSize: 11 },
    },
    tooltip: {
      trigger: 'axis',
      confine: true,
      axisPointer: { type: 'line', animation: false },
      formatter: ((params: unknown) =>
        historyTooltip(group, params)) as TooltipComponentOption['formatter'],
    },
    xAxis: {
      type: 'time',
      min: base.from,
      max: base.to,
      axisLabel: { hideOverlap: true, fontSize: 11 },
      splitLine: { show: false },
    },
    yAxis: yAxes(group, peaks, axisOf),
    // A drag across the chart selects a time range ("who did it"): a mouse's drag is the
    // brush's (the chart takes the brush cursor, and ECharts then leaves panning to the
    // slider and the wheel). A finger's drag stays the page's scroll; a tap asks instead.
    brush: {
      xAxisIndex: 0,
      brushType: 'lineX',
      brushMode: 'single',
      transformable: false,
      removeOnClick: true,
      // The selection is a question about time, not a filter of the lines: none is dimmed.
      seriesIndex: [],
      brushStyle: {
        borderWidth: 1,
        color: 'rgba(47,125,225,0.15)',
        borderColor: 'rgba(47,125,225,0.6)',
      },
    },
    dataZoom: [
      // 'none': the data is already the visible range's; filtering would cut lines at the edges.
      {
        type: 'inside',
        xAxisIndex: 0,
        ...zoom,
        minValueSpan,
        filterMode: 'none',
        moveOnMouseMove: !touch,
        preventDefaultMouseMove: !touch,
      },
      {
        type: 'slider',
        xAxisIndex: 0,
        ...zoom,
        minValueSpan,
        filterMode: 'none',
        height: 18,
        bottom: 6,
        // Its shadow would draw only the zoomed data across the whole range: misleading.
        showDataShadow: false,
      },
    ],
    series,
  };
}
