/** The route a user is sent to after logging in when no (usable) `redirect` was given. */
export const DEFAULT_AFTER_LOGIN = '/';

const LOGIN_PATH = '/login';

/**
 * The `redirect` query parameter as a path inside this app, or {@link DEFAULT_AFTER_LOGIN}.
 * Only a path starting with one `/` passes: `//evil.example`, `/\evil.example` (both leave the
 * site in a browser), absolute URLs and control characters do not — an open redirect on the
 * login page would let a link send a freshly logged-in user anywhere. A repeated parameter uses
 * its first value; the login page itself is never the target.
 */
export function safeRedirect(value: unknown): string {
  const first: unknown = Array.isArray(value) ? value[0] : value;
  if (typeof first !== 'string') return DEFAULT_AFTER_LOGIN;
  // eslint-disable-next-line no-control-regex
  if (!/^\/(?![/\\])/.test(first) || /[\u0000-\u001f\u007f\\]/.test(first)) {
    return DEFAULT_AFTER_LOGIN;
  }
  if (first === LOGIN_PATH || first.startsWith(`${LOGIN_PATH}?`)) return DEFAULT_AFTER_LOGIN;
  return first;
}

/** The parts of a route the guard reads. */
export interface GuardedRoute {
  name?: string | symbol | null | undefined;
  fullPath: string;
  query: Record<string, unknown>;
  meta: { public?: boolean };
}

/** Where navigation goes instead, or `true` to let it through. */
export type GuardDecision = true | string | { name: 'login'; query: { redirect: string } };

/**
 * The route guard's rule: a route not marked `public` needs a session, and without one leads to
 * the login page, which remembers where the user was going; the login page with a session
 * leads on to that place.
 */
export function guardRoute(to: GuardedRoute, authenticated: boolean): GuardDecision {
  if (to.meta.public) {
    return to.name === 'login' && authenticated ? safeRedirect(to.query.redirect) : true;
  }
  if (authenticated) return true;
  return { name: 'login', query: { redirect: to.fullPath } };
}
