// @vitest-environment happy-dom
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import type { LineSeriesOption } from 'echarts/charts';
import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { defineComponent, h, nextTick } from 'vue';
import type { LiveChartOption } from './chart-options';
import { useMetricsStore } from '../../stores/metrics';
import LiveChart from './LiveChart.vue';

const T0 = Date.UTC(2025, 2, 14, 9, 0, 0);
const HOST = 'vm-web-01';

/** Puts snapshot `s` (s seconds after T0, CPU usage = s) into the store's live window. */
function feed(metrics: ReturnType<typeof useMetricsStore>, ...seconds: number[]): void {
  for (const s of seconds) {
    const snapshot = makeExampleSnapshot({
      host: HOST,
      seq: s + 1,
      timestamp: new Date(T0 + s * 1000).toISOString(),
    });
    snapshot.cpu.usagePercent = s;
    metrics.latest.set(HOST, snapshot);
    metrics.series.addSnapshot(snapshot);
  }
  metrics.version += 1;
}

const spec = {
  unit: 'percent' as const,
  yMax: 100,
  lines: [
    { path: 'cpu.usagePercent', label: 'Total' },
    { path: 'cpu.userPercent', label: 'User' },
  ],
};

/**
 * The chart component (EChart) in place of the canvas chart: its props are what the chart is given,
 * and one pixel is one second from T0 on both axes' conversions, over a 600 px wide grid.
 */
/** Every `setOption` the chart made on the stub, in order. */
let setOptionCalls: [LiveChartOption, Record<string, unknown>][] = [];

const EchartsStub = defineComponent({
  name: 'EchartsStub',
  props: {
    option: { type: Object, default: undefined },
    manualUpdate: Boolean,
    autoresize: Boolean,
  },
  setup(_, { expose }) {
    expose({
      setOption: (option: LiveChartOption, settings: Record<string, unknown>) =>
        setOptionCalls.push([option, settings]),
      containPixel: (_finder: unknown, [x]: number[]) => x! >= 0 && x! <= 600,
      convertFromPixel: (_finder: unknown, [x, y]: number[]) => [T0 + x! * 1000, y],
      convertToPixel: (_finder: unknown, [t]: number[]) => [(t! - T0) / 1000, 0],
      getWidth: () => 600,
      getZr: () => ({ setSleepAfterStill: () => undefined }),
    });
    return () => h('div', { class: 'echarts-stub' });
  },
});

function mountChart(lines = spec.lines) {
  return mount(LiveChart, {
    props: { spec: { ...spec, lines }, label: 'CPU: Total, live' },
    global: { stubs: { EChart: EchartsStub } },
  });
}

/** Moves the pointer over the chart as ECharts' zrender reports it. */
function pointAt(wrapper: ReturnType<typeof mountChart>, offsetX: number): void {
  const attrs = wrapper.findComponent(EchartsStub).vm.$attrs;
  (attrs['onZr:mousemove'] as (event: { offsetX: number; offsetY: number }) => void)({
    offsetX,
    offsetY: 50,
  });
}

/** Vue's flush, then the two animation frames a chart's draw waits for (chart-frames.ts). */
async function drawn(): Promise<void> {
  await nextTick();
  await new Promise<void>((resolve) =>
    requestAnimationFrame(() => requestAnimationFrame(() => resolve())),
  );
}

const optionOf = (wrapper: ReturnType<typeof mountChart>) =>
  wrapper.findComponent(EchartsStub).props('option') as LiveChartOption;

