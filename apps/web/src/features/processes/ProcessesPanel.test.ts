// @vitest-environment happy-dom
import type { ProcessesMessage, ProcessRow, ProcessSort, Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { mount } from '@vue/test-utils';
import type { VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { processRow } from '../../test/process-rows';
import { nextTick } from 'vue';
import { StreamWatches } from '../../lib/stream-watches';
import type { WatchedMessage } from '../../lib/stream-watches';
import { useMetricsStore } from '../../stores/metrics';
import ProcessesPanel from './ProcessesPanel.vue';
import type { ProcessesData } from './process-summary';

// The socket itself is covered by use-process-watch.test.ts (the metrics store against a real
// ws server) and the browser test; here the store's registry is fed what the socket would bring.
const HOST = 'vm-web-01';

const SECTION: ProcessesData = {
  available: true,
  total: 3,
  running: 1,
  blocked: 0,
  zombie: 0,
  threads: 9,
  ioUnavailableReason: 'permission denied reading /proc/<pid>/io (not root)',
  top: [],
  topByCpu: [],
  topByMemory: [],
  topByIo: [],
};

/** A row whose I/O is unreadable, as on a host the agent does not run as root. */
const row = (pid: number, fields: Partial<ProcessRow> = {}) =>
  processRow(pid, { readBytesPerSec: null, writeBytesPerSec: null, ...fields });

/**
 * The store's watch registry (the real one from lib) on a socket that records what it is sent,
 * and delivers the tables the test gives it.
 */
function loopback(metrics: ReturnType<typeof useMetricsStore>) {
  const sent: unknown[] = [];
  const watches = new StreamWatches((message) => {
    sent.push(message);
    return true;
  });
  metrics.watchStream = ((spec, receive) =>
    watches.add(spec, receive as (message: WatchedMessage) => void)) as typeof metrics.watchStream;
  function deliver(processes: ProcessRow[], sort: ProcessSort = 'cpu', host = HOST) {
    watches.deliver({
      type: 'processes',
      host,
      timestamp: '2025-03-14T09:26:53.589Z',
      sort,
      total: 312,
      ioUnavailableReason: SECTION.ioUnavailableReason,
      processes,
    } as ProcessesMessage);
  }
  return { sent, deliver, reconnect: () => watches.opened() };
}

function setup(section: NonNullable<Snapshot['processes']> | null = SECTION) {
  const metrics = useMetricsStore();
  metrics.selectedHost = HOST;
  const snapshot = makeExampleSnapshot();
  if (section === null) delete (snapshot as { processes?: unknown }).processes;
  else (snapshot as { processes?: unknown }).processes = section;
  const feed = loopback(metrics);
  const wrapper = mount(ProcessesPanel, { props: { snapshot } });
  return { metrics, feed, wrapper };
}

const names = (wrapper: VueWrapper) =>
  wrapper.findAll('tbody tr.process th.col-name').map((cell) => cell.text());

const ROWS = [
  row(11, { name: 'postgres', user: 'postgres', cpuPercent: 12, rssBytes: 9e7 }),
  row(22, { name: 'nginx', user: 'www-data', cpuPercent: 40, rssBytes: 5e6, threads: 4 }),
  row(33, { name: 'cron', cpuPercent: 1, rssBytes: 2e6, command: 'cron -f' }),
];

beforeEach(() => {
  localStorage.clear();
  setActivePinia(createPinia());
});

describe('ProcessesPanel', () => {
  it('watches the host, shows its counts, and draws each table as it comes', async () => {
    const { feed, wrapper } = setup();
    expect(feed.sent).toEqual([{ type: 'watch_processes', host: HOST, sort: 'cpu', limit: 200 }]);
    expect(wrapper.find('[data-value="total"]').text()).toBe('3');
    expect(wrapper.find('[data-value="threads"]').text()).toBe('9');
    expect(wrapper.text()).toContain('Waiting for the process table');

    feed.deliver(ROWS);
    await nextTick();
    expect(names(wrapper)).toEqual(['nginx', 'postgres', 'cron']);
    expect(wrapper.find('[data-pid="22"] [data-cell="cpu"]').text()).toBe('40.0 %');
    expect(wrapper.find('[data-testid="process-count"]').text()).toBe('3 of 3 (top by cpu of 312)');

    feed.deliver([row(33, { name: 'cron', cpuPercent: 80 }), ...ROWS.slice(0, 2)]);
    await nextTick();
    expect(names(wrapper)).toEqual(['cron', 'nginx', 'postgres']);
  });

  it('shows the command line on hover, and in the details on a tap', async () => {
    const { feed, wrapper } = setup();
    feed.deliver(ROWS);
    await nextTick();
    const cron = wrapper.find('tr[data-pid="33"]');
    expect(cron.attributes('title')).toBe('cron -f');
    expect(wrapper.find('[data-details="33"]').exists()).toBe(false);
    await cron.trigger('click');
    expect(wrapper.find('[data-details="33"] .command').text()).toBe('cron -f');
    expect(cron.attributes('aria-expanded')).toBe('true');
    await cron.trigger('click');
    expect(wrapper.find('[data-details="33"]').exists()).toBe(false);
  });

  it('asks the server for memory order, and sorts the other columns itself', async () => {
    const { feed, wrapper } = setup();
    feed.deliver(ROWS);
    await nextTick();
    await wrapper.find('[data-sort="memory"]').trigger('click');
    expect(feed.sent.at(-1)).toEqual({
      type: 'watch_processes',
      host: HOST,
      sort: 'memory',
      limit: 200,
    });
    // A table of the old sort that was on its way is not shown under the new heading.
    feed.deliver([row(44, { name: 'late-cpu-table' })], 'cpu');
    await nextTick();
    expect(names(wrapper)).not.toContain('late-cpu-table');
    feed.deliver(ROWS, 'memory');
    await nextTick();
    expect(names(wrapper)).toEqual(['postgres', 'nginx', 'cron']);
    expect(wrapper.find('th.col-memory').attributes('aria-sort')).toBe('descending');

    const sentBefore = feed.sent.length;
    await wrapper.find('[data-sort="name"]').trigger('click');
    expect(names(wrapper)).toEqual(['cron', 'nginx', 'postgres']);
    await wrapper.find('[data-sort="name"]').trigger('click');
    expect(names(wrapper)).toEqual(['postgres', 'nginx', 'cron']);
    expect(feed.sent.length).toBe(sentBefore);
  });

  it('filters by name, user, command line or pid, over the widest table the server sends', async () => {
    const { feed, wrapper } = setup();
    feed.deliver(ROWS);
    await nextTick();
    await wrapper.find('input[name="process-filter"]').setValue('www');
    expect(names(wrapper)).toEqual(['nginx']);
    expect(feed.sent.at(-1)).toMatchObject({ type: 'watch_processes', limit: 1000 });
    await wrapper.find('input[name="process-filter"]').setValue('33');
    expect(names(wrapper)).toEqual(['cron']);
    await wrapper.find('input[name="process-filter"]').setValue('nothing-like-it');
    expect(names(wrapper)).toEqual([]);
    expect(wrapper.text()).toContain('No process matches “nothing-like-it”');
  });

  it('says once why I/O is unreadable, and shows — in its cells', async () => {
    const { feed, wrapper } = setup();
    feed.deliver(ROWS);
    await nextTick();
    expect(wrapper.findAll('[data-testid="io-unavailable"]')).toHaveLength(1);
    expect(wrapper.find('[data-testid="io-unavailable"]').text()).toContain(
      'permission denied reading /proc/<pid>/io (not root)',
    );
    expect(wrapper.findAll('[data-cell="io"]').map((c) => c.text())).toEqual(['—', '—', '—']);
  });

  it('draws 50 rows, then 50 more on "Show more"', async () => {
    const { feed, wrapper } = setup();
    feed.deliver(Array.from({ length: 120 }, (_, i) => row(i + 1, { cpuPercent: 200 - i })));
    await nextTick();
    expect(wrapper.findAll('tbody tr.process')).toHaveLength(50);
    await wrapper.find('[data-action="show-more"]').trigger('click');
    expect(wrapper.findAll('tbody tr.process')).toHaveLength(100);
    await wrapper.find('[data-action="show-more"]').trigger('click');
    expect(wrapper.findAll('tbody tr.process')).toHaveLength(120);
    expect(wrapper.find('[data-action="show-more"]').exists()).toBe(false);
  });

  it('unwatches when hidden, on another host, and when unmounted; watches again on a new socket', async () => {
    const { metrics, feed, wrapper } = setup();
    await wrapper.find('[data-action="toggle-processes"]').trigger('click');
    expect(feed.sent.at(-1)).toEqual({ type: 'unwatch_processes', host: HOST });
    expect(wrapper.find('table').exists()).toBe(false);
    await wrapper.find('[data-action="toggle-processes"]').trigger('click');
    expect(feed.sent.at(-1)).toMatchObject({ type: 'watch_processes', host: HOST });

    feed.reconnect();
    expect(feed.sent.at(-1)).toMatchObject({ type: 'watch_processes', host: HOST });

    metrics.selectedHost = 'vm-db-01';
    await nextTick();
    expect(feed.sent.slice(-2)).toEqual([
      { type: 'unwatch_processes', host: HOST },
      { type: 'watch_processes', host: 'vm-db-01', sort: 'cpu', limit: 200 },
    ]);
    // A late table of the host left behind is dropped.
    feed.deliver(ROWS, 'cpu', HOST);
    await nextTick();
    expect(names(wrapper)).toEqual([]);

    wrapper.unmount();
    expect(feed.sent.at(-1)).toEqual({ type: 'unwatch_processes', host: 'vm-db-01' });
  });

  it('stops watching while the tab is hidden, and watches again when it is back', async () => {
    const { feed } = setup();
    const visibility = (state: DocumentVisibilityState) => {
      Object.defineProperty(document, 'visibilityState', { value: state, configurable: true });
      document.dispatchEvent(new Event('visibilitychange'));
    };
    try {
      visibility('hidden');
      await nextTick();
      expect(feed.sent.at(-1)).toEqual({ type: 'unwatch_processes', host: HOST });
      visibility('visible');
      await nextTick();
      expect(feed.sent.at(-1)).toMatchObject({ type: 'watch_processes', host: HOST });
    } finally {
      delete (document as { visibilityState?: unknown }).visibilityState;
    }
  });

  it('says why there is no table: the collector failed, or the agent predates it', () => {
    const failed = setup({ available: false, error: 'EACCES reading /proc' });
    expect(failed.wrapper.find('[data-testid="collector-unavailable"]').text()).toBe(
      'Processes unavailable — EACCES reading /proc',
    );
    expect(failed.wrapper.find('table').exists()).toBe(false);
    expect(failed.feed.sent).toEqual([]);

    const old = setup(null);
    expect(old.wrapper.find('[data-testid="collector-unavailable"]').text()).toContain(
      'does not collect processes',
    );
    expect(old.feed.sent).toEqual([]);
  });
});
