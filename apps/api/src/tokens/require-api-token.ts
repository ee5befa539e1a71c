import type { ApiTokenInfo, ApiTokenScope } from '@livestat/contracts';
import type { Request, RequestHandler } from 'express';
import { HttpError } from '../http/errors.js';
import type { TokenRefusal, TokenStore } from './token-store.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The API token that authenticated this request (routes behind {@link createRequireApiToken}). */
      apiToken?: ApiTokenInfo;
    }
  }
}

const REFUSALS: Record<TokenRefusal | 'missing', { status: number; message: string }> = {
  missing: { status: 401, message: 'an API token is required (Authorization: Bearer lsk_…)' },
  unknown: { status: 401, message: 'invalid API token' },
  revoked: { status: 401, message: 'API token revoked' },
  scope: { status: 403, message: 'API token lacks the scope for this' },
};

/** The Bearer credential of a request, or null; never logged, never echoed. */
function bearerOf(req: Request): string | null {
  const header = req.get('authorization');
  if (!header) return null;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

/**
 * Express middleware for routes applications call: `Authorization: Bearer <API token>` with
 * `scope`. Missing, unknown or revoked → 401 with an RFC 6750 challenge; another scope → 403.
 * On success `req.apiToken` is the token's listing (never its secret).
 */
export function createRequireApiToken(store: TokenStore, scope: ApiTokenScope): RequestHandler {
  return async (req, res, next) => {
    const token = bearerOf(req);
    const check = token === null ? null : await store.check(token, scope);
    if (check?.ok) {
      req.apiToken = check.info;
      next();
      return;
    }
    const refusal = check === null ? 'missing' : check.reason;
    const { status, message } = REFUSALS[refusal];
    res.set(
      'WWW-Authenticate',
      refusal === 'missing'
        ? 'Bearer realm="livestat"'
        : `Bearer realm="livestat", error="${status === 403 ? 'insufficient_scope' : 'invalid_token'}"`,
    );
    throw new HttpError(
      status,
      message,
      refusal === 'missing' ? 'token_required' : `token_${refusal}`,
    );
  };
}
