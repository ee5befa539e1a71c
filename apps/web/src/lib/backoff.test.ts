import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_BACKOFF,
  backoffCeiling,
  classifyClose,
  createBackoff,
  createOneShotTimer,
  nextDelay,
  shouldRetry,
} from './backoff';

const ALMOST_ONE = 1 - Number.EPSILON;

describe('backoffCeiling', () => {
  it('doubles from 1 s and stays at the 30 s cap', () => {
    const ceilings = Array.from({ length: 10 }, (_, i) => backoffCeiling(i + 1));
    expect(ceilings).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000,
    ]);
    expect(backoffCeiling(10_000)).toBe(30_000);
  });

  it('refuses an attempt number below 1 or with a fraction', () => {
    expect(() => backoffCeiling(0)).toThrow(RangeError);
    expect(() => backoffCeiling(1.5)).toThrow(RangeError);
  });
});

describe('nextDelay (full jitter)', () => {
  it('is 0 when the random draw is 0', () => {
    for (let attempt = 1; attempt <= 10; attempt++) expect(nextDelay(attempt, () => 0)).toBe(0);
  });

  it('stays just under the ceiling when the draw is almost 1, and never reaches it', () => {
    for (let attempt = 1; attempt <= 10; attempt++) {
      const ceiling = backoffCeiling(attempt);
      expect(nextDelay(attempt, () => ALMOST_ONE)).toBe(ceiling - 1);
      expect(nextDelay(attempt, () => 1)).toBe(ceiling - 1);
    }
  });

  it('scales the draw across the whole range', () => {
    expect(nextDelay(1, () => 0.5)).toBe(500);
    expect(nextDelay(3, () => 0.25)).toBe(1000);
    expect(nextDelay(8, () => 0.5)).toBe(15_000);
  });

  it('treats a broken random source as 0 rather than an unbounded delay', () => {
    expect(nextDelay(4, () => Number.NaN)).toBe(0);
    expect(nextDelay(4, () => -3)).toBe(0);
    expect(nextDelay(4, () => 7)).toBe(7999);
  });
});

describe('classifyClose and shouldRetry', () => {
  it.each([
    [1000, 'normal', false],
    [1001, 'retry', true],
    [1006, 'retry', true],
    [1008, 'auth', false],
    [1011, 'retry', true],
    [1013, 'retry', true],
  ] as const)('close %i is %s (retry: %s)', (code, kind, retry) => {
    expect(classifyClose(code)).toBe(kind);
    expect(shouldRetry(code, 0)).toBe(retry);
  });

  it('stops retrying after the tenth attempt', () => {
    expect(shouldRetry(1006, 9)).toBe(true);
    expect(shouldRetry(1006, 10)).toBe(false);
  });
});

describe('createBackoff', () => {
  it('counts attempts up to the limit, then gives up', () => {
    const backoff = createBackoff({}, () => ALMOST_ONE);
    const steps = Array.from({ length: 11 }, () => backoff.closed(1006));
    expect(steps.slice(0, 10)).toEqual(
      Array.from({ length: 10 }, (_, i) => ({
        action: 'retry',
        attempt: i + 1,
        delayMs: backoffCeiling(i + 1) - 1,
      })),
    );
    expect(steps[10]).toEqual({ action: 'give-up', attempts: 10 });
    expect(backoff.attempt).toBe(10);
  });

  it('starts again at attempt 1 after a successful open', () => {
    const backoff = createBackoff({}, () => 0.5);
    backoff.closed(1006);
    backoff.closed(1006);
    expect(backoff.closed(1006)).toEqual({ action: 'retry', attempt: 3, delayMs: 2000 });
    backoff.opened();
    expect(backoff.attempt).toBe(0);
    expect(backoff.closed(1001)).toEqual({ action: 'retry', attempt: 1, delayMs: 500 });
  });

  it('starts again after a manual reset, even once it has given up', () => {
    const backoff = createBackoff({ maxAttempts: 2 }, () => 0);
    backoff.closed(1006);
    backoff.closed(1006);
    expect(backoff.closed(1006)).toEqual({ action: 'give-up', attempts: 2 });
    backoff.reset();
    expect(backoff.closed(1006)).toEqual({ action: 'retry', attempt: 1, delayMs: 0 });
  });

  it('never retries 1000 or 1008, and does not count them as attempts', () => {
    const backoff = createBackoff();
    expect(backoff.closed(1000)).toEqual({ action: 'closed' });
    expect(backoff.closed(1008, 'token expired')).toEqual({
      action: 'auth-failed',
      reason: 'token expired',
    });
    expect(backoff.attempt).toBe(0);
  });

  it('refuses options that cannot make a schedule', () => {
    expect(() => createBackoff({ baseMs: 0 })).toThrow(RangeError);
    expect(() => createBackoff({ baseMs: 5000, capMs: 1000 })).toThrow(RangeError);
    expect(() => createBackoff({ maxAttempts: 1.5 })).toThrow(RangeError);
  });
});

describe('createOneShotTimer under fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs the callback when due and reports when that is', () => {
    const timer = createOneShotTimer();
    const callback = vi.fn();
    expect(timer.schedule(4000, callback)).toBe(1_004_000);
    expect(timer.dueAt).toBe(1_004_000);
    vi.advanceTimersByTime(3999);
    expect(callback).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(callback).toHaveBeenCalledTimes(1);
    expect(timer.dueAt).toBeNull();
  });

  it('keeps one pending callback: scheduling again replaces it, cancel drops it', () => {
    const timer = createOneShotTimer();
    const first = vi.fn();
    const second = vi.fn();
    timer.schedule(1000, first);
    timer.schedule(2000, second);
    vi.advanceTimersByTime(5000);
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledTimes(1);

    timer.schedule(1000, first);
    timer.cancel();
    expect(timer.dueAt).toBeNull();
    vi.advanceTimersByTime(5000);
    expect(first).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('drives a whole outage: ten jittered waits within their ceilings, then give-up', () => {
    const draws = [0, ALMOST_ONE, 0.5, 0.25, 0.75, 0.1, 0.9, 0.3, 0.6, 0.99];
    let k = 0;
    const backoff = createBackoff({}, () => draws[k++ % draws.length] ?? 0);
    const timer = createOneShotTimer();
    const startedAt = Date.now();
    const attemptsAt: number[] = [];

    // Each "connection attempt" fails at once, as a refused connection does (close 1006).
    function onClose(): void {
      const step = backoff.closed(1006);
      if (step.action !== 'retry') return;
      timer.schedule(step.delayMs, () => {
        attemptsAt.push(Date.now() - startedAt);
        onClose();
      });
    }
    onClose();
    vi.runAllTimers();

    expect(attemptsAt).toHaveLength(DEFAULT_BACKOFF.maxAttempts);
    let previous = 0;
    attemptsAt.forEach((at, i) => {
      const wait = at - previous;
      previous = at;
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThan(backoffCeiling(i + 1));
    });
    // The draws above, applied to 1, 2, 4, 8, 16, then 30 s ceilings.
    expect(attemptsAt[1]! - attemptsAt[0]!).toBe(1999);
    expect(attemptsAt[9]! - attemptsAt[8]!).toBe(29_700);
    expect(backoff.closed(1006)).toEqual({ action: 'give-up', attempts: 10 });
    expect(timer.dueAt).toBeNull();
  });
});
