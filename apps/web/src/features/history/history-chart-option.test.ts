import type { HistoryResponse } from '@livestat/contracts';
import type { LineSeriesOption } from 'echarts/charts';
import { describe, expect, it } from 'vitest';
import type { SeriesGroup } from './history-view';
import { historyChartOption, historyTooltip, seriesIds } from './history-chart-option';

const HOUR = 3_600_000;
const NOW = Date.UTC(2025, 5, 1, 12, 0, 0);

const network: SeriesGroup = {
  id: 'network',
  label: 'Network',
  unit: 'byteRate',
  series: [
    { path: 'network.rxBytesPerSec', label: 'rx' },
    { path: 'network.txBytesPerSec', label: 'tx' },
  ],
};

const t0 = NOW - HOUR;
const response: HistoryResponse = {
  host: 'vm-web-01',
  from: t0,
  to: NOW,
  bucketMs: 60_000,
  tier: '1m',
  series: {
    'network.rxBytesPerSec': [
      [t0, 2048, 1024, 4096],
      [t0 + 60_000, null, null, null],
      [t0 + 120_000, 512, 256, 1024],
    ],
    'network.txBytesPerSec': [
      [t0, null, null, null],
      [t0 + 60_000, null, null, null],
      [t0 + 120_000, null, null, null],
    ],
  },
};

describe('historyChartOption', () => {
  const base = { from: t0, to: NOW };
  const visible = { from: t0 + 0.25 * HOUR, to: t0 + 0.5 * HOUR };
  const option = historyChartOption({ group: network, response, base, visible });
  const series = option.series as LineSeriesOption[];
  const byId = (id: string) => series.find((s) => s.id === id)!;

  it('draws each series as an average line over a min–max band of stacked lines', () => {
    expect(series.map((s) => s.id)).toEqual([
      'network.rxBytesPerSec:avg',
      'network.rxBytesPerSec:min',
      'network.rxBytesPerSec:band',
      'network.txBytesPerSec:avg',
      'network.txBytesPerSec:min',
      'network.txBytesPerSec:band',
    ]);
    const ids = seriesIds('network.rxBytesPerSec');
    const [avg, min, band] = [byId(ids.avg), byId(ids.min), byId(ids.band)];
    // One name for all three: the legend toggles them together, and they share a colour.
    expect(new Set([avg.name, min.name, band.name])).toEqual(new Set(['rx']));
    expect(min.stack).toBe(band.stack);
    expect(avg.stack).toBeUndefined();
    expect(min.areaStyle).toBeUndefined();
    expect(band.areaStyle).toBeDefined();
    expect(min.lineStyle?.opacity).toBe(0);
    expect(band.lineStyle?.opacity).toBe(0);
    expect(min.stackStrategy).toBe('all');
  });

  it('plots avg, min and max − min per bucket, empty buckets as gaps', () => {
    const ids = seriesIds('network.rxBytesPerSec');
    // Both values stand alone between gaps: each is a dot, as a line of one point has no length.
    expect(byId(ids.avg).data).toEqual([
      { value: [t0, 2048, 1024, 4096], symbol: 'circle', symbolSize: 6 },
      [t0 + 60_000, null, null, null],
      { value: [t0 + 120_000, 512, 256, 1024], symbol: 'circle', symbolSize: 6 },
    ]);
    expect(byId(ids.avg).showSymbol).toBe(true);
    expect(byId(ids.avg).encode).toEqual({ x: 0, y: 1 });
    expect(byId(ids.min).data).toEqual([
      [t0, 1024],
      [t0 + 60_000, null],
      [t0 + 120_000, 256],
    ]);
    expect(byId(ids.band).data).toEqual([
      [t0, 3072],
      [t0 + 60_000, null],
      [t0 + 120_000, 768],
    ]);
    for (const s of series) expect(s.connectNulls).toBe(false);
  });

  it('spans the base range and sets the zoom window to the visible range', () => {
    expect(option.xAxis).toMatchObject({ type: 'time', min: base.from, max: base.to });
    const zooms = option.dataZoom as { type: string; start: number; end: number }[];
    expect(zooms.map((z) => z.type)).toEqual(['inside', 'slider']);
    for (const zoom of zooms) {
      expect(zoom.start).toBeCloseTo(25, 9);
      expect(zoom.end).toBeCloseTo(50, 9);
    }
  });

  it('leaves a one-finger drag to scroll the page on a touch screen', () => {
    const inside = (touch: boolean) =>
      (
        historyChartOption({ group: network, response, base, visible, touch }).dataZoom as {
          type: string;
          moveOnMouseMove?: boolean;
        }[]
      )[0]!;
    expect(inside(false)).toMatchObject({ type: 'inside', moveOnMouseMove: true });
    expect(inside(true)).toMatchObject({ type: 'inside', moveOnMouseMove: false });
  });

  it('stops a percentage axis at 100 and steps others in round units of theirs', () => {
    // rx peaks at 4 KiB: 0, 2, 4 KiB, not ECharts' decimal split.
    expect(option.yAxis).toEqual([
      expect.objectContaining({ type: 'value', min: 0, max: 4096, interval: 2048 }),
    ]);
    const cpu = historyChartOption({
      group: {
        id: 'cpu',
        label: 'CPU',
        unit: 'percent',
        series: [{ path: 'cpu.usagePercent', label: 'usage' }],
      },
      response,
      base,
      visible: base,
    });
    expect(cpu.yAxis).toEqual([expect.objectContaining({ min: 0, max: 100, interval: 25 })]);
  });

  it('gives series of very different magnitude an axis each, named by its series', () => {
    const software: SeriesGroup = {
      id: 'software',
      label: 'Software events',
      unit: 'rate',
      series: [
        { path: 'perf.pageFaultsPerSec', label: 'page faults' },
        { path: 'perf.cpuMigrationsPerSec', label: 'migrations' },
      ],
    };
    const answer = {
      ...response,
      series: {
        'perf.pageFaultsPerSec': [[t0, 30_000, 100, 45_000]],
        'perf.cpuMigrationsPerSec': [[t0, 8, 2, 12]],
      },
    } as HistoryResponse;
    const chart = historyChartOption({ group: software, response: answer, base, visible: base });
    expect(chart.yAxis).toEqual([
      expect.objectContaining({
        position: 'left',
        max: 60_000,
        interval: 20_000,
        name: 'page faults',
      }),
      expect.objectContaining({ position: 'right', max: 15, interval: 5, name: 'migrations' }),
    ]);
    const axisOf = (chart.series as LineSeriesOption[]).map((s) => [s.id, s.yAxisIndex]);
    expect(axisOf).toEqual([
      ['perf.pageFaultsPerSec:avg', 0],
      ['perf.pageFaultsPerSec:min', 0],
      ['perf.pageFaultsPerSec:band', 0],
      ['perf.cpuMigrationsPerSec:avg', 1],
      ['perf.cpuMigrationsPerSec:min', 1],
      ['perf.cpuMigrationsPerSec:band', 1],
    ]);
    // Like magnitudes share one.
    expect(option.yAxis).toHaveLength(1);
  });

  it('draws a line without dots where buckets join up', () => {
    const answer = {
      ...response,
      series: {
        'cpu.usagePercent': [
          [t0, 5, 1, 9],
          [t0 + 60_000, 6, 2, 8],
        ],
      },
    } as HistoryResponse;
    const cpu = historyChartOption({
      group: {
        id: 'cpu',
        label: 'CPU',
        unit: 'percent',
        series: [{ path: 'cpu.usagePercent', label: 'usage' }],
      },
      response: answer,
      base,
      visible: base,
    });
    const avg = (cpu.series as LineSeriesOption[])[0]!;
    expect(avg.showSymbol).toBe(false);
    expect(avg.data).toEqual([
      [t0, 5, 1, 9],
      [t0 + 60_000, 6, 2, 8],
    ]);
  });

  it('shows a legend of the series names only when there are several', () => {
    expect(option.legend).toMatchObject({ show: true, data: ['rx', 'tx'] });
    const single = historyChartOption({
      group: { ...network, series: [network.series[0]!] },
      response,
      base,
      visible: base,
    });
    expect(single.legend).toMatchObject({ show: false });
  });

  it('has a series with no answer drawn empty, not failing', () => {
    const other = historyChartOption({
      group: {
        id: 'cpu',
        label: 'CPU',
        unit: 'percent',
        series: [{ path: 'cpu.usagePercent', label: 'usage' }],
      },
      response,
      base,
      visible: base,
    });
    expect((other.series as LineSeriesOption[]).map((s) => s.data)).toEqual([[], [], []]);
  });
});

