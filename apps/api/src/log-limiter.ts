import type { Logger } from './logger.js';

export interface LogLimiterOptions {
  /** A cause is logged at most once per this many ms (default 60 s). */
  intervalMs?: number;
  /** Causes tracked at once (default 100); beyond, new causes share one. */
  maxCauses?: number;
}

/** Error lines, each cause at most once per interval, with a count of what was held back. */
export interface LogLimiter {
  /**
   * Logs `msg` with `fields` at error level, unless `cause` was logged less than an interval
   * ago: then it is counted, and when the interval ends one line says how many were held back
   * (`suppressed`), with the fields of the latest. A cause that stays quiet for an interval is
   * forgotten, so its next occurrence is logged at once.
   */
  error(cause: string, fields: Record<string, unknown>, msg: string): void;
  /** Logs what is still held back and stops the timers. */
  stop(): void;
}

interface Pending {
  msg: string;
  fields: Record<string, unknown>;
  suppressed: number;
  timer: NodeJS.Timeout;
}

const OVERFLOW_CAUSE = '(other causes)';

/**
 * The cause of an error as a limiter key: the line's message and the error's code, name and
 * the start of its message — the same failure from a thousand sockets is one cause.
 */
export function causeOf(msg: string, err: unknown): string {
  if (!(err instanceof Error)) return `${msg}|${String(err).slice(0, 80)}`;
  const code = (err as { code?: unknown }).code;
  return `${msg}|${typeof code === 'string' || typeof code === 'number' ? code : ''}|${err.name}|${err.message.slice(0, 80)}`;
}

/**
 * Rate-limits error lines per cause: an outage that fails every request, or every socket's
 * resume, is logged once per interval with a count, not once per failure, so the log neither
 * floods nor hides that it is still happening. Timers are unref'd: they never hold the
 * process open.
 */
export function createLogLimiter(logger: Logger, options: LogLimiterOptions = {}): LogLimiter {
  const intervalMs = options.intervalMs ?? 60_000;
  const maxCauses = options.maxCauses ?? 100;
  if (!Number.isInteger(intervalMs) || intervalMs < 1) {
    throw new RangeError(`intervalMs must be a positive whole number (got ${intervalMs})`);
  }
  const pending = new Map<string, Pending>();

  function report(entry: Pending): void {
    const seconds = Math.round(intervalMs / 1000);
    logger.error(
      { ...entry.fields, suppressed: entry.suppressed },
      `${entry.msg} (${entry.suppressed} more like this in the last ${seconds} s)`,
    );
  }

  function endWindow(cause: string): void {
    const entry = pending.get(cause);
    if (!entry) return;
    if (entry.suppressed === 0) {
      pending.delete(cause);
      return;
    }
    report(entry);
    // Still happening: keep limiting for another interval.
    entry.suppressed = 0;
    entry.timer = setTimeout(() => endWindow(cause), intervalMs).unref();
  }

  return {
    error(cause, fields, msg) {
      const key = pending.has(cause) || pending.size < maxCauses ? cause : OVERFLOW_CAUSE;
      const entry = pending.get(key);
      if (entry) {
        entry.suppressed += 1;
        entry.fields = fields;
        entry.msg = msg;
        return;
      }
      logger.error(fields, msg);
      const timer = setTimeout(() => endWindow(key), intervalMs).unref();
      pending.set(key, { msg, fields, suppressed: 0, timer });
    },

    stop() {
      for (const entry of pending.values()) {
        clearTimeout(entry.timer);
        if (entry.suppressed > 0) report(entry);
      }
      pending.clear();
    },
  };
}
