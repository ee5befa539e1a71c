/**
 * Keeps a counter source's previous reading, so each `next()` yields the two readings and
 * the real time between them that a rate needs. The time is taken on the monotonic clock
 * when each read completes.
 *
 * Without a baseline (`prime()` never called) the first pair is the reading with itself:
 * 0 ms elapsed, so every rate is 0 rather than a throw.
 */
export function createCounterPair<T>(read: () => Promise<T>, now: () => number) {
  let previous: { value: T; at: number } | null = null;

  async function take(): Promise<{ value: T; at: number }> {
    const value = await read();
    return { value, at: now() };
  }

  return {
    async prime(): Promise<void> {
      previous = await take();
    },
    async next(): Promise<{ previous: T; current: T; elapsedMs: number }> {
      const current = await take();
      const base = previous ?? current;
      previous = current;
      return { previous: base.value, current: current.value, elapsedMs: current.at - base.at };
    },
  };
}

export type CounterPair<T> = ReturnType<typeof createCounterPair<T>>;

/**
 * `createCounterPair` for a source read synchronously (procfs files): the same promises,
 * without a promise per reading.
 */
export function createSyncCounterPair<T>(read: () => T, now: () => number) {
  let previous: { value: T; at: number } | null = null;

  function take(): { value: T; at: number } {
    const value = read();
    return { value, at: now() };
  }

  return {
    prime(): void {
      previous = take();
    },
    next(): { previous: T; current: T; elapsedMs: number } {
      const current = take();
      const base = previous ?? current;
      previous = current;
      return { previous: base.value, current: current.value, elapsedMs: current.at - base.at };
    },
  };
}
