import { describe, expect, it } from 'vitest';
import { SeriesRing } from './series-ring';

function ringOf(capacity: number, times: number[]): SeriesRing {
  const ring = new SeriesRing(capacity);
  for (const t of times) ring.add(t, t * 10);
  return ring;
}

const timesOf = (ring: SeriesRing) => ring.toPoints().map(([t]) => t);

describe('SeriesRing', () => {
  it('keeps the newest points once full, oldest first', () => {
    const ring = ringOf(3, [1, 2, 3, 4, 5]);
    expect(ring.length).toBe(3);
    expect(ring.toPoints()).toEqual([
      [3, 30],
      [4, 40],
      [5, 50],
    ]);
    expect([ring.firstTime, ring.lastTime, ring.lastValue]).toEqual([3, 5, 50]);
  });

  it('never holds more than its capacity, however many points arrive', () => {
    const ring = new SeriesRing(100);
    for (let t = 0; t < 10_000; t++) ring.add(t, t);
    expect(ring.length).toBe(100);
    expect([ring.firstTime, ring.lastTime]).toEqual([9900, 9999]);
  });

  it('inserts an older point where it belongs, across the wrap-around', () => {
    const ring = ringOf(6, [1, 2, 3, 5, 8, 9, 10]); // wrapped: holds 2 3 5 8 9 10
    expect(ring.add(4, 40)).toBe(true); // full: the oldest (2) makes room
    expect(timesOf(ring)).toEqual([3, 4, 5, 8, 9, 10]);
    expect(ring.valueAt(1)).toBe(40);
    ring.dropBefore(4);
    expect(ring.add(6, 60)).toBe(true);
    expect(ring.add(7, 70)).toBe(true);
    expect(timesOf(ring)).toEqual([5, 6, 7, 8, 9, 10]);
  });

  it('skips a point already held and one older than a full ring', () => {
    const ring = ringOf(3, [5, 6, 7]);
    expect(ring.add(6, 999)).toBe(false);
    expect(ring.add(4, 40)).toBe(false);
    expect(ring.toPoints()).toEqual([
      [5, 50],
      [6, 60],
      [7, 70],
    ]);
  });

  it('skips points that are not finite numbers', () => {
    const ring = new SeriesRing(3);
    expect(ring.add(Number.NaN, 1)).toBe(false);
    expect(ring.add(1, Number.POSITIVE_INFINITY)).toBe(false);
    expect(ring.length).toBe(0);
  });

  it('drops points before a time and finds points in a span', () => {
    const ring = ringOf(10, [10, 20, 30, 40]);
    expect(ring.hasPointIn(15, 20)).toBe(false);
    expect(ring.hasPointIn(15, 21)).toBe(true);
    expect(ring.dropBefore(25)).toBe(2);
    expect(timesOf(ring)).toEqual([30, 40]);
    expect(ring.dropBefore(100)).toBe(2);
    expect(ring.length).toBe(0);
    expect(ring.firstTime).toBeUndefined();
    ring.add(50, 1);
    expect(timesOf(ring)).toEqual([50]);
  });

  it('resizes, keeping the newest points that fit', () => {
    const ring = ringOf(4, [1, 2, 3, 4, 5, 6]);
    ring.resize(2);
    expect(timesOf(ring)).toEqual([5, 6]);
    ring.resize(5);
    ring.add(7, 70);
    ring.add(8, 80);
    expect(timesOf(ring)).toEqual([5, 6, 7, 8]);
    expect(ring.capacity).toBe(5);
  });

  it('refuses a capacity below 1', () => {
    expect(() => new SeriesRing(0)).toThrow(RangeError);
    expect(() => ringOf(2, []).resize(1.5)).toThrow(RangeError);
  });
});
