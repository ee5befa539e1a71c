import { describe, expect, it } from 'vitest';
import { counterRate, percentOf, round } from './rates.js';

describe('counterRate', () => {
  it('divides the delta by the real elapsed time', () => {
    expect(counterRate(1000, 3000, 500)).toBe(4000);
    expect(counterRate(0, 1, 2000)).toBe(0.5);
  });

  it('reports 0, never a negative or huge rate, when the counter went backwards', () => {
    expect(counterRate(2 ** 32 - 10, 5, 1000)).toBe(0);
    expect(counterRate(9_000_000_000, 100, 1000)).toBe(0);
  });

  it('reports 0 when no time passed or time went backwards', () => {
    expect(counterRate(0, 100, 0)).toBe(0);
    expect(counterRate(0, 100, -5)).toBe(0);
    expect(counterRate(0, 100, Number.NaN)).toBe(0);
  });
});

describe('percentOf', () => {
  it('clamps to 0..100 and guards a zero whole', () => {
    expect(percentOf(25, 200)).toBe(12.5);
    expect(percentOf(300, 200)).toBe(100);
    expect(percentOf(-1, 200)).toBe(0);
    expect(percentOf(5, 0)).toBe(0);
  });
});

describe('round', () => {
  it('keeps the given number of decimals', () => {
    expect(round(1.23456)).toBe(1.23);
    expect(round(1.23456, 3)).toBe(1.235);
  });
});
