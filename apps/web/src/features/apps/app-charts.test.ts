import { appMessage, flattenAppSeries } from '@livestat/contracts';
import type { LineSeriesOption } from 'echarts/charts';
import { describe, expect, it } from 'vitest';
import { baseChartOption, liveChartOption } from '../live/chart-options';
import type { ChartSpec, LiveChartOption } from '../live/chart-options';
import { tooltipAt } from '../live/chart-tooltip';
import { LiveSeries } from '../live/live-series';
import {
  chartKindOf,
  chartSpecOf,
  chartedPaths,
  formatWhole,
  headlineOf,
  tagsText,
} from './app-charts';

const ref = (kind: 'counter' | 'gauge' | 'timer' | 'histogram' | 'set', key: string) => ({
  service: 'worker',
  key,
  name: key.split(';')[0]!,
  kind,
  tags: {},
});

describe('chart per metric kind', () => {
  it('draws counters as a rate, gauges and sets as a line, timings as p50/p90/p99', () => {
    expect(chartKindOf('counter')).toBe('rate');
    expect(chartKindOf('gauge')).toBe('line');
    expect(chartKindOf('set')).toBe('line');
    expect(chartKindOf('timer')).toBe('bands');
    expect(chartKindOf('histogram')).toBe('bands');
  });

  it('charts a counter by its per-second rate, never its interval count', () => {
    expect(chartSpecOf(ref('counter', 'messages;queue=emails'))).toEqual({
      unit: 'rate',
      lines: [{ path: 'app.worker.messages;queue=emails.rate', label: 'per second' }],
      // A client may decrement a counter: the axis follows it below zero.
      signed: true,
    });
  });

  it("charts a gauge by its value and a timer by its interval's percentiles", () => {
    expect(chartSpecOf(ref('gauge', 'queue.depth')).lines.map((l) => l.path)).toEqual([
      'app.worker.queue.depth.value',
    ]);
    expect(chartSpecOf(ref('gauge', 'queue.depth'))).toMatchObject({ unit: 'count', signed: true });
    // The tooltip's sample count is backfilled with the lines.
    expect(chartedPaths(ref('timer', 'batch.duration'))).toEqual([
      'app.worker.batch.duration.p50',
      'app.worker.batch.duration.p90',
      'app.worker.batch.duration.p99',
      'app.worker.batch.duration.count',
    ]);
    expect(chartSpecOf(ref('timer', 'batch.duration'))).toMatchObject({
      band: { from: 'app.worker.batch.duration.p50', to: 'app.worker.batch.duration.p99' },
      notes: [{ path: 'app.worker.batch.duration.count', label: 'samples', format: formatWhole }],
    });
    expect(chartSpecOf(ref('histogram', 'batch.size')).lines.map((l) => l.label)).toEqual([
      'p50',
      'p90',
      'p99',
    ]);
    expect(chartSpecOf(ref('set', 'users'))).toEqual({
      unit: 'count',
      lines: [{ path: 'app.worker.users.unique', label: 'distinct' }],
    });
  });

  it("headlines the newest interval's figure", () => {
    expect(headlineOf({ name: 'm', kind: 'counter', tags: {}, count: 25, rate: 12.5 })).toBe(
      '12.5 /s',
    );
    expect(headlineOf({ name: 'q', kind: 'gauge', tags: {}, value: 42 })).toBe('42.0');
    expect(headlineOf({ name: 'q', kind: 'gauge', tags: {}, value: 1_534_000 })).toBe('1.53 M');
    expect(
      headlineOf({ name: 'b', kind: 'timer', tags: {}, count: 3, p50: 10, p90: 20, p99: 320.5 }),
    ).toBe('p50 10.0 · p99 321');
    expect(headlineOf(undefined)).toBeNull();
    expect(tagsText({ region: 'eu', provider: 'openai' })).toBe('provider=openai, region=eu');
  });
});

