import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type Request } from 'express';
import type { Registry } from 'prom-client';

export interface MetricsRouteDeps {
  metrics: { registry: Registry };
  /**
   * `METRICS_TOKEN`: when set, a scrape must send `Authorization: Bearer <token>`; unset, the
   * endpoint is open (bind to a private address, or put it behind the proxy's own auth).
   */
  token?: string;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

// Digests have equal length whatever the inputs, so timingSafeEqual needs no length check —
// and the comparison leaks neither the token's bytes nor its length.
const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** The bearer token of a request, or null. */
function bearerOf(req: Request): string | null {
  const match = BEARER.exec(req.get('authorization') ?? '');
  return match?.[1] ?? null;
}

/**
 * `GET /metrics`: the Prometheus text exposition of `metrics.registry`, for a
 * Prometheus or Grafana Agent to scrape. Mounted at the root, not under `/api`, where scrapers
 * look. With a token configured, a scrape without the right bearer token gets 401 JSON
 * `{error}`; the token is compared in constant time and never logged.
 */
export function createMetricsRoute(deps: MetricsRouteDeps): Router {
  const { registry } = deps.metrics;
  const expected = deps.token === undefined ? null : digest(deps.token);
  const router = Router();

  router.get('/metrics', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    if (expected) {
      const token = bearerOf(req);
      if (token === null || !timingSafeEqual(digest(token), expected)) {
        res
          .status(401)
          .set('WWW-Authenticate', 'Bearer realm="livestat metrics"')
          .json({ error: token === null ? 'metrics token required' : 'invalid metrics token' });
        return;
      }
    }
    const body = await registry.metrics();
    res.type(registry.contentType).send(body);
  });

  return router;
}
