import type { WsTicketResponse } from '@livestat/contracts';
import { Router, type RequestHandler } from 'express';
import { TokenError, type TokenService } from '../auth/tokens.js';
import type { TicketStore } from '../auth/ws-tickets.js';
import { HttpError } from './errors.js';

export interface WsTicketRouterDeps {
  tickets: Pick<TicketStore, 'issue'>;
  /** Reads the `exp` of the bearer token, which the ticket's socket honours. */
  tokens: Pick<TokenService, 'verify'>;
  /** Run before the handler: passport-jwt in production. */
  guards?: readonly RequestHandler[];
}

/**
 * `POST /ws/ticket` → `{ticket, expiresAt}`: a single-use ticket, valid for 30 s at most, that
 * opens one socket (`/api/ws/metrics?ticket=…`) as the bearer's user until their token's `exp`.
 * The dashboard buys one for every (re)connect, so its JWT never travels in a URL, where proxy
 * logs and browser history would keep it. The ticket is bound to that user: whoever presents it
 * streams as them, once. 503 when the ticket store (Redis) cannot be reached.
 */
export function createWsTicketRouter(deps: WsTicketRouterDeps): Router {
  const router = Router();
  const guards = deps.guards ?? [];

  router.post('/ws/ticket', ...guards, async (req, res) => {
    const user = req.user;
    const header = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    if (!user || bearer === undefined) {
      throw new HttpError(401, 'authentication required', 'authentication_required');
    }
    let expiresAtMs: number;
    try {
      // The guard verified this token a moment ago; its claims carry the `exp` it did not keep.
      ({ expiresAtMs } = deps.tokens.verify(bearer));
    } catch (err) {
      if (err instanceof TokenError) throw new HttpError(401, err.reason, err.code);
      throw err;
    }
    let body: WsTicketResponse;
    try {
      body = await deps.tickets.issue({
        userId: user.id,
        username: user.username,
        role: user.role,
        expiresAtMs,
      });
    } catch {
      // Redis away: the store logs the outage once; the client retries with its backoff.
      throw new HttpError(503, 'socket tickets are unavailable; try again', 'unavailable');
    }
    // A credential, if a short one: no cache may keep it.
    res.set('Cache-Control', 'no-store').json(body);
  });

  return router;
}
