import type { LineSeriesOption } from 'echarts/charts';
import { shallowRef } from 'vue';
import { hasMarkArea, loadMarkArea } from '../../lib/echarts';
import type { AlertPeriod } from './alert-periods';
import { seriesMatches } from './alert-periods';
import { SEVERITY_COLORS } from './severity';

/** The markArea option of a line series, as ECharts takes it. */
export type AlertMarkArea = NonNullable<LineSeriesOption['markArea']>;

/** The id of the empty series a chart's alert areas hang on (not a line of the chart). */
export const ALERT_MARKS_ID = 'alert-marks';

/** Which chart the areas are for: its host, its lines' paths and the time it spans. */
export interface MarkTarget {
  host: string | null;
  paths: readonly string[];
  /** Epoch ms; an open period is drawn up to `to`. */
  from: number;
  to: number;
}

/** How opaque a period's area is: one still firing stands out from one that resolved. */
export const FIRING_OPACITY = 0.22;
export const RESOLVED_OPACITY = 0.1;

/**
 * The areas of the periods that concern a chart — its host, a series of one of its lines —
 * cut to its time span; a period still firing runs to the span's end. Named by the rule, in
 * the severity's colour. Empty when none concern it.
 */
export function alertMarkArea(periods: readonly AlertPeriod[], target: MarkTarget): AlertMarkArea {
  const data: NonNullable<AlertMarkArea['data']> = [];
  if (target.host !== null) {
    for (const period of periods) {
      if (period.host !== target.host) continue;
      if (!target.paths.some((path) => seriesMatches(period.series, path))) continue;
      const end = period.end ?? target.to;
      if (end < target.from || period.start > target.to) continue;
      const firing = period.end === null;
      data.push([
        {
          name: period.ruleName,
          xAxis: Math.max(period.start, target.from),
          itemStyle: {
            color: SEVERITY_COLORS[period.severity],
            opacity: firing ? FIRING_OPACITY : RESOLVED_OPACITY,
          },
          // A firing period ends at the chart's right edge: its name reads leftwards from there.
          label: {
            color: SEVERITY_COLORS[period.severity],
            position: firing ? 'insideTopRight' : 'insideTopLeft',
          },
        },
        { xAxis: Math.min(end, target.to) },
      ]);
    }
  }
  return {
    silent: true,
    label: { show: true, position: 'insideTopLeft', fontSize: 10 },
    emphasis: { disabled: true },
    data,
  };
}

/**
 * The series that carries a chart's alert areas: no points of its own, so it adds nothing to
 * the axes, the tooltip or the legend, and lines hidden in the legend keep their areas.
 */
export function alertMarkSeries(markArea: AlertMarkArea): LineSeriesOption {
  return {
    id: ALERT_MARKS_ID,
    type: 'line',
    data: [],
    silent: true,
    showSymbol: false,
    markArea,
  };
}

/** Set when {@link liveAlertMarks}' fetch of ECharts' marked areas is done: a chart waiting redraws. */
const markAreaLoaded = shallowRef(false);

/**
 * The series of a live chart's alert areas ({@link alertMarkSeries}), once ECharts can draw
 * marked areas. The dashboard route comes without them: the first chart with a period to mark
 * fetches them, and has no areas series until they are in — its option, having read
 * `markAreaLoaded`, is computed again then, and the series' arrival makes the chart take its
 * whole option at its next redraw. A failed fetch is tried again at the chart's next redraw.
 */
export function liveAlertMarks(markArea: AlertMarkArea): LineSeriesOption | undefined {
  if (markAreaLoaded.value || hasMarkArea()) return alertMarkSeries(markArea);
  if ((markArea.data?.length ?? 0) > 0) {
    loadMarkArea().then(
      () => (markAreaLoaded.value = true),
      () => undefined,
    );
  }
  return undefined;
}
