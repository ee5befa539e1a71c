import type { ActiveAlert, AlertSeverity } from '@livestat/contracts';

/** Severities from the least to the most urgent. */
export const SEVERITIES: readonly AlertSeverity[] = ['info', 'warning', 'critical'];

/** How urgent a severity is: 0 for info … 2 for critical. */
export const severityRank = (severity: AlertSeverity): number => SEVERITIES.indexOf(severity);

/**
 * Each severity's colour on the canvas charts (which cannot read CSS variables): the light
 * theme's `--accent`, `--warn` and `--bad`, drawn translucent so they read on both themes.
 */
export const SEVERITY_COLORS: Readonly<Record<AlertSeverity, string>> = {
  info: '#2f7de1',
  warning: '#b26a00',
  critical: '#c7362f',
};

/** What the bell shows: how many alerts fire and need someone, and the worst of them. */
export interface BellState {
  /** Firing and not silenced. */
  count: number;
  /** The highest severity among those counted; null when none. */
  severity: AlertSeverity | null;
  /** Firing but silenced: shown in the list, not counted. */
  silenced: number;
}

/** The bell's number and colour from the active list (pending ones are not counted yet). */
export function bellState(active: readonly ActiveAlert[]): BellState {
  let count = 0;
  let silenced = 0;
  let severity: AlertSeverity | null = null;
  for (const alert of active) {
    if (alert.state !== 'firing') continue;
    if (alert.silenced) {
      silenced += 1;
      continue;
    }
    count += 1;
    if (severity === null || severityRank(alert.severity) > severityRank(severity)) {
      severity = alert.severity;
    }
  }
  return { count, severity, silenced };
}
