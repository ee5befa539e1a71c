import { snapshot as snapshotSchema, type Snapshot } from '@livestat/contracts';
import { exampleSnapshot } from '@livestat/contracts/examples';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSelfMeter } from './collectors/self-meter.js';
import type { AggregateResult, Aggregator } from './collectors/aggregator.js';
import { createSampler } from './sampler.js';

const logger = pino({ level: 'silent' });

/** An aggregator whose collect() takes `durations[i]` fake ms on call i and records its start times. */
function scriptedAggregator(durations: number[]) {
  const startedAt: number[] = [];
  let concurrent = 0;
  let maxConcurrent = 0;
  const {
    type: _type,
    host: _host,
    seq: _seq,
    timestamp: _ts,
    intervalMs: _i,
    agent: _a,
    ...payloads
  } = exampleSnapshot;
  const aggregator: Aggregator = {
    prime: vi.fn(async () => {}),
    stop: vi.fn(async () => {}),
    async collect(): Promise<AggregateResult> {
      const call = startedAt.length;
      startedAt.push(Date.now());
      concurrent += 1;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await new Promise((resolve) => setTimeout(resolve, durations[call] ?? 10));
      concurrent -= 1;
      return { payloads, timings: { cpu: { durationMs: 1, ok: true } }, collectDurationMs: 1 };
    },
  };
  return { aggregator, startedAt, maxConcurrent: () => maxConcurrent };
}

function makeSampler(aggregator: Aggregator, intervalMs = 1000) {
  return createSampler({
    host: 'test-host',
    intervalMs,
    aggregator,
    agent: createSelfMeter({
      now: () => Date.now(),
      cpuUsage: () => ({ user: 0, system: 0 }),
      memoryUsage: () => ({ rss: 1, heapUsed: 1 }),
    }),
    logger,
    now: () => Date.now(),
    wallClock: () => Date.now(),
  });
}

describe('sampler schedule', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_700_000_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts tick n at start + n·interval whatever each tick costs (no drift)', async () => {
    const { aggregator, startedAt } = scriptedAggregator([100, 900, 5, 999, 250]);
    const sampler = makeSampler(aggregator);
    const t0 = Date.now();
    await sampler.start();
    await vi.advanceTimersByTimeAsync(5_500);
    await sampler.stop();
    expect(startedAt.map((t) => t - t0)).toEqual([1000, 2000, 3000, 4000, 5000]);
    expect(sampler.stats().skippedTicks).toBe(0);
  });

  it('works at the seeds’ 0.5 s and 5 s intervals', async () => {
    for (const intervalMs of [500, 5000]) {
      const { aggregator, startedAt } = scriptedAggregator([]);
      const sampler = makeSampler(aggregator, intervalMs);
      const t0 = Date.now();
      await sampler.start();
      // Past the third tick's 10 ms of work, so none is left in flight.
      await vi.advanceTimersByTimeAsync(intervalMs * 3 + 50);
      await sampler.stop();
      expect(startedAt.map((t) => t - t0)).toEqual([intervalMs, 2 * intervalMs, 3 * intervalMs]);
    }
  });

  it('never stacks or repeats a slow tick: missed slots are skipped and counted', async () => {
    const { aggregator, startedAt, maxConcurrent } = scriptedAggregator([10, 2500, 10, 10]);
    const sampler = makeSampler(aggregator);
    const t0 = Date.now();
    await sampler.start();
    await vi.advanceTimersByTimeAsync(6_100);
    await sampler.stop();
    // Tick 2 runs 2000–4500, so the slots at 3000 and 4000 are skipped; the grid is kept.
    expect(startedAt.map((t) => t - t0)).toEqual([1000, 2000, 5000, 6000]);
    expect(maxConcurrent()).toBe(1);
    expect(sampler.stats().skippedTicks).toBe(2);
  });

  it('reports skipped ticks over the last minute, and slots a hung tick is missing right now', async () => {
    const { aggregator } = scriptedAggregator([10, 2500, 10, 10, 10, 10]);
    const sampler = makeSampler(aggregator);
    await sampler.start();
    // Tick 2 began at 2000 and is still collecting at 4200: the slots of 3000 and 4000 are lost.
    await vi.advanceTimersByTimeAsync(4_200);
    expect(sampler.stats()).toMatchObject({ skippedTicks: 0, skippedTicksLastMinute: 2 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(sampler.stats()).toMatchObject({ skippedTicks: 2, skippedTicksLastMinute: 2 });
    // A minute after the overrun ended, health forgets it; the lifetime total does not.
    await vi.advanceTimersByTimeAsync(59_000);
    expect(sampler.stats()).toMatchObject({ skippedTicks: 2, skippedTicksLastMinute: 2 });
    await vi.advanceTimersByTimeAsync(1_000);
    await sampler.stop();
    expect(sampler.stats()).toMatchObject({ skippedTicks: 2, skippedTicksLastMinute: 0 });
  });

  it('numbers snapshots from 1 with ISO millisecond timestamps that pass the contract', async () => {
    const { aggregator } = scriptedAggregator([]);
    const sampler = makeSampler(aggregator);
    const seen: Snapshot[] = [];
    sampler.subscribe((s) => seen.push(s));
    await sampler.start();
    await vi.advanceTimersByTimeAsync(3_050);
    await sampler.stop();
    expect(seen.map((s) => s.seq)).toEqual([1, 2, 3]);
    expect(seen[0]?.timestamp).toBe(new Date(1_700_000_001_000).toISOString());
    for (const s of seen) expect(snapshotSchema.parse(s)).toEqual(s);
    expect(sampler.stats().lastSnapshot?.seq).toBe(3);
  });

  it('isolates a throwing subscriber from the others, and unsubscribe works', async () => {
    const { aggregator } = scriptedAggregator([]);
    const sampler = makeSampler(aggregator);
    const good: number[] = [];
    const removed: number[] = [];
    sampler.subscribe(() => {
      throw new Error('boom');
    });
    sampler.subscribe((s) => good.push(s.seq));
    const off = sampler.subscribe((s) => removed.push(s.seq));
    await sampler.start();
    await vi.advanceTimersByTimeAsync(1_050);
    off();
    await vi.advanceTimersByTimeAsync(1_000);
    await sampler.stop();
    expect(good).toEqual([1, 2]);
    expect(removed).toEqual([1]);
  });

  it('stop() waits for the tick in flight and no tick runs after it', async () => {
    const { aggregator, startedAt } = scriptedAggregator([10, 800]);
    const sampler = makeSampler(aggregator);
    const seen: number[] = [];
    sampler.subscribe((s) => seen.push(s.seq));
    await sampler.start();
    await vi.advanceTimersByTimeAsync(2_100);
    const stopped = sampler.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    await stopped;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(startedAt).toHaveLength(2);
    // The tick cut off by stop() publishes nothing half-done.
    expect(seen).toEqual([1]);
    expect(aggregator.prime).toHaveBeenCalledTimes(1);
  });
});
