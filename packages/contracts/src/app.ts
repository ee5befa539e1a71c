import { z } from 'zod/mini';
import { hostName, isoTimestamp, text } from './common.js';

/** How an application metric aggregates over one sampling interval. */
export const appMetricKind = z.enum(['counter', 'gauge', 'timer', 'histogram', 'set']);
export type AppMetricKind = z.infer<typeof appMetricKind>;

/** A numeric field an application metric may carry. */
export const appMetricField = z.enum([
  'count',
  'rate',
  'value',
  'unique',
  'sum',
  'min',
  'max',
  'p50',
  'p90',
  'p99',
]);
export type AppMetricField = z.infer<typeof appMetricField>;

/**
 * Exactly the fields each kind carries, in the order a UI lists them: counters as a rate per
 * second and the interval's total, gauges as their last value, timers and histograms as the
 * distribution of the interval's samples, sets as how many distinct members arrived.
 */
export const APP_METRIC_FIELDS: Readonly<Record<AppMetricKind, readonly AppMetricField[]>> = {
  counter: ['rate', 'count'],
  gauge: ['value'],
  timer: ['count', 'sum', 'min', 'max', 'p50', 'p90', 'p99'],
  histogram: ['count', 'sum', 'min', 'max', 'p50', 'p90', 'p99'],
  set: ['unique'],
};

const finite = z.number();

/** One metric of one service over one interval. */
export const appMetric = z.object({
  name: text.check(z.minLength(1), z.maxLength(200)),
  kind: appMetricKind,
  tags: z.record(z.string(), z.string()),
  /**
   * Counter: the sum in the interval (negative when a client decremented more than it
   * incremented); timer/histogram: how many samples.
   */
  count: z.optional(finite),
  /** Counter: per second. */
  rate: z.optional(finite),
  /** Gauge: the last value. */
  value: z.optional(finite),
  /** Set: distinct members seen in the interval. */
  unique: z.optional(z.number().check(z.int(), z.nonnegative())),
  sum: z.optional(finite),
  min: z.optional(finite),
  max: z.optional(finite),
  p50: z.optional(finite),
  p90: z.optional(finite),
  p99: z.optional(finite),
});
export type AppMetric = z.infer<typeof appMetric>;

export const appServiceMetrics = z.object({
  /** Keyed by {@link appMetricKey}: `queue.depth`, `calls;provider=openai`. */
  metrics: z.record(z.string(), appMetric),
});
export type AppServiceMetrics = z.infer<typeof appServiceMetrics>;

/**
 * Server → client, one per host per tick when that host's applications sent anything in the
 * interval; delivered to the sockets subscribed to the host, like snapshots.
 */
export const appMessage = z.object({
  type: z.literal('app'),
  host: hostName,
  /** The sampler's tick that closed the interval. */
  timestamp: isoTimestamp,
  intervalMs: z.number().check(z.int(), z.positive()),
  /** Keyed by service name (see {@link sanitizeServiceName}). */
  services: z.record(z.string(), appServiceMetrics),
});
export type AppMessage = z.infer<typeof appMessage>;

// Service names are one path segment; metric keys use `;` and `=` between tags; paths hold no
// whitespace or NUL (the database refuses NUL); `*` stands for any service or metric in an alert
// rule's family. Anything else an application sends is kept.
/* eslint-disable no-control-regex */
const SERVICE_UNSAFE = /[.\s;=*\u0000]/g;
const NAME_UNSAFE = /[\s;*\u0000]/g;
const TAG_UNSAFE = /[\s;=\u0000]/g;
/* eslint-enable no-control-regex */

/** A service name as it appears in paths and messages: dots, `;`, `=`, `*` and blanks become `_`. */
export function sanitizeServiceName(name: string): string {
  return name.replace(SERVICE_UNSAFE, '_');
}

/**
 * The key of a metric within its service: the name, then each tag as `;k=v`, sorted by key
 * (`calls;provider=openai;region=eu`). Blanks and separators inside names and tags, and `*` in
 * names, become `_`.
 */
