// @vitest-environment happy-dom
import {
  appMessage,
  flattenAppSeries,
  type AppMessage,
  type AppServiceInfo,
} from '@livestat/contracts';
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils';
import type { LineSeriesOption } from 'echarts/charts';
import { createPinia, setActivePinia, type Pinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApiClient, createRequest } from '../../lib/api';
import { useMetricsStore } from '../../stores/metrics';
import { EchartsStub } from '../../test/echarts-stub';
import { historyAnswer } from '../../test/history-answer';
import { startJsonServer, type JsonServer } from '../../test/json-server';
import AppMetricCard from './AppMetricCard.vue';
import AppsView from './AppsView.vue';
import PinnedAppCards from './PinnedAppCards.vue';
import { defineAppsStore } from './apps-store';
import { pinsKey } from './pins';

// The Applications view, its cards and the pinned cards of Live, mounted with the real stores:
// `GET /api/apps` and `/api/history` from a real HTTP server, the `app` messages a socket would
// bring put in the metrics store as it puts them (its socket is covered by metrics.test.ts and
// the browser test).

const HOST = 'vm-web-01';
const TOKEN = 'apps-view-test-token';
const T0 = Date.UTC(2026, 11, 4, 21, 0, 0);

const within = { series: 3, maxSeries: 2000, refusedSeries: 0, overLimit: false, reason: null };

/** What `GET /api/apps` lists: a queue worker, a model router, and a service over its cap. */
const CATALOGUE: AppServiceInfo[] = [
  {
    name: 'worker',
    limits: within,
    rejected: {},
    metrics: [
      { key: 'queue.depth', name: 'queue.depth', kind: 'gauge', tags: {}, fields: ['value'] },
      {
        key: 'messages;queue=emails',
        name: 'messages',
        kind: 'counter',
        tags: { queue: 'emails' },
        fields: ['rate', 'count'],
      },
      {
        key: 'batch.duration',
        name: 'batch.duration',
        kind: 'timer',
        tags: {},
        fields: ['count', 'sum', 'min', 'max', 'p50', 'p90', 'p99'],
      },
    ],
  },
  {
    name: 'router',
    limits: { ...within, series: 2 },
    rejected: {},
    metrics: ['openai', 'anthropic'].map((provider) => ({
      key: `calls;provider=${provider}`,
      name: 'calls',
      kind: 'counter' as const,
      tags: { provider },
      fields: ['rate' as const, 'count' as const],
    })),
  },
  {
    name: 'flood',
    limits: {
      series: 2000,
      maxSeries: 2000,
      refusedSeries: 1234,
      overLimit: true,
      reason: 'max series 2000 reached',
    },
    rejected: { max_series: 1234, bad_value: 7 },
    metrics: [
      {
        key: 'hits;user=u1',
        name: 'hits',
        kind: 'counter',
        tags: { user: 'u1' },
        fields: ['rate', 'count'],
      },
    ],
  },
];

/** The worker's `app` message of second `s` (checked against the contract), as the socket brings. */
function workerMessage(s: number, extra: AppMessage['services'] = {}): AppMessage {
  return appMessage.parse({
    type: 'app',
    host: HOST,
    timestamp: new Date(T0 + s * 1000).toISOString(),
    intervalMs: 1000,
    services: {
      worker: {
        metrics: {
          'queue.depth': { name: 'queue.depth', kind: 'gauge', tags: {}, value: 40 + s },
          'messages;queue=emails': {
            name: 'messages',
            kind: 'counter',
            tags: { queue: 'emails' },
            count: 25,
            rate: 25,
          },
          'batch.duration': {
            name: 'batch.duration',
            kind: 'timer',
            tags: {},
            count: 50,
            sum: 1500,
            min: 4,
            max: 400,
            p50: 22,
            p90: 61,
            p99: 180 + s,
          },
        },
      },
      ...extra,
    },
  });
}

let server: JsonServer;
let pinia: Pinia;
let catalogue: AppServiceInfo[];
/** What `/api/history` holds per series path: `[time, value]` points. */
let stored: Record<string, [number, number][]>;
const mounted: VueWrapper[] = [];

