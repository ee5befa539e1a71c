import { historyQuery, timeParam, type HistoryQuery } from '@livestat/contracts';
import { Router, type RequestHandler } from 'express';
import type { z } from 'zod/mini';
import { QueryCancelledError, QueryTimeoutError } from '../storage/db.js';
import { HistoryRequestError, type HistoryService } from '../storage/history.js';
import { createWorkLimiter, WorkLimitError, type WorkLimiter } from '../storage/work-limiter.js';
import { HttpError } from './errors.js';

// pg-pool's words when the history lane's connections all stayed busy past its connect timeout.
const POOL_EXHAUSTED = 'timeout exceeded when trying to connect';

/** A range without `from` reaches back this far from `to`: the dashboard's default view. */
export const DEFAULT_HISTORY_SPAN_MS = 3_600_000;

export interface HistoryRouterDeps {
  history: HistoryService;
  /**
   * Handlers run before the history handler, such as passport-jwt's
   * `passport.authenticate('jwt', { session: false })`: protecting the route is passing them.
   */
  guards?: readonly RequestHandler[];
  /** The clock for a missing `to`. */
  now?: () => number;
  /**
   * Bounds each user's concurrent history work, shared with the socket's `resume`; default a
   * limiter of the route's own.
   */
  limiter?: WorkLimiter;
}

function timeText(ms: number): string {
  // Epoch ms for the usual case; ISO for times before 1970, which the digits-only form refuses.
  return ms >= 0 ? String(ms) : new Date(ms).toISOString();
}

// zod's messages for the two noun-phrase refinements read as what was expected.
function describeIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>): string {
  const [name, index] = issue.path;
  const parameter = String(name ?? 'query');
  if (raw[parameter] === undefined) return `${parameter}: required`;
  let message = issue.message;
  if (/^an? /.test(message)) message = `expected ${message}`;
  if (typeof index === 'number') {
    const values = raw[parameter];
    const value = Array.isArray(values) ? (values[index] as unknown) : values;
    message = `${message}, got '${String(value)}'`;
  }
  return `${parameter}: ${message}`;
}

/**
 * Validates `GET /api/history`'s query string, filling `to` (now) and `from` (`to` − 1 h)
 * when absent. Throws a 400 {@link HttpError} whose message names each bad parameter.
 */
export function parseHistoryQuery(query: unknown, now: number): HistoryQuery {
  const raw: Record<string, unknown> = { ...(query as Record<string, unknown>) };
  raw.to ??= timeText(now);
  if (raw.from === undefined) {
    // A bad `to` is reported on its own, not again as a missing `from`.
    const to = timeParam.safeParse(raw.to);
    raw.from = timeText((to.success ? to.data : now) - DEFAULT_HISTORY_SPAN_MS);
  }
  const parsed = historyQuery.safeParse(raw);
  if (parsed.success) return parsed.data;
  const messages = [...new Set(parsed.error.issues.map((issue) => describeIssue(issue, raw)))];
  throw new HttpError(400, messages.join('; '), 'bad_parameter');
}

/**
 * The history routes, to mount under `/api`: `GET /history` answers per series at most
 * `points` buckets of `[epochMs, avg, min, max]`. Bad parameters, unknown series, unknown
 * hosts and requests over the cost cap answer 400 with a message naming the parameter; a
 * user's requests beyond the limiter's 429 with `Retry-After`; one past the history timeout
 * 503. A client that goes away before the answer cancels its statements.
 */
export function createHistoryRouter(deps: HistoryRouterDeps): Router {
  const now = deps.now ?? Date.now;
  const limiter = deps.limiter ?? createWorkLimiter();
  const router = Router();
  router.get('/history', ...(deps.guards ?? []), async (req, res) => {
    const query = parseHistoryQuery(req.query, now());
    // 'close' also follows a finished answer; only one before it means nobody is listening.
    const gone = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) gone.abort();
    };
    res.on('close', onClose);
    // Without a guard (tests, a private listener) the client's address stands for the user.
    const key = req.user ? `user:${req.user.id}` : `ip:${req.ip ?? ''}`;
    try {
      const answer = await limiter.run(
        key,
        () => deps.history.query(query, { signal: gone.signal }),
        gone.signal,
      );
      res.json(answer);
    } catch (err) {
      if (err instanceof QueryCancelledError && gone.signal.aborted) return;
      if (err instanceof HistoryRequestError) {
        throw new HttpError(400, err.message, 'bad_parameter');
      }
      if (err instanceof WorkLimitError) {
        res.set('Retry-After', String(err.retryAfterSeconds));
        throw new HttpError(429, err.message, err.code);
      }
      if (err instanceof Error && err.message === POOL_EXHAUSTED) {
        res.set('Retry-After', '1');
        res
          .status(503)
          .json({ error: 'history is busy: every connection for it is in use; try again' });
        return;
      }
      if (err instanceof QueryTimeoutError) {
        // Answered here: the error handler turns every 5xx into 'internal error', and this
        // one is expected and says what to change.
        const seconds = Math.round(deps.history.timeoutMs / 100) / 10;
        res.status(503).json({
          error: `history query took longer than ${seconds} s; choose a shorter range, fewer points or fewer series`,
        });
        return;
      }
      throw err;
    } finally {
      res.off('close', onClose);
    }
  });
  return router;
}
