// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defineComponent, h, nextTick, provide, shallowRef } from 'vue';

// happy-dom has no canvas: ECharts' `init` is replaced by an instance that records its calls.
const created: FakeChart[] = [];
interface FakeChart {
  element: HTMLElement;
  theme: unknown;
  calls: unknown[][];
  zrHandlers: Map<string, (event: unknown) => void>;
}
vi.mock('echarts/core', () => ({
  init: (element: HTMLElement, theme: unknown) => {
    const fake: FakeChart = { element, theme, calls: [], zrHandlers: new Map() };
    created.push(fake);
    const record =
      (name: string) =>
      (...args: unknown[]) => {
        fake.calls.push([name, ...args]);
      };
    return {
      setOption: record('setOption'),
      setTheme: record('setTheme'),
      resize: record('resize'),
      dispose: record('dispose'),
      getWidth: () => 600,
      getHeight: () => 200,
      containPixel: () => true,
      convertFromPixel: (_finder: unknown, at: number[]) => at,
      convertToPixel: (_finder: unknown, at: number[]) => at,
      getZr: () => ({
        on: (event: string, handler: (event: unknown) => void) =>
          fake.zrHandlers.set(event, handler),
        setSleepAfterStill: record('setSleepAfterStill'),
      }),
    };
  },
}));

const { default: EChart, CHART_THEME_KEY } = await import('./EChart.vue');

/** What the parent gives EChart (props and listeners), and the theme it provides. */
const chartProps = shallowRef<Record<string, unknown>>({});
const theme = shallowRef('livestat-light');

/** EChart under a parent that provides the chart theme, as App.vue does. */
const Parent = defineComponent({
  setup() {
    provide(CHART_THEME_KEY, theme);
    return () => h(EChart, { class: 'canvas', ...chartProps.value });
  },
});

function mountChart(props: Record<string, unknown>) {
  chartProps.value = props;
  return mount(Parent, { attachTo: document.body });
}

afterEach(() => {
  created.length = 0;
  theme.value = 'livestat-light';
});

describe('EChart', () => {
  it('starts ECharts on its element with the page theme and the first option', () => {
    const wrapper = mountChart({ option: { series: [] }, manualUpdate: true });
    expect(created).toHaveLength(1);
    const chart = created[0]!;
    expect(chart.theme).toBe('livestat-light');
    // ECharts gets an element of its own inside the one Vue patches (class, attributes).
    expect(wrapper.find('.canvas').element.firstElementChild).toBe(chart.element);
    expect(chart.calls).toEqual([['setOption', { series: [] }]]);
    wrapper.unmount();
  });

  it('re-themes in place, takes manual updates, and disposes on unmount', async () => {
    const wrapper = mountChart({ option: { a: 1 }, manualUpdate: true });
    const chart = created[0]!;
    theme.value = 'livestat-dark';
    await nextTick();
    expect(chart.calls.at(-1)).toEqual(['setTheme', 'livestat-dark']);
    // A new `option` is not sent with manual-update; `setOption` goes straight through.
    chartProps.value = { option: { a: 3 }, manualUpdate: true };
    await nextTick();
    expect(chart.calls.at(-1)).toEqual(['setTheme', 'livestat-dark']);
    const exposed = wrapper.findComponent(EChart).vm as unknown as {
      setOption(option: object, settings?: object): void;
      getWidth(): number;
    };
    exposed.setOption({ b: 2 }, { notMerge: true });
    expect(chart.calls.at(-1)).toEqual(['setOption', { b: 2 }, { notMerge: true }]);
    expect(exposed.getWidth()).toBe(600);
    expect(created).toHaveLength(1);
    wrapper.unmount();
    expect(chart.calls.at(-1)).toEqual(['dispose']);
  });

  it('sets each new option without manual-update', async () => {
    const wrapper = mountChart({ option: { a: 1 } });
    chartProps.value = { option: { a: 2 } };
    await nextTick();
    expect(created[0]!.calls).toEqual([
      ['setOption', { a: 1 }],
      ['setOption', { a: 2 }],
    ]);
    wrapper.unmount();
  });

  it("passes zrender's events to the parent's current listener", async () => {
    const seen: string[] = [];
    const wrapper = mountChart({
      'onZr:mousemove': (event: unknown) => seen.push(`first ${String(event)}`),
      manualUpdate: true,
    });
    const chart = created[0]!;
    // Bound on zrender, not ECharts, and not put on the element as an attribute.
    expect([...chart.zrHandlers.keys()]).toEqual(['mousemove']);
    expect(wrapper.html()).not.toContain('zr:');
    chart.zrHandlers.get('mousemove')!('a');
    chartProps.value = {
      'onZr:mousemove': (event: unknown) => seen.push(`second ${String(event)}`),
      manualUpdate: true,
    };
    await nextTick();
    chart.zrHandlers.get('mousemove')!('b');
    expect(seen).toEqual(['first a', 'second b']);
    wrapper.unmount();
  });
});