beforeEach(async () => {
  localStorage.clear();
  catalogue = CATALOGUE;
  stored = {};
  server = await startJsonServer(({ path, search, authorization }) => {
    if (authorization !== `Bearer ${TOKEN}`)
      return { status: 401, body: { error: 'invalid token' } };
    if (path === '/api/apps') return { status: 200, body: { services: catalogue } };
    if (path === '/api/history') {
      const answer = historyAnswer(search, (path) =>
        (stored[path] ?? []).map(([t, v]) => [t, v, v, v]),
      );
      return { status: 200, body: answer };
    }
    return { status: 404, body: { error: 'not found' } };
  });
  useStores();
});

afterEach(async () => {
  for (const wrapper of mounted.splice(0)) wrapper.unmount();
  // What the stores asked last is answered before the server goes.
  await settle();
  await server.close();
});

/**
 * A fresh page: a new Pinia with the apps store on the test server (the token given, pins in
 * the page's localStorage) and the metrics store showing {@link HOST}, holding `messages`.
 */
function useStores(messages: AppMessage[] = []) {
  pinia = createPinia();
  setActivePinia(pinia);
  // The host first, as the page has it once its host list came: the apps store reads its pins.
  const metrics = useMetricsStore();
  metrics.selectedHost = HOST;
  const session = { baseUrl: server.baseUrl, getToken: () => TOKEN };
  const apps = defineAppsStore({
    request: createRequest(session),
    api: createApiClient(session),
    storage: localStorage,
  })();
  for (const message of messages) deliver(message);
  return { apps, metrics };
}

/** An `app` message arriving, kept as the metrics store keeps one from its socket. */
function deliver(message: AppMessage): void {
  const metrics = useMetricsStore();
  metrics.latestApp.set(message.host, message);
  metrics.series.addPoints(Date.parse(message.timestamp), flattenAppSeries(message));
  metrics.version += 1;
}

