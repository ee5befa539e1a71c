import { loginResponse } from '@livestat/contracts';
import type { LoginResponse, PublicUser } from '@livestat/contracts';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import {
  AUTHENTICATION_FAILED,
  ApiError,
  AuthError,
  SESSION_EXPIRED,
  createApiClient,
} from '../lib/api';
import type { ApiClient } from '../lib/api';
import { backoffCeiling, createOneShotTimer, systemClock } from '../lib/backoff';
import type { BackoffOptions, Clock, OneShotTimer } from '../lib/backoff';

/** Where the session is kept between page loads. */
export const SESSION_STORAGE_KEY = 'livestat.session';

/**
 * The most a session ends before its token's `exp`: the last resort when no refresh got through
 * (the server unreachable since the refresh fell due). The session ends that much early so the
 * user lands on the login page with "Session expired" rather than meeting a 1008 close or a 401
 * in the middle of the dashboard. A short-lived token gets a quarter of its lifetime instead
 * ({@link expiryMarginMs}), so a `JWT_TTL` of a minute still leaves a session to use.
 */
export const EXPIRY_MARGIN_MS = 60_000;

/** The share of a token's lifetime that is its margin when that is under {@link EXPIRY_MARGIN_MS}. */
export const EXPIRY_MARGIN_FRACTION = 0.25;

/**
 * How long before its `exp` a token of `lifetimeMs` counts as expired here: a quarter of its
 * lifetime, at most {@link EXPIRY_MARGIN_MS} — 60 s for the default 12 h, 15 s for one minute.
 */
export function expiryMarginMs(lifetimeMs: number): number {
  return Math.min(EXPIRY_MARGIN_MS, Math.max(lifetimeMs, 0) * EXPIRY_MARGIN_FRACTION);
}

/**
 * A token's lifetime as issued, from the `iat` and `exp` in its payload (both the server's
 * clock, so a client clock that is off changes nothing); null for a token that is not a JWT
 * carrying both.
 */
export function issuedLifetimeMs(token: string): number | null {
  const payload = token.split('.')[1];
  if (payload === undefined) return null;
  try {
    const base64 = payload.replaceAll('-', '+').replaceAll('_', '/');
    const claims = JSON.parse(atob(base64)) as { iat?: unknown; exp?: unknown };
    const { iat, exp } = claims;
    if (typeof iat !== 'number' || typeof exp !== 'number' || !(exp > iat)) return null;
    return (exp - iat) * 1000;
  } catch {
    return null;
  }
}

/**
 * How far into a token's usable life (from taking it to its margin before `exp`) the store asks
 * `POST /api/auth/refresh` for a new one. With the default 12 h JWT_TTL that is about 9 h in,
 * leaving some 3 h for retries; with a one-minute token, 34 s in and 11 s to spare. Measured from
 * when the store took the token (a login, a refresh, or the page load that restored it).
 */
export const REFRESH_AT_FRACTION = 0.75;

/** What the login page says when the session kept from a previous visit cannot be used. */
export const SAVED_SESSION_INVALID = 'Your saved session was invalid; please log in again';

/**
 * The retry delays after a refresh failed for want of a usable answer (no network, a timeout, a
 * 5xx): 2 s doubling to 30 s, without jitter (each session's refresh falls due at its own time
 * already). No count limit: retries go on while the next one still falls before the session's
 * end, and that end is the limit.
 */
export const REFRESH_RETRY: Readonly<BackoffOptions> = Object.freeze({
  baseMs: 2000,
  capMs: 30_000,
  maxAttempts: Number.POSITIVE_INFINITY,
});

// setTimeout fires at once for delays past 2^31−1 ms (24.8 days); a longer JWT_TTL re-arms.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The part of `localStorage` the store uses. */
export type SessionStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface AuthStoreDeps {
  /** The login, `me` and refresh calls; a client on `baseUrl` by default. */
  api?: Pick<ApiClient, 'login' | 'me' | 'refresh'>;
  baseUrl?: string;
  /** `localStorage` when the page has it; null keeps the session in memory only. */
  storage?: SessionStorage | null;
  clock?: Clock;
}

/** `localStorage`, or null where there is none (Node) or reading it throws (sandboxed frames). */
function browserStorage(): SessionStorage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

/** What the login page says when the API does not answer (down, or the proxy cannot reach it). */
export const API_UNREACHABLE =
  'Cannot reach the livestat API; check that it is running and try again';

