import { CLOSE_CODES } from '@livestat/contracts';

/**
 * The reconnect policy's numbers, as the README gives them: 1 s doubling to a 30 s cap, at most
 * 10 attempts.
 */
export interface BackoffOptions {
  /** The ceiling of the first attempt's delay, in ms. */
  baseMs: number;
  /** No delay's ceiling grows past this, in ms. */
  capMs: number;
  /** Reconnect attempts after one drop before giving up. */
  maxAttempts: number;
}

/** What the dashboard uses; tests shrink the delays to run against real sockets quickly. */
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({
  baseMs: 1000,
  capMs: 30_000,
  maxAttempts: 10,
});

/** A uniform random number in [0, 1), as `Math.random` gives; injected in tests. */
export type Random = () => number;

/**
 * The ceiling of attempt `attempt` (1-based): `baseMs · 2^(attempt−1)`, capped at `capMs`.
 * Attempt 1 → 1 s, 2 → 2 s, 3 → 4 s … 6 → 30 s (not 32 s), and 30 s from then on.
 */
export function backoffCeiling(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new RangeError(`attempt must be a whole number ≥ 1, got ${attempt}`);
  }
  // Capping the exponent first keeps 2^n finite for any attempt number.
  const doubled = options.baseMs * 2 ** Math.min(attempt - 1, 52);
  return Math.min(options.capMs, doubled);
}

/**
 * The delay before attempt `attempt`, with full jitter: uniform in [0, ceiling), in whole ms.
 * Full jitter (rather than ceiling ± a little) spreads the reconnects of every dashboard that
 * lost the same server, so a restarted API is not hit by all of them in the same second.
 */
export function nextDelay(
  attempt: number,
  random: Random = Math.random,
  options: BackoffOptions = DEFAULT_BACKOFF,
): number {
  const ceiling = backoffCeiling(attempt, options);
  // Clamped: a random source that returns 1 (or garbage) must not reach or pass the ceiling.
  const raw = random();
  const r = Number.isFinite(raw) ? Math.min(Math.max(raw, 0), 1) : 0;
  return Math.min(Math.floor(r * ceiling), Math.max(ceiling - 1, 0));
}

/** How a close code is treated: reconnect, stay closed, or send the user to log in again. */
export type CloseKind = 'retry' | 'normal' | 'auth';

/**
 * 1000 is a deliberate close (ours on leaving the dashboard): never retried. 1008 is the
 * server refusing the token: retrying with the same token cannot help. Everything else
 * — 1001 server restarting, 1006 connection lost, 1011 server error, 1013 try again later —
 * is worth another attempt.
 */
export function classifyClose(code: number): CloseKind {
  if (code === CLOSE_CODES.normal) return 'normal';
  if (code === CLOSE_CODES.policyViolation) return 'auth';
  return 'retry';
}

/** Whether a socket closed with `code` after `attempt` failed attempts should try again. */
export function shouldRetry(
  code: number,
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
): boolean {
  return classifyClose(code) === 'retry' && attempt < options.maxAttempts;
}

/** What to do after a close, as the {@link Backoff} state machine decides it. */
export type ReconnectStep =
  | { action: 'retry'; attempt: number; delayMs: number }
  | { action: 'give-up'; attempts: number }
  | { action: 'closed' }
  | { action: 'auth-failed'; reason: string };

/** The reconnect state of one socket: how many attempts since it was last open. */
export interface Backoff {
  /** Attempts made since the last successful open (0 while open). */
  readonly attempt: number;
  /** The socket opened: the next drop starts again at attempt 1. */
  opened(): void;
  /** The socket closed (or failed to open) with `code`: the next step. */
  closed(code: number, reason?: string): ReconnectStep;
  /** Back to attempt 0: a manual retry after giving up, or the browser coming back online. */
  reset(): void;
}

/** Creates a {@link Backoff}; `random` is injected in tests. */
export function createBackoff(
  options: Partial<BackoffOptions> = {},
  random: Random = Math.random,
): Backoff {
  const resolved: BackoffOptions = { ...DEFAULT_BACKOFF, ...options };
  const { baseMs, capMs, maxAttempts } = resolved;
  if (!(baseMs > 0) || !(capMs >= baseMs) || !Number.isInteger(maxAttempts) || maxAttempts < 0) {
    throw new RangeError(
      `backoff needs 0 < baseMs ≤ capMs and a whole maxAttempts ≥ 0 (got ${baseMs}, ${capMs}, ${maxAttempts})`,
    );
  }
  let attempt = 0;
  return {
    get attempt() {
      return attempt;
    },
    opened() {
      attempt = 0;
    },
    closed(code, reason = '') {
      const kind = classifyClose(code);
      if (kind === 'normal') return { action: 'closed' };
      if (kind === 'auth') return { action: 'auth-failed', reason };
      if (attempt >= maxAttempts) return { action: 'give-up', attempts: attempt };
      attempt += 1;
      return { action: 'retry', attempt, delayMs: nextDelay(attempt, random, resolved) };
    },
    reset() {
      attempt = 0;
    },
  };
}

/** The timer functions a schedule runs on: the globals by default, a test's clock otherwise. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The global timers, looked up on every call (not captured at import) so Vitest's fake
 * timers, installed after this module loads, still drive them.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * A one-shot timer with at most one callback pending: scheduling another replaces it. The
 * stores use it for reconnects, token renewal and staleness; history for its zoom debounce.
 */
export interface OneShotTimer {
  /** Runs `callback` after `delayMs`, replacing any pending one; returns when it is due. */
  schedule(delayMs: number, callback: () => void): number;
  /** Drops the pending callback, if any. */
  cancel(): void;
  /** When the pending callback is due (epoch ms), or null when none is pending. */
  readonly dueAt: number | null;
}

/** Creates a {@link OneShotTimer} on `clock`. */
export function createOneShotTimer(clock: Clock = systemClock): OneShotTimer {
  let handle: unknown;
  let dueAt: number | null = null;
  function cancel(): void {
    if (dueAt === null) return;
    clock.clearTimeout(handle);
    handle = undefined;
    dueAt = null;
  }
  return {
    schedule(delayMs, callback) {
      cancel();
      const due = clock.now() + delayMs;
      dueAt = due;
      handle = clock.setTimeout(() => {
        handle = undefined;
        dueAt = null;
        callback();
      }, delayMs);
      return due;
    },
    cancel,
    get dueAt() {
      return dueAt;
    },
  };
}
