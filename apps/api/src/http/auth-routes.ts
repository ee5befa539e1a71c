import {
  loginRequest,
  type LoginResponse,
  type MeResponse,
  type PublicUser,
} from '@livestat/contracts';
import { Router, type RequestHandler, type Response } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import type { z } from 'zod/mini';
import { verifyPassword, verifyUnknownUser } from '../auth/passwords.js';
import type { TokenService } from '../auth/tokens.js';
import type { UserStore } from '../storage/users.js';
import { HttpError } from './errors.js';

/** Failed logins allowed per client IP and window before `POST /auth/login` answers 429. */
export const DEFAULT_LOGIN_RATE_LIMIT = { windowMs: 15 * 60_000, limit: 10 } as const;

/** The one answer for an unknown user and for a wrong password, so neither is told apart. */
export const INVALID_CREDENTIALS = 'invalid username or password';

export interface AuthRouterDeps {
  users: UserStore;
  tokens: TokenService;
  /** The guard for `GET /auth/me` and `POST /auth/refresh` (createRequireAuth). */
  requireAuth: RequestHandler;
  /** Defaults to {@link DEFAULT_LOGIN_RATE_LIMIT}. */
  loginRateLimit?: { windowMs: number; limit: number };
  /**
   * Where failed logins are counted: createSharedLoginStore with several replicas, so the
   * limit holds whichever one a client reaches. Default: this process's memory.
   */
  loginLimitStore?: Store;
}

function describeBodyIssues(error: z.core.$ZodError, body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return 'body must be a JSON object with username and password';
  }
  const messages = error.issues.map((issue) => {
    const field = String(issue.path[0] ?? 'body');
    // Never echo a value: this may be someone's password.
    return (body as Record<string, unknown>)[field] === undefined
      ? `${field}: required`
      : `${field}: ${issue.message}`;
  });
  return [...new Set(messages)].join('; ');
}

/** Answers a new token for `user`, as login and refresh both do. */
function sendSession(res: Response, tokens: TokenService, user: PublicUser): void {
  const publicUser: PublicUser = { id: user.id, username: user.username, role: user.role };
  const { token, expiresAt } = tokens.issue(publicUser);
  const body: LoginResponse = { token, expiresAt, user: publicUser };
  // A bearer credential: no cache, proxy or browser, may keep it (RFC 6749 §5.1).
  res.set('Cache-Control', 'no-store').json(body);
}

/**
 * The auth routes, to mount under `/api`:
 * - `POST /auth/login` `{username, password}` → `{token, expiresAt, user}`; 400 naming the bad
 *   field; the same 401 for an unknown user and a wrong password, in the same time; 429 after
 *   `loginRateLimit.limit` failed attempts from one IP within the window (successes don't count).
 * - `GET /auth/me` → `{user}` for the bearer of a valid token.
 * - `POST /auth/refresh` → a new `{token, expiresAt, user}` as login answers, `exp` JWT_TTL from
 *   now, for the bearer of a valid token whose user still exists; the user (and so the role) is
 *   as stored now. An expired token (beyond the guard's leeway) gets 401 like any other route:
 *   the sliding session ends only when the client stops renewing.
 */
export function createAuthRouter(deps: AuthRouterDeps): Router {
  const { windowMs, limit } = deps.loginRateLimit ?? DEFAULT_LOGIN_RATE_LIMIT;
  if (!Number.isInteger(windowMs) || windowMs < 1000) {
    throw new RangeError(`loginRateLimit.windowMs must be a whole number ≥ 1000 (got ${windowMs})`);
  }
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`loginRateLimit.limit must be a whole number ≥ 1 (got ${limit})`);
  }

  // Per client IP (IPv6 by /56, express-rate-limit's default key): `req.ip`, the client the
  // trusted proxy saw — TRUST_PROXY's named proxies only, so a client cannot pick its own key by
  // forging X-Forwarded-For (http/trust-proxy.ts). Counted in `loginLimitStore` (Redis, shared
  // by the replicas), else in this process's memory, whose cleanup timer is unref'd.
  const loginLimiter = rateLimit({
    ...(deps.loginLimitStore ? { store: deps.loginLimitStore } : {}),
    windowMs,
    limit,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (_req, _res, next) => {
      next(new HttpError(429, 'too many login attempts; try again later', 'rate_limited'));
    },
  });

  const router = Router();

  router.post('/auth/login', loginLimiter, async (req, res) => {
    const parsed = loginRequest.safeParse(req.body);
    if (!parsed.success) {
      throw new HttpError(400, describeBodyIssues(parsed.error, req.body), 'bad_request');
    }
    const { username, password } = parsed.data;
    const user = await deps.users.findByUsername(username);
    // An unknown user costs one argon2 verify too, so timing does not reveal who exists.
    const ok = user
      ? await verifyPassword(user.passwordHash, password)
      : await verifyUnknownUser(password);
    if (!user || !ok) throw new HttpError(401, INVALID_CREDENTIALS, 'invalid_credentials');

    sendSession(res, deps.tokens, user);
  });

  router.get('/auth/me', deps.requireAuth, (req, res) => {
    const user = req.user;
    if (!user) throw new HttpError(401, 'authentication required', 'authentication_required');
    const body: MeResponse = { user: { id: user.id, username: user.username, role: user.role } };
    res.json(body);
  });

  // No body and no rate limit of its own: the guard already demands a valid token of a user who
  // still exists, and that is the whole credential a refresh needs. The old token stays valid
  // until its own `exp` (tokens are stateless); the client simply stops using it.
  router.post('/auth/refresh', deps.requireAuth, (req, res) => {
    const user = req.user;
    if (!user) throw new HttpError(401, 'authentication required', 'authentication_required');
    sendSession(res, deps.tokens, user);
  });

  return router;
}
