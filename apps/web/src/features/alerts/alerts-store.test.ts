import type { ActiveAlert, AlertEvent } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket as WsWebSocket } from 'ws';
import { createManualClock, startTestApiServer } from '../../test/api-server';
import type { TestApiServer } from '../../test/api-server';
import type { SocketConstructor } from '../../lib/stream-socket';
import { defineAuthStore } from '../../stores/auth';
import { defineMetricsStore } from '../../stores/metrics';
import { defineAlertsStore } from './alerts-store';
import { activeAlertAt, eventAt } from './test-data';

const HOST = 'vm-web-01';
const T0 = Math.floor(Date.now() / 1000) * 1000;
const POLL_MS = 20;
const until = (check: () => boolean) => vi.waitUntil(check, { timeout: 5000, interval: 2 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let api: TestApiServer;
let cleanup: (() => void)[] = [];
/** What `GET /api/alerts` answers; null: 404, as an API without alerts. */
let restActive: ActiveAlert[] | null;
let restEvents: AlertEvent[];

beforeEach(async () => {
  api = await startTestApiServer();
  api.setLatest(makeExampleSnapshot({ host: HOST, seq: 1, timestamp: new Date(T0).toISOString() }));
  restActive = [];
  restEvents = [];
  api.extra = (request) => {
    if (request.path === '/api/alerts') {
      return restActive === null ? undefined : { status: 200, body: { active: restActive } };
    }
    if (request.path === '/api/alerts/history')
      return { status: 200, body: { events: restEvents } };
    return undefined;
  };
  setActivePinia(createPinia());
});
afterEach(async () => {
  for (const step of cleanup) step();
  cleanup = [];
  await api.close();
});

function setup() {
  const useAuth = defineAuthStore({ baseUrl: api.baseUrl, storage: null });
  useAuth().setSession(api.session());
  const useMetrics = defineMetricsStore({
    useAuth,
    WebSocket: WsWebSocket as unknown as SocketConstructor,
    baseUrl: api.baseUrl,
    clock: createManualClock(T0),
    random: () => 0.5,
    pollIntervalMs: 60_000,
    window: null,
  });
  const metrics = useMetrics();
  const alerts = defineAlertsStore({
    useAuth,
    useMetrics,
    baseUrl: api.baseUrl,
    pollIntervalMs: POLL_MS,
  })();
  cleanup.push(() => {
    alerts.stop();
    metrics.stop();
  });
  return { metrics, alerts };
}

const alertPolls = () => api.requests.filter((r) => r.path === '/api/alerts').length;

describe('alerts store', () => {
  it('polls GET /api/alerts while the socket is down, and shows the bell once it answers', async () => {
    const { alerts } = setup();
    expect(alerts.available).toBe(false);
    restActive = [activeAlertAt(T0, { severity: 'critical' })];
    alerts.start();
    await until(() => alerts.available);
    expect(alerts.bell).toEqual({ count: 1, severity: 'critical', silenced: 0 });

    restActive = [];
    await until(() => alerts.bell.count === 0);
    expect(api.requests.find((r) => r.path === '/api/alerts')?.authorization).toMatch(/^Bearer /);
  });

  it('keeps the bell hidden, and says nothing, while the API has no alerts (404)', async () => {
    restActive = null;
    const { alerts } = setup();
    alerts.start();
    await until(() => alertPolls() >= 3);
    expect(alerts.available).toBe(false);
    expect(alerts.error).toBeNull();
  });

  it('takes the list from the socket while it is open, and stops polling', async () => {
    const { metrics, alerts } = setup();
    alerts.start();
    metrics.start();
    await until(() => metrics.connectionState === 'connected');
    api.sendAll({ type: 'alerts', active: [activeAlertAt(T0, { severity: 'info' })] });
    await until(() => alerts.fromSocket);
    expect(alerts.bell).toEqual({ count: 1, severity: 'info', silenced: 0 });

    // Each transition replaces the list and is kept for the charts.
    const resolved = eventAt(T0 + 5000, 'firing', 'resolved');
    api.sendAll({ type: 'alert', event: resolved, active: [] });
    await until(() => alerts.bell.count === 0);
    expect(alerts.events).toEqual([resolved]);

    const polls = alertPolls();
    await sleep(POLL_MS * 5);
    expect(alertPolls()).toBe(polls);

    // The socket gone, the REST fallback takes over.
    restActive = [activeAlertAt(T0, { severity: 'warning' })];
    metrics.stop();
    await until(() => alerts.bell.severity === 'warning');
    expect(alerts.fromSocket).toBe(false);
  });

  it('loads a host’s transitions for the charts once per window, and merges the live ones', async () => {
    const { metrics, alerts } = setup();
    restEvents = [eventAt(T0 - 60_000, 'pending', 'firing')];
    alerts.start();
    await alerts.loadEvents(HOST, T0 - 300_000);
    await alerts.loadEvents(HOST, T0 - 200_000);
    const asked = api.requests.filter((r) => r.path === '/api/alerts/history');
    expect(asked).toHaveLength(1);
    expect(asked[0]?.search.get('host')).toBe(HOST);
    expect(asked[0]?.search.get('from')).toBe(String(T0 - 300_000));
    expect(alerts.periods).toEqual([
      expect.objectContaining({ start: T0 - 60_000, end: null, host: HOST }),
    ]);

    metrics.start();
    await until(() => metrics.connectionState === 'connected');
    api.sendAll({ type: 'alert', event: eventAt(T0, 'firing', 'resolved'), active: [] });
    await until(() => alerts.events.length === 2);
    expect(alerts.periods.map((p) => [p.start, p.end])).toEqual([[T0 - 60_000, T0]]);
  });
});
