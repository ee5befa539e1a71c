import { seriesInFamily } from '@livestat/contracts';
import type { ActiveAlert, AlertEvent, AlertSeverity } from '@livestat/contracts';

/** A stretch of time one (rule, host, series) was firing. */
export interface AlertPeriod {
  ruleId: string;
  ruleName: string;
  host: string;
  series: string;
  severity: AlertSeverity;
  /** Epoch ms; -Infinity when it was already firing before the first event known. */
  start: number;
  /** Epoch ms of its resolution; null while it still fires. */
  end: number | null;
}

const keyOf = (a: { ruleId: string; host: string; series: string }) =>
  `${a.ruleId}\n${a.host}\n${a.series}`;

/**
 * The firing periods told by `events` (any order, duplicates allowed), completed by `active`:
 * a period opens at a transition to `firing` and closes at the next one out of it; a transition
 * out of `firing` with no opening known started before the events (start -Infinity); an alert
 * `active` says fires with no open period opens one at its `firingSince`.
 */
export function alertPeriods(
  events: readonly AlertEvent[],
  active: readonly ActiveAlert[] = [],
): AlertPeriod[] {
  const sorted = [...new Map(events.map((e) => [e.id, e])).values()].sort(
    (a, b) => Date.parse(a.at) - Date.parse(b.at) || a.id - b.id,
  );
  const open = new Map<string, AlertPeriod>();
  const periods: AlertPeriod[] = [];
  for (const event of sorted) {
    const key = keyOf(event);
    const at = Date.parse(event.at);
    if (event.to === 'firing' && !open.has(key)) {
      const period: AlertPeriod = {
        ruleId: event.ruleId,
        ruleName: event.ruleName,
        host: event.host,
        series: event.series,
        severity: event.severity,
        start: at,
        end: null,
      };
      open.set(key, period);
      periods.push(period);
    } else if (event.from === 'firing' && event.to !== 'firing') {
      const period = open.get(key);
      if (period !== undefined) {
        period.end = at;
        open.delete(key);
      } else {
        periods.push({ ...pick(event), start: Number.NEGATIVE_INFINITY, end: at });
      }
    }
  }
  for (const alert of active) {
    if (alert.state !== 'firing' || open.has(keyOf(alert))) continue;
    const start =
      alert.firingSince === null ? Date.parse(alert.since) : Date.parse(alert.firingSince);
    periods.push({ ...pick(alert), start, end: null });
  }
  return periods;
}

function pick(a: AlertEvent | ActiveAlert) {
  return {
    ruleId: a.ruleId,
    ruleName: a.ruleName,
    host: a.host,
    series: a.series,
    severity: a.severity,
  };
}

/**
 * Whether an alert on `alertSeries` concerns a chart line of `path`: the same path, or a
 * family written with `*` the path belongs to — a snapshot family
 * (`disk.filesystems.*.usedPercent`) or an application one (`app.*.queue.depth.value`,
 * `app.worker.*.p99`), by the contract's own matcher, so charts mark what the evaluator fires on.
 */
export function seriesMatches(alertSeries: string, path: string): boolean {
  return alertSeries !== '' && seriesInFamily(alertSeries, path);
}
