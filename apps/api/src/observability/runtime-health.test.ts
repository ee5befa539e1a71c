import { describe, expect, it } from 'vitest';
import { runtimeHealthReasons } from './runtime-health.js';

const calm = { lagMs: 1.5, maxLagMs: 40, windowMs: 60_000 };

describe('runtimeHealthReasons', () => {
  it('finds nothing wrong with a punctual sampler on a calm loop', () => {
    expect(
      runtimeHealthReasons({ sampler: { skippedTicksLastMinute: 0 }, eventLoop: calm }),
    ).toEqual([]);
    // A process that does not sample (SAMPLING=off) is judged on its loop alone.
    expect(runtimeHealthReasons({ eventLoop: calm })).toEqual([]);
  });

  it('names every abnormal figure, with its value', () => {
    expect(
      runtimeHealthReasons({
        sampler: { skippedTicksLastMinute: 1 },
        eventLoop: { lagMs: 250, maxLagMs: 18_200, windowMs: 60_000 },
      }),
    ).toEqual([
      'sampler skipped 1 tick in the last minute (snapshots lost)',
      'event-loop lag p99 250 ms (over 200 ms)',
      'event loop stalled for 18.2 s in the last minute',
    ]);
    expect(
      runtimeHealthReasons({ sampler: { skippedTicksLastMinute: 127 }, eventLoop: calm }),
    ).toEqual(['sampler skipped 127 ticks in the last minute (snapshots lost)']);
  });

  it('keeps the limits themselves on the healthy side', () => {
    expect(
      runtimeHealthReasons({ eventLoop: { lagMs: 200, maxLagMs: 1000, windowMs: 60_000 } }),
    ).toEqual([]);
  });
});
