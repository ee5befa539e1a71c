import { describe, expect, it } from 'vitest';
import {
  NO_VALUE,
  formatByteRate,
  formatBytes,
  formatCount,
  formatDecimal,
  formatDuration,
  formatMaybeBytes,
  formatPercent,
  formatRate,
  niceScale,
} from './format';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;
const PiB = 1024 * TiB;

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [0.999, '0 s'],
    [1, '1 s'],
    [59, '59 s'],
    [59.9, '59 s'],
    [60, '1 min 00 s'],
    [67, '1 min 07 s'],
    [3599, '59 min 59 s'],
    [3600, '1 h 00 min'],
    [7500, '2 h 05 min'],
    [86_399, '23 h 59 min'],
    [86_400, '1 d 00 h'],
    [3 * 86_400 + 4 * 3600 + 59 * 60, '3 d 04 h'],
    [400 * 86_400 + 3 * 3600, '400 d 03 h'],
    [10 * 365 * 86_400, '3650 d 00 h'],
  ])('formats %s s as %s', (seconds, expected) => {
    expect(formatDuration(seconds)).toBe(expected);
  });

  it('keeps the sign of a negative duration and never shows -0', () => {
    expect(formatDuration(-7500)).toBe('-2 h 05 min');
    expect(formatDuration(-5)).toBe('-5 s');
    expect(formatDuration(-0.5)).toBe('0 s');
    expect(formatDuration(-0)).toBe('0 s');
  });

  it('shows the placeholder for NaN and infinities', () => {
    expect(formatDuration(Number.NaN)).toBe(NO_VALUE);
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe(NO_VALUE);
    expect(formatDuration(Number.NEGATIVE_INFINITY)).toBe(NO_VALUE);
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [0.4, '0 B'],
    [1, '1 B'],
    [512, '512 B'],
    [1023, '1023 B'],
    [1023.6, '1.00 KiB'],
    [KiB, '1.00 KiB'],
    [1536, '1.50 KiB'],
    [10 * KiB, '10.0 KiB'],
    [99.94 * KiB, '99.9 KiB'],
    [99.96 * KiB, '100 KiB'],
    [150 * KiB, '150 KiB'],
    [1000 * KiB, '1000 KiB'],
    [MiB - 1, '1.00 MiB'],
    [MiB, '1.00 MiB'],
    [15 * MiB, '15.0 MiB'],
    [GiB, '1.00 GiB'],
    [16 * GiB - 1, '16.0 GiB'],
    [768 * GiB, '768 GiB'],
    [5 * TiB, '5.00 TiB'],
    [PiB, '1.00 PiB'],
    [2048 * PiB, '2048 PiB'],
  ])('formats %s B as %s', (bytes, expected) => {
    expect(formatBytes(bytes)).toBe(expected);
  });

  it('keeps the sign of a negative count and never shows -0', () => {
    expect(formatBytes(-1536)).toBe('-1.50 KiB');
    expect(formatBytes(-1)).toBe('-1 B');
    expect(formatBytes(-0.4)).toBe('0 B');
  });

  it('shows the placeholder for NaN and infinities', () => {
    expect(formatBytes(Number.NaN)).toBe(NO_VALUE);
    expect(formatBytes(Number.POSITIVE_INFINITY)).toBe(NO_VALUE);
    expect(formatBytes(Number.NEGATIVE_INFINITY)).toBe(NO_VALUE);
  });
});

