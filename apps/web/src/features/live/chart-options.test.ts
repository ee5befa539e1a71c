import { makeExampleSnapshot } from '@livestat/contracts/examples';
import type { LineSeriesOption } from 'echarts/charts';
import { describe, expect, it } from 'vitest';
import {
  GAP_FACTOR,
  LIVE_MAX_POINTS,
  baseChartOption,
  chartData,
  chartMax,
  hasChartData,
  liveChartOption,
  newestMoved,
  newestValues,
  nextChartPhase,
  pixelStep,
} from './chart-options';
import type { ChartSpec, LiveSource } from './chart-options';
import { LiveSeries } from './live-series';
import { SeriesRing } from './series-ring';

const T0 = Date.UTC(2025, 2, 14, 9, 0, 0);
const PALETTE = ['#111111', '#222222', '#333333'];

function ring(times: number[], value = (i: number) => i): SeriesRing {
  const r = new SeriesRing(Math.max(64, times.length));
  times.forEach((t, i) => r.add(T0 + t, value(i)));
  return r;
}

/** A live window fed `count` example snapshots, one a second from T0, skipping `missing` seconds. */
function liveWindow(count: number, missing: number[] = [], windowMs = 60_000): LiveSeries {
  const live = new LiveSeries(windowMs);
  for (let s = 0; s < count; s++) {
    if (missing.includes(s)) continue;
    const snapshot = makeExampleSnapshot({
      seq: s + 1,
      timestamp: new Date(T0 + s * 1000).toISOString(),
    });
    snapshot.cpu.usagePercent = s;
    snapshot.cpu.userPercent = 2 * s;
    live.addSnapshot(snapshot);
  }
  return live;
}

const seriesOf = (option: ReturnType<typeof baseChartOption>) =>
  option.series as LineSeriesOption[];

