import { describe, expect, it } from 'vitest';
import { exampleSnapshot } from './examples.js';
import { pressureMetrics } from './pressure.js';

const valid = exampleSnapshot.pressure;

describe('pressure payload', () => {
  it('accepts a kernel that prints no `full` line for cpu (before 5.13)', () => {
    const old = { ...valid, cpu: { ...valid.cpu, full: null } };
    expect(pressureMetrics.parse(old)).toEqual(old);
  });

  it('keeps the reason a kernel without PSI gives', () => {
    const off = {
      available: false,
      error: 'PSI not available: /proc/pressure missing (kernel without CONFIG_PSI or psi=0)',
    };
    expect(pressureMetrics.parse(off)).toEqual(off);
  });

  it('rejects an average over 100 % and a negative stall rate, naming the field', () => {
    const high = { ...valid, io: { ...valid.io, some: { ...valid.io.some, avg10: 100.5 } } };
    expect(pressureMetrics.safeParse(high).error?.issues[0]?.path).toEqual(['io', 'some', 'avg10']);
    const negative = {
      ...valid,
      memory: { ...valid.memory, some: { ...valid.memory.some, stallMsPerSec: -1 } },
    };
    expect(pressureMetrics.safeParse(negative).error?.issues[0]?.path).toEqual([
      'memory',
      'some',
      'stallMsPerSec',
    ]);
  });

  it('rejects a resource without its `some` line', () => {
    const missing = { ...valid, cpu: { full: valid.cpu.full } };
    expect(pressureMetrics.safeParse(missing).error?.issues[0]?.path).toEqual(['cpu', 'some']);
  });
});