describe('formatCount and formatRate', () => {
  it.each([
    [0, '0', '0 /s'],
    [0.5, '0.500', '0.500 /s'],
    [12, '12.0', '12.0 /s'],
    [350, '350', '350 /s'],
    [999.4, '999', '999 /s'],
    [999.96, '1.00 k', '1.00 k/s'],
    [1843.6, '1.84 k', '1.84 k/s'],
    [2.4e9, '2.40 G', '2.40 G/s'],
    [1.5e18, '1.50 E', '1.50 E/s'],
  ])('formats %s as %s and %s', (value, count, rate) => {
    expect(formatCount(value)).toBe(count);
    expect(formatRate(value)).toBe(rate);
  });

  it('names the unit counted when asked', () => {
    expect(formatRate(12, 'pages')).toBe('12.0 pages/s');
    expect(formatRate(1200, 'pages')).toBe('1.20 k pages/s');
    expect(formatRate(0, 'pages')).toBe('0 pages/s');
  });

  it('keeps the sign and shows the placeholder for nothing', () => {
    expect(formatCount(-1500)).toBe('-1.50 k');
    for (const value of [null, undefined, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(formatCount(value)).toBe(NO_VALUE);
      expect(formatRate(value)).toBe(NO_VALUE);
    }
  });
});

describe('formatByteRate, formatPercent, formatDecimal, formatMaybeBytes', () => {
  it('writes bytes per second in binary units', () => {
    expect(formatByteRate(0)).toBe('0 B/s');
    expect(formatByteRate(1536)).toBe('1.50 KiB/s');
    expect(formatByteRate(15234.5)).toBe('14.9 KiB/s');
    expect(formatByteRate(null)).toBe(NO_VALUE);
  });

  it('writes percentages with a space before the sign and no -0', () => {
    expect(formatPercent(12.345)).toBe('12.3 %');
    expect(formatPercent(100)).toBe('100.0 %');
    expect(formatPercent(49.6, 0)).toBe('50 %');
    expect(formatPercent(-0.01)).toBe('0.0 %');
    expect(formatPercent(undefined)).toBe(NO_VALUE);
  });

  it('writes ratios with fixed decimals', () => {
    expect(formatDecimal(1.234)).toBe('1.23');
    expect(formatDecimal(0.42)).toBe('0.42');
    expect(formatDecimal(3.45, 1)).toBe('3.5');
    expect(formatDecimal(-0.001)).toBe('0.00');
    expect(formatDecimal(null)).toBe(NO_VALUE);
  });

  it('formats nullable byte counts', () => {
    expect(formatMaybeBytes(1536)).toBe('1.50 KiB');
    expect(formatMaybeBytes(null)).toBe(NO_VALUE);
    expect(formatMaybeBytes(undefined)).toBe(NO_VALUE);
  });
});

describe('niceScale', () => {
  /** The ticks an axis of this scale shows, written as the axis writes bytes. */
  const ticks = ({ max, interval }: { max: number; interval: number }) =>
    Array.from({ length: Math.round(max / interval) + 1 }, (_, i) => i * interval);

  it('steps bytes in their binary unit: 0, 2, 4, 6 MiB, never 2.86 / 5.72', () => {
    const scale = niceScale(5.72 * MiB, 'binary');
    expect(ticks(scale).map((v) => formatBytes(v))).toEqual([
      '0 B',
      '2.00 MiB',
      '4.00 MiB',
      '6.00 MiB',
    ]);
  });

  it('steps small byte ranges by powers of two of the unit: 0, 256, 512 KiB', () => {
    expect(ticks(niceScale(500 * KiB, 'binary'))).toEqual([0, 256 * KiB, 512 * KiB]);
    expect(ticks(niceScale(600 * KiB, 'binary'))).toEqual([0, 256 * KiB, 512 * KiB, 768 * KiB]);
    expect(niceScale(3, 'binary')).toEqual({ max: 3, interval: 1 });
    expect(niceScale(0.4, 'binary')).toEqual({ max: 1, interval: 1 });
  });

  it('steps counts and rates by 1, 2 or 5 × a power of ten', () => {
    expect(niceScale(2.86, 'decimal')).toEqual({ max: 3, interval: 1 });
    expect(niceScale(1840, 'decimal')).toEqual({ max: 2000, interval: 1000 });
    expect(niceScale(250, 'decimal')).toEqual({ max: 300, interval: 100 });
    expect(niceScale(0.3, 'decimal')).toEqual({ max: 0.3, interval: 0.1 });
    expect(niceScale(1.2, 'decimal').interval).toBe(0.5);
  });

  it('uses between half and all of the steps asked for', () => {
    for (const max of [7, 99, 1000, 12345, 3.3 * MiB, 17 * 1024 * MiB]) {
      for (const steps of ['binary', 'decimal'] as const) {
        const { max: top, interval } = niceScale(max, steps, 4);
        const count = Math.round(top / interval);
        expect(top).toBeGreaterThanOrEqual(max);
        expect(count, `${steps} ${max}`).toBeGreaterThanOrEqual(2);
        expect(count, `${steps} ${max}`).toBeLessThanOrEqual(4);
      }
    }
  });

  it('gives 0 to 1 when there is nothing to scale', () => {
    expect(niceScale(0, 'binary')).toEqual({ max: 1, interval: 1 });
    expect(niceScale(Number.NaN, 'decimal')).toEqual({ max: 1, interval: 1 });
  });
});
