import { historyQuery, timeParam, type HistoryQuery } from '@livestat/contracts';
import { Router, type RequestHandler } from 'express';
import type { z } from 'zod';
import { HistoryRequestError, type HistoryService } from '../storage/history.js';
import { HttpError } from './errors.js';

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
 * `points` buckets of `[epochMs, avg, min, max]` (SPEC §5). Bad parameters, unknown series
 * and unknown hosts answer 400 with a message naming the parameter.
 */
export function createHistoryRouter(deps: HistoryRouterDeps): Router {
  const now = deps.now ?? Date.now;
  const router = Router();
  router.get('/history', ...(deps.guards ?? []), async (req, res) => {
    const query = parseHistoryQuery(req.query, now());
    try {
      res.json(await deps.history.query(query));
    } catch (err) {
      if (err instanceof HistoryRequestError)
        throw new HttpError(400, err.message, 'bad_parameter');
      throw err;
    }
  });
  return router;
}
