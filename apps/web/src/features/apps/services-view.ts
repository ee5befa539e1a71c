import type { AppLimits, AppMessage, AppServiceInfo } from '@livestat/contracts';
import { tagsText, type AppMetricRef } from './app-charts';

/** One service as the view lists it: its metrics, and where it stands against its caps. */
export interface ServiceView {
  name: string;
  metrics: AppMetricRef[];
  limits: AppLimits | null;
  rejected: Readonly<Record<string, number>>;
}

/**
 * The services of a host: those `GET /api/apps` lists (with limits and rejections) and those its
 * newest `app` message carries (a metric that appeared since the list was fetched shows at
 * once). Sorted by service, then by metric key.
 */
export function servicesOf(
  catalogue: readonly AppServiceInfo[],
  latest: AppMessage | undefined,
): ServiceView[] {
  const services = new Map<string, ServiceView>();
  const metricsOf = new Map<string, Map<string, AppMetricRef>>();
  const serviceOf = (name: string): [ServiceView, Map<string, AppMetricRef>] => {
    let service = services.get(name);
    if (!service) {
      service = { name, metrics: [], limits: null, rejected: {} };
      services.set(name, service);
      metricsOf.set(name, new Map());
    }
    return [service, metricsOf.get(name)!];
  };
  for (const info of catalogue) {
    const [service, metrics] = serviceOf(info.name);
    service.limits = info.limits;
    service.rejected = info.rejected;
    for (const m of info.metrics) {
      metrics.set(m.key, {
        service: info.name,
        key: m.key,
        name: m.name,
        kind: m.kind,
        tags: m.tags,
      });
    }
  }
  for (const [name, { metrics: live }] of Object.entries(latest?.services ?? {})) {
    const [, metrics] = serviceOf(name);
    for (const [key, m] of Object.entries(live)) {
      if (!metrics.has(key))
        metrics.set(key, { service: name, key, name: m.name, kind: m.kind, tags: m.tags });
    }
  }
  return [...services.values()]
    .map((service) => ({
      ...service,
      metrics: [...metricsOf.get(service.name)!.values()].sort((a, b) =>
        a.key.localeCompare(b.key),
      ),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The services and metrics matching a search: every word of `query` (case-insensitive) must be
 * found in the service's name, the metric's name, its kind or its tags. A service whose name
 * matches keeps all its metrics; one with no matching metric is left out.
 */
export function searchServices(services: readonly ServiceView[], query: string): ServiceView[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...services];
  const out: ServiceView[] = [];
  for (const service of services) {
    const metrics = service.metrics.filter((metric) => {
      const haystack =
        `${service.name} ${metric.name} ${metric.kind} ${tagsText(metric.tags)}`.toLowerCase();
      return words.every((word) => haystack.includes(word));
    });
    if (metrics.length > 0) out.push({ ...service, metrics });
  }
  return out;
}

/** The rejection reasons the caps give: counted in `refusedSeries` as well, said apart here. */
const CAP_REASONS = new Set(['max_series', 'max_tag_values']);

/**
 * What a service's caps did, in words, when it is at one or anything was refused — "over the
 * 2,000-series cap (APP_MAX_SERIES): 37 new series refused; rejected: 4 bad value" — else
 * null. Each refusal is said once: series refused by a cap under the cap that refused them,
 * naming the setting that raises it, then the lines or points rejected for other reasons.
 */
export function limitNotice(service: ServiceView, locale?: string): string | null {
  const { limits, rejected } = service;
  const number = (n: number) => n.toLocaleString(locale ?? 'en-US');
  const parts: string[] = [];
  const bySeries = rejected.max_series ?? 0;
  const byTags = rejected.max_tag_values ?? 0;
  if (limits && (limits.series >= limits.maxSeries || bySeries > 0)) {
    const where = limits.series >= limits.maxSeries ? 'at' : 'reached';
    parts.push(
      `${where} the ${number(limits.maxSeries)}-series cap (APP_MAX_SERIES)` +
        (bySeries > 0 ? `: ${number(bySeries)} new series refused` : ''),
    );
  }
  if (byTags > 0) {
    const last = limits?.reason?.startsWith('tag ') ? `, last ${limits.reason}` : '';
    parts.push(
      `${number(byTags)} new series refused for a tag with too many values (APP_MAX_TAG_VALUES${last})`,
    );
  }
  const others = Object.entries(rejected)
    .filter(([reason, n]) => n > 0 && !CAP_REASONS.has(reason))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, n]) => `${number(n)} ${reason.replaceAll('_', ' ')}`);
  if (others.length > 0) parts.push(`rejected: ${others.join(', ')}`);
  return parts.length > 0 ? parts.join('; ') : null;
}
