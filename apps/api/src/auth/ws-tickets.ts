import { createHash, randomBytes } from 'node:crypto';
import { role as roleSchema } from '@livestat/contracts';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { UserStore } from '../storage/users.js';
import { createUserLookup, type AuthenticatedUser } from './authenticator.js';
import type { TokenClaims } from './tokens.js';

/** How long a socket ticket can be used: long enough to open a socket, too short to matter in a log. */
export const WS_TICKET_TTL_MS = 30_000;

/** What `POST /api/ws/ticket` answers. */
export interface IssuedTicket {
  /** 256 random bits, base64url: opens one socket as `?ticket=`. */
  ticket: string;
  /** When the ticket stops working, ISO 8601. */
  expiresAt: string;
}

/**
 * Single-use tickets for the socket upgrade, so a browser never puts its JWT in a URL (where
 * proxies log it and history keeps it). A ticket stands for the claims of the token it was
 * bought with: its user, and the token's `exp`, which the socket honours as if the token came.
 */
export interface TicketStore {
  /** A new ticket for `claims`, valid for {@link WS_TICKET_TTL_MS} at most. */
  issue(claims: TokenClaims): Promise<IssuedTicket>;
  /**
   * The claims of `ticket`, which is used up by this call: a second redeem, like one of an
   * unknown or expired ticket, answers null. Atomic, so two upgrades racing with one ticket
   * never both get it. Rejects when the store itself cannot be reached (Redis down).
   */
  redeem(ticket: string): Promise<TokenClaims | null>;
  /** Releases what the store holds (the Redis client it was given). */
  close(): Promise<void>;
}

export interface TicketStoreOptions {
  ttlMs?: number;
  /** The clock, in epoch ms (tests). */
  now?: () => number;
}

// Tickets are kept under a hash of themselves: what is stored (a Redis key, a Map entry seen in a
// heap dump) cannot itself open a socket.
function keyOf(ticket: string): string {
  return createHash('sha256').update(ticket).digest('base64url');
}

function newTicket(): string {
  return randomBytes(32).toString('base64url');
}

function ttlOf(options: TicketStoreOptions): number {
  const ttlMs = options.ttlMs ?? WS_TICKET_TTL_MS;
  if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > WS_TICKET_TTL_MS) {
    throw new RangeError(
      `ttlMs must be a whole number from 1 to ${WS_TICKET_TTL_MS} (got ${ttlMs})`,
    );
  }
  return ttlMs;
}

/** A stored entry read back: anything that is not exactly what {@link issue} wrote is no ticket. */
function claimsOf(value: unknown): TokenClaims | null {
  if (typeof value !== 'object' || value === null) return null;
  const { userId, username, role, expiresAtMs } = value as Record<string, unknown>;
  if (!Number.isInteger(userId) || typeof username !== 'string') return null;
  if (typeof expiresAtMs !== 'number' || !roleSchema.safeParse(role).success) return null;
  return { userId, username, role, expiresAtMs } as TokenClaims;
}

export interface MemoryTicketStoreOptions extends TicketStoreOptions {
  /** Most unexpired tickets held at once; beyond it the oldest goes (default 10 000). */
  maxTickets?: number;
  /** Most unexpired tickets one user holds; beyond it that user's oldest goes (default 20). */
  maxPerUser?: number;
}

/**
 * Tickets in this process's memory: what one API process needs. With several replicas behind
 * a proxy use {@link createRedisTicketStore}, or a ticket made on one is refused by the next.
 * Bounded, so a user asking for tickets in a loop cannot grow it, nor push out others' tickets.
 */
