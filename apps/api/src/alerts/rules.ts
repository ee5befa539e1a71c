import type { AlertComparison, AlertRule, AlertRuleInput } from '@livestat/contracts';

/** True when `value` stands on the alerting side of `limit`. */
export function compare(comparison: AlertComparison, value: number, limit: number): boolean {
  switch (comparison) {
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
  }
}

/** A default rule: the rule's editable part, plus `builtin` for the one that has no series. */
export interface DefaultRule extends AlertRuleInput {
  builtin: AlertRule['builtin'];
}

/**
 * The rules a new deployment starts with: few and quiet, each explained in one sentence.
 * Memory uses `memory.usedPercent`, which the collector computes as the share that is not
 * available (psutil's percent): "available < 5 %" is "used > 95 %", no derived series needed.
 */
export const DEFAULT_RULES: readonly DefaultRule[] = [
  {
    name: 'Host down',
    description:
      'Fires when a host has sent no snapshot for three sampling intervals or 30 seconds, whichever is longer.',
    series: '',
    hosts: [],
    comparison: '>=',
    threshold: 30,
    recoveryThreshold: null,
    forSeconds: 30,
    severity: 'critical',
    enabled: true,
    builtin: 'host_down',
  },
  {
    name: 'Filesystem almost full',
    description: 'Fires when any filesystem has been at least 90 % full on average for 5 minutes.',
    series: 'disk.filesystems.*.usedPercent',
    hosts: [],
    comparison: '>=',
    threshold: 90,
    recoveryThreshold: 85,
    forSeconds: 300,
    severity: 'warning',
    enabled: true,
    builtin: null,
  },
  {
    name: 'Memory almost exhausted',
    description: 'Fires when less than 5 % of memory has been available on average for 5 minutes.',
    series: 'memory.usedPercent',
    hosts: [],
    comparison: '>',
    threshold: 95,
    recoveryThreshold: 90,
    forSeconds: 300,
    severity: 'critical',
    enabled: true,
    builtin: null,
  },
  {
    name: 'CPU saturated',
    description: 'Fires when CPU usage has averaged at least 95 % for 15 minutes.',
    series: 'cpu.usagePercent',
    hosts: [],
    comparison: '>=',
    threshold: 95,
    recoveryThreshold: 85,
    forSeconds: 900,
    severity: 'warning',
    enabled: true,
    builtin: null,
  },
  {
    name: 'Memory pressure',
    description:
      'Fires when tasks have been stalled waiting for memory more than 20 % of the time (PSI some avg60) for 5 minutes, on hosts that report pressure.',
    series: 'pressure.memory.some.avg60',
    hosts: [],
    comparison: '>',
    threshold: 20,
    recoveryThreshold: 10,
    forSeconds: 300,
    severity: 'warning',
    enabled: true,
    builtin: null,
  },
];

/** How long a host may stay silent before the host-down rule fires: max(3 intervals, the rule's seconds). */
export function hostDownAfterMs(rule: Pick<AlertRule, 'forSeconds'>, intervalMs: number): number {
  return Math.max(3 * intervalMs, rule.forSeconds * 1000);
}
