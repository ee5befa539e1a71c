// @vitest-environment happy-dom
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HistoryResponse, Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { flushPromises, mount } from '@vue/test-utils';
import type { VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import type { Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApiClient } from '../../lib/api';
import type { ApiClient } from '../../lib/api';
import { ZOOM_REFETCH_DELAY_MS } from './history-view';
import type { TimeRange } from './history-view';
import { useMetricsStore } from '../../stores/metrics';
import { createManualClock } from '../../test/api-server';
import type { ManualClock } from '../../test/api-server';
import HistoryView from './HistoryView.vue';
import HistoryChart from './HistoryChart.vue';
import type { ProcessesTopResponse, ProcessUsage } from '@livestat/contracts';
import { defaultSelection } from './availability';
import { DEFAULT_GROUP_IDS, OVERVIEW_GROUPS, groupsForHost, seriesPaths } from './series-groups';

const HOUR = 3_600_000;
const T0 = Math.floor(Date.now() / 60_000) * 60_000;

const TOKEN = 'history-test-token';

// The example host is a VM with no PMU: IPC is offered but not drawn by default.
const EXAMPLE = makeExampleSnapshot() as Snapshot;
const SHOWN = defaultSelection(DEFAULT_GROUP_IDS, groupsForHost(EXAMPLE), EXAMPLE);
const SHOWN_GROUPS = OVERVIEW_GROUPS.filter((group) => SHOWN.includes(group.id));

/**
 * The REST routes the view calls, on a real HTTP server. (`src/test/api-server.ts` cannot load
 * under happy-dom: `ws` resolves to its browser build there, which has no server.)
 */
interface HistoryServer {
  baseUrl: string;
  /** The `/api/history` query strings seen, in order. */
  history: URLSearchParams[];
  /** What `/api/history` answers: a status and a body. */
  answer: (search: URLSearchParams) => { status: number; body: unknown };
  /** The `/api/processes/top` query strings seen, in order. */
  top: URLSearchParams[];
  /** What `/api/processes/top` answers: a status and a body. */
  topAnswer: (search: URLSearchParams) => { status: number; body: unknown };
  close(): Promise<void>;
}

async function startHistoryServer(snapshots: Snapshot[]): Promise<HistoryServer> {
  const state: HistoryServer = {
    baseUrl: '',
    history: [],
    answer: (search) => ({ status: 200, body: emptyAnswer(search) }),
    top: [],
    topAnswer: (search) => ({ status: 200, body: topAnswer(search, []) }),
    close: async () => undefined,
  };
  const http: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // happy-dom's fetch enforces CORS, and the page's origin is not this server's.
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': 'authorization, accept',
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors).end();
      return;
    }
    const send = (status: number, body: unknown) =>
      res
        .writeHead(status, { ...cors, 'content-type': 'application/json' })
        .end(JSON.stringify(body));
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      send(401, { error: 'invalid token' });
      return;
    }
    switch (url.pathname) {
      case '/api/hosts':
        send(200, { hosts: snapshots.map((s) => ({ name: s.host, lastSeen: s.timestamp })) });
        return;
      case '/api/snapshots/latest':
        send(200, { snapshots });
        return;
      case '/api/history': {
        state.history.push(url.searchParams);
        const { status, body } = state.answer(url.searchParams);
        send(status, body);
        return;
      }
      case '/api/processes/top': {
        state.top.push(url.searchParams);
        const { status, body } = state.topAnswer(url.searchParams);
        send(status, body);
        return;
      }
      default:
        send(404, { error: 'not found' });
    }
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  state.baseUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  state.close = async () => {
    http.closeAllConnections();
    await new Promise((resolve) => http.close(resolve));
  };
  return state;
}

/** Every requested series with no data: all-null buckets, as the API answers an empty range. */
function emptyAnswer(search: URLSearchParams): HistoryResponse {
  const from = Number(search.get('from'));
  return {
    host: search.get('host') ?? 'vm-web-01',
    from,
    to: Number(search.get('to')),
    bucketMs: 60_000,
    tier: '1m',
    series: Object.fromEntries(
      search.getAll('series').map((path) => [path, [[from, null, null, null]]]),
    ),
  };
}

/** A `/api/processes/top` answer listing `processes`, for the range and measure asked. */
function topAnswer(search: URLSearchParams, processes: ProcessUsage[]): ProcessesTopResponse {
  return {
    host: search.get('host') ?? '',
    from: new Date(Number(search.get('from'))).toISOString(),
    to: new Date(Number(search.get('to'))).toISOString(),
    by: (search.get('by') ?? 'cpu') as ProcessesTopResponse['by'],
    tier: 'raw',
    processes,
  };
}

