import { describe, expect, it } from 'vitest';
import { NO_VALUE, formatBytes, formatDuration } from './format';

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
