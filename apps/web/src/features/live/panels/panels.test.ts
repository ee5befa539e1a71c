// @vitest-environment happy-dom
import type { PerfMetrics } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import type { LineSeriesOption } from 'echarts/charts';
import { mount } from '@vue/test-utils';
import type { VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { NO_VALUE } from '../../../lib/format';
import type { LiveChartOption } from '../chart-options';
import BandwidthPanel from './BandwidthPanel.vue';
import CpuPanel from './CpuPanel.vue';
import DiskPanel from './DiskPanel.vue';
import MemoryPanel from './MemoryPanel.vue';
import NetworkPanel from './NetworkPanel.vue';
import PerfPanel from './PerfPanel.vue';
import { EchartsStub } from '../../../test/echarts-stub';

// ECharts needs a real canvas: the chart itself is stubbed (its option is tested in
// ../chart-options.test.ts and ../LiveChart.test.ts); everything around it renders.
const global = { stubs: { EChart: EchartsStub } };

const figure = (wrapper: VueWrapper, key: string) => wrapper.find(`[data-value="${key}"]`);
const chartLines = (wrapper: VueWrapper) =>
  (
    (wrapper.findComponent({ name: 'EChart' }).props('option') as LiveChartOption)
      .series as LineSeriesOption[]
  ).map((s) => s.id);

function withPmu(): PerfMetrics {
  return {
    ...makeExampleSnapshot().perf,
    hardwareAvailable: true,
    hardwareUnavailableReason: null,
    cyclesPerSec: 2.4e9,
    instructionsPerSec: 3.1e9,
    ipc: 1.2917,
    cacheReferencesPerSec: 5.2e7,
    cacheMissesPerSec: 1.3e6,
    cacheMissPercent: 2.5,
    branchMissesPerSec: 4.5e6,
    unsupportedEvents: ['branch-misses'],
  };
}

beforeEach(() => setActivePinia(createPinia()));

describe('PerfPanel', () => {
  it('says exactly why there are no hardware counters, and shows the software events', () => {
    const perf = makeExampleSnapshot().perf;
    const wrapper = mount(PerfPanel, { props: { perf }, global });
    const root = wrapper.find('section.panel');
    expect(root.attributes('data-panel')).toBe('perf');
    expect(wrapper.find('[data-testid="perf-hw-unavailable"]').text()).toBe(
      `Hardware performance counters unavailable — ${perf.hardwareUnavailableReason}`,
    );
    expect(figure(wrapper, 'ipc').exists()).toBe(false);
    expect(figure(wrapper, 'contextSwitchesPerSec').text()).toBe('1.79 k/s');
    expect(figure(wrapper, 'cpuMigrationsPerSec').text()).toBe('12.0 /s');
    expect(figure(wrapper, 'pageFaultsPerSec').text()).toBe('350 /s');
    expect(wrapper.find('.chart').exists()).toBe(true);
    expect(chartLines(wrapper)).toEqual([
      'perf.contextSwitchesPerSec',
      'perf.cpuMigrationsPerSec',
      'perf.pageFaultsPerSec',
    ]);
  });

  it('shows IPC and the hardware counters where the PMU counts, with a chart per kind', async () => {
    const wrapper = mount(PerfPanel, { props: { perf: withPmu() }, global });
    expect(wrapper.find('[data-testid="perf-hw-unavailable"]').exists()).toBe(false);
    expect(figure(wrapper, 'ipc').text()).toBe('1.29');
    expect(figure(wrapper, 'cyclesPerSec').text()).toBe('2.40 G/s');
    expect(figure(wrapper, 'cacheMissesPerSec').text()).toBe('1.30 M/s');
    expect(figure(wrapper, 'branchMissesPerSec').text()).toBe('4.50 M/s');
    expect(wrapper.text()).toContain('Not counted here: branch-misses');
    expect(chartLines(wrapper)).toEqual(['perf.ipc']);
    const views = wrapper.findAll('[data-chart-view]').map((b) => b.attributes('data-chart-view'));
    expect(views).toEqual(['ipc', 'cycles', 'misses', 'software']);
    await wrapper.find('[data-chart-view="misses"]').trigger('click');
    expect(chartLines(wrapper)).toEqual(['perf.cacheMissesPerSec', 'perf.branchMissesPerSec']);
    expect(wrapper.find('[data-chart-view="misses"]').attributes('aria-pressed')).toBe('true');
  });

  it('gives the error of an unavailable collector as the reason, with no figures', () => {
    const wrapper = mount(PerfPanel, {
      props: { perf: { available: false, error: 'perf not found in PATH' } },
      global,
    });
    expect(wrapper.find('[data-testid="perf-hw-unavailable"]').text()).toBe(
      'Hardware performance counters unavailable — perf not found in PATH',
    );
    expect(wrapper.findAll('[data-value]')).toHaveLength(0);
  });
});

describe('a panel whose collector is unavailable', () => {
  it('shows the error instead of the figures, and keeps its chart', () => {
    const wrapper = mount(DiskPanel, {
      props: { disk: { available: false, error: 'cannot read /proc/diskstats: ENOENT' } },
      global,
    });
    expect(wrapper.find('section.panel').attributes('data-panel')).toBe('disk');
    expect(wrapper.find('[data-testid="collector-unavailable"]').text()).toBe(
      'Disk unavailable — cannot read /proc/diskstats: ENOENT',
    );
    expect(wrapper.findAll('[data-value]')).toHaveLength(0);
    expect(wrapper.find('table').exists()).toBe(false);
    expect(wrapper.find('.chart').exists()).toBe(true);
  });

  it.each([
    ['cpu', CpuPanel, 'cpu', 'CPU'],
    ['memory', MemoryPanel, 'memory', 'Memory'],
    ['network', NetworkPanel, 'network', 'Network'],
    ['bandwidth', BandwidthPanel, 'bandwidth', 'Bandwidth'],
  ] as const)('%s says so too', (name, Panel, prop, title) => {
    const wrapper = mount(Panel, {
      props: { [prop]: { available: false, error: 'boom' } },
      global,
    });
    expect(wrapper.find('section.panel').attributes('data-panel')).toBe(name);
    expect(wrapper.find('[data-testid="collector-unavailable"]').text()).toBe(
      `${title} unavailable — boom`,
    );
    expect(wrapper.findAll('[data-value]')).toHaveLength(0);
  });
});

describe('panels before the first snapshot', () => {
  it.each([
    ['cpu', CpuPanel],
    ['memory', MemoryPanel],
    ['network', NetworkPanel],
    ['disk', DiskPanel],
    ['perf', PerfPanel],
    ['bandwidth', BandwidthPanel],
  ] as const)('%s shows — for every figure', (name, Panel) => {
    const wrapper = mount(Panel, { global });
    expect(wrapper.find('section.panel').attributes('data-panel')).toBe(name);
    const values = wrapper.findAll('[data-value]');
    expect(values.length).toBeGreaterThan(0);
    for (const value of values) expect(value.text()).toBe(NO_VALUE);
    expect(wrapper.find('.chart').exists()).toBe(true);
  });
});

describe('CpuPanel', () => {
  it('shows the totals, the load average and a bar per core; per-core lines on demand', async () => {
    const wrapper = mount(CpuPanel, { props: { cpu: makeExampleSnapshot().cpu }, global });
    expect(figure(wrapper, 'usagePercent').text()).toBe('12.5 %');
    expect(figure(wrapper, 'loadAverage').text()).toBe('0.42 · 0.35 · 0.30');
    const cores = wrapper.findAll('[data-core]');
    expect(cores.map((c) => [c.find('.core-label').text(), c.find('.core-value').text()])).toEqual([
      ['CPU 0', '15 %'],
      ['CPU 1', '10 %'],
    ]);
    expect(cores[0]!.find('[role="meter"]').attributes('aria-valuenow')).toBe('15');
    expect(chartLines(wrapper)).toEqual([
      'cpu.usagePercent',
      'cpu.userPercent',
      'cpu.systemPercent',
      'cpu.iowaitPercent',
    ]);
    await wrapper.find('[data-chart-view="cores"]').trigger('click');
    expect(chartLines(wrapper)).toEqual(['cpu.cores.0.usagePercent', 'cpu.cores.1.usagePercent']);
  });
});

describe('MemoryPanel', () => {
  it('shows memory and swap in binary units', () => {
    const wrapper = mount(MemoryPanel, { props: { memory: makeExampleSnapshot().memory }, global });
    expect(figure(wrapper, 'usedPercent').text()).toBe('35.3 %');
    expect(figure(wrapper, 'usedBytes').text()).toBe('1.16 GiB');
    expect(figure(wrapper, 'swap').text()).toBe('0 B / 2.00 GiB');
    expect(chartLines(wrapper)).toEqual([
      'memory.usedBytes',
      'memory.buffersBytes',
      'memory.cachedBytes',
      'memory.freeBytes',
    ]);
  });
});

describe('NetworkPanel', () => {
  it('lists each interface and charts the one picked', async () => {
    const network = makeExampleSnapshot().network;
    const wrapper = mount(NetworkPanel, { props: { network }, global });
    expect(figure(wrapper, 'rxBytesPerSec').text()).toBe('14.9 KiB/s');
    const rows = wrapper.findAll('tbody tr');
    expect(rows.map((r) => r.attributes('data-interface'))).toEqual(['eth0', 'lo']);
    expect(rows[1]!.text()).toContain('loopback');
    expect(rows[0]!.findAll('td')[0]!.text()).toBe('14.9 KiB/s');
    expect(wrapper.find('.table-wrap table').exists()).toBe(true);
    expect(chartLines(wrapper)).toEqual(['network.rxBytesPerSec', 'network.txBytesPerSec']);

    await wrapper.find('select').setValue('eth0');
    expect(chartLines(wrapper)).toEqual([
      'network.interfaces.eth0.rxBytesPerSec',
      'network.interfaces.eth0.txBytesPerSec',
    ]);
    // The interface goes away: the chart falls back to the totals.
    const gone = makeExampleSnapshot().network;
    delete (gone.interfaces as Record<string, unknown>).eth0;
    await wrapper.setProps({ network: gone });
    expect(chartLines(wrapper)).toEqual(['network.rxBytesPerSec', 'network.txBytesPerSec']);
  });
});

describe('DiskPanel', () => {
  it('lists devices and filesystem usage with a bar', () => {
    const wrapper = mount(DiskPanel, { props: { disk: makeExampleSnapshot().disk }, global });
    expect(figure(wrapper, 'writeBytesPerSec').text()).toBe('96.0 KiB/s');
    expect(wrapper.findAll('tbody tr').map((r) => r.attributes('data-device'))).toEqual(['vda']);
    const fs = wrapper.find('[data-mount="/"]');
    expect(fs.text()).toContain('9.00 GiB / 38.7 GiB · 24 %');
    expect(fs.find('[role="meter"]').attributes('aria-valuenow')).toBe('24');
  });
});

describe('BandwidthPanel', () => {
  it('shows paging, swap and faults, and why there is no DRAM figure', () => {
    const wrapper = mount(BandwidthPanel, {
      props: { bandwidth: makeExampleSnapshot().bandwidth },
      global,
    });
    expect(figure(wrapper, 'pageOutBytesPerSec').text()).toBe('48.0 KiB/s');
    expect(figure(wrapper, 'swapInPagesPerSec').text()).toBe('0 pages/s');
    expect(figure(wrapper, 'minorFaultsPerSec').text()).toBe('412 /s');
    expect(figure(wrapper, 'dramTotalBytesPerSec').exists()).toBe(false);
    expect(wrapper.find('[data-testid="dram-source"]').text()).toBe(
      'DRAM bandwidth unavailable — no resctrl mbm_total_bytes and no uncore_imc PMU',
    );
  });

  it('shows DRAM bandwidth and its source where measured', () => {
    const bandwidth = {
      ...makeExampleSnapshot().bandwidth,
      dram: {
        source: 'resctrl' as const,
        readBytesPerSec: null,
        writeBytesPerSec: null,
        totalBytesPerSec: 2 * 1024 ** 3,
      },
      dramUnavailableReason: null,
    };
    const wrapper = mount(BandwidthPanel, { props: { bandwidth }, global });
    expect(figure(wrapper, 'dramTotalBytesPerSec').text()).toBe('2.00 GiB/s');
    expect(figure(wrapper, 'dramReadBytesPerSec').text()).toBe(NO_VALUE);
    expect(wrapper.find('[data-testid="dram-source"]').text()).toBe(
      'DRAM bandwidth from resctrl (mbm_total_bytes)',
    );
    expect(wrapper.find('[data-chart-view="dram"]').exists()).toBe(true);
  });
});
