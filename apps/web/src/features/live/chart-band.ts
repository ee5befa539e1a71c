import type { LineSeriesOption } from 'echarts/charts';
import type { ChartPoint, RingReader } from './chart-options';

/**
 * A band between two lines of a live chart — a timer's p50 up to its p99 — filled under the
 * lines. The lines stay ordinary lines (their legend, tooltip and values unchanged); the band
 * is two more series drawn the standard way (as History draws its min–max bands): the lower
 * line's values as an invisible base, and upper − lower stacked on it and filled.
 */
export interface ChartBand {
  /** The path of the line the band starts from (p50). */
  from: string;
  /** The path of the line it reaches up to (p99); the band takes that line's colour. */
  to: string;
}

/** The ids of a band's two series: never a series path (paths hold no `#`). */
export function bandIds(band: ChartBand): { base: string; span: string } {
  return { base: `${band.to}#band-base`, span: `${band.to}#band` };
}

/** The band's two series, data left empty, under the chart's lines (z 1; lines are z 2). */
export function bandSeries(band: ChartBand, color: string): LineSeriesOption[] {
  const ids = bandIds(band);
  const helper = {
    type: 'line' as const,
    color,
    z: 1,
    stack: ids.span,
    // Stack whatever the signs: the band is upper − lower on lower, always.
    stackStrategy: 'all' as const,
    showSymbol: false,
    symbol: 'none',
    silent: true,
    lineStyle: { opacity: 0, width: 0 },
    emphasis: { disabled: true },
    data: [],
  };
  return [
    { ...helper, id: ids.base },
    { ...helper, id: ids.span, areaStyle: { opacity: 0.22 } },
  ];
}

/** The value `ring` holds at exactly `time`, or null. */
export function valueAtTime(ring: RingReader | undefined, time: number): number | null {
  if (ring === undefined) return null;
  const index = ring.lowerBound(time);
  return index < ring.length && ring.timeAt(index) === time ? ring.valueAt(index) : null;
}

/**
 * The data of a band's two series, point for point (ECharts stacks a time axis by index): at
 * each point of the upper line as drawn (`upper`, thinned and with its gap breaks), the lower
 * line's value at that sample as the base, and the distance up to the upper line as the span.
 * Where either has no value the band breaks.
 */
export function bandData(
  upper: readonly ChartPoint[],
  lower: RingReader | undefined,
): { base: ChartPoint[]; span: ChartPoint[] } {
  const base: ChartPoint[] = [];
  const span: ChartPoint[] = [];
  for (const [time, top] of upper) {
    const bottom = top === null ? null : valueAtTime(lower, time);
    base.push([time, bottom]);
    span.push([time, top === null || bottom === null ? null : top - bottom]);
  }
  return { base, span };
}
