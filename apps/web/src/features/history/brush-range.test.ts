import { describe, expect, it } from 'vitest';
import { brushRange, pointRange } from './brush-range';

const T = Date.UTC(2025, 2, 14, 3, 12);

describe('brushRange', () => {
  it('reads the time range of an ECharts lineX brush, earliest first, in whole ms', () => {
    expect(
      brushRange({ areas: [{ brushType: 'lineX', coordRange: [T + 60_000.4, T + 0.6] }] }),
    ).toEqual({
      from: T,
      to: T + 60_001,
    });
  });

  it('is null for a cleared brush, a malformed event, or less than a second', () => {
    expect(brushRange({ areas: [] })).toBeNull();
    expect(brushRange(null)).toBeNull();
    expect(brushRange({ areas: [{ coordRange: ['a', 'b'] }] })).toBeNull();
    expect(brushRange({ areas: [{ coordRange: [T, T + 999] }] })).toBeNull();
    expect(brushRange({ areas: [{ coordRange: [T, Number.NaN] }] })).toBeNull();
  });
});

describe('pointRange', () => {
  const bounds = { from: T - 3_600_000, to: T };

  it('asks about the clicked bucket, centred on the point', () => {
    expect(pointRange(T - 1_800_000, 60_000, bounds)).toEqual({
      from: T - 1_830_000,
      to: T - 1_770_000,
    });
  });

  it('never asks about less than ten seconds, nor outside the range shown', () => {
    expect(pointRange(T - 600_000, 1000, bounds)).toEqual({ from: T - 605_000, to: T - 595_000 });
    expect(pointRange(T - 1000, 60_000, bounds)).toEqual({ from: T - 60_000, to: T });
    expect(pointRange(bounds.from, 60_000, bounds)).toEqual({
      from: bounds.from,
      to: bounds.from + 60_000,
    });
    expect(pointRange(T, 60_000, { from: T - 5000, to: T })).toEqual({ from: T - 5000, to: T });
  });
});
