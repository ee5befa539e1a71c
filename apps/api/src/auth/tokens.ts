import { role as roleSchema, type PublicUser, type Role } from '@livestat/contracts';
import jwt from 'jsonwebtoken';

/** The only algorithm livestat signs or accepts. */
export const JWT_ALGORITHM = 'HS256';
/** Clock leeway, in seconds, when checking `exp` (at most 60 s). */
export const JWT_CLOCK_TOLERANCE_SECONDS = 60;
/**
 * What jsonwebtoken is told on every verify, by {@link TokenService.verify} (the socket) and by
 * passport-jwt (HTTP) alike: defined once so the two can never drift apart. `exp` being
 * required is {@link claimsOf}'s part, which both also run.
 */
export const JWT_VERIFY_OPTIONS = Object.freeze({
  algorithms: [JWT_ALGORITHM] as [typeof JWT_ALGORITHM],
  clockTolerance: JWT_CLOCK_TOLERANCE_SECONDS,
});
/** The shortest HMAC secret accepted, as config.ts requires of `JWT_SECRET`. */
export const JWT_MIN_SECRET_BYTES = 32;

export type TokenFailure = 'invalid token' | 'token expired';

/**
 * A token that must not be honoured. `reason` is safe to show a client (it is the socket's
 * close reason and the 401's `error`); `code` is the same in snake case.
 */
export class TokenError extends Error {
  readonly code: 'invalid_token' | 'token_expired';
  constructor(readonly reason: TokenFailure) {
    super(reason);
    this.name = 'TokenError';
    this.code = reason === 'token expired' ? 'token_expired' : 'invalid_token';
  }
}

/** What a verified token says. `role` is as issued: callers wanting the current role look it up. */
export interface TokenClaims {
  userId: number;
  username: string;
  role: Role;
  expiresAtMs: number;
}

export interface TokenService {
  /** Signs a token for `user` that expires `ttlSeconds` from now. */
  issue(user: PublicUser): { token: string; expiresAt: string };
  /**
   * Returns the claims of a token signed with our secret by HS256, carrying `exp`, not expired
   * beyond the leeway. Anything else throws {@link TokenError}.
   */
  verify(token: string): TokenClaims;
}

export interface TokenServiceOptions {
  secret: string;
  ttlSeconds: number;
  /** The clock, in epoch ms (tests). */
  now?: () => number;
}

/** Issues and verifies livestat's JWTs: HS256 pinned, `exp` required, 60 s leeway. */
export function createTokenService(options: TokenServiceOptions): TokenService {
  const { secret, ttlSeconds } = options;
  const now = options.now ?? Date.now;
  if (Buffer.byteLength(secret) < JWT_MIN_SECRET_BYTES) {
    throw new RangeError(`the JWT secret must be at least ${JWT_MIN_SECRET_BYTES} bytes`);
  }
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
    throw new RangeError(`ttlSeconds must be a positive whole number (got ${ttlSeconds})`);
  }

  return {
    issue(user) {
      const iat = Math.floor(now() / 1000);
      const exp = iat + ttlSeconds;
      const token = jwt.sign(
        { sub: String(user.id), username: user.username, role: user.role, iat, exp },
        secret,
        { algorithm: JWT_ALGORITHM },
      );
      return { token, expiresAt: new Date(exp * 1000).toISOString() };
    },

    verify(token) {
      let payload: string | jwt.JwtPayload;
      try {
        payload = jwt.verify(token, secret, {
          ...JWT_VERIFY_OPTIONS,
          algorithms: [...JWT_VERIFY_OPTIONS.algorithms],
          clockTimestamp: Math.floor(now() / 1000),
        });
      } catch (err) {
        throw new TokenError(
          err instanceof jwt.TokenExpiredError ? 'token expired' : 'invalid token',
        );
      }
      const claims = claimsOf(payload);
      if (!claims) throw new TokenError('invalid token');
      return claims;
    },
  };
}

/**
 * The claims of a verified payload, or null when it lacks what we issue: a numeric `exp`
 * (jsonwebtoken accepts a token without one, which would never expire), a positive integer
 * `sub` as a string, a username and a known role. Shared with the passport-jwt strategy.
 */
export function claimsOf(payload: unknown): TokenClaims | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const { sub, username, role, exp } = payload as Record<string, unknown>;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return null;
  if (typeof sub !== 'string' || !/^[1-9]\d{0,15}$/.test(sub)) return null;
  const userId = Number(sub);
  if (!Number.isSafeInteger(userId)) return null;
  if (typeof username !== 'string' || username.length === 0) return null;
  const parsedRole = roleSchema.safeParse(role);
  if (!parsedRole.success) return null;
  return { userId, username, role: parsedRole.data, expiresAtMs: exp * 1000 };
}
