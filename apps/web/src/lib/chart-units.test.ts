import { describe, expect, it } from 'vitest';
import { formatAxisValue, formatValue, niceByteStep } from './chart-units';
import { NO_VALUE } from './format';

describe('units', () => {
  it('writes tooltip values in the unit of the chart', () => {
    expect(formatValue('percent', 12.345)).toBe('12.3 %');
    expect(formatValue('bytes', 1536)).toBe('1.50 KiB');
    expect(formatValue('byteRate', 15234.5)).toBe('14.9 KiB/s');
    expect(formatValue('rate', 1843.6)).toBe('1.84 k/s');
    expect(formatValue('count', 2.4e9)).toBe('2.40 G');
    expect(formatValue('ratio', 1.234)).toBe('1.23');
    expect(formatValue('bytes', null)).toBe(NO_VALUE);
  });

  it('writes axis ticks shorter where it can', () => {
    expect(formatAxisValue('percent', 50)).toBe('50 %');
    expect(formatAxisValue('ratio', 1.5)).toBe('1.5');
    expect(formatAxisValue('ratio', 2)).toBe('2');
    expect(formatAxisValue('byteRate', 2 * 1024 * 1024)).toBe('2 MiB/s');
    expect(formatAxisValue('bytes', 1536)).toBe('1.5 KiB');
    expect(formatAxisValue('bytes', 1.25 * 1024 ** 3)).toBe('1.25 GiB');
    expect(formatAxisValue('bytes', 500 * 1024)).toBe('500 KiB');
    expect(formatAxisValue('rate', 2000)).toBe('2 k/s');
    expect(formatAxisValue('rate', 0.1)).toBe('0.1 /s');
    expect(formatAxisValue('count', 1500)).toBe('1.5 k');
    // A count without a prefix too: an application's gauge at 60 reads `60`, not `60.0`.
    expect(formatAxisValue('count', 60)).toBe('60');
    expect(formatAxisValue('count', 0.5)).toBe('0.5');
    expect(formatAxisValue('count', 100)).toBe('100');
  });

  it('steps byte axes by round binary values', () => {
    const MiB = 1024 ** 2;
    expect(niceByteStep(2.86 * MiB)).toBe(MiB);
    expect(niceByteStep(5.72 * MiB)).toBe(2 * MiB);
    expect(niceByteStep(500)).toBe(256);
    expect(niceByteStep(600 * 1024)).toBe(256 * 1024);
    expect(niceByteStep(1000 * 1024)).toBe(512 * 1024);
    expect(niceByteStep(23.5 * 1024 ** 3)).toBe(8 * 1024 ** 3);
    expect(niceByteStep(0.5)).toBe(1);
    expect(niceByteStep(0)).toBeUndefined();
    expect(niceByteStep(Number.NaN)).toBeUndefined();
  });
});
