import { CLOSE_CODES } from '@livestat/contracts';
import { causeOf, type LogLimiter } from '../log-limiter.js';
import type { UserStore } from '../storage/users.js';

/** How often the users of open sockets are looked up again by default: 30 s. */
export const DEFAULT_USER_RECHECK_INTERVAL_MS = 30_000;

/** The close reason of a socket whose user was deleted. */
export const USER_REMOVED_REASON = 'user removed';

/** What this needs of a socket: whose it is, and how to close it. */
export interface UserSocket {
  readonly userId: number;
  close(code: number, reason: string): void;
}

export interface UserRemovalWatchOptions {
  users: Pick<UserStore, 'existing' | 'onRemoved'>;
  /** The sockets open now. */
  sockets: () => Iterable<UserSocket>;
  /** How often every open socket's user is looked up (default {@link DEFAULT_USER_RECHECK_INTERVAL_MS}). */
  intervalMs?: number;
  errorLog: LogLimiter;
}

/** Owns the listener and the timer of {@link watchUserRemovals}. */
export interface UserRemovalWatch {
  /** Looks every open socket's user up now; the timer calls this. */
  recheck(): Promise<void>;
  stop(): void;
}

/**
 * Closes a deleted user's sockets with 1008 `user removed`: at once when the user is removed
 * through this process's store, and within one interval when another process removed it (the
 * users CLI, another replica) — one query for every distinct user with an open socket. A
 * database failure leaves the sockets open (their tokens still expire) and is logged.
 */
export function watchUserRemovals(options: UserRemovalWatchOptions): UserRemovalWatch {
  const intervalMs = options.intervalMs ?? DEFAULT_USER_RECHECK_INTERVAL_MS;
  if (!Number.isInteger(intervalMs) || intervalMs < 1) {
    throw new RangeError(`intervalMs must be a positive whole number (got ${intervalMs})`);
  }

  function closeWhere(gone: (userId: number) => boolean): void {
    for (const socket of [...options.sockets()]) {
      if (gone(socket.userId)) socket.close(CLOSE_CODES.policyViolation, USER_REMOVED_REASON);
    }
  }

  const unsubscribe = options.users.onRemoved((user) => closeWhere((id) => id === user.id));

  let running: Promise<void> | null = null;
  async function check(): Promise<void> {
    const ids = new Set<number>();
    for (const socket of options.sockets()) ids.add(socket.userId);
    if (ids.size === 0) return;
    let existing: Set<number>;
    try {
      existing = await options.users.existing([...ids]);
    } catch (err) {
      const msg = 'socket user re-check failed';
      options.errorLog.error(causeOf(msg, err), { err }, msg);
      return;
    }
    // Only the ids asked about: a socket opened meanwhile was authenticated just now.
    closeWhere((id) => ids.has(id) && !existing.has(id));
  }

  function recheck(): Promise<void> {
    // One at a time: a slow database does not pile re-checks up.
    running ??= check().finally(() => (running = null));
    return running;
  }

  const timer = setInterval(() => void recheck(), intervalMs);
  timer.unref();
  return {
    recheck,
    stop() {
      clearInterval(timer);
      unsubscribe();
    },
  };
}
