import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { Database, Queryable } from '../storage/db.js';

/** Whether this process is the deployment's one alert evaluator, and when that changes. */
export interface Leadership {
  isLeader(): boolean;
  /** Called with true on winning and false on losing; returns the unsubscribe. */
  onChange(listener: (leader: boolean) => void): () => void;
  /** Gives the lead up (released at once, so another replica takes over without waiting). */
  stop(): Promise<void>;
}

function createListeners() {
  const listeners = new Set<(leader: boolean) => void>();
  let leader = false;
  return {
    get: () => leader,
    set(next: boolean) {
      if (next === leader) return;
      leader = next;
      for (const listener of listeners) listener(next);
    },
    add(listener: (leader: boolean) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

/** PGlite: one process owns the data directory, so it is always the leader. */
export function alwaysLeader(): Leadership {
  const state = createListeners();
  queueMicrotask(() => state.set(true));
  return {
    isLeader: state.get,
    onChange: state.add,
    stop: async () => state.set(false),
  };
}

// Renews only its own lease; deletes only its own.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * A lease in Redis: `SET key id NX PX lease`, renewed every third of the lease while held. A
 * leader that dies stops renewing and another replica wins within one lease and one try;
 * one that cannot reach Redis steps down before its lease can have run out.
 */
export function redisLeadership(options: {
  redis: Redis;
  key: string;
  leaseMs: number;
  logger: Logger;
}): Leadership {
  const { redis, key, leaseMs, logger } = options;
  const id = randomUUID();
  const state = createListeners();
  const everyMs = Math.max(100, Math.floor(leaseMs / 3));
  let stopped = false;
  let lastRenewed = 0;
  let timer: NodeJS.Timeout | undefined;

  async function attempt(): Promise<void> {
    try {
      if (state.get()) {
        const renewed = await redis.eval(RENEW, 1, key, id, String(leaseMs));
        if (renewed === 1) lastRenewed = Date.now();
        else {
          logger.warn('alert evaluator lease lost to another replica');
          state.set(false);
        }
      } else {
        const won = await redis.set(key, id, 'PX', leaseMs, 'NX');
        if (won === 'OK') {
          lastRenewed = Date.now();
          logger.info('this replica is the alert evaluator (Redis lease)');
          state.set(true);
        }
      }
    } catch (err) {
      // Unreachable Redis: step down before the lease may have passed to another replica.
      if (state.get() && Date.now() - lastRenewed > leaseMs - everyMs) {
        logger.warn(
          { error: (err as Error).message },
          'alert evaluator lease not renewed; stepping down',
        );
        state.set(false);
      }
    }
  }

  async function loop(): Promise<void> {
    if (stopped) return;
    await attempt();
    if (!stopped) timer = setTimeout(() => void loop(), everyMs);
  }
  void loop();

  return {
    isLeader: state.get,
    onChange: state.add,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      if (state.get()) {
        state.set(false);
        await redis.eval(RELEASE, 1, key, id).catch(() => undefined);
      }
      redis.disconnect();
    },
  };
}

/** The advisory lock's key: 'livestat alerts' folded into a bigint. */
export const ALERTS_LOCK_KEY = 0x6c69766573746174n & 0x7fffffffffffffffn;

/**
 * A PostgreSQL session advisory lock held on one connection of the write lane for as long as
 * this process leads: PostgreSQL releases it the moment that connection dies with the
 * process, and another replica's next try (every `retryMs`) takes it.
 */
export function postgresLeadership(options: {
  db: Database;
  retryMs: number;
  logger: Logger;
}): Leadership {
  const { db, retryMs, logger } = options;
  const state = createListeners();
  let stopped = false;
  let wake: () => void = () => undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  async function hold(session: Queryable): Promise<void> {
    const rows = await session.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_lock($1) AS locked',
      [ALERTS_LOCK_KEY.toString()],
    );
    if (!rows[0]?.locked) return;
    logger.info('this replica is the alert evaluator (PostgreSQL advisory lock)');
    state.set(true);
    try {
      // Holding: check the connection now and then, so a broken one is noticed and let go.
      while (!stopped) {
        await sleep(retryMs);
        if (!stopped) await session.query('SELECT 1');
      }
    } finally {
      state.set(false);
      await session
        .query('SELECT pg_advisory_unlock($1)', [ALERTS_LOCK_KEY.toString()])
        .catch(() => undefined);
    }
  }

  const running = (async () => {
    while (!stopped) {
      try {
        await db.session(hold);
      } catch (err) {
        if (state.get())
          logger.warn({ error: (err as Error).message }, 'alert evaluator lock connection lost');
        state.set(false);
      }
      if (!stopped) await sleep(retryMs);
    }
  })();

  return {
    isLeader: state.get,
    onChange: state.add,
    async stop() {
      stopped = true;
      wake();
      await running;
    },
  };
}
