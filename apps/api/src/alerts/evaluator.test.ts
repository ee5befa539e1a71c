import type { AlertRule, Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { describe, expect, it } from 'vitest';
import { createEvaluator, type AlertTransition } from './evaluator.js';
import { DEFAULT_RULES } from './rules.js';

const T0 = Date.parse('2026-12-04T12:00:00.000Z');

function rule(overrides: Partial<AlertRule> & Pick<AlertRule, 'id' | 'series'>): AlertRule {
  return {
    name: overrides.id,
    description: '',
    hosts: [],
    comparison: '>=',
    threshold: 90,
    recoveryThreshold: null,
    forSeconds: 10,
    severity: 'warning',
    enabled: true,
    builtin: null,
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    ...overrides,
  };
}

/** A snapshot of `host` at second `second`, with CPU busy at `cpu` % and the given filesystems. */
function snapshotAt(
  host: string,
  second: number,
  cpu: number,
  disks: Record<string, number> = {},
): Snapshot {
  const snapshot = makeExampleSnapshot({
    host,
    seq: second + 1,
    timestamp: new Date(T0 + second * 1000).toISOString(),
  });
  if (snapshot.cpu.available) snapshot.cpu.usagePercent = cpu;
  if (snapshot.disk.available) {
    const template = snapshot.disk.filesystems[0]!;
    snapshot.disk.filesystems = Object.entries(disks).map(([mountPoint, usedPercent]) => ({
      ...template,
      mountPoint,
      usedPercent,
    }));
  }
  return snapshot;
}

function harness(rules: AlertRule[]) {
  const transitions: AlertTransition[] = [];
  const evaluator = createEvaluator({ onTransition: (t) => transitions.push(t) });
  evaluator.setRules(rules);
  const summary = () =>
    transitions.map((t) => `${t.host} ${t.series} ${t.transition.from}→${t.transition.to}`);
  return { evaluator, transitions, summary };
}

describe('the evaluator on streams of snapshots', () => {
  it('fires on a host whose CPU stays busy, not on its quiet neighbour', () => {
    const { evaluator, summary } = harness([rule({ id: 'cpu', series: 'cpu.usagePercent' })]);
    for (let s = 0; s < 30; s++) {
      evaluator.observe(snapshotAt('busy', s, 98));
      evaluator.observe(snapshotAt('quiet', s, 12));
    }
    expect(summary()).toEqual([
      'busy cpu.usagePercent ok→pending',
      'busy cpu.usagePercent pending→firing',
    ]);
  });

  it('keeps one state per filesystem of a family rule', () => {
    const { evaluator, summary, transitions } = harness([
      rule({ id: 'fs', series: 'disk.filesystems.*.usedPercent', recoveryThreshold: 85 }),
    ]);
    for (let s = 0; s < 20; s++)
      evaluator.observe(snapshotAt('db', s, 10, { '/': 40, '/var/lib': 95 }));
    for (let s = 20; s < 40; s++)
      evaluator.observe(snapshotAt('db', s, 10, { '/': 40, '/var/lib': 80 }));
    expect(summary()).toEqual([
      'db disk.filesystems./var/lib.usedPercent ok→pending',
      'db disk.filesystems./var/lib.usedPercent pending→firing',
      'db disk.filesystems./var/lib.usedPercent firing→resolved',
    ]);
    expect(transitions[1]!.transition.value).toBeCloseTo(95, 5);
    expect(evaluator.size()).toBe(2);
  });

  it('applies a rule only to the hosts it names', () => {
    const { evaluator, summary } = harness([
      rule({ id: 'cpu', series: 'cpu.usagePercent', hosts: ['web'], forSeconds: 0 }),
    ]);
    evaluator.observe(snapshotAt('web', 0, 99));
    evaluator.observe(snapshotAt('db', 0, 99));
    expect(summary()).toEqual(['web cpu.usagePercent ok→firing']);
  });

  it('watches memory pressure on hosts that report PSI, and keeps no state for those without', () => {
    const psi = DEFAULT_RULES.find((r) => r.series.startsWith('pressure.'))!;
    const { evaluator, summary } = harness([rule({ ...psi, id: 'psi', forSeconds: 10 })]);
    for (let s = 0; s < 15; s++) {
      const stalled = snapshotAt('psi-host', s, 10);
      if (stalled.pressure?.available) stalled.pressure.memory.some.avg60 = 35;
      evaluator.observe(stalled);
      const without = snapshotAt('old-kernel', s, 10);
      delete (without as Partial<Snapshot>).pressure;
      evaluator.observe(without);
    }
    expect(summary()).toEqual([
      'psi-host pressure.memory.some.avg60 ok→pending',
      'psi-host pressure.memory.some.avg60 pending→firing',
    ]);
    expect(evaluator.size()).toBe(1);
  });

  it('fires host down after max(3 intervals, 30 s) of silence and resolves when the host is back', () => {
    const down = rule({ id: 'down', series: '', builtin: 'host_down', forSeconds: 30 });
    const { evaluator, summary } = harness([down]);
    evaluator.observe(snapshotAt('web', 0, 10));
    evaluator.checkHosts(T0 + 29_000);
    expect(summary()).toEqual([]);
    evaluator.checkHosts(T0 + 31_000);
    expect(summary()).toEqual(['web  ok→firing']);
    evaluator.observe(snapshotAt('web', 40, 10));
    expect(summary()).toEqual(['web  ok→firing', 'web  firing→resolved']);
  });

  it('resumes a stored firing state instead of firing again', () => {
    const cpu = rule({ id: 'cpu', series: 'cpu.usagePercent', forSeconds: 0 });
    const { evaluator, summary } = harness([cpu]);
    evaluator.resume([
      {
        ruleId: 'cpu',
        host: 'web',
        series: 'cpu.usagePercent',
        status: { state: 'firing', since: T0, firingSince: T0, value: 99 },
      },
    ]);
    evaluator.observe(snapshotAt('web', 100, 99));
    evaluator.observe(snapshotAt('web', 101, 10));
    expect(summary()).toEqual(['web cpu.usagePercent firing→resolved']);
  });

  it('fires on the first live sample when stored minutes already fill the window', () => {
    const cpu = rule({ id: 'cpu', series: 'cpu.usagePercent', forSeconds: 900, threshold: 95 });
    const { evaluator, summary } = harness([cpu]);
    const minute = Math.floor((T0 + 100_000) / 60_000) * 60_000;
    for (let m = 15; m >= 1; m--)
      evaluator.seed('web', 'cpu.usagePercent', minute - m * 60_000, 60 * 98, 60);
    evaluator.observe(snapshotAt('web', 100, 98));
    expect(summary()).toEqual(['web cpu.usagePercent ok→firing']);
  });
});
