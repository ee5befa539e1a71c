import { APP_METRIC_FIELDS, type AppMessage } from '@livestat/contracts';
import { Gauge, type Registry } from 'prom-client';
import { HOST_LABEL } from './host-metrics.js';

/** A value not refreshed for this long leaves `/metrics` (its application stopped sending it). */
const STALE_MS = 10 * 60_000;

/**
 * `livestat_app_value{instance, service, metric, field}`: every application series' newest value
 * (the catalogue's `app.<service>.<metric>.<field>`), fed by `app` messages. A counter shows as
 * its interval's `count` and `rate` like any field: PromQL takes them as gauges.
 */
export function registerAppMetrics(registry: Registry, now: () => number = Date.now) {
  // `${host}\0${service}\0${key}\0${field}` → [labels, value, when].
  const values = new Map<string, [Record<string, string>, number, number]>();
  new Gauge({
    name: 'livestat_app_value',
    help: 'Newest value of each application metric field (StatsD, OTLP), per host and service.',
    labelNames: [HOST_LABEL, 'service', 'metric', 'field'],
    registers: [registry],
    collect() {
      this.reset();
      const oldest = now() - STALE_MS;
      for (const [key, [labels, value, at]] of values) {
        if (at < oldest) values.delete(key);
        else this.set(labels, value);
      }
    },
  });
  return {
    observe(message: AppMessage): void {
      const at = now();
      for (const [service, { metrics }] of Object.entries(message.services)) {
        for (const [metric, m] of Object.entries(metrics)) {
          for (const field of APP_METRIC_FIELDS[m.kind]) {
            const value = m[field];
            if (typeof value !== 'number' || !Number.isFinite(value)) continue;
            const labels = { [HOST_LABEL]: message.host, service, metric, field };
            values.set(`${message.host}\u0000${service}\u0000${metric}\u0000${field}`, [
              labels,
              value,
              at,
            ]);
          }
        }
      }
    },
  };
}