function show(
  component: typeof AppsView | typeof AppMetricCard | typeof PinnedAppCards,
  props: Record<string, unknown> = {},
): VueWrapper {
  const wrapper = mount(component as typeof AppMetricCard, {
    props: props as never,
    global: { plugins: [pinia], stubs: { EChart: EchartsStub } },
  });
  mounted.push(wrapper);
  return wrapper;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await flushPromises();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const cardKeys = (view: VueWrapper, service?: string) =>
  view
    .findAll(service ? `[data-service="${service}"] [data-app-metric]` : '[data-app-metric]')
    .map((card) => card.attributes('data-app-metric'));

const appsRequests = () => server.seen.filter((r) => r.path === '/api/apps');

describe('AppsView', () => {
  it("lists each service's metrics as cards, with the kind, tags and newest figure", async () => {
    useStores([workerMessage(0), workerMessage(1)]);
    const view = show(AppsView);
    await settle();
    expect(appsRequests()[0]!.search.get('host')).toBe(HOST);
    expect(view.findAll('section.service').map((s) => s.attributes('data-service'))).toEqual([
      'flood',
      'router',
      'worker',
    ]);
    expect(cardKeys(view, 'worker')).toEqual([
      'batch.duration',
      'messages;queue=emails',
      'queue.depth',
    ]);
    expect(cardKeys(view, 'router')).toEqual(['calls;provider=anthropic', 'calls;provider=openai']);
    expect(view.get('#service-worker').text()).toBe('worker');
    const counter = view.get('[data-service="worker"] [data-app-metric="messages;queue=emails"]');
    expect(counter.get('.kind').text()).toBe('counter · per second');
    expect(counter.get('.tags').text()).toBe('queue=emails');
    expect(counter.get('[data-testid="app-headline"]').text()).toBe('25.0 /s');
    const depth = view.get('[data-app-metric="queue.depth"]');
    expect(depth.get('[data-testid="app-headline"]').text()).toBe('41.0');
    const timer = view.get('[data-app-metric="batch.duration"]');
    expect(timer.get('.kind').text()).toBe('timer · ms');
    expect(timer.get('[data-testid="app-headline"]').text()).toBe('p50 22.0 · p99 181');
    // A metric the router has not sent since the page opened has no figure yet.
    expect(view.find('[data-service="router"] [data-testid="app-headline"]').exists()).toBe(false);
  });

  it('says which service is over its cap and why, and nothing for the others', async () => {
    const view = show(AppsView);
    await settle();
    const notices = view.findAll('[data-testid="service-limit"]');
    expect(notices).toHaveLength(1);
    expect(notices[0]!.attributes('role')).toBe('status');
    expect(view.get('[data-service="flood"] [data-testid="service-limit"]').text()).toBe(
      'at the 2,000-series cap (APP_MAX_SERIES): 1,234 new series refused; rejected: 7 bad value',
    );
  });

  it('filters by service, metric, kind and tag as the search box is typed in', async () => {
    const view = show(AppsView);
    await settle();
    const search = view.get<HTMLInputElement>('input[type="search"]');
    await search.setValue('openai');
    expect(cardKeys(view)).toEqual(['calls;provider=openai']);
    await search.setValue('WORKER timer');
    expect(cardKeys(view)).toEqual(['batch.duration']);
    // A service's name keeps all its metrics.
    await search.setValue('router');
    expect(cardKeys(view)).toEqual(['calls;provider=anthropic', 'calls;provider=openai']);
    await search.setValue('nothing-like-it');
    expect(cardKeys(view)).toEqual([]);
    expect(view.text()).toContain('Nothing matches “nothing-like-it”.');
    await search.setValue('');
    expect(cardKeys(view)).toHaveLength(6);
  });

  it('shows at once a metric that appeared after the list was fetched', async () => {
    useStores([workerMessage(0)]);
    const view = show(AppsView);
    await settle();
    expect(cardKeys(view, 'billing')).toEqual([]);
    deliver(
      workerMessage(1, {
        billing: {
          metrics: {
            'cost;provider=openai': {
              name: 'cost',
              kind: 'counter',
              tags: { provider: 'openai' },
              count: 0.5,
              rate: 0.5,
            },
          },
        },
      }),
    );
    await settle();
    expect(cardKeys(view, 'billing')).toEqual(['cost;provider=openai']);
    expect(view.get('[data-service="billing"] [data-testid="app-headline"]').text()).toBe(
      '0.500 /s',
    );
  });

  it('fills the live window of what it shows from history, once', async () => {
    stored['app.worker.batch.duration.p99'] = [[T0 - 5000, 150]];
    stored['app.worker.batch.duration.count'] = [[T0 - 5000, 48]];
    const { metrics } = useStores([workerMessage(0)]);
    show(AppsView);
    await settle();
    const asked = server.seen
      .filter((r) => r.path === '/api/history')
      .flatMap((r) => r.search.getAll('series'));
    expect(asked).toContain('app.worker.batch.duration.p99');
    // The timer's tooltip count is asked with its lines; its sum, min and max are not drawn.
    expect(asked).toContain('app.worker.batch.duration.count');
    expect(asked).not.toContain('app.worker.batch.duration.sum');
    expect(asked).toContain('app.router.calls;provider=openai.rate');
    expect(new Set(asked).size).toBe(asked.length);
    expect(metrics.series.get('app.worker.batch.duration.p99')!.toPoints()).toEqual([
      [T0 - 5000, 150],
      [T0, 180],
    ]);
  });

  it('tells a first visitor how applications send, when there is nothing yet', async () => {
    catalogue = [];
    const view = show(AppsView);
    await settle();
    const empty = view.get('[data-testid="apps-empty"]');
    expect(empty.text()).toContain('No application metrics yet');
    expect(empty.text()).toContain('STATSD_PORT');
    expect(empty.text()).toContain('/v1/metrics');
    expect(view.find('input[type="search"]').exists()).toBe(false);
  });
});

describe('AppMetricCard', () => {
  const timer = {
    service: 'worker',
    key: 'batch.duration',
    name: 'batch.duration',
    kind: 'timer' as const,
    tags: {},
  };

  it("draws a timer's p50–p99 band from the live window, p90 across it", async () => {
    useStores([0, 1, 2].map((s) => workerMessage(s)));
    const card = show(AppMetricCard, { metric: timer });
    await settle();
    expect(card.findAll('.legend button').map((b) => b.text())).toEqual(['p50', 'p90', 'p99']);
    const option = card.findComponent({ name: 'EChart' }).props('option') as {
      series: LineSeriesOption[];
    };
    const data = (id: string) => option.series.find((s) => s.id === id)!.data;
    const path = (field: string) => `app.worker.batch.duration.${field}`;
    const times = [0, 1, 2].map((s) => T0 + s * 1000);
    expect(data(`${path('p99')}#band-base`)).toEqual(times.map((t) => [t, 22]));
    expect(data(`${path('p99')}#band`)).toEqual(times.map((t, s) => [t, 180 + s - 22]));
    expect(data(path('p90'))).toEqual(times.map((t) => [t, 61]));
    expect(card.get('.plot').attributes('aria-label')).toBe('batch.duration: live');
  });

  it('pins and unpins, saying which it is, kept per host in the page storage', async () => {
    useStores([workerMessage(0)]);
    const card = show(AppMetricCard, { metric: timer });
    const button = card.get('button.pin');
    expect(button.text()).toBe('Pin to Live');
    expect(button.attributes('aria-pressed')).toBe('false');
    await button.trigger('click');
    expect(button.text()).toBe('Pinned to Live');
    expect(button.attributes('aria-pressed')).toBe('true');
    expect(JSON.parse(localStorage.getItem(pinsKey(HOST))!)).toEqual([
      { service: 'worker', key: 'batch.duration' },
    ]);
    await button.trigger('click');
    expect(button.attributes('aria-pressed')).toBe('false');
    expect(localStorage.getItem(pinsKey(HOST))).toBeNull();
  });

  it('names the service in its title on the live dashboard', () => {
    useStores();
    const card = show(AppMetricCard, { metric: timer, pinnedCard: true });
    expect(card.get('h2, h3').text()).toBe('worker · batch.duration');
  });
});

describe('PinnedAppCards', () => {
  it('asks nothing when nothing is pinned', async () => {
    const view = show(PinnedAppCards);
    await settle();
    expect(view.findAll('[data-app-metric]')).toHaveLength(0);
    expect(appsRequests()).toHaveLength(0);
  });

  it('shows the pinned metrics it knows, in pinning order, and keeps them over a reload', async () => {
    localStorage.setItem(
      pinsKey(HOST),
      JSON.stringify([
        { service: 'router', key: 'calls;provider=openai' },
        { service: 'gone', key: 'old.metric' },
        { service: 'worker', key: 'queue.depth' },
      ]),
    );
    useStores([workerMessage(0)]);
    const view = show(PinnedAppCards);
    await settle();
    expect(cardKeys(view)).toEqual(['calls;provider=openai', 'queue.depth']);
    expect(view.findAll('.pin').map((b) => b.attributes('aria-pressed'))).toEqual(['true', 'true']);

    // Unpinned from its own card: gone from Live, and from what a reload reads.
    await view.get('[data-app-metric="calls;provider=openai"] button.pin').trigger('click');
    expect(cardKeys(view)).toEqual(['queue.depth']);
    for (const wrapper of mounted.splice(0)) wrapper.unmount();

    useStores([workerMessage(1)]);
    const reloaded = show(PinnedAppCards);
    await settle();
    expect(cardKeys(reloaded)).toEqual(['queue.depth']);
  });

  it("shows another host's pins when another host is picked", async () => {
    localStorage.setItem(
      pinsKey('db-1'),
      JSON.stringify([{ service: 'worker', key: 'messages;queue=emails' }]),
    );
    localStorage.setItem(
      pinsKey(HOST),
      JSON.stringify([{ service: 'worker', key: 'queue.depth' }]),
    );
    const { metrics } = useStores([workerMessage(0)]);
    const view = show(PinnedAppCards);
    await settle();
    expect(cardKeys(view)).toEqual(['queue.depth']);
    metrics.selectedHost = 'db-1';
    await vi.waitFor(() => expect(cardKeys(view)).toEqual(['messages;queue=emails']));
    expect(appsRequests().at(-1)!.search.get('host')).toBe('db-1');
  });
});
