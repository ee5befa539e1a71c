import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CLOSE_CODES, type PublicUser } from '@livestat/contracts';
import type { Authenticate } from '../auth/authenticator.js';
import type { RedeemTicket } from '../auth/ws-tickets.js';

/** The one path the stream answers on; any other upgrade is 404. */
export const STREAM_PATH = '/api/ws/metrics';

/** What to do with an upgrade request, decided before any WebSocket exists. */
export type UpgradeCheck =
  | { ok: true; token: string | null; ticket: string | null }
  | { ok: false; status: 403 | 404 | 503; error: string };

/**
 * Exact matching of the browser's `Origin` against the allow-list. Entries are normalised
 * as origins (`URL.origin`); the header is compared as sent, so `null`, a path, or a
 * look-alike such as `http://localhost:5173.evil.com` never matches. No header means a
 * non-browser client (wscat, another service), which cross-site hijacking cannot involve.
 *
 * A same-origin page — the dashboard the API serves itself on :8000, or through a proxy that
 * forwards `Host` — is always allowed: its `Origin` names the very host the request went to,
 * which a page on another site cannot make its browser send.
 */
export function createOriginCheck(
  corsOrigins: readonly string[],
): (origin?: string, host?: string) => boolean {
  const allowed = new Set<string>();
  for (const entry of corsOrigins) {
    try {
      const origin = new URL(entry).origin;
      if (origin !== 'null') allowed.add(origin);
    } catch {
      throw new RangeError(`corsOrigins: ${JSON.stringify(entry)} is not an origin`);
    }
  }
  return (origin, host) => origin === undefined || allowed.has(origin) || sameOrigin(origin, host);
}

/** `http://<host>` or `https://<host>` exactly, for the request's `Host` header. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined || host === '') return false;
  const lower = host.toLowerCase();
  return origin === `http://${lower}` || origin === `https://${lower}`;
}

/**
 * Checks path, shutdown and Origin, and takes the credential out of the query string: a
 * single-use `ticket` (what the dashboard sends) or a `token` (wscat, scripts). The URL is
 * never returned or logged whole: it carries the credential.
 */
export function checkUpgrade(
  req: IncomingMessage,
  options: { closing: boolean; originAllowed: (origin?: string, host?: string) => boolean },
): UpgradeCheck {
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return { ok: false, status: 404, error: 'not found' };
  }
  if (url.pathname !== STREAM_PATH) return { ok: false, status: 404, error: 'not found' };
  if (options.closing) return { ok: false, status: 503, error: 'server shutting down' };
  if (!options.originAllowed(req.headers.origin, req.headers.host)) {
    return { ok: false, status: 403, error: 'origin not allowed' };
  }
  const token = url.searchParams.get('token');
  const ticket = url.searchParams.get('ticket');
  return {
    ok: true,
    token: token === null || token === '' ? null : token,
    ticket: ticket === null || ticket === '' ? null : ticket,
  };
}

/** Answers a refused upgrade with a plain HTTP response (`{error}` JSON) and drops the socket. */
export function refuseUpgrade(socket: Duplex, status: number, error: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error });
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** The outcome of the socket's credential: a user until a time, or a close code and reason. */
export type AuthOutcome =
  | { ok: true; user: PublicUser; expiresAtMs: number }
  | { ok: false; code: number; reason: string; cause?: unknown };

/**
 * Runs `authenticate` and turns its failure into a close: a token problem (`TokenError`,
 * recognised by its `reason`) is 1008 with that reason, so the client stops retrying and logs
 * in again; anything else (the user table unreachable) is 1013 — a server fault the client
 * should retry, not a reason to throw its credential away.
 */
export async function authenticateToken(
  authenticate: Authenticate,
  token: string | null,
): Promise<AuthOutcome> {
  if (token === null) {
    return { ok: false, code: CLOSE_CODES.policyViolation, reason: 'invalid token' };
  }
  try {
    const { user, expiresAtMs } = await authenticate(token);
    return { ok: true, user, expiresAtMs };
  } catch (err) {
    return failureOf(err);
  }
}

/**
 * {@link authenticateToken} for a `?ticket=`: used up here whatever the outcome. An unknown,
 * used or expired ticket (or none, with no `redeem`) is 1008 `invalid ticket`.
 */
export async function authenticateTicket(
  redeem: RedeemTicket | undefined,
  ticket: string,
): Promise<AuthOutcome> {
  try {
    const found = redeem === undefined ? null : await redeem(ticket);
    if (found === null) {
      return { ok: false, code: CLOSE_CODES.policyViolation, reason: 'invalid ticket' };
    }
    return { ok: true, user: found.user, expiresAtMs: found.expiresAtMs };
  } catch (err) {
    return failureOf(err);
  }
}

function failureOf(err: unknown): AuthOutcome & { ok: false } {
  const reason = (err as { reason?: unknown } | null)?.reason;
  if (reason === 'invalid token' || reason === 'token expired') {
    return { ok: false, code: CLOSE_CODES.policyViolation, reason };
  }
  return {
    ok: false,
    code: CLOSE_CODES.tryAgainLater,
    reason: 'authentication unavailable',
    cause: err,
  };
}
