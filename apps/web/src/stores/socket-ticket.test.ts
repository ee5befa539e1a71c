import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket as WsWebSocket } from 'ws';
import { AUTHENTICATION_FAILED } from '../lib/api';
import type { SocketConstructor } from '../lib/stream-socket';
import { createManualClock, startTestApiServer } from '../test/api-server';
import type { ManualClock, TestApiServer } from '../test/api-server';
import { defineAuthStore } from './auth';
import { defineMetricsStore } from './metrics';

// The dashboard's socket never carries its JWT in a URL: every (re)connect buys a single-use
// ticket with the token in a header, and opens the socket with `?ticket=`.

const until = (check: () => boolean) => vi.waitUntil(check, { timeout: 5000, interval: 2 });
const T0 = Math.floor(Date.now() / 1000) * 1000;

let api: TestApiServer;
let clock: ManualClock;
let stops: (() => void)[] = [];

beforeEach(async () => {
  api = await startTestApiServer();
  clock = createManualClock(T0);
  setActivePinia(createPinia());
});
afterEach(async () => {
  for (const stop of stops) stop();
  stops = [];
  await api.close();
});

function setup() {
  const useAuth = defineAuthStore({ baseUrl: api.baseUrl, storage: null });
  const auth = useAuth();
  auth.setSession(api.session());
  const metrics = defineMetricsStore({
    useAuth,
    WebSocket: WsWebSocket as unknown as SocketConstructor,
    baseUrl: api.baseUrl,
    clock,
    random: () => 0.5,
    window: null,
    backfillSeries: [],
  })();
  stops.push(() => metrics.stop());
  return { auth, metrics };
}

const ticketRequests = () => api.requests.filter((r) => r.path === '/api/ws/ticket');

describe('the metrics store opens its socket with a ticket', () => {
  it('puts a ticket in the URL, never the token, and buys a new one for every reconnect', async () => {
    const { auth, metrics } = setup();
    metrics.start();
    await until(() => metrics.connectionState === 'connected');
    const first = api.sockets[0]!;
    expect(first.url).toMatch(/^\/api\/ws\/metrics\?ticket=[\w-]+$/);
    expect(first.url).not.toContain(auth.token!);
    // The server knows whose socket it is from the ticket alone.
    expect(first.token).toBe(auth.token);
    expect(ticketRequests()).toEqual([
      expect.objectContaining({ method: 'POST', authorization: `Bearer ${auth.token}` }),
    ]);

    first.ws.terminate();
    await until(() => metrics.nextRetryAt !== null);
    clock.advanceTo(metrics.nextRetryAt!);
    await until(() => metrics.connectionState === 'connected' && api.sockets.length === 2);
    const second = api.sockets[1]!;
    expect(second.url).not.toBe(first.url);
    expect(second.url).not.toContain(auth.token!);
    expect(ticketRequests()).toHaveLength(2);
  });

  it('ends the session when the ticket is refused for its token, opening no socket', async () => {
    const { auth, metrics } = setup();
    api.tokens.valid.delete(auth.token!);
    metrics.start();
    await until(() => !auth.isAuthenticated);
    expect(auth.reason).toBe(AUTHENTICATION_FAILED);
    expect(metrics.connectionState).toBe('disconnected');
    expect(api.sockets).toHaveLength(0);
  });

  it('retries with backoff while no ticket can be had (Redis away)', async () => {
    const { auth, metrics } = setup();
    api.ticketFailure = 503;
    metrics.start();
    await until(() => metrics.nextRetryAt !== null);
    expect(metrics.connectionState).toBe('connecting');
    expect(metrics.attempt).toBe(1);
    expect(metrics.lastError).toBe('closed 1006: ticket: socket tickets are unavailable');
    expect(auth.isAuthenticated).toBe(true);

    api.ticketFailure = null;
    clock.advanceTo(metrics.nextRetryAt!);
    await until(() => metrics.connectionState === 'connected');
    expect(api.sockets).toHaveLength(1);
  });
});
