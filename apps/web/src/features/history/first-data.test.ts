import type { HistoryResponse } from '@livestat/contracts';
import { describe, expect, it } from 'vitest';
import {
  collectedWindow,
  collectingSince,
  collectingSinceText,
  firstDataTime,
  isolatedPoints,
} from './first-data';

const MINUTE = 60_000;
const NOW = new Date(2025, 5, 1, 14, 30).getTime();
const FROM = NOW - 60 * MINUTE;

/** An hour in one-minute buckets, with values only from `start` minutes in. */
function answer(start: number | null): HistoryResponse {
  return {
    host: 'vm-web-01',
    from: FROM,
    to: NOW,
    bucketMs: MINUTE,
    tier: '1m',
    series: {
      'cpu.usagePercent': Array.from({ length: 60 }, (_, i) =>
        start !== null && i >= start
          ? [FROM + i * MINUTE, 5, 1, 9]
          : [FROM + i * MINUTE, null, null, null],
      ),
      'perf.ipc': Array.from({ length: 60 }, (_, i) => [FROM + i * MINUTE, null, null, null]),
    },
  };
}

describe('collecting since', () => {
  it('says when data begins, when the range reaches back before it', () => {
    const response = answer(55);
    const first = firstDataTime(response, ['perf.ipc', 'cpu.usagePercent']);
    expect(first).toBe(FROM + 55 * MINUTE);
    const since = collectingSince({ from: FROM, to: NOW }, MINUTE, first);
    expect(since).toBe(FROM + 55 * MINUTE);
    expect(collectingSinceText(since!, NOW)).toBe('Collecting since 14:25');
  });

  it('says nothing when the range is covered from its start, or holds nothing', () => {
    const range = { from: FROM, to: NOW };
    expect(collectingSince(range, MINUTE, firstDataTime(answer(0), ['cpu.usagePercent']))).toBe(
      null,
    );
    expect(collectingSince(range, MINUTE, firstDataTime(answer(null), ['cpu.usagePercent']))).toBe(
      null,
    );
  });

  it('names the day when collection began on another one', () => {
    const since = new Date(2025, 4, 30, 9, 5).getTime();
    expect(collectingSinceText(since, NOW)).toBe('Collecting since 2025-05-30 09:05');
  });
});

describe('collectedWindow', () => {
  const base = { from: FROM, to: NOW };

  it('opens on what was collected, a bucket before it to the end', () => {
    expect(collectedWindow(base, NOW - 2 * MINUTE, 5_000)).toEqual({
      from: NOW - 2 * MINUTE - 5_000,
      to: NOW,
    });
  });

  it('keeps the whole range when the data covers most of it, or there is none', () => {
    expect(collectedWindow(base, FROM + 5 * MINUTE, MINUTE)).toBeNull();
    expect(collectedWindow(base, null, MINUTE)).toBeNull();
  });
});

describe('isolatedPoints', () => {
  it('marks a bucket with no neighbour holding a value, which a line cannot draw', () => {
    expect(
      isolatedPoints([
        [0, null, null, null],
        [1, 4, 4, 4],
        [2, null, null, null],
        [3, 1, 1, 1],
        [4, 2, 2, 2],
      ]),
    ).toEqual([false, true, false, false, false]);
    // The only bucket of a first start.
    expect(isolatedPoints([[0, 3, 3, 3]])).toEqual([true]);
  });
});
