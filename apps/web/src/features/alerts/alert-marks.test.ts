import { describe, expect, it } from 'vitest';
import {
  alertMarkArea,
  alertMarkSeries,
  ALERT_MARKS_ID,
  FIRING_OPACITY,
  RESOLVED_OPACITY,
} from './alert-marks';
import type { AlertPeriod } from './alert-periods';
import { SEVERITY_COLORS } from './severity';

const period = (over: Partial<AlertPeriod>): AlertPeriod => ({
  ruleId: 'rule-cpu',
  ruleName: 'CPU busy',
  host: 'vm-web-01',
  series: 'cpu.usagePercent',
  severity: 'critical',
  start: 1000,
  end: 2000,
  ...over,
});

const cpuChart = { host: 'vm-web-01', paths: ['cpu.usagePercent'], from: 0, to: 10_000 };

/** Each area as [start, end, rule, colour, opacity]. */
function areas(markArea: ReturnType<typeof alertMarkArea>) {
  return (markArea.data ?? []).map((pair) => {
    const [a, b] = pair as [Record<string, unknown>, Record<string, unknown>];
    const style = a.itemStyle as { color: string; opacity: number };
    return [a.xAxis, b.xAxis, a.name, style.color, style.opacity];
  });
}

describe('alertMarkArea', () => {
  it('draws a resolved period faint and a firing one, open to the chart end, strong', () => {
    const mark = alertMarkArea(
      [period({}), period({ start: 5000, end: null, severity: 'warning' })],
      cpuChart,
    );
    expect(areas(mark)).toEqual([
      [1000, 2000, 'CPU busy', SEVERITY_COLORS.critical, RESOLVED_OPACITY],
      [5000, 10_000, 'CPU busy', SEVERITY_COLORS.warning, FIRING_OPACITY],
    ]);
  });

  it('draws only the periods of the chart host and series', () => {
    const mark = alertMarkArea(
      [
        period({ host: 'other' }),
        period({ series: 'memory.usedPercent' }),
        period({ series: '' }),
        period({ start: 3000, end: 4000 }),
      ],
      cpuChart,
    );
    expect(areas(mark).map(([from, to]) => [from, to])).toEqual([[3000, 4000]]);
    expect(alertMarkArea([period({})], { ...cpuChart, host: null }).data).toEqual([]);
  });

  it('cuts periods to the chart span and leaves out those outside it', () => {
    const mark = alertMarkArea(
      [
        period({ start: Number.NEGATIVE_INFINITY, end: 500 }),
        period({ start: -5000, end: -10 }),
        period({ start: 9000, end: 20_000 }),
        period({ start: 12_000, end: null }),
      ],
      cpuChart,
    );
    expect(areas(mark).map(([from, to]) => [from, to])).toEqual([
      [0, 500],
      [9000, 10_000],
    ]);
  });

  it('matches a family rule to a member line of the chart', () => {
    const mark = alertMarkArea([period({ series: 'cpu.cores.*.usagePercent' })], {
      ...cpuChart,
      paths: ['cpu.cores.0.usagePercent', 'cpu.cores.1.usagePercent'],
    });
    expect(areas(mark)).toHaveLength(1);
  });
});

describe('alertMarkSeries', () => {
  it('is a series of no points carrying the areas', () => {
    const markArea = alertMarkArea([period({})], cpuChart);
    expect(alertMarkSeries(markArea)).toMatchObject({
      id: ALERT_MARKS_ID,
      type: 'line',
      data: [],
      markArea,
    });
  });
});
