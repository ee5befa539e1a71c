// @vitest-environment happy-dom
import { mount } from '@vue/test-utils';
import type { VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { createMemoryHistory, createRouter } from 'vue-router';
import { defineComponent } from 'vue';
import { useMetricsStore } from '../../stores/metrics';
import { EchartsStub } from '../../test/echarts-stub';
import { parseHistoryQuery } from '../history/history-link';
import CgroupsPanel from './CgroupsPanel.vue';
import { cgroupRow } from './cgroup-fixtures';
import type { CgroupRow, CgroupsMetrics } from '@livestat/contracts';

const HOST = 'vm-web-01';
const MiB = 1024 * 1024;
const Empty = defineComponent({ render: () => null });

function section(rows: CgroupRow[], extra: Partial<CgroupsMetrics> = {}): CgroupsMetrics {
  return {
    available: true,
    layout: 'hybrid',
    total: rows.length,
    truncated: false,
    slowEveryTicks: 10,
    namesUnavailableReason: null,
    groups: Object.fromEntries(rows.map((row) => [row.name, row])),
    ...extra,
  } as CgroupsMetrics;
}

const ROWS = [
  cgroupRow('cron.service', { cpuPercent: 0.5, memoryBytes: 3 * MiB }),
  cgroupRow('db', {
    kind: 'container',
    runtime: 'docker',
    cpuPercent: 80,
    memoryBytes: 400 * MiB,
    memoryLimitBytes: 512 * MiB,
    health: 'healthy',
  }),
  cgroupRow('nginx.service', { cpuPercent: 12, memoryBytes: 50 * MiB, pids: 5 }),
];

let wrapper: VueWrapper;

beforeEach(() => {
  setActivePinia(createPinia());
  useMetricsStore().selectedHost = HOST;
});

async function mountPanel(cgroups: CgroupsMetrics | undefined) {
  const router = createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', name: 'dashboard', component: Empty },
      { path: '/history', name: 'history', component: Empty },
    ],
  });
  await router.push('/');
  wrapper = mount(CgroupsPanel, {
    props: { cgroups },
    global: { plugins: [router], stubs: { EChart: EchartsStub } },
  });
  return { router };
}

const names = () => wrapper.findAll('tbody tr').map((row) => row.attributes('data-cgroup'));

describe('CgroupsPanel', () => {
  it('lists the cgroups busiest first, memory against its limit as a bar', async () => {
    await mountPanel(section(ROWS));
    expect(names()).toEqual(['db', 'nginx.service', 'cron.service']);
    const db = wrapper.find('tr[data-cgroup="db"]');
    expect(db.find('[data-col="memory"]').text()).toBe('400 MiB / 512 MiB');
    // I/O, PSI and pids are read every 10 samples (the section says), CPU and memory every one.
    const title = (key: string) => wrapper.find(`th:has([data-sort="${key}"])`).attributes('title');
    expect(title('io')).toBe('Read · write per second — read every 10 samples');
    expect(title('pids')).toBe('Pids — read every 10 samples');
    expect(title('cpu')).toBe('100 % = one core');
    expect(db.find('[role="meter"]').attributes('aria-valuenow')).toBe('78');
    expect(db.find('[data-col="health"]').classes()).toContain('ok');
    // No limit, no bar.
    expect(wrapper.find('tr[data-cgroup="nginx.service"] [role="meter"]').exists()).toBe(false);
    expect(wrapper.find('[data-testid="cgroups-total"]').text()).toBe('3 found · cgroup hybrid');
  });

  it('sorts by a column, and again the other way', async () => {
    await mountPanel(section(ROWS));
    await wrapper.find('button[data-sort="name"]').trigger('click');
    expect(names()).toEqual(['cron.service', 'db', 'nginx.service']);
    expect(wrapper.find('th[aria-sort="ascending"]').text()).toContain('Name');
    await wrapper.find('button[data-sort="name"]').trigger('click');
    expect(names()).toEqual(['nginx.service', 'db', 'cron.service']);
  });

  it("opens a row's live charts and a link to its last week in History", async () => {
    await mountPanel(section(ROWS));
    await wrapper.find('tr[data-cgroup="nginx.service"]').trigger('click');
    const detail = wrapper.find('[data-testid="cgroup-detail"]');
    expect(detail.attributes('data-cgroup')).toBe('nginx.service');
    const views = detail.findAll('[data-chart-view]').map((b) => b.attributes('data-chart-view'));
    expect(views).toEqual(['cpu', 'memory']);
    const href = detail.find('[data-testid="cgroup-history-link"]').attributes('href')!;
    const url = new URL(href, 'http://x');
    expect(url.pathname).toBe('/history');
    expect(parseHistoryQuery(Object.fromEntries(url.searchParams))).toMatchObject({
      host: HOST,
      range: '7d',
    });
    expect(url.searchParams.getAll('series')).toEqual([
      'cgroups.groups.nginx.service.cpuPercent',
      'cgroups.groups.nginx.service.memoryBytes',
    ]);
    await wrapper.find('tr[data-cgroup="nginx.service"] .row-name').trigger('click');
    expect(wrapper.find('[data-testid="cgroup-detail"]').exists()).toBe(false);
  });

  it('shows ten rows until asked for all, and offers the rest by count', async () => {
    const many = Array.from({ length: 14 }, (_, i) =>
      cgroupRow(`unit-${String(i).padStart(2, '0')}.service`, { cpuPercent: i }),
    );
    await mountPanel(section(many, { total: 140 }));
    expect(names()).toHaveLength(10);
    expect(names()[0]).toBe('unit-13.service');
    const expand = wrapper.find('[data-action="cgroups-expand"]');
    expect(expand.text()).toBe('Show all 140');
    await expand.trigger('click');
    // Until the full table comes over the socket, the snapshot's rows are all there is.
    expect(names()).toHaveLength(14);
    expect(wrapper.text()).toContain('Loading the full list…');
    await wrapper.find('[data-action="cgroups-expand"]').trigger('click');
    expect(names()).toHaveLength(10);
  });

  it('says where it looked when it found nothing, and notes missing names and a cut walk', async () => {
    await mountPanel(
      section([], {
        layout: 'v2',
        truncated: true,
        namesUnavailableReason: 'connect ENOENT /var/run/docker.sock',
      }),
    );
    const empty = wrapper.find('[data-testid="cgroups-empty"]').text();
    expect(empty).toContain('Looked in the unified cgroup v2 hierarchy for Docker, Podman');
    const notes = wrapper.findAll('[data-testid="cgroups-note"]').map((n) => n.text());
    expect(notes).toHaveLength(2);
    expect(notes[0]).toContain('connect ENOENT /var/run/docker.sock');
    expect(notes[1]).toContain('CGROUPS_MAX');
    expect(wrapper.find('table').exists()).toBe(false);
  });

  it("says why there is no table: the collector's error, or no section at all", async () => {
    await mountPanel({ available: false, error: 'no cgroup hierarchy under /sys/fs/cgroup' });
    expect(wrapper.find('[data-testid="collector-unavailable"]').text()).toBe(
      'Containers & services unavailable — no cgroup hierarchy under /sys/fs/cgroup',
    );
    await mountPanel(undefined);
    expect(wrapper.find('[data-testid="cgroups-not-reported"]').exists()).toBe(true);
  });
});
