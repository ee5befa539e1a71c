import type { Snapshot } from '@livestat/contracts';
import type { SelfMeter } from './collectors/self-meter.js';
import type { Aggregator } from './collectors/aggregator.js';
import type { Logger } from './logger.js';

export type SnapshotSubscriber = (snapshot: Snapshot) => void;

export interface SamplerOptions {
  host: string;
  intervalMs: number;
  aggregator: Aggregator;
  agent: SelfMeter;
  logger: Logger;
  /** Monotonic clock in ms, for the schedule. */
  now?: () => number;
  /** Wall clock in epoch ms, for snapshot timestamps. */
  wallClock?: () => number;
}

export interface SamplerStats {
  seq: number;
  /** Slots skipped since start, counted when the overrunning tick ends. */
  skippedTicks: number;
  /**
   * Slots skipped within the last {@link SKIPPED_TICKS_WINDOW_MS}, plus those a tick still
   * running (or a timer held up by a blocked event loop) is missing right now: a hung collector
   * shows here before it returns.
   */
  skippedTicksLastMinute: number;
  lastSnapshot: Snapshot | null;
}

/** The span of {@link SamplerStats.skippedTicksLastMinute}. */
export const SKIPPED_TICKS_WINDOW_MS = 60_000;

/**
 * The tick loop: collect → snapshot → every subscriber.
 *
 * Tick n is due at start + n·interval on the monotonic clock, so the schedule never drifts
 * however long each tick takes. A tick that overruns is never stacked or run twice: the
 * missed slots are skipped (and counted) and the next tick waits for the next free slot.
 * `seq` numbers the snapshots produced, from 1.
 */
export function createSampler(options: SamplerOptions) {
  const { host, intervalMs, aggregator, agent, logger } = options;
  const now = options.now ?? (() => performance.now());
  const wallClock = options.wallClock ?? (() => Date.now());
  const subscribers = new Set<SnapshotSubscriber>();

  let startedAt = 0;
  let nextTick = 1;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let inFlight: Promise<void> | null = null;
  const stats = { seq: 0, skippedTicks: 0, lastSnapshot: null as Snapshot | null };
  // When (monotonic ms) and how many slots were skipped, oldest first, pruned past the window.
  const recentSkips: { at: number; count: number }[] = [];

  function schedule(): void {
    if (!running) return;
    const delay = Math.max(0, startedAt + nextTick * intervalMs - now());
    timer = setTimeout(() => {
      inFlight = tick().finally(() => {
        inFlight = null;
      });
    }, delay);
  }

  async function tick(): Promise<void> {
    const wallAt = wallClock();
    try {
      const result = await aggregator.collect();
      if (!running) return;
      const snapshot: Snapshot = {
        type: 'snapshot',
        host,
        seq: ++stats.seq,
        timestamp: new Date(wallAt).toISOString(),
        intervalMs,
        ...result.payloads,
        agent: agent.measure(result.timings, result.collectDurationMs),
      };
      stats.lastSnapshot = snapshot;
      publish(snapshot);
    } catch (err) {
      // The aggregator isolates collector failures; reaching here is a bug, not a bad tick.
      logger.error({ err }, 'sampler tick failed');
    } finally {
      advance();
      schedule();
    }
  }

  function advance(): void {
    const elapsedTicks = Math.floor((now() - startedAt) / intervalMs);
    const due = nextTick + 1;
    if (elapsedTicks >= due) {
      const skipped = elapsedTicks - nextTick;
      stats.skippedTicks += skipped;
      recentSkips.push({ at: now(), count: skipped });
      logger.warn({ skipped, intervalMs }, 'sampler overran its interval; skipping missed ticks');
      nextTick = elapsedTicks + 1;
    } else {
      nextTick = due;
    }
  }

  function publish(snapshot: Snapshot): void {
    for (const subscriber of subscribers) {
      try {
        subscriber(snapshot);
      } catch (err) {
        logger.error({ err }, 'snapshot subscriber failed');
      }
    }
  }

  return {
    /** Adds a subscriber; returns the function that removes it. */
    subscribe(subscriber: SnapshotSubscriber): () => void {
      subscribers.add(subscriber);
      return () => subscribers.delete(subscriber);
    },

    /**
     * Primes the collectors, then ticks every interval: tick 1 one interval after the
     * baselines were read, so at once when priming itself took that long (perf's child
     * waiting for its first interval).
     */
    async start(): Promise<void> {
      if (running) return;
      await aggregator.prime();
      running = true;
      const primedAt = aggregator.primeStartedAt?.() ?? now();
      startedAt = Math.max(primedAt, now() - intervalMs);
      nextTick = 1;
      schedule();
    },

    /** Stops ticking and waits for a tick in flight; collectors stay owned by the caller. */
    async stop(): Promise<void> {
      running = false;
      clearTimeout(timer);
      await inFlight;
    },

    /** The counters so far, read at call time: a fresh object, safe to keep. */
    stats(): Readonly<SamplerStats> {
      const at = now();
      while ((recentSkips[0]?.at ?? at) <= at - SKIPPED_TICKS_WINDOW_MS) {
        recentSkips.shift();
      }
      let skippedTicksLastMinute = 0;
      for (const skip of recentSkips) skippedTicksLastMinute += skip.count;
      // Slot `nextTick` is being served (or is due); every slot elapsed beyond it is being missed.
      if (running) {
        const elapsedTicks = Math.floor((at - startedAt) / intervalMs);
        skippedTicksLastMinute += Math.max(0, elapsedTicks - nextTick);
      }
      return { ...stats, skippedTicksLastMinute };
    },
  };
}

export type Sampler = ReturnType<typeof createSampler>;
