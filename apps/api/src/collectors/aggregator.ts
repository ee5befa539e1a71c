import {
  COLLECTOR_NAMES,
  type CollectorName,
  type CollectorPayloads,
  type CollectorTiming,
} from '@livestat/contracts';
import type { Logger } from '../logger.js';
import type { Collector } from './types.js';

/** One tick's worth of collector output, ready to become a snapshot. */
export interface AggregateResult {
  payloads: CollectorPayloads;
  timings: Partial<Record<CollectorName, CollectorTiming>>;
  /** Wall time of the whole concurrent collection. */
  collectDurationMs: number;
}

export interface AggregatorOptions {
  /** The enabled collectors; the other names report `disabled by COLLECTORS`. */
  collectors: Collector[];
  /** Monotonic clock in ms. */
  now: () => number;
  /** A collector that has not answered by then reports `available: false` for this tick. */
  timeoutMs: number;
  logger: Logger;
}

export interface Aggregator {
  /** Primes every collector, once: later calls return the same promise. */
  prime(): Promise<void>;
  /** When (on `now`) priming began, i.e. the counters' baselines were read; null before. */
  primeStartedAt?(): number | null;
  collect(): Promise<AggregateResult>;
  stop(): Promise<void>;
}

class CollectorTimeout extends Error {}

/**
 * Runs every collector concurrently, times each, and isolates failures: a collector that
 * throws or hangs becomes `{available: false, error}` and the others are unaffected.
 * Failures are logged when they start, change or end — not once a second.
 */
export function createAggregator(options: AggregatorOptions): Aggregator {
  const { collectors, now, timeoutMs, logger } = options;
  const lastError = new Map<CollectorName, string>();
  const enabled = new Set(collectors.map((collector) => collector.name));

  function noteOutcome(name: CollectorName, error: string | null): void {
    const previous = lastError.get(name);
    if (error === null) {
      if (previous !== undefined) logger.info({ collector: name }, 'collector recovered');
      lastError.delete(name);
    } else if (previous !== error) {
      logger.warn({ collector: name, error }, 'collector unavailable');
      lastError.set(name, error);
    }
  }

  interface Call {
    collector: Collector;
    collecting: Promise<CollectorPayloads[CollectorName]>;
    /** Time spent inside `collect()` before it returned its promise. */
    syncMs: number;
  }

  function call(collector: Collector): Call {
    const started = now();
    let collecting: Call['collecting'];
    try {
      collecting = collector.collect();
    } catch (err) {
      collecting = Promise.reject(err);
    }
    return { collector, collecting, syncMs: now() - started };
  }

  // Collectors that read procfs do all their work before returning, one after another; each
  // one's duration is its own work plus whatever it still awaits once all have started, so
  // none is charged for the others' work.
  async function settle(
    { collector, collecting, syncMs }: Call,
    deadline: Promise<never>,
    allStarted: number,
  ): Promise<[CollectorName, unknown, CollectorTiming]> {
    const durationSoFar = (): number => syncMs + (now() - allStarted);
    try {
      const payload = await Promise.race([collecting, deadline]);
      const durationMs = durationSoFar();
      const error = payload.available ? null : payload.error;
      noteOutcome(collector.name, error);
      return [collector.name, payload, { durationMs, ok: payload.available }];
    } catch (err) {
      const durationMs = durationSoFar();
      const error =
        err instanceof CollectorTimeout
          ? `timed out after ${timeoutMs} ms`
          : err instanceof Error
            ? err.message
            : String(err);
      noteOutcome(collector.name, error);
      return [collector.name, { available: false, error }, { durationMs, ok: false }];
    }
  }

  let priming: Promise<void> | undefined;
  let primeStartedAt: number | null = null;
  async function primeAll(): Promise<void> {
    primeStartedAt = now();
    await Promise.all(
      collectors.map(async (collector) => {
        try {
          await collector.prime?.();
        } catch (err) {
          // collect() reports the same failure as a value every tick; priming only logs it.
          logger.warn({ collector: collector.name, err }, 'collector failed to prime');
        }
      }),
    );
  }

  return {
    prime() {
      // Once: main.ts starts priming before the API's modules load, the sampler's start awaits it.
      priming ??= primeAll();
      return priming;
    },
    primeStartedAt: () => primeStartedAt,

    async collect() {
      const started = now();
      // One deadline for the tick: every collector starts within it.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new CollectorTimeout()), timeoutMs);
      });
      const calls = collectors.map(call);
      const allStarted = now();
      const results = await Promise.all(calls.map((c) => settle(c, deadline, allStarted)));
      clearTimeout(timer);
      const collectDurationMs = now() - started;
      const payloads: Record<string, unknown> = {};
      const timings: Partial<Record<CollectorName, CollectorTiming>> = {};
      for (const name of COLLECTOR_NAMES) {
        if (!enabled.has(name))
          payloads[name] = { available: false, error: 'disabled by COLLECTORS' };
      }
      for (const [name, payload, timing] of results) {
        payloads[name] = payload;
        timings[name] = { durationMs: Math.round(timing.durationMs * 100) / 100, ok: timing.ok };
      }
      return { payloads: payloads as unknown as CollectorPayloads, timings, collectDurationMs };
    },

    async stop() {
      await Promise.all(collectors.map((collector) => collector.stop?.()));
    },
  };
}
