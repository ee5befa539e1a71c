import { describe, expect, it } from 'vitest';
import {
  activeAlert,
  alertChannelInput,
  alertEvent,
  alertHistoryQuery,
  alertRule,
  alertRuleInput,
  describeAlertIssues,
  isAlertSeries,
  silenceInput,
} from './alerts.js';
import { serverMessage } from './messages.js';

/** The messages of a failed parse, each naming its field; fails the test if the parse succeeded. */
function messages(result: { success: boolean; error?: unknown }): string[] {
  expect(result.success).toBe(false);
  return describeAlertIssues(result.error as Parameters<typeof describeAlertIssues>[0]);
}

const now = '2026-12-04T21:30:00.000Z';
const cpuRule = {
  name: 'CPU busy',
  series: 'cpu.usagePercent',
  comparison: '>=',
  threshold: 95,
  forSeconds: 900,
  severity: 'warning',
};

describe('isAlertSeries', () => {
  it.each([
    'cpu.usagePercent',
    'memory.usedPercent',
    'disk.filesystems./.usedPercent',
    'disk.filesystems.*.usedPercent',
    'network.interfaces.eth0.100.rxBytesPerSec',
    'app.worker.queue.depth.value',
    'app.router.calls;provider=openai.rate',
    'app.*.queue.depth.value',
    'app.worker.*.p99',
  ])('accepts %s', (path) => {
    expect(isAlertSeries(path)).toBe(true);
  });

  it.each([
    'cpu',
    'cpu.nosuch',
    'nosuch.usagePercent',
    'disk.*.usedPercent',
    'cpu.cores.x.usagePercent',
    'app.worker.queue.depth',
    'app.worker.queue.depth.average',
    'app.*.*.value',
    'app.worker.a b.value',
  ])('refuses %s', (path) => {
    expect(isAlertSeries(path)).toBe(false);
  });
});

describe('alertRuleInput', () => {
  it('fills the optional fields with their defaults', () => {
    expect(alertRuleInput.parse(cpuRule)).toEqual({
      ...cpuRule,
      description: '',
      hosts: [],
      recoveryThreshold: null,
      enabled: true,
    });
  });

  it('accepts a family with * and the empty series of the host-down rule', () => {
    const family = { ...cpuRule, series: 'disk.filesystems.*.usedPercent' };
    expect(alertRuleInput.parse(family).series).toBe('disk.filesystems.*.usedPercent');
    expect(alertRuleInput.parse({ ...cpuRule, series: '' }).series).toBe('');
  });

  it('names the field in each message', () => {
    expect(messages(alertRuleInput.safeParse({ ...cpuRule, threshold: 'high' }))).toEqual([
      'threshold: must be a number',
    ]);
    expect(messages(alertRuleInput.safeParse({ ...cpuRule, comparison: '==' }))).toEqual([
      "comparison: must be one of '>', '>=', '<', '<='",
    ]);
    expect(messages(alertRuleInput.safeParse({ ...cpuRule, forSeconds: 86_401 }))).toEqual([
      'forSeconds: must be at most 86400',
    ]);
    expect(messages(alertRuleInput.safeParse({ ...cpuRule, forSeconds: 1.5 }))).toEqual([
      'forSeconds: must be a whole number of seconds',
    ]);
    expect(messages(alertRuleInput.safeParse({ ...cpuRule, name: '   ' }))).toEqual([
      'name: must not be empty',
    ]);
    expect(messages(alertRuleInput.safeParse({ ...cpuRule, series: 'cpu.nosuch' }))[0]).toMatch(
      /^series: must be a series of the catalogue/,
    );
    expect(messages(alertRuleInput.safeParse({ ...cpuRule, hosts: [''] }))[0]).toMatch(
      /^hosts\.0: /,
    );
  });

  it('reports a missing field by name', () => {
    const { threshold: _omitted, ...rest } = cpuRule;
    expect(messages(alertRuleInput.safeParse(rest))).toEqual(['threshold: must be a number']);
  });
});

