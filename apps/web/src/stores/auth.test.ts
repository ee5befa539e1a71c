import { createPinia, setActivePinia } from 'pinia';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AUTHENTICATION_FAILED, SESSION_EXPIRED } from '../lib/api';
import { TEST_PASSWORD, TEST_USER, startTestApiServer } from '../test/api-server';
import type { TestApiServer } from '../test/api-server';
import { EXPIRY_MARGIN_MS, SESSION_STORAGE_KEY, defineAuthStore } from './auth';
import type { SessionStorage } from './auth';

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

let api: TestApiServer;
beforeAll(async () => {
  api = await startTestApiServer();
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
    expect(unreachable.reason).toBe('Cannot reach the server; try again');
  });

  it('restores a stored session on load, and drops a stored one that has expired', () => {
    const session = api.session(Date.now() + 3_600_000);
    const storage = memoryStorage({ [SESSION_STORAGE_KEY]: JSON.stringify(session) });
    const auth = defineAuthStore({ baseUrl: api.baseUrl, storage })();
    expect(auth.token).toBe(session.token);
    expect(auth.expiresAt).toBe(Date.parse(session.expiresAt));
    auth.logout();

    setActivePinia(createPinia());
    const old = api.session(Date.now() + EXPIRY_MARGIN_MS - 1000);
    const stale = memoryStorage({ [SESSION_STORAGE_KEY]: JSON.stringify(old) });
    const restored = defineAuthStore({ baseUrl: api.baseUrl, storage: stale })();
    expect(restored.isAuthenticated).toBe(false);
    expect(restored.reason).toBe(SESSION_EXPIRED);
    expect(stale.data.has(SESSION_STORAGE_KEY)).toBe(false);

    setActivePinia(createPinia());
    const garbage = memoryStorage({ [SESSION_STORAGE_KEY]: '{"token":' });
    expect(defineAuthStore({ storage: garbage })().isAuthenticated).toBe(false);
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

describe('auth store expiry under fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00.000Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it(`ends the session ${EXPIRY_MARGIN_MS / 1000} s before the token expires, saying so`, () => {
    const storage = memoryStorage();
    const auth = defineAuthStore({ storage })();
    const expiresAt = Date.now() + 10 * 60_000;
    auth.setSession({ ...api.session(expiresAt) });
    vi.advanceTimersByTime(10 * 60_000 - EXPIRY_MARGIN_MS - 1);
    expect(auth.isAuthenticated).toBe(true);
    vi.advanceTimersByTime(1);
    expect(auth.isAuthenticated).toBe(false);
    expect(auth.reason).toBe(SESSION_EXPIRED);
    expect(storage.data.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('holds a token that lives longer than a timer can wait (setTimeout caps at 24.8 days)', () => {
    const auth = defineAuthStore({ storage: null })();
    const thirtyDays = 30 * 86_400_000;
    auth.setSession(api.session(Date.now() + thirtyDays));
    vi.advanceTimersByTime(25 * 86_400_000);
    expect(auth.isAuthenticated).toBe(true);
    vi.advanceTimersByTime(5 * 86_400_000 - EXPIRY_MARGIN_MS);
    expect(auth.reason).toBe(SESSION_EXPIRED);
  });

  it('refuses a session that is already within the margin', () => {
    const auth = defineAuthStore({ storage: null })();
    expect(auth.setSession(api.session(Date.now() + EXPIRY_MARGIN_MS))).toBe(false);
    expect(auth.reason).toBe(SESSION_EXPIRED);
  });

  it('takes a renewed token and moves the expiry with it', () => {
    const auth = defineAuthStore({ storage: null })();
    auth.setSession(api.session(Date.now() + 5 * 60_000));
    vi.advanceTimersByTime(3 * 60_000);
    const renewed = api.session(Date.now() + 5 * 60_000);
    auth.setSession(renewed);
    vi.advanceTimersByTime(3 * 60_000);
    expect(auth.token).toBe(renewed.token);
    expect(vi.getTimerCount()).toBe(1);
    auth.logout();
  });
});
