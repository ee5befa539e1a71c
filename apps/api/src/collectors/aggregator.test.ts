import type { CollectorName, CollectorPayloads } from '@livestat/contracts';
import { exampleSnapshot } from '@livestat/contracts/examples';
import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createAggregator } from './aggregator.js';
import type { Collector } from './types.js';

function fixed<K extends CollectorName>(
  name: K,
  collect: () => Promise<CollectorPayloads[K]>,
): Collector<K> {
  return { name, collect, prime: vi.fn(async () => {}), stop: vi.fn(async () => {}) };
}

function recordingLogger() {
  const lines: { level: number; msg: string; collector?: string; error?: string }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('aggregator', () => {
  it('runs collectors concurrently and times each', async () => {
    const { logger } = recordingLogger();
    const started: string[] = [];
    const slow = (name: 'cpu' | 'memory') =>
      fixed(name, async () => {
        started.push(name);
        await new Promise((r) => setTimeout(r, 60));
        return exampleSnapshot[name];
      });
    const aggregator = createAggregator({
      collectors: [slow('cpu'), slow('memory')],
      now: () => performance.now(),
      timeoutMs: 5000,
      logger,
    });
    const collecting = aggregator.collect();
    // Both have started before either finished: they run side by side.
    await new Promise((r) => setTimeout(r, 20));
    expect(started).toEqual(['cpu', 'memory']);
    const result = await collecting;
    expect(result.payloads.cpu).toEqual(exampleSnapshot.cpu);
    expect(result.timings.cpu?.durationMs).toBeGreaterThanOrEqual(50);
    expect(result.timings.memory?.ok).toBe(true);
    // Concurrent: the whole takes about one collector's time, not the sum.
    expect(result.collectDurationMs).toBeLessThan(
      result.timings.cpu!.durationMs + result.timings.memory!.durationMs,
    );
  });

  it('turns a throw or a hang into available:false and keeps the others', async () => {
    const { logger } = recordingLogger();
    const aggregator = createAggregator({
      collectors: [
        fixed('cpu', async () => exampleSnapshot.cpu),
        fixed('disk', async () => {
          throw new Error('cannot read /proc/diskstats: not found');
        }),
        fixed('network', () => new Promise(() => {})),
      ],
      now: () => performance.now(),
      timeoutMs: 50,
      logger,
    });
    const { payloads, timings } = await aggregator.collect();
    expect(payloads.cpu).toEqual(exampleSnapshot.cpu);
    expect(payloads.disk).toEqual({
      available: false,
      error: 'cannot read /proc/diskstats: not found',
    });
    expect(payloads.network).toEqual({ available: false, error: 'timed out after 50 ms' });
    expect(timings.disk?.ok).toBe(false);
    expect(timings.network?.ok).toBe(false);
  });

  it('reports collectors left out of COLLECTORS as disabled, without timing them', async () => {
    const { logger } = recordingLogger();
    const aggregator = createAggregator({
      collectors: [fixed('memory', async () => exampleSnapshot.memory)],
      now: () => performance.now(),
      timeoutMs: 1000,
      logger,
    });
    const { payloads, timings } = await aggregator.collect();
    for (const name of ['cpu', 'network', 'disk', 'perf', 'bandwidth'] as const) {
      expect(payloads[name]).toEqual({ available: false, error: 'disabled by COLLECTORS' });
    }
    expect(Object.keys(timings)).toEqual(['memory']);
  });

  it('logs a failure when it starts, changes and ends — not every tick', async () => {
    const { logger, lines } = recordingLogger();
    const errors = ['a', 'a', 'a', 'b', null, null];
    let call = 0;
    const aggregator = createAggregator({
      collectors: [
        fixed('cpu', async () => {
          const error = errors[call++];
          if (error) throw new Error(error);
          return exampleSnapshot.cpu;
        }),
      ],
      now: () => performance.now(),
      timeoutMs: 1000,
      logger,
    });
    for (let i = 0; i < errors.length; i++) await aggregator.collect();
    expect(lines.map((l) => [l.msg, l.error])).toEqual([
      ['collector unavailable', 'a'],
      ['collector unavailable', 'b'],
      ['collector recovered', undefined],
    ]);
  });

  it('primes and stops every collector, even when one fails to prime', async () => {
    const { logger, lines } = recordingLogger();
    const ok = fixed('cpu', async () => exampleSnapshot.cpu);
    const bad = fixed('memory', async () => exampleSnapshot.memory);
    bad.prime = vi.fn(async () => {
      throw new Error('no meminfo');
    });
    const aggregator = createAggregator({
      collectors: [ok, bad],
      now: () => 0,
      timeoutMs: 1000,
      logger,
    });
    await aggregator.prime();
    await aggregator.stop();
    expect(ok.prime).toHaveBeenCalledOnce();
    expect(ok.stop).toHaveBeenCalledOnce();
    expect(bad.stop).toHaveBeenCalledOnce();
    expect(
      lines.some((l) => l.msg === 'collector failed to prime' && l.collector === 'memory'),
    ).toBe(true);
  });
});
