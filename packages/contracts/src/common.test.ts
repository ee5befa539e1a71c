import { describe, expect, it } from 'vitest';
import { containsNul, isoTimestamp, isStorableTime, MAX_TIME_MS, MIN_TIME_MS } from './common.js';
import { makeExampleSnapshot } from './examples.js';

describe('isoTimestamp', () => {
  it('accepts years 0001 to 9999 and refuses year 0000, naming the range', () => {
    expect(isoTimestamp.parse('0001-01-01T00:00:00.000Z')).toBe('0001-01-01T00:00:00.000Z');
    expect(isoTimestamp.parse('9999-12-31T23:59:59.999Z')).toBe('9999-12-31T23:59:59.999Z');
    const result = isoTimestamp.safeParse('0000-01-01T00:00:00.000Z');
    expect(result.error?.issues.map((issue) => issue.message)).toEqual([
      'must be between years 0001 and 9999',
    ]);
  });

  it('reports a value that is no time at all once, as a bad format', () => {
    expect(isoTimestamp.safeParse('yesterday').error?.issues).toHaveLength(1);
  });
});

describe('isStorableTime', () => {
  it('holds for the bounds and nothing beyond them', () => {
    expect([MIN_TIME_MS, MAX_TIME_MS].map(isStorableTime)).toEqual([true, true]);
    expect([MIN_TIME_MS - 1, MAX_TIME_MS + 1, Number.NaN, 1.5].map(isStorableTime)).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});

describe('containsNul', () => {
  it('finds a NUL in a key or a string at any depth, and nothing in a clean snapshot', () => {
    const snapshot = makeExampleSnapshot();
    expect(containsNul(snapshot)).toBe(false);
    expect(containsNul({ a: [{ b: 'x\u0000' }] })).toBe(true);
    expect(containsNul({ a: { 'eth\u00000': 1 } })).toBe(true);
    expect(containsNul([1, null, true, 'ok'])).toBe(false);
  });
});