/** What the login page says when a login fails. */
export function loginFailureMessage(error: ApiError): string {
  if (error.kind === 'network' || error.kind === 'timeout') return API_UNREACHABLE;
  if (error.status === 401) return 'Invalid username or password';
  if (error.status === 429) return 'Too many login attempts; try again later';
  if (error.kind === 'invalid') return 'Unexpected answer from the server';
  return `Login failed: ${error.message}`;
}

/**
 * Defines the auth store on the given dependencies; the app uses {@link useAuthStore}, tests
 * define one on a real server and an in-memory storage.
 */
export function defineAuthStore(deps: AuthStoreDeps = {}) {
  return defineStore('auth', () => {
    const clock = deps.clock ?? systemClock;
    const storage = deps.storage === undefined ? browserStorage() : deps.storage;

    /** The bearer token, or null when logged out. */
    const token = ref<string | null>(null);
    /** The token's `exp` in epoch ms. */
    const expiresAt = ref<number | null>(null);
    const user = shallowRef<PublicUser | null>(null);
    /** Why the user is on the login page ("Session expired", "Invalid username or password"…). */
    const reason = ref<string | null>(null);
    /** A login is in flight. */
    const pending = ref(false);
    /** When the next refresh of the token is due (epoch ms), or null while none is waiting. */
    const nextRefreshAt = ref<number | null>(null);
    /** A refresh is in flight. */
    const refreshing = ref(false);
    /** The token read from storage on load, until another replaces it. */
    let restoredToken: string | null = null;
    const isAuthenticated = computed(() => token.value !== null);

    const expiryTimer = createOneShotTimer(clock);
    const refreshTimer = createOneShotTimer(clock);
    /** Refreshes of the current token that failed without a refusal (the retry count). */
    let refreshFailures = 0;
    /** Aborts the refresh in flight; null when there is none. */
    let refreshAbort: AbortController | null = null;
    const api =
      deps.api ??
      createApiClient({
        baseUrl: deps.baseUrl,
        getToken: () => token.value,
        onUnauthorized: (error, used) => rejectToken(used, error.reason),
      });

    function persist(session: LoginResponse | null): void {
      try {
        if (session) storage?.setItem(SESSION_STORAGE_KEY, JSON.stringify(session));
        else storage?.removeItem(SESSION_STORAGE_KEY);
      } catch {
        // Private mode or a full quota: the session still works, for this page only.
      }
    }

    /** Runs `callback` on `timer` at `at` (epoch ms), re-arming past what one timer can wait. */
    function armAt(timer: OneShotTimer, at: number, callback: () => void): void {
      const delay = Math.max(at - clock.now(), 0);
      if (delay > MAX_TIMER_MS) timer.schedule(MAX_TIMER_MS, () => armAt(timer, at, callback));
      else timer.schedule(delay, callback);
    }

    /** The current token's margin: see {@link expiryMarginMs}. */
    let marginMs = EXPIRY_MARGIN_MS;
    /** The end of the current session: its margin before the token's `exp`. */
    const deadline = () => (expiresAt.value ?? 0) - marginMs;

    function scheduleRefresh(at: number): void {
      nextRefreshAt.value = at;
      armAt(refreshTimer, at, () => void refresh());
    }

    /** Drops the waiting refresh and aborts the one in flight: the token they were for is gone. */
    function cancelRefresh(): void {
      refreshTimer.cancel();
      nextRefreshAt.value = null;
      refreshAbort?.abort();
      refreshAbort = null;
      refreshing.value = false;
      refreshFailures = 0;
    }

    /**
     * Takes a session (a login or refresh answer, or one restored from storage). A session
     * already within its margin ({@link expiryMarginMs} of the token's lifetime as issued, or
     * else of what is left of it) of its end is refused as expired. Returns whether it was
     * taken. The token is refreshed {@link REFRESH_AT_FRACTION} of the way to that end; a socket
     * that is open sends each new token to the server (`{type:'auth'}`, metrics store).
     */
    function setSession(session: LoginResponse): boolean {
      const expires = Date.parse(session.expiresAt);
      const now = clock.now();
      const margin = expiryMarginMs(issuedLifetimeMs(session.token) ?? expires - now);
      if (!(expires - margin > now)) {
        logout(SESSION_EXPIRED);
        return false;
      }
      cancelRefresh();
      if (session.token !== restoredToken) restoredToken = null;
      marginMs = margin;
      token.value = session.token;
      expiresAt.value = expires;
      user.value = session.user;
      reason.value = null;
      persist(session);
      armAt(expiryTimer, deadline(), () => logout(SESSION_EXPIRED));
      // The token's usable life runs from now, when the store took it, to the deadline.
      scheduleRefresh(now + Math.floor(REFRESH_AT_FRACTION * (deadline() - now)));
      return true;
    }

    /**
     * Trades the current token for a new one (`POST /api/auth/refresh`); the store does so by
     * itself when it falls due. A refusal (401) ends the session with the server's reason; any
     * other failure (no answer, a timeout, a 5xx) is retried per {@link REFRESH_RETRY} until the
     * session's end, which stays the last resort. Resolves whether a new token was taken.
     */
    async function refresh(): Promise<boolean> {
      const used = token.value;
      if (used === null) return false;
      refreshTimer.cancel();
      nextRefreshAt.value = null;
      refreshAbort?.abort();
      const controller = new AbortController();
      refreshAbort = controller;
      refreshing.value = true;
      // Still the refresh that matters: not aborted by a logout, a new session or a newer call.
      const current = () => refreshAbort === controller && token.value === used;
      try {
        const session = await api.refresh({ signal: controller.signal });
        return current() && setSession(session);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        if (error instanceof AuthError) {
          rejectToken(used, error.reason);
          return false;
        }
        if (current()) retryRefresh();
        return false;
      } finally {
        if (refreshAbort === controller) {
          refreshAbort = null;
          refreshing.value = false;
        }
      }
    }

    function retryRefresh(): void {
      refreshFailures += 1;
      const at = clock.now() + backoffCeiling(refreshFailures, REFRESH_RETRY);
      // Past the session's end there is nothing left to renew: the expiry timer ends it.
      if (at < deadline()) scheduleRefresh(at);
    }

    /**
     * Ends the session. `why` is what the login page shows; a logout without one (the user's
     * own) clears it, while a second reason never replaces the first (a late 401 after the
     * session already expired still says "Session expired").
     */
    function logout(why?: string): void {
      const wasIn = token.value !== null;
      token.value = null;
      restoredToken = null;
      expiresAt.value = null;
      user.value = null;
      expiryTimer.cancel();
      cancelRefresh();
      persist(null);
      if (why === undefined) reason.value = null;
      else if (wasIn || reason.value === null) reason.value = why;
    }

    /**
     * Ends the session because the server refused `used` — unless a newer token replaced it. A
     * refused token kept from a previous visit (edited, or the server's secret changed) says so.
     */
    function rejectToken(used: string, why: string): void {
      if (token.value !== used) return;
      logout(used === restoredToken && why === AUTHENTICATION_FAILED ? SAVED_SESSION_INVALID : why);
    }

    /** Logs in; on failure `reason` says why and the answer is false. */
    async function login(username: string, password: string): Promise<boolean> {
      pending.value = true;
      try {
        return setSession(await api.login(username, password));
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        reason.value = loginFailureMessage(error);
        return false;
      } finally {
        pending.value = false;
      }
    }

    /**
     * Asks the server whether the session still holds (`GET /api/auth/me`) and refreshes the
     * user. A refused token ends the session; an unreachable server is not a reason to.
     */
    async function checkSession(): Promise<boolean> {
      if (token.value === null) return false;
      try {
        user.value = (await api.me()).user;
        return true;
      } catch (error) {
        if (error instanceof AuthError) return false;
        if (error instanceof ApiError) return token.value !== null;
        throw error;
      }
    }

    function restore(): void {
      let raw: string | null;
      try {
        raw = storage?.getItem(SESSION_STORAGE_KEY) ?? null;
      } catch {
        return;
      }
      if (raw === null) return;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        value = undefined;
      }
      const parsed = loginResponse.safeParse(value);
      if (!parsed.success) {
        persist(null);
        reason.value = SAVED_SESSION_INVALID;
        return;
      }
      restoredToken = parsed.data.token;
      setSession(parsed.data);
    }

    restore();

    return {
      token,
      expiresAt,
      user,
      reason,
      pending,
      nextRefreshAt,
      refreshing,
      isAuthenticated,
      login,
      logout,
      rejectToken,
      setSession,
      refresh,
      checkSession,
    };
  });
}

/** The app's auth store: the session in `localStorage`, the API on the page's origin. */
export const useAuthStore = defineAuthStore();

/** The auth store's instance type. */
export type AuthStore = ReturnType<typeof useAuthStore>;
