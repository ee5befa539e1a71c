import { describe, expect, it } from 'vitest';
import { createCounterPair } from './counter-pair.js';

describe('createCounterPair', () => {
  it('pairs each reading with the one before and the time between them', async () => {
    const readings = [10, 25, 40];
    const times = [100, 1100, 3100];
    const pair = createCounterPair(
      async () => readings.shift()!,
      () => times.shift()!,
    );
    await pair.prime();
    expect(await pair.next()).toEqual({ previous: 10, current: 25, elapsedMs: 1000 });
    expect(await pair.next()).toEqual({ previous: 25, current: 40, elapsedMs: 2000 });
  });

  it('compares the first reading with itself when never primed', async () => {
    const pair = createCounterPair(
      async () => 7,
      () => 50,
    );
    expect(await pair.next()).toEqual({ previous: 7, current: 7, elapsedMs: 0 });
  });
});
