import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  evaluate,
  evaluateSilence,
  INITIAL_STATUS,
  type AlertStatus,
  type RuleLimits,
  type Transition,
} from './state-machine.js';
import { RollingWindow } from './window.js';

/**
 * A rule watched the way the evaluator watches it: a sample every second (a timer), averaged
 * over the rule's window, fed to the machine. `level()` is what the series reads now.
 */
function watch(limits: RuleLimits, forSeconds: number, level: () => number) {
  const window = new RollingWindow(forSeconds * 1000);
  let status: AlertStatus = { ...INITIAL_STATUS };
  const transitions: (Transition & { seconds: number })[] = [];
  const start = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    const value = level();
    window.add(now, value);
    const result = evaluate(status, limits, {
      now,
      latest: value,
      average: window.average(),
      covered: window.covers(now),
    });
    status = result.status;
    if (result.transition)
      transitions.push({ ...result.transition, seconds: (now - start) / 1000 });
  }, 1000);
  return {
    transitions,
    states: () => transitions.map((t) => t.to),
    state: () => status.state,
    stop: () => clearInterval(timer),
  };
}

const cpu: RuleLimits = { comparison: '>=', threshold: 95, recoveryThreshold: 85 };

describe('the alert state machine under fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: new Date('2026-12-04T12:00:00.000Z') });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('goes pending at once and fires only after the duration has held', () => {
    const watcher = watch(cpu, 60, () => 99);
    vi.advanceTimersByTime(1000);
    expect(watcher.state()).toBe('pending');
    vi.advanceTimersByTime(30_000);
    expect(watcher.state()).toBe('pending');
    vi.advanceTimersByTime(60_000);
    expect(watcher.states()).toEqual(['pending', 'firing']);
    const fired = watcher.transitions[1]!;
    // Fired once a full minute of samples stood over the threshold, not before.
    expect(fired.seconds).toBeGreaterThanOrEqual(59);
    expect(fired.seconds).toBeLessThanOrEqual(61);
    watcher.stop();
  });

  it('does not fire for a spike shorter than the duration', () => {
    let level = 20;
    const watcher = watch(cpu, 60, () => level);
    vi.advanceTimersByTime(120_000);
    level = 100;
    vi.advanceTimersByTime(20_000);
    level = 20;
    vi.advanceTimersByTime(120_000);
    expect(watcher.states()).toEqual(['pending', 'ok']);
    watcher.stop();
  });

  it('holds a firing alert while the value flaps between the threshold and the recovery threshold', () => {
    let level = 99;
    const watcher = watch(cpu, 10, () => level);
    vi.advanceTimersByTime(15_000);
    expect(watcher.state()).toBe('firing');
    // Above recovery (85), dipping under the threshold (95) and back, for ten minutes.
    for (let i = 0; i < 60; i++) {
      level = i % 2 === 0 ? 90 : 97;
      vi.advanceTimersByTime(10_000);
    }
    expect(watcher.states()).toEqual(['pending', 'firing']);
    level = 50;
    vi.advanceTimersByTime(15_000);
    expect(watcher.states()).toEqual(['pending', 'firing', 'resolved']);
    watcher.stop();
  });

  it('without a recovery threshold, resolves as soon as the average drops under the threshold', () => {
    let level = 99;
    const watcher = watch({ ...cpu, recoveryThreshold: null }, 10, () => level);
    vi.advanceTimersByTime(15_000);
    level = 90;
    vi.advanceTimersByTime(15_000);
    expect(watcher.states()).toEqual(['pending', 'firing', 'resolved']);
    watcher.stop();
  });

  it('fires again after resolving when the value comes back', () => {
    let level = 99;
    const watcher = watch(cpu, 10, () => level);
    vi.advanceTimersByTime(15_000);
    level = 10;
    vi.advanceTimersByTime(15_000);
    level = 99;
    vi.advanceTimersByTime(15_000);
    expect(watcher.states()).toEqual(['pending', 'firing', 'resolved', 'pending', 'firing']);
    watcher.stop();
  });

  it('fires at the first sample when the rule has no duration', () => {
    const watcher = watch({ comparison: '<', threshold: 5, recoveryThreshold: 10 }, 0, () => 3);
    vi.advanceTimersByTime(1000);
    expect(watcher.states()).toEqual(['firing']);
    watcher.stop();
  });
});

describe('evaluateSilence (host down)', () => {
  it('fires after the silence and resolves at the next snapshot', () => {
    const afterMs = 30_000;
    let status: AlertStatus = { ...INITIAL_STATUS };
    const silent = evaluateSilence(status, { now: 29_000, lastSeen: 0, afterMs });
    expect(silent.transition).toBeNull();
    const down = evaluateSilence(status, { now: 31_000, lastSeen: 0, afterMs });
    expect(down.transition).toMatchObject({ from: 'ok', to: 'firing', value: 31 });
    status = down.status;
    const back = evaluateSilence(status, { now: 32_000, lastSeen: 32_000, afterMs });
    expect(back.transition).toMatchObject({ from: 'firing', to: 'resolved' });
  });
});

describe('RollingWindow', () => {
  it('averages only the last duration, in bounded memory', () => {
    const window = new RollingWindow(300_000);
    for (let t = 0; t < 600_000; t += 1000) window.add(t, t < 300_000 ? 0 : 100);
    expect(window.average()).toBeCloseTo(100, 5);
    expect(window.covers(599_000)).toBe(true);
  });

  it('starts afresh after a gap longer than its duration', () => {
    const window = new RollingWindow(10_000);
    for (let t = 0; t < 20_000; t += 1000) window.add(t, 50);
    window.add(100_000, 10);
    expect(window.average()).toBe(10);
    expect(window.covers(100_000)).toBe(false);
  });
});
