import {
  errorResponse,
  historyResponse,
  hostsResponse,
  latestSnapshotsResponse,
  loginResponse,
  meResponse,
  processesTopResponse,
  wsTicketResponse,
} from '@livestat/contracts';
import type {
  HistoryResponse,
  HostInfo,
  LoginResponse,
  MeResponse,
  ProcessesTopResponse,
  ProcessSort,
  Snapshot,
  WsTicketResponse,
} from '@livestat/contracts';
import { SocketOpenError } from './stream-socket';

/** Where the live stream answers the upgrade (the README's "Log in and watch the stream"). */
export const STREAM_PATH = '/api/ws/metrics';

/** What the login page says after the server refused a token that had expired. */
export const SESSION_EXPIRED = 'Session expired';
/** What the login page says after the server refused a token for any other reason. */
export const AUTHENTICATION_FAILED = 'Authentication failed';
/** Why a session ended, as the login page shows it. */
export type SessionEndReason = typeof SESSION_EXPIRED | typeof AUTHENTICATION_FAILED;

/**
 * The server's refusal (a 401 body's `error`, or a 1008 close reason) as the login page says it:
 * `token expired` → "Session expired", anything else → "Authentication failed".
 */
export function sessionEndReason(serverReason: string | undefined): SessionEndReason {
  return serverReason === 'token expired' ? SESSION_EXPIRED : AUTHENTICATION_FAILED;
}

/**
 * Why a request failed: `network` (no answer, or a proxy's 502/503/504 saying the API behind
 * it did not answer), `timeout`, `aborted` (by the caller), `http`
 * (an error status other than a session's 401), `invalid` (a 2xx that is not the contract's
 * body), `unauthorized` (an {@link AuthError}).
 */
export type ApiErrorKind = 'network' | 'timeout' | 'aborted' | 'http' | 'invalid' | 'unauthorized';

