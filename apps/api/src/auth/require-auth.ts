import type { Role } from '@livestat/contracts';
import type { RequestHandler, Response } from 'express';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy, type VerifiedCallback } from 'passport-jwt';
import { HttpError } from '../http/errors.js';
import type { UserStore } from '../storage/users.js';
import { createUserLookup } from './authenticator.js';
import { claimsOf, JWT_VERIFY_OPTIONS, TokenError } from './tokens.js';

declare global {
  // Passport declares `req.user` as `Express.User`; ours is always the public user.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface User {
      id: number;
      username: string;
      role: Role;
    }
  }
}

export interface RequireAuthDeps {
  /** The HMAC secret the tokens were issued with. */
  secret: string;
  users: UserStore;
}

/** What a 401 says: no credential at all, or one we will not honour. */
type AuthFailure = 'authentication required' | 'invalid token' | 'token expired';

function failureOf(info: unknown): AuthFailure {
  if (info instanceof TokenError) return info.reason;
  // Names rather than instanceof: passport-jwt may load its own copy of jsonwebtoken.
  const name = info instanceof Error ? info.name : undefined;
  if (name === 'TokenExpiredError') return 'token expired';
  if (name === 'JsonWebTokenError' || name === 'NotBeforeError') return 'invalid token';
  // passport-jwt's "No auth token": no `Authorization: Bearer` header.
  return 'authentication required';
}

function challenge(res: Response, failure: AuthFailure): HttpError {
  // RFC 6750: tell the client which scheme to use, and why a token it sent was refused.
  res.set(
    'WWW-Authenticate',
    failure === 'authentication required'
      ? 'Bearer realm="livestat"'
      : `Bearer realm="livestat", error="invalid_token", error_description="${failure}"`,
  );
  return new HttpError(401, failure, failure.replaceAll(' ', '_'));
}

/**
 * Express middleware for every protected `/api` route: passport-jwt reads
 * `Authorization: Bearer <jwt>` and verifies it with the socket's own rules — the same
 * {@link JWT_VERIFY_OPTIONS} (HS256 pinned, 60 s of leeway), the same {@link claimsOf} (`exp`
 * required) and the same user lookup (a deleted user's token fails). On success `req.user` is
 * the user as stored now; otherwise it answers 401 `{error}` with `authentication required`,
 * `invalid token` or `token expired`.
 */
export function createRequireAuth(deps: RequireAuthDeps): RequestHandler {
  const lookUp = createUserLookup(deps.users);
  // An Authenticator of our own, not passport's global one: two apps in one process (tests,
  // or a future second listener) never share strategies.
  const authenticator = new passport.Authenticator();
  authenticator.use(
    new JwtStrategy(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        secretOrKey: deps.secret,
        jsonWebTokenOptions: { ...JWT_VERIFY_OPTIONS },
        // Also at the top level: passport-jwt copies `algorithms` over jsonWebTokenOptions.
        algorithms: [...JWT_VERIFY_OPTIONS.algorithms],
      },
      (payload: unknown, done: VerifiedCallback) => {
        const claims = claimsOf(payload);
        if (!claims) return done(null, false, new TokenError('invalid token'));
        lookUp(claims).then(
          ({ user }) => done(null, user),
          (err: unknown) => (err instanceof TokenError ? done(null, false, err) : done(err)),
        );
      },
    ),
  );

  return (req, res, next) => {
    const handle = authenticator.authenticate(
      'jwt',
      { session: false },
      (err: unknown, user: Express.User | false | undefined, info: unknown) => {
        if (err) return next(err);
        if (!user) return next(challenge(res, failureOf(info)));
        req.user = user;
        next();
      },
    ) as RequestHandler;
    void handle(req, res, next);
  };
}

/**
 * After {@link createRequireAuth}: lets through users with one of `roles`, answers 403
 * otherwise (401 if nobody is authenticated, i.e. the guard was forgotten).
 */
export function requireRole(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    if (!req.user) throw new HttpError(401, 'authentication required', 'authentication_required');
    if (!roles.includes(req.user.role)) {
      throw new HttpError(403, `requires the ${roles.join(' or ')} role`, 'forbidden');
    }
    next();
  };
}