function usage(pid: number, name: string, cpuSeconds: number, peakRssBytes: number): ProcessUsage {
  return {
    pid,
    name,
    user: 'alice',
    command: `/usr/bin/${name} --busy`,
    cpuSeconds,
    avgCpuPercent: cpuSeconds,
    peakRssBytes,
    ioBytes: null,
    firstSeen: new Date(T0 - HOUR).toISOString(),
    lastSeen: new Date(T0).toISOString(),
  };
}

let server: HistoryServer;
let api: ApiClient;
let clock: ManualClock;
let pinia: Pinia;
let wrapper: VueWrapper | undefined;

beforeEach(async () => {
  server = await startHistoryServer([
    makeExampleSnapshot({ host: 'vm-web-01' }),
    makeExampleSnapshot({ host: 'vm-db-02' }),
  ]);
  api = createApiClient({ baseUrl: server.baseUrl, getToken: () => TOKEN });
  clock = createManualClock(T0);
  pinia = createPinia();
  setActivePinia(pinia);
});

afterEach(async () => {
  wrapper?.unmount();
  wrapper = undefined;
  await server.close();
  vi.restoreAllMocks();
});

const historyRequests = (): URLSearchParams[] => server.history;

function mountView(): VueWrapper {
  wrapper = mount(HistoryView, {
    props: { api, clock },
    // vue-echarts names its component 'Echarts'; a canvas chart has no place in happy-dom.
    global: { plugins: [pinia], stubs: { VChart: true, Echarts: true } },
  });
  return wrapper;
}

/** Every requested series with data: avg/min/max that show in the chart and CSV. */
function answerWithData(search: URLSearchParams): { status: number; body: HistoryResponse } {
  const from = Number(search.get('from'));
  const body: HistoryResponse = {
    host: search.get('host') ?? 'vm-web-01',
    from,
    to: Number(search.get('to')),
    bucketMs: 60_000,
    tier: '1m',
    series: Object.fromEntries(
      search.getAll('series').map((path) => [
        path,
        [
          [from, 10, 5, 20],
          [from + 60_000, null, null, null],
        ],
      ]),
    ),
  };
  return { status: 200, body };
}

const chartRanges = (view: VueWrapper): { base: TimeRange; visible: TimeRange }[] =>
  view.findAllComponents(HistoryChart).map((chart) => ({
    base: chart.props('base'),
    visible: chart.props('visible'),
  }));