/** A request that failed in an expected way; `message` is safe to show. */
export class ApiError extends Error {
  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    /** The HTTP status, or 0 when there was no answer. */
    readonly status = 0,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A 401 on an authenticated route: the session is over and the user must log in again. */
export class AuthError extends ApiError {
  constructor(
    /** What the login page shows. */
    readonly reason: SessionEndReason,
    /** The server's own words (`token expired`, `invalid token`, …). */
    serverMessage: string,
  ) {
    super('unauthorized', serverMessage, 401);
    this.name = 'AuthError';
  }
}

/** `GET /api/history` parameters; `from` and `to` in epoch ms. */
export interface HistoryParams {
  /** The server's own host when absent. */
  host?: string;
  series: readonly string[];
  from: number;
  to: number;
  /** Most buckets per series (the server's default is 500). */
  points?: number;
}

/** `GET /api/processes/top` parameters; `from` and `to` in epoch ms. */
export interface ProcessesTopParams {
  host: string;
  from: number;
  to: number;
  /** The measure ranked by: CPU-seconds, peak RSS or bytes of I/O in the window. */
  by: ProcessSort;
  /** How many processes (the server's default is 10, its most 50). */
  limit?: number;
}

/** Per-call options. */
export interface RequestOptions {
  /** Aborts the request; it then rejects with an {@link ApiError} of kind `aborted`. */
  signal?: AbortSignal;
}

/** The REST API (listed in the README), each answer validated with the shared schema. */
export interface ApiClient {
  /** `POST /api/auth/login`; a 401 here is bad credentials (an `http` ApiError), not a session end. */
  login(username: string, password: string, options?: RequestOptions): Promise<LoginResponse>;
  me(options?: RequestOptions): Promise<MeResponse>;
  /**
   * `POST /api/auth/refresh`: a new token for the current one, with a fresh expiry and the user
   * as stored now. A 401 is the end of the session (an {@link AuthError}, as on any route).
   */
  refresh(options?: RequestOptions): Promise<LoginResponse>;
  history(params: HistoryParams, options?: RequestOptions): Promise<HistoryResponse>;
  /** `GET /api/processes/top`: who used the most of a measure on a host in a window. */
  processesTop(params: ProcessesTopParams, options?: RequestOptions): Promise<ProcessesTopResponse>;
  /** `GET /api/snapshots/latest`: the latest snapshot per host. */
  latestSnapshots(options?: RequestOptions): Promise<Snapshot[]>;
  hosts(options?: RequestOptions): Promise<HostInfo[]>;
  /**
   * `POST /api/ws/ticket`: a single-use ticket, valid for seconds, that opens one socket as the
   * session's user (see {@link ticketedStream}).
   */
  wsTicket(options?: RequestOptions): Promise<WsTicketResponse>;
}

export interface ApiClientOptions {
  /** Prefix of every path: '' (same origin, what Vite proxies) by default; tests pass a server's. */
  baseUrl?: string;
  /** The current bearer token, read on every request. */
  getToken?: () => string | null;
  /**
   * Called on a 401 from an authenticated route, with the token that request carried — so a
   * late answer for an old token cannot end a newer session.
   */
  onUnauthorized?: (error: AuthError, token: string) => void;
  /** Gives up after this long (default 10 s). */
  timeoutMs?: number;
  /** Injected where there is no global fetch; the global one by default. */
  fetch?: typeof fetch;
}

/** The slice of a zod schema used here, so this module needs no import from zod itself. */
export interface ResponseSchema<T> {
  safeParse(
    value: unknown,
  ): { success: true; data: T } | { success: false; error: { issues: { path: PropertyKey[] }[] } };
}

// What a proxy answers when the API behind it is down (Vite's dev proxy: 502) or slow.
const GATEWAY_STATUSES = new Set([502, 503, 504]);

/** One request of {@link createRequest}: method, JSON body, whether it carries the token. */
export interface RequestInit {
  method?: string;
  body?: unknown;
  auth: boolean;
  signal?: AbortSignal | undefined;
}

/**
 * The request every REST call goes through, for features with endpoints of their own (alerts):
 * the bearer token, the timeout, `{error}` bodies as an {@link ApiError}, a 401 as an
 * {@link AuthError} reported to `onUnauthorized`, and the answer checked with `schema`.
 */
export function createRequest(
  options: ApiClientOptions = {},
): <T>(path: string, schema: ResponseSchema<T>, init: RequestInit) => Promise<T> {
  const baseUrl = options.baseUrl ?? '';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const getToken = options.getToken ?? (() => null);

  return async function request<T>(
    path: string,
    schema: ResponseSchema<T>,
    init: RequestInit,
  ): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = init.auth ? getToken() : null;
    if (init.auth) {
      // Nothing to send: the session is already over, and whoever ended it gave the reason.
      if (token === null) throw new AuthError(AUTHENTICATION_FAILED, 'not logged in');
      headers.Authorization = `Bearer ${token}`;
    }
    if (init.body !== undefined) headers['Content-Type'] = 'application/json';

    const controller = new AbortController();
    const abort = () => controller.abort();
    init.signal?.addEventListener('abort', abort, { once: true });
    if (init.signal?.aborted) abort();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort();
    }, timeoutMs);

    const interrupted = () =>
      timedOut
        ? new ApiError('timeout', `no answer within ${timeoutMs} ms`)
        : new ApiError('aborted', 'request aborted');

    try {
      let response: Response;
      try {
        const fetchFn = options.fetch ?? globalThis.fetch;
        response = await fetchFn(`${baseUrl}${path}`, {
          method: init.method ?? 'GET',
          headers,
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
          cache: 'no-store',
          signal: controller.signal,
        });
      } catch (error) {
        if (controller.signal.aborted) throw interrupted();
        const message = error instanceof Error ? error.message : 'network error';
        throw new ApiError('network', `cannot reach the server (${message})`);
      }
      // A body that is not JSON (a proxy's HTML error page) is judged by its status below.
      const body: unknown = await response.json().catch(() => undefined);
      if (controller.signal.aborted) throw interrupted();

      if (!response.ok) {
        const parsed = errorResponse.safeParse(body);
        // The API answers every error as JSON `{error}`: a gateway error without one comes from
        // the proxy in front (Vite, nginx) saying the API is down or not answering.
        if (!parsed.success && GATEWAY_STATUSES.has(response.status)) {
          throw new ApiError(
            'network',
            `cannot reach the livestat API (HTTP ${response.status})`,
            response.status,
          );
        }
        const message = parsed.success ? parsed.data.error : `HTTP ${response.status}`;
        if (response.status === 401 && token !== null) {
          const error = new AuthError(sessionEndReason(message), message);
          options.onUnauthorized?.(error, token);
          throw error;
        }
        throw new ApiError('http', message, response.status);
      }
      const parsed = schema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
        throw new ApiError('invalid', `unexpected answer from ${path}${where}`, response.status);
      }
      return parsed.data;
    } finally {
      clearTimeout(timer);
      init.signal?.removeEventListener('abort', abort);
    }
  };
}

