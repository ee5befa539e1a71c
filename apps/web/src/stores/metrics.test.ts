import type { AppMessage, ClientMessage, ProcessesMessage, Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket as WsWebSocket } from 'ws';
import { AUTHENTICATION_FAILED, SESSION_EXPIRED } from '../lib/api';
import { backfillSeriesFor } from '../features/live/live-series';
import { createManualClock, startTestApiServer } from '../test/api-server';
import type { ManualClock, TestApiServer } from '../test/api-server';
import { defineAuthStore } from './auth';
import { RESUME_RETRY_MS } from '../features/live/live-window-filler';
import { defineMetricsStore } from './metrics';
import type { SocketConstructor, SocketLike } from '../lib/stream-socket';
import type { WatchSpec } from '../lib/stream-watches';
import type { MetricsStoreDeps } from './metrics';

const HOST = 'vm-web-01';
// Whole seconds, so snapshot timestamps and the manual clock line up exactly.
const T0 = Math.floor(Date.now() / 1000) * 1000;
const POLL_MS = 20;

/** Snapshot `seq` of the test host, `offset` seconds after T0. */
function snap(seq: number, offset: number, usage = seq % 100): Snapshot {
  const snapshot = makeExampleSnapshot({
    host: HOST,
    seq,
    timestamp: new Date(T0 + offset * 1000).toISOString(),
  });
  snapshot.cpu.usagePercent = usage;
  return snapshot;
}

