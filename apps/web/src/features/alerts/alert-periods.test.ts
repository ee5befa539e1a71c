import { describe, expect, it } from 'vitest';
import { alertPeriods, seriesMatches } from './alert-periods';
import { activeAlertAt, eventAt } from './test-data';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const s = (seconds: number) => T0 + seconds * 1000;

describe('alertPeriods', () => {
  it('opens a period at firing and closes it at the transition out, ignoring pending', () => {
    const periods = alertPeriods([
      eventAt(s(0), 'ok', 'pending'),
      eventAt(s(30), 'pending', 'firing'),
      eventAt(s(90), 'firing', 'resolved'),
      eventAt(s(95), 'resolved', 'ok'),
    ]);
    expect(periods).toEqual([
      expect.objectContaining({
        ruleName: 'CPU busy',
        host: 'vm-web-01',
        start: s(30),
        end: s(90),
      }),
    ]);
  });

  it('reads events in time order, whatever order and duplicates they come in', () => {
    const firing = eventAt(s(10), 'pending', 'firing');
    const resolved = eventAt(s(20), 'firing', 'resolved');
    const again = eventAt(s(40), 'pending', 'firing');
    const periods = alertPeriods([again, resolved, firing, resolved]);
    expect(periods.map((p) => [p.start, p.end])).toEqual([
      [s(10), s(20)],
      [s(40), null],
    ]);
  });

  it('keeps each host and rule apart', () => {
    const periods = alertPeriods([
      eventAt(s(0), 'pending', 'firing', { host: 'a' }),
      eventAt(s(5), 'pending', 'firing', { host: 'b' }),
      eventAt(s(10), 'firing', 'resolved', { host: 'a' }),
    ]);
    expect(periods.map((p) => [p.host, p.start, p.end])).toEqual([
      ['a', s(0), s(10)],
      ['b', s(5), null],
    ]);
  });

  it('starts at -Infinity a period that fired before the first event known', () => {
    const [period] = alertPeriods([eventAt(s(50), 'firing', 'resolved')]);
    expect(period).toMatchObject({ start: Number.NEGATIVE_INFINITY, end: s(50) });
  });

  it('opens a period at firingSince for an active alert the events do not cover', () => {
    const active = [activeAlertAt(s(-600), { host: 'c' })];
    expect(alertPeriods([], active)).toEqual([
      expect.objectContaining({ host: 'c', start: s(-600), end: null }),
    ]);
    // One already open from the events is not doubled.
    const open = alertPeriods([eventAt(s(0), 'pending', 'firing')], [activeAlertAt(s(0))]);
    expect(open).toHaveLength(1);
    // A pending alert has no period.
    const pending = activeAlertAt(s(0), { state: 'pending', firingSince: null });
    expect(alertPeriods([], [pending])).toEqual([]);
  });
});

describe('seriesMatches', () => {
  it('matches the same path, and a family to each of its members', () => {
    expect(seriesMatches('cpu.usagePercent', 'cpu.usagePercent')).toBe(true);
    expect(seriesMatches('cpu.usagePercent', 'memory.usedPercent')).toBe(false);
    expect(
      seriesMatches('network.interfaces.*.rxBytesPerSec', 'network.interfaces.eth0.rxBytesPerSec'),
    ).toBe(true);
    expect(
      seriesMatches('network.interfaces.*.rxBytesPerSec', 'network.interfaces.eth0.txBytesPerSec'),
    ).toBe(false);
    expect(seriesMatches('cpu.cores.*.usagePercent', 'cpu.cores.3.usagePercent')).toBe(true);
    expect(seriesMatches('cpu.cores.*.usagePercent', 'cpu.usagePercent')).toBe(false);
  });

  it('matches application families: one metric of every service, every metric of one', () => {
    const depth = 'app.*.queue.depth.value';
    expect(seriesMatches(depth, 'app.worker.queue.depth.value')).toBe(true);
    expect(seriesMatches(depth, 'app.billing.queue.depth.value')).toBe(true);
    expect(seriesMatches(depth, 'app.worker.queue.depth2.value')).toBe(false);
    expect(seriesMatches('app.worker.*.p99', 'app.worker.http.latency.p99')).toBe(true);
    expect(seriesMatches('app.worker.*.p99', 'app.billing.http.latency.p99')).toBe(false);
    expect(seriesMatches('app.worker.*.p99', 'app.worker.http.latency.p50')).toBe(false);
    expect(seriesMatches('app.worker.queue.depth.value', 'app.worker.queue.depth.value')).toBe(
      true,
    );
  });

  it('matches no chart for the host-down rule, which has no series', () => {
    expect(seriesMatches('', 'cpu.usagePercent')).toBe(false);
  });
});
