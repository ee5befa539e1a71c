import type { HealthResponse } from '@livestat/contracts';
import express, { type ErrorRequestHandler, type Express, type Router } from 'express';
import helmet from 'helmet';
import { causeOf, createLogLimiter } from '../log-limiter.js';
import type { Logger } from '../logger.js';
import { HttpError } from './errors.js';
import { compileTrustProxy, type TrustProxySetting } from './trust-proxy.js';

export interface AppDeps {
  logger: Logger;
  /** The current health, assembled by the composition root from the parts it owns. */
  health: () => Promise<HealthResponse> | HealthResponse;
  /**
   * Routers mounted under `/api` in order, before the 404: auth, history, hosts. The API role (`src/roles/api.ts`)
   * builds them with their guards (passport-jwt on all but login).
   */
  routers?: readonly Router[];
  /**
   * Routers mounted at the root, before `/api` and the dashboard: `GET /metrics`, where
   * Prometheus looks. Each guards itself (the metrics route checks METRICS_TOKEN).
   */
  rootRouters?: readonly Router[];
  /**
   * Routers that read their own bodies, mounted before the JSON parser (whose 16 kB limit is for
   * the dashboard's requests): OTLP's `POST /v1/metrics`.
   */
  ingestRouters?: readonly Router[];
  /** `TRUST_PROXY`: whose X-Forwarded-For sets `req.ip` (see {@link compileTrustProxy}). */
  trustProxy?: TrustProxySetting;
  /** The built dashboard (`createSpaRouter`), served outside `/api`; none when not built. */
  spa?: Router | null;
}

/**
 * Builds the Express app. It never listens: the API role (`src/roles/api.ts`) owns the server, and tests mount the
 * app on an ephemeral port.
 */
export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // `req.ip` keys the login rate limit: behind nginx it must be the client's, not nginx's.
  app.set('trust proxy', compileTrustProxy(deps.trustProxy ?? ['loopback']));
  // The dashboard is often reached over plain HTTP on a LAN address: helmet's default
  // `upgrade-insecure-requests` would send its scripts and socket to an https:// that is not
  // there. Everything else stays at helmet's defaults (same-origin scripts, styles, sockets).
  app.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  for (const router of deps.ingestRouters ?? []) app.use(router);
  app.use(express.json({ limit: '16kb' }));

  app.get('/api/health', async (_req, res) => {
    const health = await deps.health();
    res.status(health.status === 'ok' ? 200 : 503).json(health);
  });

  for (const router of deps.rootRouters ?? []) app.use(router);
  for (const router of deps.routers ?? []) app.use('/api', router);

  app.use('/api', () => {
    throw new HttpError(404, 'not found');
  });
  if (deps.spa) app.use(deps.spa);

  // One line per cause a minute: an outage that fails every request must not flood the log.
  const errorLog = createLogLimiter(deps.logger);
  const onError: ErrorRequestHandler = (err: unknown, req, res, next) => {
    if (res.headersSent) return next(err);
    const status = statusOf(err);
    if (status >= 500) {
      // Path only: a query string can carry a token.
      const fields = { err, method: req.method, path: req.path };
      errorLog.error(causeOf('request failed', err), fields, 'request failed');
      res.status(status).json({ error: 'internal error' });
      return;
    }
    res.status(status).json({ error: (err as Error).message || 'bad request' });
  };
  app.use(onError);
  return app;
}

function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  // body-parser errors carry a 4xx status and a safe message (bad JSON, body too large).
  const status = (err as { status?: unknown }).status;
  if (typeof status === 'number' && status >= 400 && status < 500) return status;
  return 500;
}