describe('historyTooltip', () => {
  const marker = '<span class="m"></span>';
  const param = (path: string, value: unknown[], kind = 'avg') => ({
    seriesId: `${path}:${kind}`,
    marker,
    value,
    axisValue: value[0],
  });

  it('shows the time, then avg (min – max) with units per series, skipping the band helpers', () => {
    const html = historyTooltip(network, [
      param('network.rxBytesPerSec', [t0, 2048, 1024, 4096]),
      param('network.rxBytesPerSec', [t0, 1024], 'min'),
      param('network.rxBytesPerSec', [t0, 3072], 'band'),
      param('network.txBytesPerSec', [t0, null, null, null]),
    ]);
    expect(html).toContain(new Date(t0).toLocaleString());
    expect(html).toContain(`${marker}rx: <b>2.00 KiB/s</b> (1.00 KiB/s – 4.00 KiB/s)</div>`);
    expect(html).toContain(`${marker}tx: no data`);
    expect(html).not.toContain('3.00 KiB/s');
  });

  it('never wraps a row inside a label', () => {
    const html = historyTooltip(network, [param('network.rxBytesPerSec', [t0, 2048, 1024, 4096])]);
    expect(html).toMatch(
      /<div style="[^"]*white-space:nowrap[^"]*">[^<]*<span class="m"><\/span>rx:/,
    );
  });

  it('says so when no series has a value at that time', () => {
    expect(historyTooltip(network, [{ seriesId: 'x', axisValue: t0 }])).toContain(
      '<div>no data</div>',
    );
  });

  it('writes percentages and ratios in their units, and escapes labels', () => {
    const group: SeriesGroup = {
      id: 'x',
      label: 'X',
      unit: 'percent',
      series: [{ path: 'cpu.usagePercent', label: '<b>cpu</b>' }],
    };
    const html = historyTooltip(group, [param('cpu.usagePercent', [t0, 12.34, 5, 99.99])]);
    expect(html).toContain('&lt;b&gt;cpu&lt;/b&gt;: <b>12.3 %</b> (5.0 % – 100.0 %)');
    const ipc: SeriesGroup = {
      ...group,
      unit: 'ratio',
      series: [{ path: 'perf.ipc', label: 'IPC' }],
    };
    expect(historyTooltip(ipc, [param('perf.ipc', [t0, 1.234, 0.5, 2])])).toContain(
      'IPC: <b>1.23</b> (0.50 – 2.00)',
    );
  });
});
