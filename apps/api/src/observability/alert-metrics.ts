import type { ActiveAlert } from '@livestat/contracts';
import { Gauge, type Registry } from 'prom-client';

/**
 * `livestat_alerts_firing{rule,host,severity} 1` per firing alert, read at scrape time from the
 * active list every replica keeps (the leader's transitions reach them all), so any replica's
 * `/metrics` answers the same. Several series of one rule on a host (filesystems) are one line.
 */
export function registerAlertMetrics(
  registry: Registry,
  active: () => readonly ActiveAlert[],
): void {
  const gauge: Gauge = new Gauge({
    name: 'livestat_alerts_firing',
    help: 'Alerts firing now, one per rule and host (1 while firing).',
    labelNames: ['rule', 'host', 'severity'],
    registers: [registry],
    collect() {
      gauge.reset();
      for (const alert of active()) {
        if (alert.state !== 'firing') continue;
        gauge.set({ rule: alert.ruleName, host: alert.host, severity: alert.severity }, 1);
      }
    },
  });
}
