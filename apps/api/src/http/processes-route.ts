import { processesTopQuery } from '@livestat/contracts';
import { Router, type RequestHandler } from 'express';
import { QueryCancelledError, QueryTimeoutError, type Queryable } from '../storage/db.js';
import { processTier, queryTopProcesses } from '../storage/process-top.js';
import { createWorkLimiter, WorkLimitError, type WorkLimiter } from '../storage/work-limiter.js';
import { HttpError } from './errors.js';

export interface ProcessesRouterDeps {
  /** The history lane: process history shares its connections and its limits. */
  db: Queryable;
  /** HISTORY_QUERY_TIMEOUT_SECONDS, in ms. */
  timeoutMs: number;
  /** PROCESS_RETENTION_HOURS, in ms: how far back the per-tick rows reach. */
  processRetentionMs: number;
  guards?: readonly RequestHandler[];
  /** Each user's concurrent history work, shared with `/api/history` and `resume`. */
  limiter?: WorkLimiter;
  now?: () => number;
}

/**
 * `GET /api/processes/top?host=&from=&to=&by=&limit=`: who used the most CPU, memory or I/O in a
 * window, from the tier the range calls for. Bound like `/api/history`: a bad parameter is a
 * 400 naming it, a user's work beyond the limiter a 429, a query past the timeout a 503.
 */
export function createProcessesRouter(deps: ProcessesRouterDeps): Router {
  const now = deps.now ?? Date.now;
  const limiter = deps.limiter ?? createWorkLimiter();
  const router = Router();
  router.get('/processes/top', ...(deps.guards ?? []), async (req, res) => {
    const parsed = processesTopQuery.safeParse(req.query);
    if (!parsed.success) {
      const raw = req.query as Record<string, unknown>;
      const messages = parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'query');
        return raw[name] === undefined ? `${name}: required` : `${name}: ${issue.message}`;
      });
      throw new HttpError(400, [...new Set(messages)].join('; '), 'bad_parameter');
    }
    const query = parsed.data;
    const gone = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) gone.abort();
    });
    const key = req.user ? `user:${req.user.id}` : `ip:${req.ip ?? ''}`;
    const tier = processTier(query.from, query.to, now(), deps.processRetentionMs);
    try {
      const answer = await limiter.run(
        key,
        () =>
          queryTopProcesses(deps.db, query, tier, {
            signal: gone.signal,
            timeoutMs: deps.timeoutMs,
          }),
        gone.signal,
      );
      res.json(answer);
    } catch (err) {
      if (err instanceof QueryCancelledError && gone.signal.aborted) return;
      if (err instanceof WorkLimitError) {
        res.set('Retry-After', String(err.retryAfterSeconds));
        throw new HttpError(429, err.message, err.code);
      }
      if (err instanceof QueryTimeoutError) {
        res.status(503).json({
          error: `process history query took longer than ${deps.timeoutMs / 1000} s; choose a shorter range`,
        });
        return;
      }
      throw err;
    }
  });
  return router;
}
