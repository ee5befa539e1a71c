import { QueryCancelledError } from './db.js';

/** A user already has as much history and resume work running and waiting as allowed. */
export class WorkLimitError extends Error {
  readonly code = 'busy';
  constructor(
    /** How long to wait before trying again: what `Retry-After` says. */
    readonly retryAfterSeconds: number,
    readonly maxConcurrent: number,
  ) {
    super(
      `too many history or resume requests at once (at most ${maxConcurrent} run together); ` +
        `try again in ${retryAfterSeconds} s`,
    );
    this.name = 'WorkLimitError';
  }
}

export interface WorkLimiterOptions {
  /** Jobs of one user that run at once (default 2). */
  maxConcurrent?: number;
  /**
   * Jobs of one user that wait their turn beyond those (default 2): a dashboard's reconnect
   * (a resume and two backfill requests) waits instead of failing; more is refused.
   */
  maxQueued?: number;
  /** The retry hint a refused job carries (default 1 s). */
  retryAfterSeconds?: number;
}

/** Per-user bound on concurrent database work, shared by `GET /api/history` and `resume`. */
export interface WorkLimiter {
  /**
   * Runs `job` once fewer than `maxConcurrent` jobs of `key` are running, in arrival order.
   * Throws {@link WorkLimitError} at once when `key` already has `maxQueued` jobs waiting, and
   * {@link QueryCancelledError} if `signal` aborts while this one waits.
   */
  run<T>(key: string, job: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Jobs of `key` running and waiting now. */
  load(key: string): { running: number; waiting: number };
}

interface Lane {
  running: number;
  waiting: (() => void)[];
}

/** Creates a {@link WorkLimiter}; a key's bookkeeping is dropped when it has no jobs. */
export function createWorkLimiter(options: WorkLimiterOptions = {}): WorkLimiter {
  const maxConcurrent = options.maxConcurrent ?? 2;
  const maxQueued = options.maxQueued ?? 2;
  const retryAfterSeconds = options.retryAfterSeconds ?? 1;
  if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
    throw new RangeError(`maxConcurrent must be a positive whole number (got ${maxConcurrent})`);
  }
  if (!Number.isInteger(maxQueued) || maxQueued < 0) {
    throw new RangeError(`maxQueued must be a whole number (got ${maxQueued})`);
  }
  const lanes = new Map<string, Lane>();

  function laneOf(key: string): Lane {
    let lane = lanes.get(key);
    if (!lane) {
      lane = { running: 0, waiting: [] };
      lanes.set(key, lane);
    }
    return lane;
  }

  function wait(lane: Lane, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const index = lane.waiting.indexOf(grant);
        if (index >= 0) lane.waiting.splice(index, 1);
        reject(new QueryCancelledError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      lane.waiting.push(grant);
    });
  }

  function done(key: string, lane: Lane): void {
    const next = lane.waiting.shift();
    // The slot passes straight to the next in line, so a newcomer cannot overtake it.
    if (next) next();
    else lane.running -= 1;
    if (lane.running === 0 && lane.waiting.length === 0) lanes.delete(key);
  }

  return {
    async run(key, job, signal) {
      if (signal?.aborted) throw new QueryCancelledError();
      const lane = laneOf(key);
      if (lane.running < maxConcurrent) lane.running += 1;
      else if (lane.waiting.length >= maxQueued) {
        throw new WorkLimitError(retryAfterSeconds, maxConcurrent);
      } else {
        try {
          await wait(lane, signal);
        } catch (err) {
          if (lane.running === 0 && lane.waiting.length === 0) lanes.delete(key);
          throw err;
        }
      }
      try {
        return await job();
      } finally {
        done(key, lane);
      }
    },
    load(key) {
      const lane = lanes.get(key);
      return { running: lane?.running ?? 0, waiting: lane?.waiting.length ?? 0 };
    },
  };
}
