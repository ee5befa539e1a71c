import { createPinia, setActivePinia } from 'pinia';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket as WsWebSocket } from 'ws';
import { AUTHENTICATION_FAILED, ApiError, SESSION_EXPIRED } from '../lib/api';
import type { SocketConstructor } from '../lib/stream-socket';
import {
  TEST_PASSWORD,
  TEST_USER,
  createManualClock,
  startTestApiServer,
} from '../test/api-server';
import type { ManualClock, TestApiServer } from '../test/api-server';
import {
  API_UNREACHABLE,
  EXPIRY_MARGIN_MS,
  SAVED_SESSION_INVALID,
  expiryMarginMs,
  issuedLifetimeMs,
  loginFailureMessage,
  REFRESH_AT_FRACTION,
  SESSION_STORAGE_KEY,
  defineAuthStore,
} from './auth';
import type { AuthStoreDeps, SessionStorage } from './auth';
import { defineMetricsStore } from './metrics';

/** `localStorage` in miniature, for Node. */
function memoryStorage(initial: Record<string, string> = {}): SessionStorage & {
  data: Map<string, string>;
} {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
}

// Whole seconds, as the manual clock tests count in them.
const T0 = Math.floor(Date.now() / 1000) * 1000;
const MINUTE = 60_000;
const DAY = 86_400_000;

const until = (check: () => boolean) => vi.waitUntil(check, { timeout: 5000, interval: 2 });

let api: TestApiServer;
let defaultRefresh: TestApiServer['refresh'];
beforeAll(async () => {
  api = await startTestApiServer();
  defaultRefresh = api.refresh;
});
afterAll(() => api.close());
beforeEach(() => {
  setActivePinia(createPinia());
});

describe('auth store against a real HTTP server', () => {
  it('logs in, keeps the session in storage, and clears a previous reason', async () => {
    const storage = memoryStorage();
    const useAuth = defineAuthStore({ baseUrl: api.baseUrl, storage });
    const auth = useAuth();
    auth.logout(SESSION_EXPIRED);
    expect(auth.reason).toBe(SESSION_EXPIRED);

    expect(await auth.login('alice', TEST_PASSWORD)).toBe(true);
    expect(auth.isAuthenticated).toBe(true);
    expect(auth.user).toEqual(TEST_USER);
    expect(auth.reason).toBeNull();
    expect(api.tokens.valid.has(auth.token!)).toBe(true);
    const stored = JSON.parse(storage.data.get(SESSION_STORAGE_KEY)!) as { token: string };
    expect(stored.token).toBe(auth.token);
    auth.logout();
  });

  it('says why a login failed and stays logged out', async () => {
    const auth = defineAuthStore({ baseUrl: api.baseUrl, storage: null })();
    expect(await auth.login('alice', 'wrong')).toBe(false);
    expect(auth.isAuthenticated).toBe(false);
    expect(auth.reason).toBe('Invalid username or password');
    expect(auth.pending).toBe(false);

    const offline = defineAuthStore({ baseUrl: 'http://127.0.0.1:1', storage: null });
    setActivePinia(createPinia());
    const unreachable = offline();
    expect(await unreachable.login('alice', TEST_PASSWORD)).toBe(false);
    expect(unreachable.reason).toBe(API_UNREACHABLE);
  });

  it('restores a stored session on load, and drops a stored one that has expired', () => {
    const session = api.session(Date.now() + 3_600_000);
    const storage = memoryStorage({ [SESSION_STORAGE_KEY]: JSON.stringify(session) });
    const auth = defineAuthStore({ baseUrl: api.baseUrl, storage })();
    expect(auth.token).toBe(session.token);
    expect(auth.expiresAt).toBe(Date.parse(session.expiresAt));
    auth.logout();

    setActivePinia(createPinia());
    // A 10-minute token with 59 s left: inside its 60 s margin.
    const old = api.session(Date.now() + EXPIRY_MARGIN_MS - 1000, Date.now() - 10 * MINUTE);
    const stale = memoryStorage({ [SESSION_STORAGE_KEY]: JSON.stringify(old) });
    const restored = defineAuthStore({ baseUrl: api.baseUrl, storage: stale })();
    expect(restored.isAuthenticated).toBe(false);
    expect(restored.reason).toBe(SESSION_EXPIRED);
    expect(stale.data.has(SESSION_STORAGE_KEY)).toBe(false);

    setActivePinia(createPinia());
    const garbage = memoryStorage({ [SESSION_STORAGE_KEY]: '{"token":' });
    const corrupted = defineAuthStore({ storage: garbage })();
    expect(corrupted.isAuthenticated).toBe(false);
    expect(corrupted.reason).toBe(SAVED_SESSION_INVALID);
    expect(garbage.data.size).toBe(0);
  });

  it('ends a session the server refuses, with the reason the server gave', async () => {
    const auth = defineAuthStore({ baseUrl: api.baseUrl, storage: null })();
    const session = api.session();
    auth.setSession(session);
    expect(await auth.checkSession()).toBe(true);

    api.tokens.valid.delete(session.token);
    api.tokens.expired.add(session.token);
    expect(await auth.checkSession()).toBe(false);
    expect(auth.isAuthenticated).toBe(false);
    expect(auth.reason).toBe(SESSION_EXPIRED);
  });

  it('ignores a refusal of a token it no longer holds', () => {
    const auth = defineAuthStore({ storage: null })();
    const first = api.session();
    const second = api.session();
    auth.setSession(first);
    auth.setSession(second);
    auth.rejectToken(first.token, AUTHENTICATION_FAILED);
    expect(auth.token).toBe(second.token);
    auth.rejectToken(second.token, AUTHENTICATION_FAILED);
    expect(auth.token).toBeNull();
    expect(auth.reason).toBe(AUTHENTICATION_FAILED);
    // A second, later refusal does not rewrite why the session ended.
    auth.logout(SESSION_EXPIRED);
    expect(auth.reason).toBe(AUTHENTICATION_FAILED);
  });
});