/** Creates an {@link ApiClient}. Only `login` works without a token. */
export function createApiClient(options: ApiClientOptions = {}): ApiClient {
  const request = createRequest(options);
  return {
    login: (username, password, opts = {}) =>
      request('/api/auth/login', loginResponse, {
        method: 'POST',
        body: { username, password },
        auth: false,
        signal: opts.signal,
      }),
    me: (opts = {}) => request('/api/auth/me', meResponse, { auth: true, signal: opts.signal }),
    refresh: (opts = {}) =>
      request('/api/auth/refresh', loginResponse, {
        method: 'POST',
        auth: true,
        signal: opts.signal,
      }),
    history: (params, opts = {}) =>
      request(`/api/history?${historySearch(params)}`, historyResponse, {
        auth: true,
        signal: opts.signal,
      }),
    processesTop: (params, opts = {}) =>
      request(`/api/processes/top?${processesTopSearch(params)}`, processesTopResponse, {
        auth: true,
        signal: opts.signal,
      }),
    latestSnapshots: async (opts = {}) =>
      (
        await request('/api/snapshots/latest', latestSnapshotsResponse, {
          auth: true,
          signal: opts.signal,
        })
      ).snapshots,
    hosts: async (opts = {}) =>
      (await request('/api/hosts', hostsResponse, { auth: true, signal: opts.signal })).hosts,
    wsTicket: (opts = {}) =>
      request('/api/ws/ticket', wsTicketResponse, {
        method: 'POST',
        auth: true,
        signal: opts.signal,
      }),
  };
}

/** The query string of a history request: `series` repeated, times as epoch ms. */
export function historySearch(params: HistoryParams): string {
  const search = new URLSearchParams();
  if (params.host !== undefined) search.set('host', params.host);
  for (const path of params.series) search.append('series', path);
  // Whole ms: the server reads a digits-only time as epoch ms.
  search.set('from', String(Math.floor(params.from)));
  search.set('to', String(Math.ceil(params.to)));
  if (params.points !== undefined) search.set('points', String(params.points));
  return search.toString();
}

/** The query string of a top-processes request, times as epoch ms (whole, widened outwards). */
export function processesTopSearch(params: ProcessesTopParams): string {
  const search = new URLSearchParams({
    host: params.host,
    from: String(Math.floor(params.from)),
    to: String(Math.ceil(params.to)),
    by: params.by,
  });
  if (params.limit !== undefined) search.set('limit', String(params.limit));
  return search.toString();
}

/**
 * The stream's `ws:`/`wss:` URL with a single-use `ticket` in the query — never the JWT, which
 * proxies would log and history keep. With an empty `baseUrl` it is the page's own origin, which
 * Vite (dev) or the API (built) serves.
 */
export function streamUrl(
  baseUrl: string,
  ticket: string,
  location: Pick<Location, 'href'> | undefined = globalThis.location,
): string {
  const base = baseUrl || location?.href;
  if (!base) throw new Error('streamUrl: no base URL and no page location');
  const url = new URL(STREAM_PATH, base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.searchParams.set('ticket', ticket);
  return url.toString();
}

/**
 * The target of every (re)connect of the dashboard's socket: buys a fresh ticket with `api`
 * (`POST /api/ws/ticket`, the bearer token in a header) and answers the stream's URL with it. A
 * refused token fails as the socket would have, 1008 with the server's reason; any other failure
 * (the API unreachable, a 5xx) as a lost connection, 1006, which the reconnect policy retries.
 */
export function ticketedStream(
  api: Pick<ApiClient, 'wsTicket'>,
  baseUrl: string,
  location: Pick<Location, 'href'> | undefined = globalThis.location,
): (signal: AbortSignal) => Promise<string> {
  return async (signal) => {
    try {
      const { ticket } = await api.wsTicket({ signal });
      return streamUrl(baseUrl, ticket, location);
    } catch (error) {
      if (error instanceof AuthError) throw new SocketOpenError(1008, error.message);
      if (error instanceof ApiError) throw new SocketOpenError(1006, `ticket: ${error.message}`);
      throw error;
    }
  };
}
