import { makeExampleSnapshot } from '@livestat/contracts/examples';
import type { LineSeriesOption } from 'echarts/charts';
import { describe, expect, it } from 'vitest';
import {
  GAP_FACTOR,
  TOOLTIP_MAX_ROWS,
  baseChartOption,
  chartData,
  chartTheme,
  escapeHtml,
  formatAxisValue,
  formatValue,
  chartMax,
  hasChartData,
  niceByteStep,
  lineColor,
  liveChartOption,
  nearestIndex,
  tooltipAt,
} from './chart-options';
import type { ChartSpec } from './chart-options';
import { NO_VALUE } from './format';
import { LiveSeries } from './live-series';
import { SeriesRing } from './series-ring';
import { THEME_COLORS } from './theme';

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

describe('units', () => {
  it('writes tooltip values in the unit of the chart', () => {
    expect(formatValue('percent', 12.345)).toBe('12.3 %');
    expect(formatValue('bytes', 1536)).toBe('1.50 KiB');
    expect(formatValue('byteRate', 15234.5)).toBe('14.9 KiB/s');
    expect(formatValue('rate', 1843.6)).toBe('1.84 k/s');
    expect(formatValue('count', 2.4e9)).toBe('2.40 G');
    expect(formatValue('ratio', 1.234)).toBe('1.23');
    expect(formatValue('bytes', null)).toBe(NO_VALUE);
  });

  it('writes axis ticks shorter where it can', () => {
    expect(formatAxisValue('percent', 50)).toBe('50 %');
    expect(formatAxisValue('ratio', 1.5)).toBe('1.5');
    expect(formatAxisValue('ratio', 2)).toBe('2');
    expect(formatAxisValue('byteRate', 2 * 1024 * 1024)).toBe('2 MiB/s');
    expect(formatAxisValue('bytes', 1536)).toBe('1.5 KiB');
    expect(formatAxisValue('bytes', 1.25 * 1024 ** 3)).toBe('1.25 GiB');
    expect(formatAxisValue('bytes', 500 * 1024)).toBe('500 KiB');
    expect(formatAxisValue('rate', 2000)).toBe('2 k/s');
    expect(formatAxisValue('rate', 0.1)).toBe('0.1 /s');
    expect(formatAxisValue('count', 1500)).toBe('1.5 k');
  });

  it('steps byte axes by round binary values', () => {
    const MiB = 1024 ** 2;
    expect(niceByteStep(2.86 * MiB)).toBe(MiB);
    expect(niceByteStep(5.72 * MiB)).toBe(2 * MiB);
    expect(niceByteStep(500)).toBe(256);
    expect(niceByteStep(600 * 1024)).toBe(256 * 1024);
    expect(niceByteStep(1000 * 1024)).toBe(512 * 1024);
    expect(niceByteStep(23.5 * 1024 ** 3)).toBe(8 * 1024 ** 3);
    expect(niceByteStep(0.5)).toBe(1);
    expect(niceByteStep(0)).toBeUndefined();
    expect(niceByteStep(Number.NaN)).toBeUndefined();
  });

  it('puts the unit formatter on the y axis', () => {
    const option = baseChartOption(
      { unit: 'byteRate', lines: [{ path: 'network.rxBytesPerSec', label: 'Receive' }] },
      PALETTE,
    );
    const yAxis = option.yAxis as { axisLabel: { formatter: (v: number) => string } };
    expect(yAxis.axisLabel.formatter(1024)).toBe('1 KiB/s');
  });
});