describe('auth store sliding session on a manual clock', () => {
  let clock: ManualClock;
  beforeEach(() => {
    clock = createManualClock(T0);
    api.requests.length = 0;
  });
  afterEach(() => {
    api.refresh = defaultRefresh;
  });

  const setup = (deps: AuthStoreDeps = {}) =>
    defineAuthStore({ baseUrl: api.baseUrl, storage: null, clock, ...deps })();
  const refreshes = () => api.requests.filter((r) => r.path === '/api/auth/refresh');
  /** Sessions of ten minutes from the clock's now: nine usable, the refresh due 6 min 45 s in. */
  const tenMinutes = () => api.session(clock.now() + 10 * MINUTE);
  const DUE_MS = 405_000;

  /** Moves the clock to the store's next refresh and waits for that refresh to settle. */
  async function runRefresh(auth: ReturnType<typeof setup>): Promise<void> {
    expect(auth.nextRefreshAt).not.toBeNull();
    clock.advanceTo(auth.nextRefreshAt!);
    expect(auth.refreshing).toBe(true);
    await until(() => !auth.refreshing);
  }

  it(`renews the token ${REFRESH_AT_FRACTION * 100} % of the way to its end, and again from the new one`, async () => {
    const storage = memoryStorage();
    const auth = setup({ storage });
    api.refresh = tenMinutes;
    const first = tenMinutes();
    auth.setSession(first);
    expect(DUE_MS).toBe(REFRESH_AT_FRACTION * (10 * MINUTE - EXPIRY_MARGIN_MS));
    expect(auth.nextRefreshAt).toBe(T0 + DUE_MS);
    clock.advanceTo(T0 + DUE_MS - 1);
    expect(auth.refreshing).toBe(false);
    expect(refreshes()).toHaveLength(0);

    await runRefresh(auth);
    expect(refreshes()).toEqual([
      expect.objectContaining({ method: 'POST', authorization: `Bearer ${first.token}` }),
    ]);
    const second = auth.token!;
    expect(second).not.toBe(first.token);
    expect(api.tokens.valid.has(second)).toBe(true);
    expect(auth.expiresAt).toBe(T0 + DUE_MS + 10 * MINUTE);
    expect(auth.reason).toBeNull();
    expect(JSON.parse(storage.data.get(SESSION_STORAGE_KEY)!)).toMatchObject({ token: second });
    expect(auth.nextRefreshAt).toBe(T0 + 2 * DUE_MS);

    // The first token's end comes and goes: the session lives on the second.
    clock.advanceTo(T0 + 10 * MINUTE);
    expect(auth.isAuthenticated).toBe(true);
    await runRefresh(auth);
    expect(refreshes().map((r) => r.authorization)).toEqual([
      `Bearer ${first.token}`,
      `Bearer ${second}`,
    ]);
    expect(auth.expiresAt).toBe(T0 + 2 * DUE_MS + 10 * MINUTE);
    // One expiry and one refresh waiting, no more; none once logged out.
    expect(clock.pending).toBe(2);
    auth.logout();
    expect(clock.pending).toBe(0);
    expect(auth.nextRefreshAt).toBeNull();
  });

  it('takes the user as the server has it now', async () => {
    const auth = setup();
    api.refresh = () => ({ ...tenMinutes(), user: { ...TEST_USER, role: 'viewer' } });
    auth.setSession(tenMinutes());
    await runRefresh(auth);
    expect(auth.user).toEqual({ ...TEST_USER, role: 'viewer' });
    auth.logout();
  });

  it.each([
    ['token expired', SESSION_EXPIRED],
    ['invalid token', AUTHENTICATION_FAILED],
  ])('ends the session when the server refuses the refresh as "%s"', async (refusal, shown) => {
    const storage = memoryStorage();
    const auth = setup({ storage });
    const session = tenMinutes();
    auth.setSession(session);
    api.tokens.valid.delete(session.token);
    if (refusal === 'token expired') api.tokens.expired.add(session.token);

    await runRefresh(auth);
    expect(refreshes()).toHaveLength(1);
    expect(auth.isAuthenticated).toBe(false);
    expect(auth.reason).toBe(shown);
    expect(storage.data.size).toBe(0);
    expect(auth.nextRefreshAt).toBeNull();
    expect(clock.pending).toBe(0);
  });

  it('retries an unanswered refresh after 2 s, then 4 s, and takes the answer once there is one', async () => {
    const auth = setup();
    api.refresh = () => 'drop';
    const first = tenMinutes();
    auth.setSession(first);
    await runRefresh(auth);
    expect(auth.token).toBe(first.token);
    expect(auth.nextRefreshAt).toBe(T0 + DUE_MS + 2000);
    await runRefresh(auth);
    expect(auth.nextRefreshAt).toBe(T0 + DUE_MS + 6000);

    api.refresh = tenMinutes;
    await runRefresh(auth);
    expect(refreshes()).toHaveLength(3);
    expect(auth.token).not.toBe(first.token);
    const renewedAt = T0 + DUE_MS + 6000;
    expect(auth.expiresAt).toBe(renewedAt + 10 * MINUTE);
    expect(auth.nextRefreshAt).toBe(renewedAt + DUE_MS);

    // A new token starts its retries from the first delay again.
    api.refresh = () => 'drop';
    await runRefresh(auth);
    expect(auth.nextRefreshAt).toBe(renewedAt + DUE_MS + 2000);
    auth.logout();
    expect(clock.pending).toBe(0);
  });

  it(`ends the session ${EXPIRY_MARGIN_MS / 1000} s before exp when no refresh gets through`, async () => {
    const storage = memoryStorage();
    const auth = setup({ storage });
    api.refresh = () => 'drop';
    auth.setSession(tenMinutes());
    const attempts: number[] = [];
    while (auth.nextRefreshAt !== null) {
      attempts.push((auth.nextRefreshAt - T0) / 1000);
      await runRefresh(auth);
    }
    // 2 s doubling to a 30 s cap, while the next attempt still falls before the end at 540 s.
    expect(attempts).toEqual([405, 407, 411, 419, 435, 465, 495, 525]);
    expect(refreshes()).toHaveLength(8);
    clock.advanceTo(T0 + 10 * MINUTE - EXPIRY_MARGIN_MS - 1);
    expect(auth.isAuthenticated).toBe(true);
    clock.advanceTo(T0 + 10 * MINUTE - EXPIRY_MARGIN_MS);
    expect(auth.isAuthenticated).toBe(false);
    expect(auth.reason).toBe(SESSION_EXPIRED);
    expect(storage.data.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('drops the answer of a refresh overtaken by a logout or a new session', async () => {
    const auth = setup();
    api.refresh = tenMinutes;
    auth.setSession(tenMinutes());
    const overtaken = auth.refresh();
    expect(auth.refreshing).toBe(true);
    auth.logout();
    expect(auth.refreshing).toBe(false);
    expect(await overtaken).toBe(false);
    expect(auth.token).toBeNull();
    expect(clock.pending).toBe(0);

    auth.setSession(tenMinutes());
    const replaced = auth.refresh();
    const login = tenMinutes();
    auth.setSession(login);
    expect(await replaced).toBe(false);
    expect(auth.token).toBe(login.token);
    expect(auth.nextRefreshAt).toBe(T0 + DUE_MS);
    auth.logout();
  });

  it('schedules the refresh of a restored session from the page load', () => {
    const session = api.session(T0 + 61 * MINUTE);
    const storage = memoryStorage({ [SESSION_STORAGE_KEY]: JSON.stringify(session) });
    const auth = setup({ storage });
    expect(auth.token).toBe(session.token);
    expect(auth.nextRefreshAt).toBe(T0 + 45 * MINUTE);
    auth.logout();
  });

  it('refuses a session that is already within the margin', () => {
    const auth = setup();
    expect(auth.setSession(api.session(T0 + EXPIRY_MARGIN_MS, T0 - 10 * MINUTE))).toBe(false);
    expect(auth.reason).toBe(SESSION_EXPIRED);
    expect(clock.pending).toBe(0);
  });

  it('keeps a one-minute session (JWT_TTL=1m) through two lifetimes and more', async () => {
    const auth = setup();
    const oneMinute = () => api.session(clock.now() + MINUTE, clock.now());
    api.refresh = oneMinute;
    // A fixed 60 s margin would refuse this token outright: its margin is a quarter, 15 s.
    expect(auth.setSession(oneMinute())).toBe(true);
    expect(auth.nextRefreshAt).toBe(T0 + REFRESH_AT_FRACTION * 45_000);
    const tokens = [auth.token];
    while (clock.now() < T0 + 2.5 * MINUTE) {
      await runRefresh(auth);
      expect(auth.isAuthenticated).toBe(true);
      expect(auth.reason).toBeNull();
      tokens.push(auth.token);
    }
    // Each token renewed 33.75 s into its minute, with 26 s still to run.
    expect(new Set(tokens).size).toBe(tokens.length);
    expect(tokens.length).toBeGreaterThanOrEqual(5);
    expect(auth.expiresAt! - clock.now()).toBeGreaterThan(45_000);
    auth.logout();
  });

  it('ends a one-minute session 15 s before exp when no refresh gets through', async () => {
    const auth = setup();
    api.refresh = () => 'drop';
    auth.setSession(api.session(T0 + MINUTE, T0));
    while (auth.nextRefreshAt !== null) await runRefresh(auth);
    clock.advanceTo(T0 + 45_000 - 1);
    expect(auth.isAuthenticated).toBe(true);
    clock.advanceTo(T0 + 45_000);
    expect(auth.isAuthenticated).toBe(false);
    expect(auth.reason).toBe(SESSION_EXPIRED);
  });

  it('sends the refreshed token over the open socket before the old one runs out', async () => {
    const useAuth = defineAuthStore({ baseUrl: api.baseUrl, storage: null, clock });
    const auth = useAuth();
    api.refresh = tenMinutes;
    auth.setSession(tenMinutes());
    const metrics = defineMetricsStore({
      useAuth,
      WebSocket: WsWebSocket as unknown as SocketConstructor,
      baseUrl: api.baseUrl,
      clock,
      random: () => 0.5,
      window: null,
    })();
    metrics.start();
    try {
      await until(() => metrics.connectionState === 'connected');
      const socket = api.sockets.at(-1)!;
      expect(socket.token).not.toBeNull();
      const first = socket.token;
      await runRefresh(auth);
      expect(auth.token).not.toBe(first);
      await until(() => socket.received.some((m) => m.type === 'auth'));
      expect(socket.received.filter((m) => m.type === 'auth')).toEqual([
        { type: 'auth', token: auth.token },
      ]);
      expect(metrics.connectionState).toBe('connected');
    } finally {
      metrics.stop();
      auth.logout();
    }
  });
});

describe('a saved session the server will not honour', () => {
  it('says the saved session was invalid, not that authentication failed', async () => {
    const saved = api.session();
    const storage = memoryStorage({ [SESSION_STORAGE_KEY]: JSON.stringify(saved) });
    const auth = defineAuthStore({ baseUrl: api.baseUrl, storage })();
    expect(auth.isAuthenticated).toBe(true);
    // Edited in storage, or signed with a secret the server no longer has.
    api.tokens.valid.delete(saved.token);
    expect(await auth.checkSession()).toBe(false);
    expect(auth.reason).toBe(SAVED_SESSION_INVALID);
    expect(storage.data.size).toBe(0);
  });

  it('still says "Session expired" for a saved token that ran out', async () => {
    const saved = api.session();
    const storage = memoryStorage({ [SESSION_STORAGE_KEY]: JSON.stringify(saved) });
    const auth = defineAuthStore({ baseUrl: api.baseUrl, storage })();
    api.tokens.valid.delete(saved.token);
    api.tokens.expired.add(saved.token);
    expect(await auth.checkSession()).toBe(false);
    expect(auth.reason).toBe(SESSION_EXPIRED);
  });

  it('says "Authentication failed" for a token of this visit', async () => {
    const auth = defineAuthStore({ baseUrl: api.baseUrl, storage: memoryStorage() })();
    expect(await auth.login('alice', TEST_PASSWORD)).toBe(true);
    api.tokens.valid.delete(auth.token!);
    expect(await auth.checkSession()).toBe(false);
    expect(auth.reason).toBe(AUTHENTICATION_FAILED);
  });
});

describe('the expiry margin', () => {
  it('is a quarter of the lifetime, at most 60 s', () => {
    expect(expiryMarginMs(12 * 60 * MINUTE)).toBe(60_000);
    expect(expiryMarginMs(5 * MINUTE)).toBe(60_000);
    expect(expiryMarginMs(2 * MINUTE)).toBe(30_000);
    expect(expiryMarginMs(MINUTE)).toBe(15_000);
    expect(expiryMarginMs(-1)).toBe(0);
  });

  it("reads a token's lifetime from its iat and exp, and nothing from what is no JWT", () => {
    expect(issuedLifetimeMs(api.session(T0 + MINUTE, T0).token)).toBe(MINUTE);
    expect(issuedLifetimeMs(api.session(T0 + DAY, T0 - DAY).token)).toBe(2 * DAY);
    for (const token of ['opaque', 'a.b.c', 'a.e30.c', `a.${btoa('{"iat":5,"exp":5}')}.c`]) {
      expect(issuedLifetimeMs(token), token).toBeNull();
    }
  });
});

describe('what a failed login says', () => {
  it('names the API when it cannot be reached, directly or through a proxy', () => {
    expect(loginFailureMessage(new ApiError('network', 'cannot reach the server'))).toBe(
      API_UNREACHABLE,
    );
    expect(loginFailureMessage(new ApiError('network', 'HTTP 502', 502))).toBe(API_UNREACHABLE);
    expect(loginFailureMessage(new ApiError('timeout', 'no answer'))).toBe(API_UNREACHABLE);
    expect(API_UNREACHABLE).toMatch(/^Cannot reach the livestat API/);
    expect(loginFailureMessage(new ApiError('http', 'internal error', 500))).toBe(
      'Login failed: internal error',
    );
  });
});

describe('auth store timers past what setTimeout can wait', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00.000Z') });
    api.requests.length = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds a token and its refresh due beyond 24.8 days (where setTimeout fires at once)', () => {
    const auth = defineAuthStore({ baseUrl: api.baseUrl, storage: null })();
    auth.setSession(api.session(Date.now() + 100 * DAY));
    const due = Date.now() + Math.floor(REFRESH_AT_FRACTION * (100 * DAY - EXPIRY_MARGIN_MS));
    expect(auth.nextRefreshAt).toBe(due);
    vi.advanceTimersByTime(74 * DAY);
    expect(auth.isAuthenticated).toBe(true);
    expect(auth.refreshing).toBe(false);
    expect(auth.nextRefreshAt).toBe(due);
    expect(api.requests).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(2);
    auth.logout();
    expect(vi.getTimerCount()).toBe(0);
  });
});
