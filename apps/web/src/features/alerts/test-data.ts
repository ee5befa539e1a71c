import type { ActiveAlert, AlertEvent, AlertRule } from '@livestat/contracts';

// Shapes for the alerts tests: each a valid instance of the contract, with what a test varies.

const T = (ms: number) => new Date(ms).toISOString();

/** An active alert of the CPU rule on `vm-web-01`, firing since `at`. */
export function activeAlertAt(at: number, over: Partial<ActiveAlert> = {}): ActiveAlert {
  return {
    ruleId: 'rule-cpu',
    ruleName: 'CPU busy',
    host: 'vm-web-01',
    series: 'cpu.usagePercent',
    state: 'firing',
    severity: 'warning',
    value: 97.5,
    threshold: 95,
    since: T(at),
    firingSince: T(at),
    silenced: false,
    ...over,
  };
}

let nextId = 1;
/** A transition of the CPU rule on `vm-web-01` at `at`. */
export function eventAt(
  at: number,
  from: AlertEvent['from'],
  to: AlertEvent['to'],
  over: Partial<AlertEvent> = {},
): AlertEvent {
  nextId += 1;
  return {
    id: nextId,
    ruleId: 'rule-cpu',
    ruleName: 'CPU busy',
    host: 'vm-web-01',
    series: 'cpu.usagePercent',
    from,
    to,
    value: 97.5,
    severity: 'warning',
    at: T(at),
    ...over,
  };
}

/** A user rule as the API answers it. */
export function ruleOf(over: Partial<AlertRule> = {}): AlertRule {
  return {
    id: 'rule-cpu',
    name: 'CPU busy',
    description: 'The CPU has been busy for a quarter of an hour.',
    series: 'cpu.usagePercent',
    hosts: [],
    comparison: '>=',
    threshold: 95,
    recoveryThreshold: null,
    forSeconds: 900,
    severity: 'warning',
    enabled: true,
    builtin: null,
    createdAt: T(0),
    updatedAt: T(0),
    ...over,
  };
}