export function appMetricKey(name: string, tags: Readonly<Record<string, string>>): string {
  let key = name.replace(NAME_UNSAFE, '_');
  for (const k of Object.keys(tags).sort()) {
    key += `;${k.replace(TAG_UNSAFE, '_')}=${String(tags[k]).replace(TAG_UNSAFE, '_')}`;
  }
  return key;
}

/** The catalogue path of one field of one metric: `app.worker.queue.depth.value`. */
export function appSeriesPath(service: string, metricKey: string, field: AppMetricField): string {
  return `app.${service}.${metricKey}.${field}`;
}

/** Longest application series path the history and alerts accept. */
export const APP_SERIES_MAX_LENGTH = 300;

const APP_PATH = new RegExp(
  `^app\\.([^.\\s;=*\\u0000]+)\\.([^\\s\\u0000]+)\\.(${appMetricField.options.join('|')})$`,
);

/** A catalogue path split into its parts. */
export interface AppSeriesRef {
  service: string;
  metricKey: string;
  field: AppMetricField;
}

/**
 * Splits `app.<service>.<metricKey>.<field>`; null for a path that is not one. The service is
 * the segment after `app.` (services carry no dots), the field the last segment, and the key
 * everything between — so metric names keep their dots.
 */
export function parseAppSeriesPath(path: string): AppSeriesRef | null {
  if (path.length > APP_SERIES_MAX_LENGTH) return null;
  const match = APP_PATH.exec(path);
  // A key of `*` is a family of every metric of a service (series.ts), never a metric.
  if (!match || match[2] === '*') return null;
  return {
    service: match[1]!,
    metricKey: match[2]!,
    field: match[3] as AppMetricField,
  };
}

/**
 * Every series path of one `app` message with its value (`app.worker.queue.depth.value` → 17),
 * as history, CSV, alerts and `/metrics` see them.
 */
export function flattenAppSeries(message: Pick<AppMessage, 'services'>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [service, { metrics }] of Object.entries(message.services)) {
    for (const [key, metric] of Object.entries(metrics)) {
      for (const field of APP_METRIC_FIELDS[metric.kind]) {
        const value = metric[field];
        if (typeof value === 'number' && Number.isFinite(value)) {
          out.set(appSeriesPath(service, key, field), value);
        }
      }
    }
  }
  return out;
}

/** `GET /api/apps` query string. */
export const appsQuery = z.object({ host: z.optional(hostName) });
export type AppsQuery = z.infer<typeof appsQuery>;

/** One metric a service has sent, as `GET /api/apps` lists it. */
export const appMetricInfo = z.object({
  key: z.string().check(z.minLength(1)),
  name: z.string().check(z.minLength(1)),
  kind: appMetricKind,
  tags: z.record(z.string(), z.string()),
  fields: z.array(appMetricField),
});
export type AppMetricInfo = z.infer<typeof appMetricInfo>;

/** Where a service stands against its caps. */
export const appLimits = z.object({
  series: z.number().check(z.int(), z.nonnegative()),
  maxSeries: z.number().check(z.int(), z.positive()),
  /** New series refused since the API started. */
  refusedSeries: z.number().check(z.int(), z.nonnegative()),
  overLimit: z.boolean(),
  /** Why the last series was refused (`max series 2000 reached`), null when none was. */
  reason: z.nullable(z.string()),
});
export type AppLimits = z.infer<typeof appLimits>;

export const appServiceInfo = z.object({
  name: z.string().check(z.minLength(1)),
  metrics: z.array(appMetricInfo),
  limits: appLimits,
  /** Lines, data points or series refused, per reason (`bad_value`, `max_series`, …). */
  rejected: z.record(z.string(), z.number().check(z.int(), z.nonnegative())),
});
export type AppServiceInfo = z.infer<typeof appServiceInfo>;

/** `GET /api/apps?host=` answer. */
export const appsResponse = z.object({ services: z.array(appServiceInfo) });
export type AppsResponse = z.infer<typeof appsResponse>;
