import { healthResponse } from '@livestat/contracts';
import type { HealthResponse } from '@livestat/contracts';

/** Where the API answers its health check (proxied to the API by Vite in dev). */
export const HEALTH_URL = '/api/health';

/**
 * The outcome of one health check, as a value the view can render:
 * - `ok`: the API answered with a valid body (its `status` may still be `degraded`);
 * - `unreachable`: no answer, a timeout, or an error status without a health body
 *   (what the dev proxy returns while the API is down);
 * - `invalid`: the API answered 2xx with something that is not a health body.
 */
export type HealthCheck =
  | { kind: 'ok'; health: HealthResponse }
  | { kind: 'unreachable'; reason: string }
  | { kind: 'invalid'; reason: string };

export interface CheckHealthOptions {
  /** Aborts the request; the result is then `unreachable` and the caller usually ignores it. */
  signal?: AbortSignal;
  /** Gives up after this long (default 4000 ms), so a hung API shows as unreachable. */
  timeoutMs?: number;
  /** Injected in tests; the browser's `fetch` by default. */
  fetch?: typeof fetch;
}

/** Fetches `GET /api/health` and validates it with the shared `healthResponse` schema. */
export async function checkHealth(options: CheckHealthOptions = {}): Promise<HealthCheck> {
  const { signal, timeoutMs = 4000, fetch: fetchFn = globalThis.fetch } = options;
  const controller = new AbortController();
  const abort = () => controller.abort();
  signal?.addEventListener('abort', abort, { once: true });
  if (signal?.aborted) abort();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort();
  }, timeoutMs);

  try {
    let response: Response;
    try {
      response = await fetchFn(HEALTH_URL, {
        headers: { Accept: 'application/json' },
        cache: 'no-store',
        signal: controller.signal,
      });
    } catch (error) {
      if (timedOut) return { kind: 'unreachable', reason: `no answer within ${timeoutMs} ms` };
      if (controller.signal.aborted) return { kind: 'unreachable', reason: 'request aborted' };
      return {
        kind: 'unreachable',
        reason: error instanceof Error ? error.message : 'network error',
      };
    }

    let body: unknown;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    // A degraded API may answer 503 with a valid body: that is data, not an outage.
    const parsed = healthResponse.safeParse(body);
    if (parsed.success) return { kind: 'ok', health: parsed.data };
    if (!response.ok) return { kind: 'unreachable', reason: `HTTP ${response.status}` };
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    return { kind: 'invalid', reason: `unexpected health answer${where}` };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', abort);
  }
}