describe('HistoryView', () => {
  it('asks for the last hour of every panel series and says when the range holds no data', async () => {
    useMetricsStore().selectedHost = 'vm-db-02';
    const view = mountView();
    expect(view.find('section.history[data-view="history"]').exists()).toBe(true);
    await vi.waitFor(() => expect(view.text()).toContain('No data in this range'));

    const [request] = historyRequests();
    // The host the dashboard had selected, not merely the first.
    expect(request!.get('host')).toBe('vm-db-02');
    expect(request!.getAll('series')).toEqual(seriesPaths(SHOWN_GROUPS));
    expect(Number(request!.get('from'))).toBe(T0 - HOUR);
    expect(Number(request!.get('to'))).toBe(T0);
    expect(Number(request!.get('points'))).toBeGreaterThan(0);
    // Each chart says so too, over axes that show the range asked for.
    expect(view.findAll('.chart .history-chart .no-data')).toHaveLength(SHOWN.length);
    expect(view.get('[data-action="csv"]').attributes('disabled')).toBeUndefined();
    // Two hosts: the picker offers both.
    expect(view.findAll('select[name="host"] option').map((o) => o.text())).toEqual([
      'vm-web-01',
      'vm-db-02',
    ]);
  });

  it('leaves IPC unchecked on a host without a PMU, says why, and draws it when asked', async () => {
    server.answer = answerWithData;
    const view = mountView();
    await vi.waitFor(() => expect(view.findAllComponents(HistoryChart)).toHaveLength(SHOWN.length));
    expect(SHOWN).not.toContain('ipc');
    const ipc = view.get<HTMLInputElement>('input[data-group="ipc"]');
    expect(ipc.element.checked).toBe(false);
    const reason = EXAMPLE.perf.available ? EXAMPLE.perf.hardwareUnavailableReason : null;
    const why = view.get('[data-unavailable~="ipc"]').text();
    expect(why).toMatch(/^Not on this host: (.+, )?Perf IPC(, .+)? — /);
    expect(why.endsWith(`— ${reason}`)).toBe(true);
    expect(historyRequests()[0]!.getAll('series')).not.toContain('perf.ipc');

    await ipc.setValue(true);
    await vi.waitFor(() => expect(historyRequests()).toHaveLength(2));
    expect(historyRequests()[1]!.getAll('series')).toContain('perf.ipc');
  });

  it('says since when it collects when the range reaches back before the first data', async () => {
    const firstAt = T0 - 2 * 60_000;
    server.answer = (search) => {
      const body = emptyAnswer(search);
      for (const path of Object.keys(body.series)) {
        body.series[path] = [
          [firstAt - 60_000, null, null, null],
          [firstAt, 12, 10, 14],
        ];
      }
      return { status: 200, body };
    };
    const view = mountView();
    await vi.waitFor(() =>
      expect(view.find('[data-testid="collecting-since"]').exists()).toBe(true),
    );
    const at = new Date(firstAt);
    const hhmm = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`;
    expect(view.get('[data-testid="collecting-since"]').text()).toContain(
      `Collecting since ${hhmm}`,
    );
    expect(view.text()).not.toContain('No data in this range');

    // It opens on what exists, in finer buckets; the notice stays, and Reset zoom shows the hour.
    await vi.waitFor(() => expect(historyRequests()).toHaveLength(2));
    expect(Number(historyRequests()[1]!.get('from'))).toBe(firstAt - 60_000);
    expect(Number(historyRequests()[1]!.get('to'))).toBe(T0);
    await vi.waitFor(() => expect(view.find('[data-action="reset-zoom"]').exists()).toBe(true));
    expect(view.find('[data-testid="collecting-since"]').exists()).toBe(true);
    await view.get('[data-action="reset-zoom"]').trigger('click');
    await vi.waitFor(() => expect(view.find('[data-action="reset-zoom"]').exists()).toBe(false));
    await flushPromises();
    expect(historyRequests()).toHaveLength(2);
    expect(chartRanges(view)[0]!.visible).toEqual({ from: T0 - HOUR, to: T0 });
  });

  it('shows the error of a failed request', async () => {
    server.answer = () => ({ status: 400, body: { error: "series: unknown series 'cpu.nope'" } });
    const view = mountView();
    await vi.waitFor(() => expect(view.find('[role="alert"]').exists()).toBe(true));
    expect(view.get('[role="alert"]').text()).toContain(
      "Could not load history: series: unknown series 'cpu.nope'",
    );
    expect(view.text()).not.toContain('No data in this range');
  });

  it('draws one chart per chosen group and refetches a preset', async () => {
    server.answer = answerWithData;
    const view = mountView();
    await vi.waitFor(() => expect(view.findAllComponents(HistoryChart)).toHaveLength(SHOWN.length));
    expect(view.findAllComponents(HistoryChart).map((c) => c.props('group').id)).toEqual(SHOWN);
    expect(view.find('.chart .history-chart').exists()).toBe(true);

    // Unticking a group asks again without its series.
    await view.get('input[data-group="paging"]').setValue(false);
    await vi.waitFor(() => expect(historyRequests()).toHaveLength(2));
    expect(historyRequests()[1]!.getAll('series')).not.toContain('bandwidth.pageInBytesPerSec');
    await vi.waitFor(() =>
      expect(view.findAllComponents(HistoryChart)).toHaveLength(SHOWN.length - 1),
    );

    await view.get('[data-preset="6h"]').trigger('click');
    await vi.waitFor(() => expect(historyRequests()).toHaveLength(3));
    const six = historyRequests()[2]!;
    expect(Number(six.get('to')) - Number(six.get('from'))).toBe(6 * HOUR);
    expect(view.get('[data-preset="6h"]').attributes('aria-pressed')).toBe('true');
  });

  it('refuses a custom range that ends before it starts, inline, and asks for a valid one', async () => {
    const view = mountView();
    await vi.waitFor(() => expect(historyRequests()).toHaveLength(1));
    await view.get('[data-action="custom-range"]').trigger('click');
    await view.get('input[name="from"]').setValue('2025-06-01T10:00');
    await view.get('input[name="to"]').setValue('2025-06-01T09:00');
    await view.get('form.custom').trigger('submit');
    expect(view.get('.range-error[role="alert"]').text()).toBe('The start must be before the end.');
    expect(view.get('input[name="from"]').attributes('aria-invalid')).toBe('true');
    await flushPromises();
    expect(historyRequests()).toHaveLength(1);

    await view.get('input[name="to"]').setValue('2025-06-01T11:30');
    await view.get('form.custom').trigger('submit');
    expect(view.find('.range-error').exists()).toBe(false);
    await vi.waitFor(() => expect(historyRequests()).toHaveLength(2));
    expect(Number(historyRequests()[1]!.get('from'))).toBe(new Date(2025, 5, 1, 10, 0).getTime());
    expect(Number(historyRequests()[1]!.get('to'))).toBe(new Date(2025, 5, 1, 11, 30).getTime());
  });

  it('refetches a zoomed window once zooming pauses, and resets to the preset', async () => {
    server.answer = answerWithData;
    const view = mountView();
    await vi.waitFor(() => expect(view.findAllComponents(HistoryChart)).toHaveLength(SHOWN.length));
    const chart = view.findAllComponents(HistoryChart)[0]!;

    chart.vm.$emit('zoom', { start: 10, end: 30 });
    chart.vm.$emit('zoom', { start: 50, end: 75 });
    await flushPromises();
    // Debounced: nothing asked until the zoom has been still for a moment.
    expect(historyRequests()).toHaveLength(1);
    clock.advanceTo(T0 + ZOOM_REFETCH_DELAY_MS);
    await vi.waitFor(() => expect(historyRequests()).toHaveLength(2));
    const zoomed = historyRequests()[1]!;
    expect(Number(zoomed.get('from'))).toBe(T0 - HOUR / 2);
    expect(Number(zoomed.get('to'))).toBe(T0 - HOUR / 4);

    await vi.waitFor(() =>
      expect(chartRanges(view)[0]!.visible).toEqual({ from: T0 - HOUR / 2, to: T0 - HOUR / 4 }),
    );
    // Every chart follows the zoom, inside the same base range.
    for (const range of chartRanges(view)) {
      expect(range).toEqual({
        base: { from: T0 - HOUR, to: T0 },
        visible: { from: T0 - HOUR / 2, to: T0 - HOUR / 4 },
      });
    }

    await view.get('[data-action="reset-zoom"]').trigger('click');
    await flushPromises();
    // The unzoomed answer is still at hand: back at once, with no request.
    expect(historyRequests()).toHaveLength(2);
    expect(chartRanges(view)[0]!.visible).toEqual({ from: T0 - HOUR, to: T0 });
    expect(view.find('[data-action="reset-zoom"]').exists()).toBe(false);
  });

  it('keeps the charts of a zoom into a quiet stretch, so their sliders zoom back out', async () => {
    server.answer = (search) =>
      server.history.length === 1
        ? answerWithData(search)
        : { status: 200, body: emptyAnswer(search) };
    const view = mountView();
    await vi.waitFor(() => expect(view.findAllComponents(HistoryChart)).toHaveLength(SHOWN.length));
    view.findAllComponents(HistoryChart)[0]!.vm.$emit('zoom', { start: 50, end: 60 });
    clock.advanceTo(T0 + ZOOM_REFETCH_DELAY_MS);
    await vi.waitFor(() => expect(view.get('.notice.empty').text()).toBe('No data in this range'));
    expect(view.findAllComponents(HistoryChart)).toHaveLength(SHOWN.length);
    expect(view.findAll('.history-chart .no-data')).toHaveLength(SHOWN.length);
    expect(view.find('[data-action="reset-zoom"]').exists()).toBe(true);
  });

  it('downloads what is shown as CSV', async () => {
    server.answer = answerWithData;
    const created: Blob[] = [];
    vi.spyOn(URL, 'createObjectURL').mockImplementation((blob) => {
      created.push(blob as Blob);
      return 'blob:history';
    });
    vi.spyOn(URL, 'revokeObjectURL').mockImplementation(() => undefined);
    const downloads: string[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (
      this: HTMLAnchorElement,
    ) {
      downloads.push(this.download);
    });

    const view = mountView();
    await vi.waitFor(() => expect(view.findAllComponents(HistoryChart)).toHaveLength(SHOWN.length));
    await view.get('[data-action="csv"]').trigger('click');

    expect(downloads).toHaveLength(1);
    expect(downloads[0]).toMatch(/^livestat-vm-web-01-\d{8}T\d{6}Z-\d{8}T\d{6}Z\.csv$/);
    const text = await created[0]!.text();
    const [header, first, second] = text.split('\r\n');
    expect(header).toBe(
      [
        'time',
        ...seriesPaths(SHOWN_GROUPS).flatMap((p) => [`${p} avg`, `${p} min`, `${p} max`]),
      ].join(','),
    );
    const count = seriesPaths(SHOWN_GROUPS).length;
    expect(first).toBe(
      [new Date(T0 - HOUR).toISOString(), ...Array(count).fill('10,5,20')].join(','),
    );
    expect(second).toBe(
      [new Date(T0 - HOUR + 60_000).toISOString(), ...Array(3 * count).fill('')].join(','),
    );
  });
  it('shows the top processes of a range selected on a chart, by CPU, memory or I/O', async () => {
    server.answer = answerWithData;
    const busy = [usage(4242, 'spike', 58, 1e6), usage(7, 'postgres', 3, 9e8)];
    server.topAnswer = (search) => ({
      status: 200,
      body: topAnswer(
        search,
        search.get('by') === 'memory' ? [...busy].reverse() : search.get('by') === 'io' ? [] : busy,
      ),
    });
    const view = mountView();
    await vi.waitFor(() => expect(view.findAllComponents(HistoryChart)).toHaveLength(SHOWN.length));
    expect(view.find('[data-testid="top-processes"]').exists()).toBe(false);

    const charts = view.findAllComponents(HistoryChart);
    const range = { from: T0 - 30 * 60_000, to: T0 - 25 * 60_000 };
    charts[1]!.vm.$emit('select', range);
    await vi.waitFor(() =>
      expect(view.findAll('[data-testid="top-processes"] li')).toHaveLength(2),
    );
    expect(Object.fromEntries(server.top[0]!)).toEqual({
      host: 'vm-web-01',
      from: String(range.from),
      to: String(range.to),
      by: 'cpu',
      limit: '10',
    });
    const names = () => view.findAll('[data-testid="top-processes"] li .name').map((n) => n.text());
    expect(names()).toEqual(['spike', 'postgres']);
    expect(view.get('[data-testid="top-processes"] li').attributes('title')).toBe(
      '/usr/bin/spike --busy',
    );
    // The chart the range was drawn on keeps its brush; the others clear theirs.
    expect(view.findAllComponents(HistoryChart).map((c) => c.props('selectedHere'))).toEqual(
      SHOWN.map((_, i) => i === 1),
    );

    await view.get('[data-by="memory"]').trigger('click');
    await vi.waitFor(() => expect(names()).toEqual(['postgres', 'spike']));
    expect(server.top.at(-1)!.get('by')).toBe('memory');

    await view.get('[data-by="io"]').trigger('click');
    await vi.waitFor(() => expect(view.find('[data-testid="top-empty"]').exists()).toBe(true));

    server.topAnswer = () => ({ status: 500, body: { error: 'database unavailable' } });
    charts[0]!.vm.$emit('select', { from: range.from - 60_000, to: range.to });
    await vi.waitFor(() =>
      expect(view.get('[data-testid="top-processes"] [role="alert"]').text()).toBe(
        'database unavailable',
      ),
    );

    await view.get('[data-testid="top-processes"] .close').trigger('click');
    expect(view.find('[data-testid="top-processes"]').exists()).toBe(false);
  });
});

describe('HistoryView opened from a link', () => {
  it("charts a container's CPU and memory over the last 7 days on the linked host", async () => {
    const series = [
      'cgroups.groups.nginx.service.cpuPercent',
      'cgroups.groups.nginx.service.memoryBytes',
    ];
    wrapper = mount(HistoryView, {
      props: { api, clock, link: { host: 'vm-db-02', series, range: '7d' } },
      global: { plugins: [pinia], stubs: { VChart: true, Echarts: true } },
    });
    await vi.waitFor(() => expect(historyRequests()).toHaveLength(1));
    const [request] = historyRequests();
    expect(request!.get('host')).toBe('vm-db-02');
    expect(request!.getAll('series')).toEqual(series);
    expect(Number(request!.get('from'))).toBe(T0 - 7 * 24 * HOUR);
    expect(wrapper.find('[data-preset="7d"]').attributes('aria-pressed')).toBe('true');
    // Offered under their own section, checked, though the snapshot carries no such cgroup.
    const checked = wrapper.findAll('input[type="checkbox"]:checked');
    expect(checked.map((box) => box.attributes('data-group'))).toEqual([
      'cgroup:nginx.service:cpu',
      'cgroup:nginx.service:memory',
    ]);
  });
});
