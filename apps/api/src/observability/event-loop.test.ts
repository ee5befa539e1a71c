import { describe, expect, it } from 'vitest';
import { createEventLoopMonitor, createLagWindow } from './event-loop.js';

/** Holds the event loop for `ms`, as a synchronous query or a huge JSON.parse would. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose
  }
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createLagWindow', () => {
  it('reports the worst slice of the window, and forgets a slice once `slices` newer ones came', () => {
    const window = createLagWindow(2);
    expect(window.worst()).toEqual({ p99Ms: 0, maxMs: 0 });
    window.push({ p99Ms: 300, maxMs: 1800 });
    window.push({ p99Ms: 5, maxMs: 40 });
    expect(window.worst()).toEqual({ p99Ms: 300, maxMs: 1800 });
    // The open slice counts as well as the closed ones.
    expect(window.worst({ p99Ms: 2, maxMs: 2500 })).toEqual({ p99Ms: 300, maxMs: 2500 });
    window.push({ p99Ms: 1, maxMs: 3 });
    expect(window.worst()).toEqual({ p99Ms: 5, maxMs: 40 });
  });

  it('refuses a window of no slices', () => {
    expect(() => createLagWindow(0)).toThrow(/slices/);
  });
});

describe('createEventLoopMonitor', () => {
  it('shows a stall of the real event loop in maxLagMs, and in a slice closed after it', async () => {
    const monitor = createEventLoopMonitor({ resolutionMs: 10, sliceMs: 100, slices: 50 });
    try {
      await tick(50);
      block(400);
      await tick(30);
      const during = monitor.lag();
      expect(during.maxLagMs).toBeGreaterThanOrEqual(300);
      expect(during.windowMs).toBe(5100);
      // Two slice timers later the stall sits in a closed slice, still inside the window.
      await tick(250);
      expect(monitor.lag().maxLagMs).toBeGreaterThanOrEqual(300);
    } finally {
      monitor.stop();
    }
  });

  it('reports no lag before the loop was ever measured, and keeps answering after stop()', () => {
    const monitor = createEventLoopMonitor({ resolutionMs: 10, sliceMs: 1000, slices: 5 });
    monitor.stop();
    expect(monitor.lag()).toEqual({ lagMs: 0, maxLagMs: 0, windowMs: 6000 });
  });
});