describe('chartData: thinning', () => {
  const seconds = (n: number) => Array.from({ length: n }, (_, i) => i * 1000);

  it('gives every sample while they fit', () => {
    expect(chartData(ring(seconds(300)), 1000, undefined, 300)).toHaveLength(300);
  });

  it('keeps the low and the high of each run, in time order, at most maxPoints', () => {
    // 900 samples (15 minutes) into 300 points: runs of 6, each its low and high.
    const values = (i: number) => (i === 437 ? 1000 : i === 612 ? -50 : Math.sin(i / 20) * 10);
    const data = chartData(ring(seconds(900), values), 1000, undefined, 300);
    expect(data.length).toBeLessThanOrEqual(300);
    expect(data.length).toBeGreaterThan(250);
    // The one-second spike and dip are there, at their own times.
    expect(data).toContainEqual([T0 + 437_000, 1000]);
    expect(data).toContainEqual([T0 + 612_000, -50]);
    const times = data.map(([t]) => t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // Every point is a real sample.
    for (const [t, v] of data) expect(v).toBe(values((t - T0) / 1000));
    // Each run of 6 gives its own extremes.
    const run = [0, 1, 2, 3, 4, 5].map(values);
    expect(data.slice(0, 2).map(([, v]) => v)).toEqual([Math.min(...run), Math.max(...run)]);
  });

  it('never lets a run cross a gap, which still breaks the line', () => {
    const times = [...seconds(400), ...seconds(400).map((t) => t + 500_000)];
    const data = chartData(ring(times), 1000, undefined, 100);
    const nulls = data.filter(([, v]) => v === null);
    expect(nulls).toEqual([[T0 + 400_000, null]]);
    const at = data.findIndex(([, v]) => v === null);
    expect(data[at - 1]![0]).toBeLessThanOrEqual(T0 + 399_000);
    expect(data[at + 1]![0]).toBeGreaterThanOrEqual(T0 + 500_000);
    expect(data.length).toBeLessThanOrEqual(101);
  });
});

describe('chartData: gaps', () => {
  it('draws a steady series as one line, jitter under 2.5 intervals included', () => {
    const data = chartData(ring([0, 1000, 2000, 3400, 5800]), 1000);
    expect(data).toEqual([
      [T0, 0],
      [T0 + 1000, 1],
      [T0 + 2000, 2],
      [T0 + 3400, 3],
      [T0 + 5800, 4],
    ]);
    expect(data.some(([, v]) => v === null)).toBe(false);
  });

  it('breaks the line with a null one interval after the last point before a real gap', () => {
    const data = chartData(ring([0, 1000, 2000, 8000, 9000]), 1000);
    expect(data).toEqual([
      [T0, 0],
      [T0 + 1000, 1],
      [T0 + 2000, 2],
      [T0 + 3000, null],
      [T0 + 8000, 3],
      [T0 + 9000, 4],
    ]);
  });

  it('measures gaps in the sampling interval of the host', () => {
    // 5 s sampling: 10 s between points is two intervals, not a gap; 15 s is three.
    const data = chartData(ring([0, 10_000, 25_000]), 5000);
    expect(data).toEqual([
      [T0, 0],
      [T0 + 10_000, 1],
      [T0 + 15_000, null],
      [T0 + 25_000, 2],
    ]);
    expect(GAP_FACTOR).toBe(2.5);
  });

  it('starts at the left edge of the window and gives nothing for a missing series', () => {
    expect(chartData(ring([0, 1000, 2000, 3000]), 1000, T0 + 1500)).toEqual([
      [T0 + 2000, 2],
      [T0 + 3000, 3],
    ]);
    expect(chartData(undefined, 1000)).toEqual([]);
  });
});

describe('baseChartOption', () => {
  it('puts the unit formatter on the y axis', () => {
    const option = baseChartOption(
      { unit: 'byteRate', lines: [{ path: 'network.rxBytesPerSec', label: 'Receive' }] },
      PALETTE,
    );
    const yAxis = option.yAxis as { axisLabel: { formatter: (v: number) => string } };
    expect(yAxis.axisLabel.formatter(1024)).toBe('1 KiB/s');
  });

  const spec: ChartSpec = {
    unit: 'percent',
    yMax: 100,
    lines: [
      { path: 'cpu.usagePercent', label: 'Total' },
      { path: 'cpu.userPercent', label: 'User' },
    ],
  };

  it('has one line series per path, matched by path, coloured in order, with no animation', () => {
    const option = baseChartOption(spec, PALETTE);
    expect(option.animation).toBe(false);
    expect(seriesOf(option).map((s) => [s.id, s.name, s.type, s.color])).toEqual([
      ['cpu.usagePercent', 'Total', 'line', '#111111'],
      ['cpu.userPercent', 'User', 'line', '#222222'],
    ]);
    expect(option.xAxis).toMatchObject({ type: 'time' });
    expect(option.yAxis).toMatchObject({ type: 'value', min: 0, max: 100 });
    // Legend and tooltip are the page's HTML: the option names only what lib/echarts registers.
    expect(Object.keys(option).sort()).toEqual(['animation', 'grid', 'series', 'xAxis', 'yAxis']);
  });

  it('clears a fixed top of the y axis it does not have', () => {
    const option = baseChartOption(
      { unit: 'ratio', lines: [{ path: 'perf.ipc', label: 'IPC' }] },
      PALETTE,
    );
    expect((option.yAxis as { max: unknown }).max).toBeNull();
  });

  it('steps a percent axis by whole percents, so a near-idle line keeps distinct ticks', () => {
    const line = { path: 'cgroups.groups.db.cpuPercent', label: 'CPU' };
    const percent = baseChartOption({ unit: 'percent', lines: [line] }, PALETTE);
    expect(percent.yAxis).toMatchObject({ minInterval: 1 });
    const bytes = baseChartOption({ unit: 'bytes', lines: [line] }, PALETTE);
    expect(bytes.yAxis).not.toHaveProperty('minInterval');
  });

  it('stacks the lines that share a stack, as areas', () => {
    const option = baseChartOption(
      {
        unit: 'bytes',
        lines: [
          { path: 'memory.usedBytes', label: 'Used', stack: 'memory' },
          { path: 'memory.freeBytes', label: 'Free', stack: 'memory' },
          { path: 'memory.swapUsedBytes', label: 'Swap' },
        ],
      },
      PALETTE,
    );
    const [used, free, swap] = seriesOf(option);
    expect(used).toMatchObject({ stack: 'memory', areaStyle: {} });
    expect(free).toMatchObject({ stack: 'memory' });
    expect(swap!.stack).toBeUndefined();
    expect(swap!.areaStyle).toBeUndefined();
  });
});

describe('liveChartOption', () => {
  const spec: ChartSpec = {
    unit: 'percent',
    yMax: 100,
    lines: [
      { path: 'cpu.usagePercent', label: 'Total' },
      { path: 'cpu.userPercent', label: 'User' },
      { path: 'cpu.cores.7.usagePercent', label: 'CPU 7' },
    ],
  };

  it('fills each line from its series and spans the window up to the newest sample', () => {
    const live = liveWindow(5);
    const base = baseChartOption(spec, PALETTE);
    const option = liveChartOption(base, spec, live);
    const [total, user, core7] = seriesOf(option);
    expect(total!.data).toEqual([0, 1, 2, 3, 4].map((s) => [T0 + s * 1000, s]));
    expect(user!.data).toEqual([0, 1, 2, 3, 4].map((s) => [T0 + s * 1000, 2 * s]));
    // The example host has cores 0 and 1 only.
    expect(core7!.data).toEqual([]);
    expect(option.xAxis).toMatchObject({ type: 'time', min: T0 + 4000 - 60_000, max: T0 + 4000 });
    // The structure is shared, not rebuilt.
    expect(option.grid).toBe(base.grid);
    expect(option.yAxis).toBe(base.yAxis);
    expect(seriesOf(base)[0]!.data).toEqual([]);
  });

  it('gives byte charts a binary step from their highest point, stacks summed', () => {
    const memory: ChartSpec = {
      unit: 'bytes',
      lines: [
        { path: 'memory.usedBytes', label: 'Used', stack: 'memory' },
        { path: 'memory.buffersBytes', label: 'Buffers', stack: 'memory' },
        { path: 'memory.cachedBytes', label: 'Cached', stack: 'memory' },
        { path: 'memory.freeBytes', label: 'Free', stack: 'memory' },
      ],
    };
    const live = liveWindow(3);
    const option = liveChartOption(baseChartOption(memory, PALETTE), memory, live);
    // The example VM: used + buffers + cached + free = its 3.84 GiB total.
    expect(chartMax(memory, seriesOf(option))).toBe(4122206208);
    expect(option.yAxis).toMatchObject({ interval: 2 * 1024 ** 3, max: 4 * 1024 ** 3 });
    const none = liveChartOption(baseChartOption(memory, PALETTE), memory, new LiveSeries(60_000));
    expect(none.yAxis).toMatchObject({ interval: null, max: null });
  });

  it('thins stacked lines at the same times, the first line keeping its lows and highs', () => {
    // Past LIVE_MAX_POINTS samples each line is thinned to its runs' lows and highs; used and
    // free move in opposite ways, so thinned alone they would keep different times and ECharts
    // would find no point below to stack free on.
    const stacked: ChartSpec = {
      unit: 'bytes',
      lines: [
        { path: 'memory.usedBytes', label: 'Used', stack: 'memory' },
        { path: 'memory.freeBytes', label: 'Free', stack: 'memory' },
      ],
    };
    const times = Array.from({ length: 900 }, (_, i) => i * 1000);
    const used = ring(times, (i) => (i * 7919) % 1000);
    const free = ring(times, (i) => 1000 - ((i * 7919) % 1000));
    const source: LiveSource = {
      windowMs: 900_000,
      intervalMs: 1000,
      cutoff: Number.NEGATIVE_INFINITY,
      get: (path) => (path === 'memory.usedBytes' ? used : free),
    };
    const option = liveChartOption(baseChartOption(stacked, PALETTE), stacked, source);
    const [usedLine, freeLine] = seriesOf(option) as { data: [number, number | null][] }[];
    expect(usedLine!.data).toEqual(
      chartData(used, 1000, Number.NEGATIVE_INFINITY, LIVE_MAX_POINTS),
    );
    expect(usedLine!.data.length).toBeLessThanOrEqual(LIVE_MAX_POINTS);
    expect(freeLine!.data.map(([t]) => t)).toEqual(usedLine!.data.map(([t]) => t));
    // Each is free's own sample at that time: the stack sums to the total everywhere.
    for (const [i, [, value]] of freeLine!.data.entries()) {
      expect(value! + usedLine!.data[i]![1]!).toBe(1000);
    }
  });

  it('leaves hidden lines out', () => {
    const option = liveChartOption(
      baseChartOption(spec, PALETTE),
      spec,
      liveWindow(3),
      new Set(['cpu.usagePercent']),
    );
    expect(seriesOf(option).map((s) => [s.id, s.color])).toEqual([
      ['cpu.userPercent', '#222222'],
      ['cpu.cores.7.usagePercent', '#333333'],
    ]);
  });

  it('breaks lines where snapshots are missing', () => {
    const live = liveWindow(10, [3, 4, 5]);
    const option = liveChartOption(baseChartOption(spec, PALETTE), spec, live);
    const data = seriesOf(option)[0]!.data as [number, number | null][];
    expect(data.filter(([, v]) => v === null)).toEqual([[T0 + 3000, null]]);
    expect(data).toHaveLength(7 + 1);
  });

  it('leaves the x axis to ECharts while the window is empty', () => {
    const live = new LiveSeries(60_000);
    const base = baseChartOption(spec, PALETTE);
    const option = liveChartOption(base, spec, live);
    expect(option.xAxis).toBe(base.xAxis);
    expect(hasChartData(spec, live)).toBe(false);
    expect(hasChartData(spec, liveWindow(1))).toBe(true);
  });
});

describe('pixelStep', () => {
  const MINUTE = 60_000;
  const at = (cutoff: number, windowMinutes: number) => ({
    cutoff,
    windowMs: windowMinutes * MINUTE,
    intervalMs: 1000,
  });

  it('moves once per pixel of time over a 15-minute window: every 2 or 3 samples at 380 px', () => {
    // 900 s over 380 px: 2.37 s a pixel.
    const steps = Array.from({ length: 12 }, (_, s) => pixelStep(at(T0 + s * 1000, 15), 380, 0));
    const changes = steps.filter((step, i) => i > 0 && step !== steps[i - 1]).length;
    expect(changes).toBeGreaterThanOrEqual(4);
    expect(changes).toBeLessThanOrEqual(5);
  });

  it('gives no step (redraw every sample) when a sample moves a pixel or more', () => {
    expect(pixelStep(at(T0, 5), 380, 0)).toBeNull();
    expect(pixelStep(at(T0, 1), 380, 0)).toBeNull();
  });

  it('gives no step without a width or a window', () => {
    expect(pixelStep(at(T0, 15), 0, 0)).toBeNull();
    expect(pixelStep(at(Number.NEGATIVE_INFINITY, 15), 380, 0)).toBeNull();
  });

  it('offsets charts by their phase, so they take turns', () => {
    const a = nextChartPhase();
    const b = nextChartPhase();
    expect(a).not.toBeCloseTo(b, 2);
    const cutoffs = Array.from({ length: 30 }, (_, s) => T0 + s * 1000);
    const moves = (phase: number) =>
      cutoffs.map(
        (c, i) =>
          i > 0 &&
          pixelStep(at(c, 15), 380, phase) !== pixelStep(at(cutoffs[i - 1]!, 15), 380, phase),
      );
    expect(moves(0)).not.toEqual(moves(0.5));
  });
});

describe('newestMoved: a spike is drawn with its sample', () => {
  const spec: ChartSpec = {
    unit: 'percent',
    lines: [
      { path: 'cpu.usagePercent', label: 'Total' },
      { path: 'cpu.userPercent', label: 'User' },
    ],
  };

  it('reads the newest value of each shown line', () => {
    const live = liveWindow(5);
    expect(newestValues(spec, live, new Set())).toEqual(
      new Map([
        ['cpu.usagePercent', 4],
        ['cpu.userPercent', 8],
      ]),
    );
    expect([...newestValues(spec, live, new Set(['cpu.userPercent'])).keys()]).toEqual([
      'cpu.usagePercent',
    ]);
  });

  it('waits for the pixel while lines hold still, not when one jumps or a line comes or goes', () => {
    const drawn = new Map([
      ['a', 10],
      ['b', 50],
    ]);
    // Top 100: moves up to 5 (REDRAW_RISE of it) wait for the next pixel.
    expect(
      newestMoved(
        drawn,
        new Map([
          ['a', 14.5],
          ['b', 46.2],
        ]),
        100,
      ),
    ).toBe(false);
    expect(
      newestMoved(
        drawn,
        new Map([
          ['a', 10],
          ['b', 95],
        ]),
        100,
      ),
    ).toBe(true);
    expect(
      newestMoved(
        drawn,
        new Map([
          ['a', 4.5],
          ['b', 50],
        ]),
        100,
      ),
    ).toBe(true);
    expect(newestMoved(drawn, new Map([['a', 10]]), 100)).toBe(true);
    expect(
      newestMoved(
        drawn,
        new Map([
          ['a', 10],
          ['c', 50],
        ]),
        100,
      ),
    ).toBe(true);
    expect(
      newestMoved(
        drawn,
        new Map([
          ['a', Number.NaN],
          ['b', 50],
        ]),
        100,
      ),
    ).toBe(true);
  });
});
