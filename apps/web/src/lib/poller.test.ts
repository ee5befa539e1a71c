import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPoller } from './poller';

describe('createPoller', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs at once, then every interval after each run settles', async () => {
    const task = vi.fn(async () => {});
    const poller = createPoller(task, 5000);
    poller.start();
    expect(task).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(4999);
    expect(task).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(task).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(task).toHaveBeenCalledTimes(4);
    poller.stop();
  });

  it('waits for a slow run before counting the interval', async () => {
    const task = vi.fn(() => new Promise<void>((resolve) => setTimeout(resolve, 3000)));
    const poller = createPoller(task, 5000);
    poller.start();
    await vi.advanceTimersByTimeAsync(7999);
    expect(task).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(task).toHaveBeenCalledTimes(2);
    poller.stop();
  });

  it('keeps polling after a run rejects', async () => {
    const task = vi.fn(async () => {
      throw new Error('boom');
    });
    const poller = createPoller(task, 1000);
    poller.start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(task).toHaveBeenCalledTimes(3);
    poller.stop();
  });

  it('stops: clears the timer and aborts the run in flight', async () => {
    const signals: AbortSignal[] = [];
    const task = vi.fn(
      (signal: AbortSignal) =>
        new Promise<void>((resolve) => {
          signals.push(signal);
          setTimeout(resolve, 3000);
        }),
    );
    const poller = createPoller(task, 1000);
    poller.start();
    poller.stop();
    expect(poller.running).toBe(false);
    expect(signals[0]?.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(task).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never runs two chains after a stop and start during a run', async () => {
    const task = vi.fn(() => new Promise<void>((resolve) => setTimeout(resolve, 500)));
    const poller = createPoller(task, 1000);
    poller.start();
    poller.stop();
    poller.start();
    expect(task).toHaveBeenCalledTimes(2);
    // Both runs settle at 500 ms; only the second chain schedules the next run, at 1500 ms.
    await vi.advanceTimersByTimeAsync(1500);
    expect(task).toHaveBeenCalledTimes(3);
    poller.stop();
  });

  it('rejects an interval that is not a positive number', () => {
    const task = async () => {};
    expect(() => createPoller(task, 0)).toThrow(RangeError);
    expect(() => createPoller(task, Number.NaN)).toThrow(RangeError);
  });
});
