import {
  createApiTokenRequest,
  type ApiTokensResponse,
  type CreateApiTokenResponse,
} from '@livestat/contracts';
import { Router, type RequestHandler } from 'express';
import { requireRole } from '../auth/require-auth.js';
import type { Logger } from '../logger.js';
import type { TokenStore } from '../tokens/token-store.js';
import { HttpError } from './errors.js';
import { parseBody, parseId } from './request-body.js';

export interface TokensRouterDeps {
  /** The API tokens (`tokens/token-store.ts`), the same table `npm run tokens` manages. */
  apiTokens: TokenStore;
  /** Where each change is audited: who, what, which token — never the token itself. */
  logger: Logger;
  /** Run before each handler: passport-jwt in production; `requireRole('admin')` is added here. */
  guards?: readonly RequestHandler[];
}

/**
 * The API token admin routes, to mount under `/api`, admin only (a viewer gets 403):
 * - `GET /tokens` → `{tokens}` newest first, revoked ones marked, with last use; never a secret.
 * - `POST /tokens` `{name, scope}` → 201 `{token, info}`: the secret is in this answer only
 *   (the table keeps its SHA-256); `createdBy` is the admin.
 * - `DELETE /tokens/:id` → 204: refused from the next request on; 404 when there is no such token.
 */
export function createTokensRouter(deps: TokensRouterDeps): Router {
  const router = Router();
  const guards = [...(deps.guards ?? []), requireRole('admin')];
  const { apiTokens, logger } = deps;

  router.get('/tokens', ...guards, async (_req, res) => {
    const body: ApiTokensResponse = { tokens: await apiTokens.list() };
    res.set('Cache-Control', 'no-store').json(body);
  });

  router.post('/tokens', ...guards, async (req, res) => {
    const { name, scope } = parseBody(createApiTokenRequest, req.body);
    const created = await apiTokens.create({ name, scope, createdBy: req.user?.username ?? null });
    logger.info(
      {
        audit: 'token.create',
        actor: req.user?.username,
        actorId: req.user?.id,
        target: { id: created.info.id, name: created.info.name, scope },
      },
      `admin ${req.user?.username ?? '?'}: token.create ${created.info.name}`,
    );
    const body: CreateApiTokenResponse = created;
    // A secret: no cache, proxy or browser may keep it.
    res.status(201).set('Cache-Control', 'no-store').json(body);
  });

  router.delete('/tokens/:id', ...guards, async (req, res) => {
    const id = parseId(req.params.id);
    const revoked = await apiTokens.revoke(id);
    if (!revoked) throw new HttpError(404, `no token with id ${id}`, 'not_found');
    logger.info(
      {
        audit: 'token.revoke',
        actor: req.user?.username,
        actorId: req.user?.id,
        target: { id, name: revoked.name },
      },
      `admin ${req.user?.username ?? '?'}: token.revoke ${revoked.name}`,
    );
    res.status(204).end();
  });

  return router;
}
