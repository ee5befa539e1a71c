import { alertRuleInput } from '@livestat/contracts';
import type {
  AlertComparison,
  AlertRule,
  AlertRuleInput,
  AlertSeverity,
} from '@livestat/contracts';
import { check } from './form-errors';
import type { Checked } from './form-errors';

/** A rule form's fields as the inputs hold them: numbers as typed, hosts comma-separated. */
export interface RuleDraft {
  name: string;
  description: string;
  series: string;
  hosts: string;
  comparison: AlertComparison;
  threshold: string;
  recoveryThreshold: string;
  forSeconds: string;
  severity: AlertSeverity;
  enabled: boolean;
}

/** The fields a rule's 400 can name, as the form shows them. */
export const RULE_FIELDS = [
  'name',
  'description',
  'series',
  'hosts',
  'comparison',
  'threshold',
  'recoveryThreshold',
  'forSeconds',
  'severity',
  'enabled',
] as const;

/** The form of `rule`, or of a new rule (CPU above 90 % for 5 minutes, a warning). */
export function ruleDraft(rule?: AlertRule): RuleDraft {
  if (rule === undefined) {
    return {
      name: '',
      description: '',
      series: 'cpu.usagePercent',
      hosts: '',
      comparison: '>',
      threshold: '90',
      recoveryThreshold: '',
      forSeconds: '300',
      severity: 'warning',
      enabled: true,
    };
  }
  return {
    name: rule.name,
    description: rule.description,
    series: rule.series,
    hosts: rule.hosts.join(', '),
    comparison: rule.comparison,
    threshold: String(rule.threshold),
    recoveryThreshold: rule.recoveryThreshold === null ? '' : String(rule.recoveryThreshold),
    forSeconds: String(rule.forSeconds),
    severity: rule.severity,
    enabled: rule.enabled,
  };
}

// A number as typed: blank or not a number stays a string, so the schema says "must be a number".
function numberOf(text: string): number | string {
  const trimmed = text.trim();
  if (trimmed === '') return trimmed;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : trimmed;
}

/** The request body the form stands for, before checking: what the API would be sent. */
export function ruleBody(draft: RuleDraft): Record<string, unknown> {
  return {
    name: draft.name,
    description: draft.description,
    series: draft.series.trim(),
    hosts: draft.hosts
      .split(',')
      .map((host) => host.trim())
      .filter((host) => host !== ''),
    comparison: draft.comparison,
    threshold: numberOf(draft.threshold),
    recoveryThreshold:
      draft.recoveryThreshold.trim() === '' ? null : numberOf(draft.recoveryThreshold),
    forSeconds: numberOf(draft.forSeconds),
    severity: draft.severity,
    enabled: draft.enabled,
  };
}

/** Checks the form with the contract's own schema: the body to send, or a message per field. */
export function checkRule(draft: RuleDraft): Checked<AlertRuleInput> {
  return check(alertRuleInput, ruleBody(draft));
}

/** "Alert when cpu.usagePercent > 90 for 5 m on every host." — what a rule does, in one line. */
export function ruleSummary(rule: AlertRule): string {
  if (rule.builtin === 'host_down') {
    return `Alert when a host sends no snapshot for ${duration(rule.forSeconds)} or more.`;
  }
  const hold = rule.forSeconds > 0 ? ` for ${duration(rule.forSeconds)}` : '';
  const where = rule.hosts.length === 0 ? 'every host' : rule.hosts.join(', ');
  const recovery =
    rule.recoveryThreshold === null ? '' : `; resolves past ${rule.recoveryThreshold}`;
  return `Alert when ${rule.series} ${rule.comparison} ${rule.threshold}${hold} on ${where}${recovery}.`;
}

/** Seconds as the shortest exact words: `90 s`, `5 m`, `2 h`, `1 d`. */
export function duration(seconds: number): string {
  if (seconds >= 86_400 && seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} m`;
  return `${seconds} s`;
}
