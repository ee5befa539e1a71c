import { makeExampleSnapshot } from '@livestat/contracts/examples';
import type { LineSeriesOption } from 'echarts/charts';
import { describe, expect, it } from 'vitest';
import { baseChartOption, liveChartOption, liveChartUpdate } from '../live/chart-options';
import type { ChartSpec } from '../live/chart-options';
import { LiveSeries } from '../live/live-series';
import { historyChartOption } from '../history/history-chart-option';
import { OVERVIEW_GROUPS } from '../history/series-groups';
import { alertMarkArea, alertMarkSeries, ALERT_MARKS_ID } from './alert-marks';
import type { AlertPeriod } from './alert-periods';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const HOST = 'vm-web-01';
const spec: ChartSpec = {
  unit: 'percent',
  yMax: 100,
  lines: [{ path: 'cpu.usagePercent', label: 'usage' }],
};
const firing: AlertPeriod = {
  ruleId: 'r',
  ruleName: 'CPU busy',
  host: HOST,
  series: 'cpu.usagePercent',
  severity: 'critical',
  start: T0 + 2000,
  end: null,
};

function liveAt(seconds: number): LiveSeries {
  const live = new LiveSeries(60_000);
  for (let s = 0; s <= seconds; s++) {
    live.addSnapshot(
      makeExampleSnapshot({
        host: HOST,
        seq: s + 1,
        timestamp: new Date(T0 + s * 1000).toISOString(),
      }),
    );
  }
  return live;
}

const areaEnds = (series: LineSeriesOption | undefined) =>
  (series?.markArea?.data ?? []).map((pair) => (pair as { xAxis: number }[]).map((p) => p.xAxis));

describe('alert areas on the live chart', () => {
  it('hang on a series of their own after the lines, and each tick resends them', () => {
    const base = baseChartOption(spec, ['#000']);
    const marksAt = (live: LiveSeries) =>
      alertMarkSeries(
        alertMarkArea([firing], {
          host: HOST,
          paths: ['cpu.usagePercent'],
          from: live.cutoff,
          to: live.cutoff + live.windowMs,
        }),
      );
    const first = liveAt(5);
    const option = liveChartOption(base, spec, first, new Set(), marksAt(first));
    const series = option.series as LineSeriesOption[];
    expect(series.map((s) => s.id)).toEqual(['cpu.usagePercent', ALERT_MARKS_ID]);
    expect(series[1]?.data).toEqual([]);
    expect(areaEnds(series[1])).toEqual([[T0 + 2000, first.cutoff + 60_000]]);

    // The next tick: only data, axis range and the areas, whose open end moved on.
    const next = liveAt(6);
    const update = liveChartUpdate(
      { base, option },
      base,
      liveChartOption(base, spec, next, new Set(), marksAt(next)),
    );
    expect(update.settings.notMerge).toBeUndefined();
    const sent = update.option.series as LineSeriesOption[];
    expect(sent[0]).not.toHaveProperty('markArea');
    expect(areaEnds(sent[1])).toEqual([[T0 + 2000, next.cutoff + 60_000]]);
  });

  it('stay off a chart without alerts: the option is the lines alone', () => {
    const base = baseChartOption(spec, ['#000']);
    const option = liveChartOption(base, spec, liveAt(2));
    expect((option.series as LineSeriesOption[]).map((s) => s.id)).toEqual(['cpu.usagePercent']);
  });
});

describe('alert areas on the history chart', () => {
  it('are drawn on the chart of the series, over the range shown', () => {
    const group = OVERVIEW_GROUPS.find((g) => g.id === 'cpu')!;
    const range = { from: T0, to: T0 + 3_600_000 };
    const option = historyChartOption({
      group,
      response: { host: HOST, ...range, bucketMs: 60_000, tier: 'raw', series: {} },
      base: range,
      visible: range,
      extra: alertMarkSeries(
        alertMarkArea([{ ...firing, end: T0 + 600_000 }], {
          host: HOST,
          paths: group.series.map((s) => s.path),
          ...range,
        }),
      ),
    });
    const series = option.series as LineSeriesOption[];
    expect(series.at(-1)?.id).toBe(ALERT_MARKS_ID);
    expect(areaEnds(series.at(-1))).toEqual([[T0 + 2000, T0 + 600_000]]);
  });
});