describe('a timer drawn as a p50–p99 band, from the live window', () => {
  const T0 = Date.UTC(2026, 11, 4, 21, 0, 0);
  const PALETTE = ['#2f7de1', '#e8684a', '#1f8a4c'];
  const timer = ref('timer', 'batch.duration;queue=emails');
  const path = (field: string) => `app.worker.batch.duration;queue=emails.${field}`;

  /**
   * The `app` messages a worker's StatsD timer makes, one a second, as the socket delivers them
   * (checked against the contract), skipping the seconds in `missing`; into a live window.
   */
  function liveWindow(seconds: number, missing: number[] = [], windowMs = 60_000) {
    const live = new LiveSeries(windowMs);
    for (let s = 0; s < seconds; s++) {
      if (missing.includes(s)) continue;
      const message = appMessage.parse({
        type: 'app',
        host: 'web-1',
        timestamp: new Date(T0 + s * 1000).toISOString(),
        intervalMs: 1000,
        services: {
          worker: {
            metrics: {
              'batch.duration;queue=emails': {
                name: 'batch.duration',
                kind: 'timer',
                tags: { queue: 'emails' },
                count: 40 + s,
                sum: 40 * (20 + s),
                min: 5,
                max: 300 + s,
                p50: 20 + (s % 7),
                p90: 60 + (s % 11),
                p99: 200 + s,
              },
            },
          },
        },
      });
      live.addPoints(Date.parse(message.timestamp), flattenAppSeries(message));
    }
    return live;
  }

  const seriesOf = (option: LiveChartOption) => option.series as LineSeriesOption[];
  const pointsOf = (option: LiveChartOption, id: string) =>
    seriesOf(option).find((s) => s.id === id)!.data as [number, number | null][];

  it('fills p50 up to p99 under the three lines, in the p99 colour', () => {
    const spec = chartSpecOf(timer);
    const live = liveWindow(10);
    const option = liveChartOption(baseChartOption(spec, PALETTE), spec, live);
    const series = seriesOf(option);
    expect(series.map((s) => s.id)).toEqual([
      path('p50'),
      path('p90'),
      path('p99'),
      `${path('p99')}#band-base`,
      `${path('p99')}#band`,
    ]);
    const [base, span] = series.slice(3);
    // Under the lines, stacked together, only the span filled, in the p99 line's colour.
    expect(series.slice(0, 3).map((s) => s.z)).toEqual([undefined, undefined, undefined]);
    expect([base!.z, span!.z]).toEqual([1, 1]);
    expect(base!.stack).toBe(span!.stack);
    expect(base!.areaStyle).toBeUndefined();
    expect(span!.areaStyle).toBeDefined();
    expect(span!.color).toBe(series[2]!.color);
    expect(series[2]!.color).toBe(PALETTE[2]);

    // The base is each second's p50, the span reaches its p99: the band is p50 → p99.
    const times = Array.from({ length: 10 }, (_, s) => T0 + s * 1000);
    expect(pointsOf(option, `${path('p99')}#band-base`)).toEqual(
      times.map((t, s) => [t, 20 + (s % 7)]),
    );
    expect(pointsOf(option, `${path('p99')}#band`)).toEqual(
      times.map((t, s) => [t, 200 + s - (20 + (s % 7))]),
    );
    // The lines keep their own values: p90 crosses the band.
    expect(pointsOf(option, path('p90'))).toEqual(times.map((t, s) => [t, 60 + (s % 11)]));
  });

  it('breaks the band where an interval is missing, as the lines break', () => {
    const spec = chartSpecOf(timer);
    const option = liveChartOption(baseChartOption(spec, PALETTE), spec, liveWindow(10, [4, 5]));
    const nullsAt = (id: string) =>
      pointsOf(option, id).flatMap(([t, v]) => (v === null ? [t - T0] : []));
    expect(nullsAt(path('p99'))).toEqual([4000]);
    expect(nullsAt(`${path('p99')}#band-base`)).toEqual([4000]);
    expect(nullsAt(`${path('p99')}#band`)).toEqual([4000]);
  });

  it('keeps the band point for point with the p99 line when 15 minutes are thinned', () => {
    const spec = chartSpecOf(timer);
    const live = liveWindow(900, [], 900_000);
    const option = liveChartOption(baseChartOption(spec, PALETTE), spec, live);
    const top = pointsOf(option, path('p99'));
    const base = pointsOf(option, `${path('p99')}#band-base`);
    const span = pointsOf(option, `${path('p99')}#band`);
    expect(top.length).toBeLessThanOrEqual(300);
    expect(base.map(([t]) => t)).toEqual(top.map(([t]) => t));
    // Stacked, base + span lands exactly on the drawn p99 line.
    expect(base.map(([, v], i) => v! + span[i]![1]!)).toEqual(top.map(([, v]) => v));
  });

  it('hides the band with either of its edges, and keeps it with p90 hidden', () => {
    const spec = chartSpecOf(timer);
    const base = baseChartOption(spec, PALETTE);
    const live = liveWindow(5);
    const ids = (hidden: string[]) =>
      seriesOf(liveChartOption(base, spec, live, new Set(hidden))).map((s) => s.id);
    expect(ids([path('p50')])).toEqual([path('p90'), path('p99')]);
    expect(ids([path('p99')])).toEqual([path('p50'), path('p90')]);
    expect(ids([path('p90')])).toEqual([
      path('p50'),
      path('p99'),
      `${path('p99')}#band-base`,
      `${path('p99')}#band`,
    ]);
  });

  it('lists p50, p90, p99 and the sample count in the tooltip', () => {
    const spec = chartSpecOf(timer);
    const live = liveWindow(10);
    const option = liveChartOption(baseChartOption(spec, PALETTE), spec, live);
    const tip = tooltipAt(spec, option, T0 + 3200, PALETTE, live)!;
    expect(tip.time).toBe(T0 + 3000);
    expect(tip.rows.map((row) => [row.label, row.text])).toEqual([
      ['p50', '23.0'],
      ['p90', '63.0'],
      ['p99', '203'],
      ['samples', '43'],
    ]);
    // The band's helpers are not rows; the note has no swatch.
    expect(tip.rows.at(-1)!.color).toBe('transparent');
  });
});

describe('counters and gauges below zero', () => {
  it('lets the axis of a gauge or a counter follow a negative value, not a timer', () => {
    const axisMin = (spec: ChartSpec) =>
      (baseChartOption(spec, []).yAxis as { min: number | ((e: { min: number }) => number) }).min;
    const gauge = axisMin(chartSpecOf(ref('gauge', 'balance')));
    const counter = axisMin(chartSpecOf(ref('counter', 'credits')));
    expect(typeof gauge === 'function' && gauge({ min: -12 })).toBe(-12);
    expect(typeof gauge === 'function' && gauge({ min: 3 })).toBe(0);
    expect(typeof counter === 'function' && counter({ min: -0.5 })).toBe(-0.5);
    expect(axisMin(chartSpecOf(ref('timer', 'batch')))).toBe(0);
  });
});