describe('alertChannelInput', () => {
  it('accepts each kind with its own config', () => {
    const inputs = [
      { kind: 'webhook', name: 'hook', config: { url: 'https://example.com/h', secret: 'k' } },
      {
        kind: 'ntfy',
        name: 'phone',
        config: { url: 'https://ntfy.sh/t', priority: 4, tags: ['warning'] },
      },
      { kind: 'slack', name: 'ops', config: { url: 'https://hooks.slack.com/services/x' } },
      { kind: 'telegram', name: 'tg', config: { botToken: '123:abc', chatId: '-100' } },
      {
        kind: 'email',
        name: 'mail',
        config: {
          host: 'smtp.example.com',
          port: 587,
          secure: 'starttls',
          from: 'a@example.com',
          to: ['b@example.com'],
        },
      },
    ];
    for (const input of inputs) {
      expect(alertChannelInput.parse(input)).toMatchObject({
        ...input,
        enabled: true,
        minSeverity: 'info',
      });
    }
  });

  it('names the config field at fault', () => {
    const badUrl = { kind: 'webhook', name: 'hook', config: { url: 'ftp://x' } };
    expect(messages(alertChannelInput.safeParse(badUrl))).toEqual([
      'config.url: must be an http:// or https:// URL',
    ]);
    const badPriority = {
      kind: 'ntfy',
      name: 'n',
      config: { url: 'https://ntfy.sh/t', priority: 9 },
    };
    expect(messages(alertChannelInput.safeParse(badPriority))).toEqual([
      'config.priority: must be 1..5',
    ]);
    const noTo = {
      kind: 'email',
      name: 'm',
      config: { host: 'h', port: 25, secure: 'none', from: 'a@example.com', to: [] },
    };
    expect(messages(alertChannelInput.safeParse(noTo))).toEqual([
      'config.to: must name at least one address',
    ]);
    expect(messages(alertChannelInput.safeParse({ kind: 'pager', name: 'p', config: {} }))).toEqual(
      ["kind: must be one of 'webhook', 'ntfy', 'slack', 'telegram', 'email'"],
    );
  });
});

describe('silenceInput', () => {
  it('needs a rule or a host', () => {
    expect(silenceInput.parse({ host: 'vm-web-01', until: now })).toEqual({
      ruleId: null,
      host: 'vm-web-01',
      until: now,
      reason: '',
    });
    expect(messages(silenceInput.safeParse({ until: now }))).toEqual([
      'ruleId: a rule or a host (or both) must be set',
    ]);
  });
});

describe('alertHistoryQuery', () => {
  it('reads the limit as a number and defaults the format', () => {
    expect(alertHistoryQuery.parse({ limit: '20', host: 'a' })).toEqual({
      limit: 20,
      host: 'a',
      format: 'json',
    });
    expect(messages(alertHistoryQuery.safeParse({ limit: '0' }))).toEqual([
      'limit: must be at least 1',
    ]);
    expect(messages(alertHistoryQuery.safeParse({ format: 'xml' }))).toEqual([
      "format: must be 'json' or 'csv'",
    ]);
  });
});

describe('alert socket messages', () => {
  const active = activeAlert.parse({
    ruleId: 'r1',
    ruleName: 'CPU busy',
    host: 'vm-web-01',
    series: 'cpu.usagePercent',
    state: 'firing',
    severity: 'warning',
    value: 97.5,
    threshold: 95,
    since: now,
    firingSince: now,
    silenced: false,
  });
  const event = alertEvent.parse({
    id: 1,
    ruleId: 'r1',
    ruleName: 'CPU busy',
    host: 'vm-web-01',
    series: 'cpu.usagePercent',
    from: 'pending',
    to: 'firing',
    value: 97.5,
    severity: 'warning',
    at: now,
  });

  it('accepts an alert with the active list after it, and the list sent on connect', () => {
    const alert = { type: 'alert', event, active: [active] };
    expect(serverMessage.parse(alert)).toEqual(alert);
    expect(serverMessage.parse({ type: 'alerts', active: [] })).toEqual({
      type: 'alerts',
      active: [],
    });
  });

  it('rejects an alert whose event has an unknown state', () => {
    const bad = { type: 'alert', event: { ...event, to: 'exploded' }, active: [] };
    expect(serverMessage.safeParse(bad).success).toBe(false);
  });

  it('parses a stored rule with its builtin marker', () => {
    const rule = alertRule.parse({
      ...cpuRule,
      id: 'r1',
      description: 'Fires when a host is unreachable.',
      series: '',
      hosts: [],
      recoveryThreshold: null,
      enabled: true,
      builtin: 'host_down',
      createdAt: now,
      updatedAt: now,
    });
    expect(rule.builtin).toBe('host_down');
  });
});
