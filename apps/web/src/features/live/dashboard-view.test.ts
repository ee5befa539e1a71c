// @vitest-environment happy-dom
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { nextTick } from 'vue';
import { NO_VALUE } from '../../lib/format';
import { useMetricsStore } from '../../stores/metrics';
import DashboardView from './DashboardView.vue';
import { EchartsStub } from '../../test/echarts-stub';

const PANELS = ['cpu', 'memory', 'network', 'disk', 'perf', 'bandwidth'];

// No session in these tests, so the store never opens a socket; the API status card polls
// the network and the canvas chart needs a real canvas, so both are stubbed.
const global = { stubs: { EChart: EchartsStub, HealthCard: true } };

function withSnapshot() {
  const metrics = useMetricsStore();
  const snapshot = makeExampleSnapshot();
  metrics.latest.set(snapshot.host, snapshot);
  metrics.selectedHost = snapshot.host;
  metrics.series.addSnapshot(snapshot);
  metrics.version += 1;
  return { metrics, snapshot };
}

beforeEach(() => {
  localStorage.clear();
  setActivePinia(createPinia());
});

describe('DashboardView', () => {
  it('lays out the six panels, each with its figures and a chart, then the processes and containers', () => {
    withSnapshot();
    const wrapper = mount(DashboardView, { global });
    const panels = wrapper.findAll('.panels > section.panel');
    expect(panels.map((p) => p.attributes('data-panel'))).toEqual([
      ...PANELS,
      'processes',
      'cgroups',
    ]);
    for (const panel of panels.slice(0, PANELS.length)) {
      expect(panel.find('.chart').exists()).toBe(true);
      expect(panel.findAll('[data-value]').some((v) => v.text() !== NO_VALUE)).toBe(true);
    }
    expect(wrapper.find('[data-panel="cpu"] [data-value="usagePercent"]').text()).toBe('12.5 %');
    expect(wrapper.find('[data-panel="perf"] [data-testid="perf-hw-unavailable"]').exists()).toBe(
      true,
    );
  });

  it('marks the data stale while the socket is not connected, and fresh once it is', async () => {
    const { metrics } = withSnapshot();
    const wrapper = mount(DashboardView, { global });
    expect(metrics.connectionState).toBe('disconnected');
    expect(wrapper.find('.panels').classes()).toContain('stale');
    expect(wrapper.find('.stale-mark').text()).toBe('· stale');
    // The last data stays on screen.
    expect(wrapper.find('[data-panel="cpu"] [data-value="usagePercent"]').text()).toBe('12.5 %');

    metrics.connectionState = 'connected';
    await nextTick();
    expect(wrapper.find('.panels').classes()).not.toContain('stale');
    expect(wrapper.find('.stale-mark').exists()).toBe(false);

    metrics.stale = true; // connected, but nothing arrived for two intervals
    await nextTick();
    expect(wrapper.find('.panels').classes()).toContain('stale');

    metrics.stale = false;
    metrics.connectionState = 'connecting';
    await nextTick();
    expect(wrapper.find('.panels').classes()).toContain('stale');
  });

  it('picks the live window of 1, 5 or 15 minutes', async () => {
    const { metrics } = withSnapshot();
    const wrapper = mount(DashboardView, { global });
    const buttons = wrapper.findAll('[data-window]');
    expect(buttons.map((b) => b.attributes('data-window'))).toEqual(['1', '5', '15']);
    expect(wrapper.find('[data-window="5"]').attributes('aria-pressed')).toBe('true');
    await wrapper.find('[data-window="15"]').trigger('click');
    await flushPromises();
    expect(metrics.windowMinutes).toBe(15);
    expect(metrics.series.windowMs).toBe(15 * 60_000);
    expect(wrapper.find('[data-window="15"]').attributes('aria-pressed')).toBe('true');
  });

  it('shows the host picker only for several hosts', async () => {
    const { metrics } = withSnapshot();
    const wrapper = mount(DashboardView, { global });
    expect(wrapper.find('label.host select').exists()).toBe(false);
    metrics.hosts = [
      { name: 'vm-web-01', lastSeen: '2025-03-14T09:26:53.589Z' },
      { name: 'vm-web-02', lastSeen: '2025-03-14T09:26:53.589Z' },
    ];
    await nextTick();
    const options = wrapper.findAll('label.host select option');
    expect(options.map((o) => o.text())).toEqual(['vm-web-01', 'vm-web-02']);
  });

  it("states the sampler's cost and the sample-to-screen median and p99", async () => {
    const { metrics } = withSnapshot();
    const wrapper = mount(DashboardView, { global });
    expect(wrapper.find('footer.cost').text()).toContain(
      'Sampler 0.8 % CPU · 75.0 MiB RSS · 3.4 ms per tick',
    );
    expect(wrapper.find('footer.cost').text()).toContain(`Sample to screen ${NO_VALUE}`);
    metrics.latencies = [12, 5, 7, 300];
    await nextTick();
    expect(wrapper.find('footer.cost').text()).toContain(
      'Sample to screen median 7 ms · p99 300 ms',
    );
  });

  it('shows — everywhere before the first snapshot', () => {
    const wrapper = mount(DashboardView, { global });
    const values = wrapper.findAll('[data-value]');
    expect(values.length).toBeGreaterThan(20);
    for (const value of values) expect(value.text()).toBe(NO_VALUE);
  });
});