export function createMemoryTicketStore(options: MemoryTicketStoreOptions = {}): TicketStore {
  const ttlMs = ttlOf(options);
  const now = options.now ?? Date.now;
  const maxTickets = options.maxTickets ?? 10_000;
  const maxPerUser = options.maxPerUser ?? 20;
  // Insertion order is issue order, and every ticket lives as long: the oldest come first.
  const tickets = new Map<string, { claims: TokenClaims; expiresAtMs: number }>();

  function sweep(at: number): void {
    for (const [key, entry] of tickets) {
      if (entry.expiresAtMs > at) break;
      tickets.delete(key);
    }
  }

  return {
    issue(claims) {
      const at = now();
      sweep(at);
      const mine = [...tickets].filter(([, entry]) => entry.claims.userId === claims.userId);
      for (const [key] of mine.slice(0, Math.max(mine.length - maxPerUser + 1, 0))) {
        tickets.delete(key);
      }
      while (tickets.size >= maxTickets) {
        const oldest = tickets.keys().next();
        if (oldest.done) break;
        tickets.delete(oldest.value);
      }
      const ticket = newTicket();
      const expiresAtMs = at + ttlMs;
      tickets.set(keyOf(ticket), { claims: { ...claims }, expiresAtMs });
      return Promise.resolve({ ticket, expiresAt: new Date(expiresAtMs).toISOString() });
    },
    redeem(ticket) {
      const key = keyOf(ticket);
      const entry = tickets.get(key);
      tickets.delete(key);
      return Promise.resolve(entry && entry.expiresAtMs > now() ? entry.claims : null);
    },
    close() {
      tickets.clear();
      return Promise.resolve();
    },
  };
}

export interface RedisTicketStoreOptions extends TicketStoreOptions {
  /**
   * A client of its own, which the store owns from now on (`close()` quits it). Construct it
   * with `enableOfflineQueue: false` and a `commandTimeout`, so that while Redis is away a
   * ticket is refused at once rather than after a queue drains.
   */
  redis: Redis;
  logger: Logger;
  /** Default `livestat:db0:ws-ticket:`; give it the deployment's `redisPrefix` + `ws-ticket:`. */
  keyPrefix?: string;
}

/**
 * Tickets in Redis (`SET … PX`, redeemed with `GETDEL`): every API replica on that Redis honours
 * a ticket any of them issued, once. Needs Redis 6.2 or later.
 */
export function createRedisTicketStore(options: RedisTicketStoreOptions): TicketStore {
  const { redis, logger } = options;
  const ttlMs = ttlOf(options);
  const now = options.now ?? Date.now;
  const keyPrefix = options.keyPrefix ?? 'livestat:db0:ws-ticket:';
  if (keyPrefix.length === 0) throw new RangeError('keyPrefix must not be empty');

  // One line per outage: the bus logs its own clients the same way.
  let down = false;
  const onError = (err: Error) => {
    if (down) return;
    down = true;
    logger.warn({ client: 'tickets', err: err.message }, 'redis connection lost; retrying');
  };
  const onReady = () => {
    if (!down) return;
    down = false;
    logger.info({ client: 'tickets' }, 'redis connection restored');
  };
  redis.on('error', onError).on('ready', onReady);

  return {
    async issue(claims) {
      const ticket = newTicket();
      const expiresAtMs = now() + ttlMs;
      const value = JSON.stringify({ ...claims, ticketExpiresAtMs: expiresAtMs });
      await redis.set(`${keyPrefix}${keyOf(ticket)}`, value, 'PX', ttlMs);
      return { ticket, expiresAt: new Date(expiresAtMs).toISOString() };
    },
    async redeem(ticket) {
      const raw = await redis.getdel(`${keyPrefix}${keyOf(ticket)}`);
      if (raw === null) return null;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        return null;
      }
      // Redis expires the key; the stored time also holds should its clock and ours disagree.
      const expiresAtMs = (value as { ticketExpiresAtMs?: unknown }).ticketExpiresAtMs;
      if (typeof expiresAtMs !== 'number' || expiresAtMs <= now()) return null;
      return claimsOf(value);
    },
    async close() {
      redis.off('error', onError).off('ready', onReady);
      // Errors after this point are the quit's own; nobody is left to tell.
      redis.on('error', () => undefined);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/**
 * Who a ticket opens a socket for, as the users table says now, until the `exp` of the token it
 * was bought with; null for a ticket that is unknown, used or expired. Rejects with
 * `TokenError('invalid token')` when the user is gone, or with the store's or database's error.
 */
export type RedeemTicket = (ticket: string) => Promise<AuthenticatedUser | null>;

/** The socket's ticket check: {@link TicketStore.redeem}, then the user lookup every credential gets. */
export function createTicketRedeemer(deps: {
  tickets: Pick<TicketStore, 'redeem'>;
  users: UserStore;
}): RedeemTicket {
  const lookUp = createUserLookup(deps.users);
  return async (ticket) => {
    const claims = await deps.tickets.redeem(ticket);
    return claims === null ? null : lookUp(claims);
  };
}