describe('LiveChart', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    setOptionCalls = [];
  });

  it('shows the store window of its lines, and a waiting note while it is empty', async () => {
    const metrics = useMetricsStore();
    const wrapper = mountChart();
    expect(wrapper.find('.chart [role="img"]').attributes('aria-label')).toBe('CPU: Total, live');
    expect(wrapper.find('.empty').text()).toBe('Waiting for data…');
    feed(metrics, 0, 1, 2);
    await drawn();
    expect(wrapper.find('.empty').exists()).toBe(false);
    const series = optionOf(wrapper).series as LineSeriesOption[];
    expect(series.map((s) => s.id)).toEqual(['cpu.usagePercent', 'cpu.userPercent']);
    expect(series[0]!.data).toEqual([
      [T0, 0],
      [T0 + 1000, 1],
      [T0 + 2000, 2],
    ]);
  });

  it('redraws on each version bump with new data only, and breaks the line at a gap', async () => {
    const metrics = useMetricsStore();
    feed(metrics, 0, 1);
    const wrapper = mountChart();
    const first = optionOf(wrapper);
    feed(metrics, 5);
    await drawn();
    const second = optionOf(wrapper);
    expect(second).not.toBe(first);
    // The structure is shared between redraws; only the data and the x range are new.
    expect(second.grid).toBe(first.grid);
    expect(second.yAxis).toBe(first.yAxis);
    expect((second.series as LineSeriesOption[])[0]!.data).toEqual([
      [T0, 0],
      [T0 + 1000, 1],
      [T0 + 2000, null],
      [T0 + 5000, 5],
    ]);
    expect(second.xAxis).toMatchObject({ min: T0 + 5000 - 5 * 60_000, max: T0 + 5000 });
  });

  it('sends ECharts only the data and the x range on a tick, the whole option on a line change', async () => {
    const metrics = useMetricsStore();
    feed(metrics, 0, 1);
    const wrapper = mountChart();
    await drawn();
    const chart = wrapper.findComponent(EchartsStub);
    expect(chart.props('manualUpdate')).toBe(true);
    expect(chart.props('autoresize')).toBe(true);
    expect(optionOf(wrapper).animation).toBe(false);
    // The first update is whole, in place of anything before it.
    expect(setOptionCalls).toHaveLength(1);
    expect(setOptionCalls[0]![1]).toEqual({ notMerge: true });
    expect(setOptionCalls[0]![0]).toBe(optionOf(wrapper));

    feed(metrics, 2);
    await drawn();
    expect(setOptionCalls).toHaveLength(2);
    const [tick, settings] = setOptionCalls[1]!;
    expect(settings).toEqual({});
    expect(Object.keys(tick).sort()).toEqual(['series', 'xAxis']);
    expect(tick.xAxis).toEqual({ min: T0 + 2000 - 5 * 60_000, max: T0 + 2000 });
    expect(tick.series).toEqual([
      {
        id: 'cpu.usagePercent',
        data: [
          [T0, 0],
          [T0 + 1000, 1],
          [T0 + 2000, 2],
        ],
      },
      { id: 'cpu.userPercent', data: expect.any(Array) },
    ]);

    // Hiding a line changes the lines: the whole option again, the hidden one dropped.
    await wrapper.findAll('.legend button')[0]!.trigger('click');
    await drawn();
    const [whole, replace] = setOptionCalls.at(-1)!;
    expect(replace).toEqual({ notMerge: true });
    expect((whole.series as LineSeriesOption[]).map((s) => s.id)).toEqual(['cpu.userPercent']);
    expect(whole.grid).toBeDefined();
  });

  it('is not redrawn while scrolled out of view, and draws the current window on return', async () => {
    // The page's IntersectionObserver, driven by hand: happy-dom lays nothing out.
    let report: ((entries: { isIntersecting: boolean }[]) => void) | undefined;
    const original = globalThis.IntersectionObserver;
    globalThis.IntersectionObserver = class {
      constructor(callback: (entries: { isIntersecting: boolean }[]) => void) {
        report = callback;
      }
      observe() {}
      disconnect() {}
    } as unknown as typeof IntersectionObserver;
    try {
      const metrics = useMetricsStore();
      feed(metrics, 0, 1);
      const wrapper = mountChart();
      await drawn();
      const calls = setOptionCalls.length;
      report!([{ isIntersecting: false }]);
      feed(metrics, 2);
      feed(metrics, 3);
      await drawn();
      expect(setOptionCalls).toHaveLength(calls);
      report!([{ isIntersecting: true }]);
      await drawn();
      expect(setOptionCalls).toHaveLength(calls + 1);
      const [update] = setOptionCalls.at(-1)!;
      expect((update.series as LineSeriesOption[])[0]!.data).toEqual([
        [T0, 0],
        [T0 + 1000, 1],
        [T0 + 2000, 2],
        [T0 + 3000, 3],
      ]);
      wrapper.unmount();
    } finally {
      globalThis.IntersectionObserver = original;
    }
  });

  it('follows the live window the store is set to', async () => {
    const metrics = useMetricsStore();
    feed(metrics, ...Array.from({ length: 91 }, (_, s) => s));
    const wrapper = mountChart();
    expect(((optionOf(wrapper).series as LineSeriesOption[])[0]!.data as unknown[]).length).toBe(
      91,
    );
    metrics.setWindow(1);
    await drawn();
    const option = optionOf(wrapper);
    expect(option.xAxis).toMatchObject({ min: T0 + 30_000, max: T0 + 90_000 });
    const data = (option.series as LineSeriesOption[])[0]!.data as [number, number | null][];
    expect(data).toHaveLength(61);
    expect(data[0]).toEqual([T0 + 30_000, 30]);
    expect(data.at(-1)).toEqual([T0 + 90_000, 90]);
    expect(data.some(([, v]) => v === null)).toBe(false);
  });

  it('has a legend that switches lines off and on, each in its own colour', async () => {
    const metrics = useMetricsStore();
    feed(metrics, 0, 1);
    const wrapper = mountChart();
    const buttons = wrapper.findAll('.legend button');
    expect(buttons.map((b) => b.text())).toEqual(['Total', 'User']);
    const colours = wrapper.findAll('.legend .swatch').map((s) => s.attributes('style'));
    expect(new Set(colours).size).toBe(2);
    await buttons[0]!.trigger('click');
    expect(buttons[0]!.attributes('aria-pressed')).toBe('false');
    expect((optionOf(wrapper).series as LineSeriesOption[]).map((s) => s.id)).toEqual([
      'cpu.userPercent',
    ]);
    await buttons[0]!.trigger('click');
    expect((optionOf(wrapper).series as LineSeriesOption[]).map((s) => s.id)).toEqual([
      'cpu.usagePercent',
      'cpu.userPercent',
    ]);
  });

  it('has no legend for a single line', () => {
    const wrapper = mountChart([spec.lines[0]!]);
    expect(wrapper.find('.legend').exists()).toBe(false);
  });

  it('shows a tooltip of every line at the sample under the pointer, in units', async () => {
    const metrics = useMetricsStore();
    feed(metrics, 0, 1, 2);
    const wrapper = mountChart();
    expect(wrapper.find('[data-testid="chart-tooltip"]').exists()).toBe(false);
    pointAt(wrapper, 1.2); // 1.2 s after T0: the sample at 1 s
    await drawn();
    const tip = wrapper.find('[data-testid="chart-tooltip"]');
    expect(tip.find('.tt-time').text()).toBe(new Date(T0 + 1000).toLocaleTimeString());
    expect(
      tip.findAll('.tt-row').map((r) => [r.find('.tt-label').text(), r.find('strong').text()]),
    ).toEqual([
      ['Total', '1.0 %'],
      ['User', '8.0 %'],
    ]);
    expect(wrapper.find('.pointer').attributes('style')).toContain('left: 1px');

    pointAt(wrapper, 700); // off the grid
    await drawn();
    expect(wrapper.find('[data-testid="chart-tooltip"]').exists()).toBe(false);
    pointAt(wrapper, 2);
    await drawn();
    await wrapper.find('.plot').trigger('mouseleave');
    expect(wrapper.find('[data-testid="chart-tooltip"]').exists()).toBe(false);
  });
});
