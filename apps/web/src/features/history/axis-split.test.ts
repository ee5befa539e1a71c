import { describe, expect, it } from 'vitest';
import { seriesPeak, splitAxes } from './axis-split';

describe('splitAxes', () => {
  it('keeps series of like magnitude on one axis', () => {
    expect(splitAxes([1200, 900])).toEqual([0, 0]);
    // 20 × apart is still one axis; rx and tx of a quiet link share it.
    expect(splitAxes([2000, 100])).toEqual([0, 0]);
    expect(splitAxes([5])).toEqual([0]);
    expect(splitAxes([])).toEqual([]);
  });

  it('gives page faults and migrations an axis each', () => {
    // context switches, migrations, page faults a second
    expect(splitAxes([8000, 12, 45_000])).toEqual([0, 1, 0]);
  });

  it('splits where the peaks are furthest apart', () => {
    expect(splitAxes([1e6, 5e5, 100, 50])).toEqual([0, 0, 1, 1]);
    expect(splitAxes([1e6, 2e3, 1e3])).toEqual([0, 1, 1]);
  });

  it('lets a series with no data decide nothing', () => {
    expect(splitAxes([0, 300, 200])).toEqual([0, 0, 0]);
    expect(splitAxes([0, 3000, 2])).toEqual([0, 0, 1]);
  });
});

describe('seriesPeak', () => {
  it('is the highest bucket max, or avg where max is missing, 0 with no data', () => {
    expect(
      seriesPeak([
        [0, 1, 0, 4],
        [1, null, null, null],
        [2, 7, 5, null],
      ]),
    ).toBe(7);
    expect(seriesPeak([[0, null, null, null]])).toBe(0);
    expect(seriesPeak([])).toBe(0);
  });
});