const until = (check: () => boolean) => vi.waitUntil(check, { timeout: 5000, interval: 2 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let api: TestApiServer;
let clock: ManualClock;
let cleanup: (() => void)[] = [];

beforeEach(async () => {
  api = await startTestApiServer();
  clock = createManualClock(T0);
  setActivePinia(createPinia());
});
afterEach(async () => {
  for (const step of cleanup) step();
  cleanup = [];
  await api.close();
});

function setup(overrides: MetricsStoreDeps = {}) {
  const useAuth = defineAuthStore({ baseUrl: api.baseUrl, storage: null });
  const auth = useAuth();
  auth.setSession(api.session());
  const metrics = defineMetricsStore({
    useAuth,
    WebSocket: WsWebSocket as unknown as SocketConstructor,
    baseUrl: api.baseUrl,
    clock,
    random: () => 0.5,
    pollIntervalMs: POLL_MS,
    window: null,
    ...overrides,
  })();
  cleanup.push(() => metrics.stop());
  return { auth, metrics };
}

const cpuTimes = (metrics: ReturnType<typeof setup>['metrics']) =>
  (metrics.series.get('cpu.usagePercent')?.toPoints() ?? []).map(([t]) => (t - T0) / 1000);

describe('metrics store against a real ws server', () => {
  it('connects, takes the latest snapshot on connect, and adds each broadcast to the ring', async () => {
    api.setLatest(snap(1, 0));
    const { auth, metrics } = setup();
    metrics.start();
    expect(metrics.connectionState).toBe('connecting');
    await until(() => metrics.connectionState === 'connected');
    await until(() => metrics.latest.get(HOST)?.seq === 1);
    expect(metrics.selectedHost).toBe(HOST);
    expect(metrics.hosts.map((h) => h.name)).toEqual([HOST]);
    expect(api.sockets[0]?.token).toBe(auth.token);

    const before = metrics.version;
    clock.advanceTo(T0 + 1007);
    api.broadcast(snap(2, 1));
    await until(() => metrics.latest.get(HOST)?.seq === 2);
    expect(cpuTimes(metrics)).toEqual([0, 1]);
    expect(metrics.series.get('cpu.usagePercent')?.lastValue).toBe(2);
    expect(metrics.version).toBeGreaterThan(before);
    expect(metrics.selectedSnapshot?.seq).toBe(2);
    // Received at T0 + 1007, sampled at T0 + 1000.
    expect(metrics.latencies).toEqual([7]);
    expect(metrics.lastUpdateAt).toBe(T0 + 1007);
  });

  it("keeps each host's newest app message and charts the shown host's metrics", async () => {
    api.setLatest(snap(1, 0));
    const { metrics } = setup();
    metrics.start();
    await until(() => metrics.latest.get(HOST)?.seq === 1);
    const app = (host: string, offset: number, depth: number): AppMessage => ({
      type: 'app',
      host,
      timestamp: new Date(T0 + offset * 1000).toISOString(),
      intervalMs: 1000,
      services: {
        worker: {
          metrics: {
            'queue.depth': { name: 'queue.depth', kind: 'gauge', tags: {}, value: depth },
            messages: { name: 'messages', kind: 'counter', tags: {}, count: 40, rate: 40 },
          },
        },
      },
    });
    api.sockets[0]!.ws.send(JSON.stringify(app(HOST, 1, 17)));
    api.sockets[0]!.ws.send(JSON.stringify(app('other-host', 1, 99)));
    api.sockets[0]!.ws.send(JSON.stringify(app(HOST, 2, 23)));
    await until(() => metrics.latestApp.get(HOST)?.timestamp === app(HOST, 2, 0).timestamp);
    expect(metrics.series.get('app.worker.queue.depth.value')?.toPoints()).toEqual([
      [T0 + 1000, 17],
      [T0 + 2000, 23],
    ]);
    expect(metrics.series.get('app.worker.messages.rate')?.lastValue).toBe(40);
    // Another host's metrics are kept as its latest, not drawn into this host's window.
    expect(
      metrics.latestApp.get('other-host')?.services.worker?.metrics['queue.depth']?.value,
    ).toBe(99);
  });

  it('fills the window over the socket on load: every snapshot the server holds, not history', async () => {
    // The API streamed these before the page opened; a spike among them.
    for (let seq = 1; seq <= 5; seq++) api.broadcast(snap(seq, seq - 1, seq === 3 ? 97 : 10));
    clock.advanceTo(T0 + 4200);
    const { metrics } = setup();
    metrics.start();
    await until(() => cpuTimes(metrics).length === 5);
    expect(cpuTimes(metrics)).toEqual([0, 1, 2, 3, 4]);
    // At full resolution: the spike keeps its peak, and every series is filled, per core too.
    expect(metrics.series.get('cpu.usagePercent')?.toPoints()[2]).toEqual([T0 + 2000, 97]);
    expect(metrics.series.get('cpu.cores.1.usagePercent')?.length).toBe(5);
    expect(metrics.series.get('network.interfaces.eth0.rxPacketsPerSec')?.length).toBe(5);
    // One resume, from the start of the window the server's latest snapshot ends.
    expect(api.sockets[0]!.received).toEqual([
      { type: 'resume', host: HOST, after: new Date(T0 + 4000 - 5 * 60_000).toISOString() },
    ]);
    await until(() => !metrics.backfilling);
    expect(api.requests.filter((r) => r.path === '/api/history')).toEqual([]);
    // The resumed snapshots are old by design: no latency is measured from them.
    expect(metrics.latencies).toEqual([]);
  });

  it('asks again after a busy answer, never two resumes at once', async () => {
    for (let seq = 1; seq <= 3; seq++) api.broadcast(snap(seq, seq - 1));
    api.resumeBusy = 1;
    const { metrics } = setup();
    metrics.start();
    await until(() => metrics.lastError !== null);
    expect(metrics.lastError).toMatch(/too many/);
    // A longer window picked meanwhile waits for the retry rather than sending a second resume.
    metrics.setWindow(15);
    await sleep(20);
    expect(api.sockets[0]!.received.filter((m) => m.type === 'resume')).toHaveLength(1);
    clock.advanceTo(T0 + RESUME_RETRY_MS * 2);
    await until(() => cpuTimes(metrics).length === 3);
    expect(cpuTimes(metrics)).toEqual([0, 1, 2]);
    await until(() => api.sockets[0]!.received.length === 3);
    // The retry, then the longer window once the retry was answered.
    expect(api.sockets[0]!.received.map((m) => m.type === 'resume' && m.after)).toEqual([
      new Date(T0 + 2000 - 5 * 60_000).toISOString(),
      new Date(T0 + 2000 - 5 * 60_000).toISOString(),
      new Date(T0 + 2000 - 15 * 60_000).toISOString(),
    ]);
  });

  it('backfills from /api/history, with the bearer token, while the socket cannot connect', async () => {
    api.accepting = false;
    api.history = (search) => ({
      host: HOST,
      from: Number(search.get('from')),
      to: Number(search.get('to')),
      bucketMs: 1000,
      tier: 'raw',
      series: Object.fromEntries(
        search
          .getAll('series')
          .map((path) => [
            path,
            [-3, -2, -1, 0].map((s) => [T0 + s * 1000, 40 + s, 40 + s, 40 + s]),
          ]),
      ),
    });
    api.setLatest(snap(1, 0, 50));
    const { auth, metrics } = setup();
    metrics.start();
    await until(() => cpuTimes(metrics).length === 4);
    expect(metrics.series.get('cpu.usagePercent')?.toPoints()).toEqual([
      [T0 - 3000, 37],
      [T0 - 2000, 38],
      [T0 - 1000, 39],
      [T0, 50], // the polled sample, not the bucket's average
    ]);

    const asked = api.requests.filter((r) => r.path === '/api/history');
    const series = backfillSeriesFor(snap(1, 0));
    expect(asked.length).toBe(Math.ceil(series.length / 20));
    expect(asked.flatMap((r) => r.search.getAll('series'))).toEqual(series);
    for (const request of asked) {
      expect(request.authorization).toBe(`Bearer ${auth.token}`);
      expect(request.search.get('host')).toBe(HOST);
      expect(Number(request.search.get('to')) - Number(request.search.get('from'))).toBe(
        5 * 60_000,
      );
    }
  });

  it('reconnects with backoff after the connection drops, and resumes where it broke off', async () => {
    api.broadcast(snap(1, 0));
    const { metrics } = setup();
    metrics.start();
    await until(() => metrics.connectionState === 'connected');
    api.broadcast(snap(2, 1));
    api.broadcast(snap(3, 2));
    await until(() => metrics.latest.get(HOST)?.seq === 3);

    api.sockets[0]!.ws.terminate(); // the client sees 1006, as with a killed server
    await until(() => metrics.nextRetryAt !== null);
    expect(metrics.connectionState).toBe('connecting');
    expect(metrics.attempt).toBe(1);
    expect(metrics.nextRetryAt).toBe(T0 + 500); // full jitter: 0.5 × 1 s
    expect(metrics.polling).toBe(true);

    // What the client misses while it waits.
    api.broadcast(snap(4, 3));
    api.broadcast(snap(5, 4));
    clock.advanceTo(metrics.nextRetryAt!);
    await until(() => metrics.connectionState === 'connected');
    expect(metrics.attempt).toBe(0);
    expect(metrics.polling).toBe(false);
    await until(() => cpuTimes(metrics).length === 5);
    expect(cpuTimes(metrics)).toEqual([0, 1, 2, 3, 4]);
    expect(api.sockets[1]!.received).toEqual([
      { type: 'resume', host: HOST, after: new Date(T0 + 2000).toISOString() },
    ]);
  });

  it.each([
    ['invalid token', AUTHENTICATION_FAILED],
    ['token expired', SESSION_EXPIRED],
  ])('on close 1008 "%s": no retry, logged out with "%s"', async (serverReason, shown) => {
    // REST still takes the token: this is the socket's refusal alone.
    api.socketRefusal = serverReason;
    const { auth, metrics } = setup();
    metrics.start();
    await until(() => auth.token === null);
    expect(auth.reason).toBe(shown);
    expect(metrics.lastError).toBe(`closed 1008: ${serverReason}`);
    expect(metrics.connectionState).toBe('disconnected');
    expect([metrics.nextRetryAt, metrics.polling, clock.pending]).toEqual([null, false, 0]);
    await sleep(5 * POLL_MS);
    expect(api.sockets).toHaveLength(1);
    expect(api.requests.some((r) => r.path === '/api/snapshots/latest')).toBe(false);
  });

  it('a token REST refuses ends the session before the socket retries', async () => {
    const { auth, metrics } = setup();
    api.tokens.valid.delete(auth.token!);
    metrics.start();
    await until(() => auth.token === null);
    expect(auth.reason).toBe(AUTHENTICATION_FAILED);
    expect([metrics.connectionState, metrics.nextRetryAt, clock.pending]).toEqual([
      'disconnected',
      null,
      0,
    ]);
  });

  it('stop() closes the socket with 1000 and never reconnects', async () => {
    api.setLatest(snap(1, 0));
    const { metrics } = setup();
    metrics.start();
    await until(() => metrics.connectionState === 'connected');
    metrics.stop();
    expect(metrics.connectionState).toBe('disconnected');
    expect(await api.sockets[0]!.closed).toEqual({ code: 1000, reason: 'leaving the dashboard' });
    expect([metrics.nextRetryAt, metrics.polling, clock.pending]).toEqual([null, false, 0]);
    clock.advanceTo(T0 + 3_600_000);
    expect(api.sockets).toHaveLength(1);
    // The data stays for when the dashboard is entered again.
    expect(metrics.latest.get(HOST)?.seq).toBe(1);
  });

  it('gives up after ten failed attempts; Retry starts over from attempt 1', async () => {
    api.accepting = false;
    const { metrics } = setup();
    metrics.start();
    const waits: number[] = [];
    for (let k = 1; k <= 10; k++) {
      await until(() => metrics.attempt === k && metrics.nextRetryAt !== null);
      expect(metrics.connectionState).toBe('connecting');
      waits.push(metrics.nextRetryAt! - clock.now());
      clock.advanceTo(metrics.nextRetryAt!);
    }
    await until(() => metrics.connectionState === 'error');
    expect(waits).toEqual([500, 1000, 2000, 4000, 8000, 15_000, 15_000, 15_000, 15_000, 15_000]);
    expect([metrics.attempt, metrics.nextRetryAt]).toEqual([10, null]);
    expect(metrics.polling).toBe(true);

    api.accepting = true;
    metrics.retry();
    await until(() => metrics.connectionState === 'connected');
    expect(metrics.attempt).toBe(0);
  });

  it('retries at once when the browser comes back online', async () => {
    const online = new EventTarget();
    api.accepting = false;
    const { metrics } = setup({ window: online });
    metrics.start();
    await until(() => metrics.attempt === 1 && metrics.nextRetryAt !== null);
    api.accepting = true;
    online.dispatchEvent(new Event('online'));
    await until(() => metrics.connectionState === 'connected');
    expect(clock.now()).toBe(T0); // no waiting for the scheduled attempt
  });

  it('polls /api/snapshots/latest while disconnected, and stops once connected', async () => {
    api.accepting = false;
    api.setLatest(snap(1, 0));
    const { auth, metrics } = setup();
    metrics.start();
    await until(() => metrics.latest.get(HOST)?.seq === 1);
    expect(metrics.polling).toBe(true);
    const polls = () => api.requests.filter((r) => r.path === '/api/snapshots/latest');
    expect(polls()[0]?.authorization).toBe(`Bearer ${auth.token}`);

    api.setLatest(snap(2, 5));
    await until(() => metrics.latest.get(HOST)?.seq === 2);
    expect(cpuTimes(metrics)).toEqual([0, 5]);

    api.accepting = true;
    clock.advanceTo(metrics.nextRetryAt!);
    await until(() => metrics.connectionState === 'connected');
    expect(metrics.polling).toBe(false);
    const count = polls().length;
    await sleep(5 * POLL_MS);
    expect(polls().length).toBe(count);
  });

  it('ends the session when a poll is refused with 401', async () => {
    api.accepting = false;
    const { auth, metrics } = setup();
    const token = auth.token!;
    api.tokens.valid.delete(token);
    api.tokens.expired.add(token);
    metrics.start();
    await until(() => auth.token === null);
    expect(auth.reason).toBe(SESSION_EXPIRED);
    expect([metrics.connectionState, metrics.polling, metrics.nextRetryAt]).toEqual([
      'disconnected',
      false,
      null,
    ]);
  });

  it('marks the data stale after two sampling intervals without a fresh snapshot', async () => {
    api.setLatest(snap(1, 0));
    const { metrics } = setup();
    metrics.start();
    await until(() => metrics.latest.get(HOST)?.seq === 1);
    expect(metrics.stale).toBe(false);
    clock.advanceTo(T0 + 1999);
    expect(metrics.stale).toBe(false);
    clock.advanceTo(T0 + 2000);
    expect(metrics.stale).toBe(true);
    api.broadcast(snap(2, 1));
    await until(() => metrics.stale === false);
  });

  it('keeps every ring within the live window', async () => {
    api.setLatest(snap(1, 0));
    const { metrics } = setup();
    metrics.setWindow(1);
    metrics.start();
    await until(() => metrics.connectionState === 'connected');
    for (let seq = 2; seq <= 200; seq++) api.broadcast(snap(seq, seq - 1));
    await until(() => metrics.latest.get(HOST)?.seq === 200);
    for (const path of metrics.series.paths()) {
      const ring = metrics.series.get(path)!;
      expect(ring.length).toBeLessThanOrEqual(ring.capacity);
      expect(ring.lastTime! - ring.firstTime!).toBeLessThanOrEqual(60_000);
    }
    expect(cpuTimes(metrics)).toHaveLength(61);
    expect(cpuTimes(metrics).at(-1)).toBe(199);
  });

  it('sends a renewed token over the open socket', async () => {
    const { auth, metrics } = setup();
    metrics.start();
    await until(() => metrics.connectionState === 'connected');
    const renewed = api.session();
    auth.setSession(renewed);
    await until(() => api.sockets[0]!.received.length > 0);
    expect(api.sockets[0]!.received).toEqual([{ type: 'auth', token: renewed.token }]);
  });

  it('ignores events from a socket it has replaced', async () => {
    const made: SocketLike[] = [];
    const Recording = class extends WsWebSocket {
      constructor(url: string) {
        super(url);
        made.push(this as unknown as SocketLike);
      }
    };
    api.setLatest(snap(1, 0));
    const { auth, metrics } = setup({ WebSocket: Recording as unknown as SocketConstructor });
    metrics.start();
    await until(() => metrics.connectionState === 'connected');
    api.sockets[0]!.ws.terminate();
    await until(() => metrics.nextRetryAt !== null);
    clock.advanceTo(metrics.nextRetryAt!);
    await until(() => metrics.connectionState === 'connected');
    expect(made).toHaveLength(2);

    const old = made[0]!;
    old.onmessage?.({ data: JSON.stringify(snap(99, 60)) } as MessageEvent);
    old.onclose?.({ code: 1008, reason: 'invalid token' } as CloseEvent);
    expect(metrics.latest.get(HOST)?.seq).not.toBe(99);
    expect(metrics.connectionState).toBe('connected');
    expect(auth.isAuthenticated).toBe(true);
  });

  it('starts the window over for another host', async () => {
    api.setLatest(snap(1, 0));
    api.setLatest({ ...snap(1, 0), host: 'db-1' });
    const { metrics } = setup();
    metrics.start();
    await until(() => metrics.hosts.length === 2 && metrics.latest.size === 2);
    expect(metrics.selectedHost).toBe(HOST);
    metrics.selectHost('db-1');
    expect(metrics.series.get('cpu.usagePercent')?.length).toBe(1);
    api.broadcast({ ...snap(2, 1), host: 'db-1' });
    api.broadcast(snap(2, 1));
    await until(() => metrics.latest.get(HOST)?.seq === 2);
    await until(() => metrics.latest.get('db-1')?.seq === 2);
    expect(cpuTimes(metrics)).toEqual([0, 1]);
    // Its window is filled over the socket.
    expect(api.sockets[0]!.received).toContainEqual({
      type: 'resume',
      host: 'db-1',
      after: new Date(T0 - 5 * 60_000).toISOString(),
    });
  });
});

describe('full-table watches on the socket', () => {
  const watch = { type: 'watch_processes', host: HOST, sort: 'cpu', limit: 100 } as const;
  const spec: WatchSpec<ClientMessage> = {
    type: 'processes',
    host: HOST,
    watch,
    unwatch: { type: 'unwatch_processes', host: HOST },
  };
  const table = (total: number) => ({
    type: 'processes',
    host: HOST,
    timestamp: new Date(T0).toISOString(),
    sort: 'cpu',
    total,
    ioUnavailableReason: null,
    processes: [],
  });
  const watches = (index: number) =>
    (api.sockets[index]?.received ?? []).filter((m) => m.type.endsWith('watch_processes'));

  it('asks once open and again after a reconnect, hands over answers, and unwatches', async () => {
    api.setLatest(snap(1, 0));
    const { metrics } = setup();
    const totals: number[] = [];
    const stop = metrics.watchStream(spec, (message: ProcessesMessage) =>
      totals.push(message.total),
    );
    metrics.start();
    await until(() => watches(0).length === 1);
    expect(watches(0)).toEqual([watch]);
    api.sockets[0]!.ws.send(JSON.stringify(table(7)));
    // Another host's table is not this watch's.
    api.sockets[0]!.ws.send(JSON.stringify({ ...table(8), host: 'db-1' }));
    await until(() => totals.length === 1);

    // The server forgot the watch with the socket: the next one asks again.
    api.sockets[0]!.ws.terminate();
    await until(() => metrics.nextRetryAt !== null);
    clock.advanceTo(metrics.nextRetryAt!);
    await until(() => watches(1).length === 1);
    api.sockets[1]!.ws.send(JSON.stringify(table(9)));
    await until(() => totals.length === 2);
    expect(totals).toEqual([7, 9]);

    stop();
    await until(() => watches(1).length === 2);
    expect(watches(1)).toEqual([watch, { type: 'unwatch_processes', host: HOST }]);
  });
});