describe('tooltip', () => {
  const spec: ChartSpec = {
    unit: 'byteRate',
    lines: [
      { path: 'network.rxBytesPerSec', label: 'Receive' },
      { path: 'network.txBytesPerSec', label: 'Send' },
    ],
  };
  /** An option whose Receive line has points at `rx` seconds and Send at `tx` (value = 1 KiB × s). */
  const optionWith = (rx: number[], tx: number[]) => ({
    series: [
      { id: 'network.rxBytesPerSec', data: rx.map((s) => [T0 + s * 1000, s * 1024]) },
      { id: 'network.txBytesPerSec', data: tx.map((s) => [T0 + s * 1000, s === 3 ? null : 0]) },
    ],
  });

  it('finds the nearest point in time order', () => {
    const points: [number, number][] = [0, 10, 20, 30].map((t) => [t, t]);
    expect(nearestIndex(points, -5)).toBe(0);
    expect(nearestIndex(points, 14)).toBe(1);
    expect(nearestIndex(points, 15)).toBe(1);
    expect(nearestIndex(points, 16)).toBe(2);
    expect(nearestIndex(points, 99)).toBe(3);
    expect(nearestIndex([], 5)).toBe(-1);
  });

  it('snaps to the nearest sample and lists each line in the unit, in its colour', () => {
    const tip = tooltipAt(spec, optionWith([0, 1, 2], [0, 1, 2]), T0 + 1300, PALETTE);
    expect(tip).toEqual({
      time: T0 + 1000,
      more: 0,
      rows: [
        {
          path: 'network.rxBytesPerSec',
          label: 'Receive',
          color: '#111111',
          text: '1.00 KiB/s',
          value: 1024,
        },
        { path: 'network.txBytesPerSec', label: 'Send', color: '#222222', text: '0 B/s', value: 0 },
      ],
    });
  });

  it('shows the placeholder for a line with no sample then, or a gap', () => {
    const tip = tooltipAt(spec, optionWith([0, 1, 2, 3], [0, 1, 3]), T0 + 2900, PALETTE)!;
    expect(tip.time).toBe(T0 + 3000);
    expect(tip.rows.map((r) => r.text)).toEqual(['3.00 KiB/s', NO_VALUE]);
    const missing = tooltipAt(spec, optionWith([0, 1, 2], [0]), T0 + 2000, PALETTE)!;
    expect(missing.rows.map((r) => r.text)).toEqual(['2.00 KiB/s', NO_VALUE]);
    expect(tooltipAt(spec, optionWith([], []), T0, PALETTE)).toBeNull();
  });

  it('keeps the colour of a line when another is hidden', () => {
    const option = { series: [{ id: 'network.txBytesPerSec', data: [[T0, 0]] }] };
    const tip = tooltipAt(spec, option, T0, PALETTE)!;
    expect(tip.rows).toEqual([
      expect.objectContaining({ label: 'Send', color: '#222222', text: '0 B/s' }),
    ]);
    expect(lineColor(PALETTE, 4)).toBe('#222222');
  });

  it('lists the highest values of a long list and counts the rest', () => {
    const cores = Array.from({ length: 20 }, (_, id) => ({
      path: `cpu.cores.${id}.usagePercent`,
      label: `CPU ${id}`,
    }));
    const option = { series: cores.map((c, id) => ({ id: c.path, data: [[T0, id * 5]] })) };
    const tip = tooltipAt({ unit: 'percent', lines: cores }, option, T0, PALETTE)!;
    expect(tip.rows).toHaveLength(TOOLTIP_MAX_ROWS);
    expect(tip.rows[0]).toMatchObject({ label: 'CPU 19', text: '95.0 %' });
    expect(tip.more).toBe(20 - TOOLTIP_MAX_ROWS);
  });

  it('escapes names for HTML, for the history view', () => {
    expect(escapeHtml(`<veth&1 a"b'c>`)).toBe('&lt;veth&amp;1 a&quot;b&#39;c&gt;');
  });
});

describe('baseChartOption', () => {
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

/** The parts of a theme the test reads. */
interface ThemeShape {
  darkMode: boolean;
  backgroundColor: string;
  color: string[];
  textStyle: { color: string };
  legend: { textStyle: { color: string } };
  valueAxis: { axisLabel: { color: string } };
  timeAxis: { splitLine: { lineStyle: { color: string } } };
  tooltip: unknown;
}

describe('chartTheme', () => {
  it('takes text, axis and tooltip colours and the palette from the page theme', () => {
    const dark = THEME_COLORS.dark;
    const theme = chartTheme(dark, true) as unknown as ThemeShape;
    expect(theme.darkMode).toBe(true);
    expect(theme.backgroundColor).toBe('transparent');
    expect(theme.color).toEqual(dark.palette);
    expect(theme.textStyle.color).toBe(dark.fg);
    expect(theme.legend.textStyle.color).toBe(dark.fg);
    expect(theme.valueAxis.axisLabel.color).toBe(dark.muted);
    expect(theme.timeAxis.splitLine.lineStyle.color).toBe(dark.border);
    expect(theme.tooltip).toMatchObject({
      backgroundColor: dark.surface,
      textStyle: { color: dark.fg },
    });
    expect((chartTheme(THEME_COLORS.light, false) as unknown as ThemeShape).textStyle.color).toBe(
      THEME_COLORS.light.fg,
    );
  });
});
