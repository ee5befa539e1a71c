import type { PublicUser } from '@livestat/contracts';
import type { UserStore } from '../storage/users.js';
import { TokenError, type TokenClaims, type TokenService } from './tokens.js';

/** Who a token belongs to now, and until when the token may be honoured. */
export interface AuthenticatedUser {
  /** As the users table says now: a role changed since the token was issued shows here. */
  user: PublicUser;
  /** The token's `exp`, in epoch ms: the socket closes 1008 `token expired` then. */
  expiresAtMs: number;
}

/**
 * Verifies the token AND that its user still exists (a deleted user's token is
 * 'invalid token'). Rejects with {@link TokenError}; a database failure rejects with that
 * error instead, which callers should answer as a server fault, not as a bad token.
 */
export type Authenticate = (token: string) => Promise<AuthenticatedUser>;

/**
 * Who verified claims belong to, as the users table says now. Rejects with
 * {@link TokenError} `invalid token` when the user is gone, or with the database's error.
 */
export type LookUpUser = (claims: TokenClaims) => Promise<AuthenticatedUser>;

/**
 * The one user lookup behind every credential: the socket's (via {@link createAuthenticator})
 * and passport-jwt's verify callback (`createRequireAuth`).
 */
export function createUserLookup(users: UserStore): LookUpUser {
  return async (claims) => {
    const user = await users.findById(claims.userId);
    if (!user) throw new TokenError('invalid token');
    return { user, expiresAtMs: claims.expiresAtMs };
  };
}

/** The one token check behind the socket's `?token=` and `auth` renewal. */
export function createAuthenticator(deps: {
  tokens: TokenService;
  users: UserStore;
}): Authenticate {
  const lookUp = createUserLookup(deps.users);
  return async (token) => lookUp(deps.tokens.verify(token));
}
