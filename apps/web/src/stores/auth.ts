import { loginResponse } from '@livestat/contracts';
import type { LoginResponse, PublicUser } from '@livestat/contracts';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { ApiError, AuthError, SESSION_EXPIRED, createApiClient } from '../lib/api';
import type { ApiClient } from '../lib/api';
import { createRetryTimer, systemClock } from '../lib/backoff';
import type { Clock } from '../lib/backoff';

/** Where the session is kept between page loads. */
export const SESSION_STORAGE_KEY = 'livestat.session';

/**
 * How long before its `exp` a token counts as expired here. The API has no refresh route (a
 * token can only be minted with the password), so a session ends this long before the token
 * would: the user lands on the login page with "Session expired" rather than meeting a 1008
 * close or a 401 in the middle of the dashboard.
 */
export const EXPIRY_MARGIN_MS = 60_000;

// setTimeout fires at once for delays past 2^31−1 ms (24.8 days); a longer JWT_TTL re-arms.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The part of `localStorage` the store uses. */
export type SessionStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface AuthStoreDeps {
  /** The login call; a client on `baseUrl` by default. */
  api?: Pick<ApiClient, 'login' | 'me'>;
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

/** What the login page says when a login fails. */
export function loginFailureMessage(error: ApiError): string {
  if (error.kind === 'network' || error.kind === 'timeout') {
    return 'Cannot reach the server; try again';
  }
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
    const isAuthenticated = computed(() => token.value !== null);

    const expiryTimer = createRetryTimer(clock);
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

    function checkExpiry(): void {
      if (expiresAt.value === null) return;
      const delay = expiresAt.value - EXPIRY_MARGIN_MS - clock.now();
      if (delay <= 0) {
        logout(SESSION_EXPIRED);
        return;
      }
      expiryTimer.schedule(Math.min(delay, MAX_TIMER_MS), checkExpiry);
    }

    /**
     * Takes a session (a login answer; later, a refreshed token). A session already within
     * {@link EXPIRY_MARGIN_MS} of its end is refused as expired. Returns whether it was taken.
     * A socket that is open sends the new token to the server (`{type:'auth'}`, metrics store).
     */
    function setSession(session: LoginResponse): boolean {
      const expires = Date.parse(session.expiresAt);
      if (!(expires - EXPIRY_MARGIN_MS > clock.now())) {
        logout(SESSION_EXPIRED);
        return false;
      }
      token.value = session.token;
      expiresAt.value = expires;
      user.value = session.user;
      reason.value = null;
      persist(session);
      checkExpiry();
      return true;
    }

    /**
     * Ends the session. `why` is what the login page shows; a logout without one (the user's
     * own) clears it, while a second reason never replaces the first (a late 401 after the
     * session already expired still says "Session expired").
     */
    function logout(why?: string): void {
      const wasIn = token.value !== null;
      token.value = null;
      expiresAt.value = null;
      user.value = null;
      expiryTimer.cancel();
      persist(null);
      if (why === undefined) reason.value = null;
      else if (wasIn || reason.value === null) reason.value = why;
    }

    /** Ends the session because the server refused `used` — unless a newer token replaced it. */
    function rejectToken(used: string, why: string): void {
      if (token.value === used) logout(why);
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
      if (parsed.success) setSession(parsed.data);
      else persist(null);
    }

    restore();

    return {
      token,
      expiresAt,
      user,
      reason,
      pending,
      isAuthenticated,
      login,
      logout,
      rejectToken,
      setSession,
      checkSession,
    };
  });
}

/** The app's auth store: the session in `localStorage`, the API on the page's origin. */
export const useAuthStore = defineAuthStore();

/** The auth store's instance type. */
export type AuthStore = ReturnType<typeof useAuthStore>;
