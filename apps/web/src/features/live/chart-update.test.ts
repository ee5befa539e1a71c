import { init, use } from 'echarts/core';
import { SVGRenderer } from 'echarts/renderers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../../lib/echarts';
import { CHART_THEMES, THEME_COLORS } from '../../lib/theme';
import { baseChartOption, liveChartOption, liveChartUpdate, type ChartSpec } from './chart-options';
import type { LiveChartOption } from './chart-options';
import { LiveSeries } from './live-series';

// liveChartUpdate against real ECharts (server-side SVG: no canvas in Node), as LiveChart.vue
// and EChart drive it: a theme change makes ECharts rebuild its model from the option it
// kept, and the ticks after it must still find every line they update.

use([SVGRenderer]);

const T0 = Date.UTC(2026, 11, 5, 1, 0, 0);

/** A live window with `paths` holding one point a second for `seconds`. */
function liveWith(paths: string[], seconds: number): LiveSeries {
  const live = new LiveSeries(60_000);
  for (let s = 0; s < seconds; s++) {
    live.addPoints(T0 + s * 1000, new Map(paths.map((path, i) => [path, s + i])));
  }
  return live;
}

afterEach(() => vi.restoreAllMocks());

describe('live chart updates in ECharts', () => {
  it('keeps every line through a theme change, when the lines changed since the first option', () => {
    const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const chart = init(null, CHART_THEMES.light, {
      renderer: 'svg',
      ssr: true,
      width: 400,
      height: 200,
    });
    let applied: { base: LiveChartOption; option: LiveChartOption } | null = null;
    const sent: { notMerge?: true }[] = [];
    // As LiveChart does: one base per spec and palette, an update a tick.
    const draw = (base: LiveChartOption, spec: ChartSpec, live: LiveSeries) => {
      const option = liveChartOption(base, spec, live);
      const update = liveChartUpdate(applied, base, option);
      chart.setOption(update.option, update.settings);
      sent.push(update.settings);
      applied = { base, option };
    };
    // A disk chart before the first snapshot named a disk, then with two.
    const none: ChartSpec = { unit: 'byteRate', lines: [] };
    draw(baseChartOption(none, THEME_COLORS.light.palette), none, liveWith([], 0));
    const disks = ['disk.devices.sda.readBytesPerSec', 'disk.devices.sdb.readBytesPerSec'];
    const spec: ChartSpec = {
      unit: 'byteRate',
      lines: disks.map((path) => ({ path, label: path })),
    };
    const light = baseChartOption(spec, THEME_COLORS.light.palette);
    draw(light, spec, liveWith(disks, 3));
    draw(light, spec, liveWith(disks, 4));

    // The page turns dark: EChart sets the theme (ECharts rebuilds from its kept option)
    // and the chart's palette changes, so LiveChart sends the whole option; then ticks go on.
    chart.setTheme(CHART_THEMES.dark);
    const dark = baseChartOption(spec, THEME_COLORS.dark.palette);
    draw(dark, spec, liveWith(disks, 5));
    chart.setTheme(CHART_THEMES.dark);
    draw(dark, spec, liveWith(disks, 6));
    // Whole, whole, tick, whole, tick.
    expect(sent.map((s) => s.notMerge === true)).toEqual([true, true, false, true, false]);

    const { series } = chart.getOption() as { series: { id: string; data: unknown[] }[] };
    expect(series.map((s) => [s.id, s.data.length])).toEqual([
      [disks[0], 6],
      [disks[1], 6],
    ]);
    expect(errors.mock.calls.flat().join('\n')).not.toContain('Unknown series');
    chart.dispose();
  });
});
