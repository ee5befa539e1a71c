import type { AlertRule, AppMessage, Snapshot } from '@livestat/contracts';
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

/** An `app` message of `host` at second `second` with each service's queue depth gauge. */
function appAt(host: string, second: number, depths: Record<string, number>): AppMessage {
  return {
    type: 'app',
    host,
    timestamp: new Date(T0 + second * 1000).toISOString(),
    intervalMs: 1000,
    services: Object.fromEntries(
      Object.entries(depths).map(([service, value]) => [
        service,
        {
          metrics: {
            'queue.depth': { name: 'queue.depth', kind: 'gauge', tags: {}, value },
            // A timer's fields: a gauge rule never reads them.
            'batch.ms': { name: 'batch.ms', kind: 'timer', tags: {}, count: 2, p99: value },
          },
        },
      ]),
    ),
  };
}

describe('the evaluator on application series', () => {
  it('fires and resolves a rule on one service gauge from app messages alone', () => {
    const { evaluator, summary } = harness([
      rule({ id: 'deep', series: 'app.worker.queue.depth.value', threshold: 100, forSeconds: 3 }),
    ]);
    for (let s = 0; s < 3; s++) evaluator.observeApp(appAt('h1', s, { worker: 150 }));
    // Snapshots carry no app series: they neither feed nor disturb the rule.
    evaluator.observe(snapshotAt('h1', 3, 99));
    evaluator.observeApp(appAt('h1', 3, { worker: 150 }));
    for (let s = 4; s < 8; s++) evaluator.observeApp(appAt('h1', s, { worker: 5 }));
    expect(summary()).toEqual([
      'h1 app.worker.queue.depth.value ok→pending',
      'h1 app.worker.queue.depth.value pending→firing',
      'h1 app.worker.queue.depth.value firing→resolved',
    ]);
  });

  it('keeps one state per service of a `*` family, and reads only the field named', () => {
    const { evaluator, summary } = harness([
      rule({ id: 'deep', series: 'app.*.queue.depth.value', threshold: 100, forSeconds: 0 }),
      rule({ id: 'slow', series: 'app.worker.*.p99', threshold: 100, forSeconds: 0 }),
      rule({ id: 'none', series: 'app.worker.queue.depth.p99', threshold: 0, forSeconds: 0 }),
    ]);
    evaluator.observeApp(appAt('h1', 0, { worker: 150, mailer: 10 }));
    evaluator.observeApp(appAt('h1', 1, { worker: 150, mailer: 200 }));
    expect(summary()).toEqual([
      'h1 app.worker.queue.depth.value ok→firing',
      'h1 app.worker.batch.ms.p99 ok→firing',
      'h1 app.mailer.queue.depth.value ok→firing',
    ]);
    // Two services under `deep`, one metric with a p99 under `slow`; the gauge has no p99.
    expect(evaluator.size()).toBe(3);
  });

  it('fills an application rule from a rollup bucket of a family member only', () => {
    const { evaluator, transitions } = harness([
      rule({ id: 'deep', series: 'app.*.queue.depth.value', threshold: 100, forSeconds: 120 }),
    ]);
    evaluator.seed('h1', 'app.worker.queue.depth.value', T0 - 120_000, 60 * 150, 60);
    evaluator.seed('h1', 'app.worker.queue.depth.value', T0 - 60_000, 60 * 150, 60);
    // Service `a`, metric `b.queue.depth`: LIKE finds it, the family does not hold it.
    evaluator.seed('h1', 'app.a.b.queue.depth.value', T0 - 60_000, 60 * 150, 60);
    evaluator.observeApp(appAt('h1', 0, { worker: 150 }));
    expect(transitions.map((t) => `${t.series} ${t.transition.to}`)).toEqual([
      'app.worker.queue.depth.value firing',
    ]);
    expect(evaluator.size()).toBe(1);
  });
});
