import {
  APP_METRIC_FIELDS,
  appMetricKey,
  sanitizeServiceName,
  type AppMetric,
  type AppMetricKind,
  type AppServiceInfo,
  type AppServiceMetrics,
} from '@livestat/contracts';
import { parseStatsdTags, type StatsdLine } from './statsd-parser.js';

export interface AppAggregatorOptions {
  /** `APP_MAX_SERIES`: distinct metrics (name + tags) one service may hold. */
  maxSeries: number;
  /** `APP_MAX_TAG_VALUES`: distinct values one tag key may take within a service. */
  maxTagValues: number;
  /** Timer/histogram samples kept per series per interval for the percentiles. */
  reservoirSize?: number;
  /** Members one set counts per interval; beyond it the set saturates. */
  maxSetMembers?: number;
  /** A series not written for this long is forgotten, freeing its place under the cap. */
  idleMs?: number;
  /** Wall clock, epoch ms. */
  now?: () => number;
  /** Random in [0, 1), for the reservoir. */
  random?: () => number;
}

/** A series' place in the aggregator, for writers that resolve it once (OTLP). */
export interface AppSeries {
  readonly service: string;
  readonly key: string;
  readonly name: string;
  readonly kind: AppMetricKind;
  readonly tags: Readonly<Record<string, string>>;
}

/** A distribution already summarised by its sender (an OTLP histogram data point). */
export interface Distribution {
  count: number;
  sum: number;
  min: number | undefined;
  max: number | undefined;
  p50: number | undefined;
  p90: number | undefined;
  p99: number | undefined;
}

interface Series extends AppSeries {
  lastSeen: number;
  touched: boolean;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Gauge: kept across intervals, so `+n`/`-n` apply to the last value. */
  value: number;
  samples: number[];
  seen: number;
  members: Set<string> | null;
  /** Percentiles given by the sender (OTLP), used when there are no samples of our own. */
  given: Pick<Distribution, 'p50' | 'p90' | 'p99'> | null;
}

interface ServiceState {
  name: string;
  series: Map<string, Series>;
  /** tag key → values in use, for the per-key cap. */
  tagValues: Map<string, Map<string, number>>;
  refusedSeries: number;
  reason: string | null;
  rejected: Record<string, number>;
}

/** Where lines that name no service (garbage, or past the service cap) are counted. */
export const UNKNOWN_SERVICE = 'unknown';
/** Services one process tracks; past it new services are refused. */
export const MAX_SERVICES = 200;
/** A StatsD name without a dot or a `service` tag belongs here. */
export const DEFAULT_STATSD_SERVICE = 'statsd';

const SEP = '\u0001';

/**
 * Application metrics of one host over one sampling interval, from StatsD lines and OTLP data
 * points, flushed into an `app` message by the sampler's tick. Caps protect the host: per
 * service at most `maxSeries` series and `maxTagValues` values per tag key; a new series past
 * either is refused and counted with the reason (old series keep flowing).
 */
export function createAppAggregator(options: AppAggregatorOptions) {
  const reservoirSize = options.reservoirSize ?? 1024;
  const maxSetMembers = options.maxSetMembers ?? 100_000;
  const idleMs = options.idleMs ?? 10 * 60_000;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const services = new Map<string, ServiceState>();
  // Raw StatsD identity (kind, name, tag text as sent) → series: the hot path's one lookup.
  const byRaw = new Map<string, Series>();
  const dirty: Series[] = [];
  let flushes = 0;

  function serviceState(name: string, create: boolean): ServiceState | null {
    let state = services.get(name);
    if (state === undefined && create) {
      if (services.size >= MAX_SERVICES && name !== UNKNOWN_SERVICE) return null;
      state = {
        name,
        series: new Map(),
        tagValues: new Map(),
        refusedSeries: 0,
        reason: null,
        rejected: {},
      };
      services.set(name, state);
    }
    return state ?? null;
  }

  /** Counts a refused line, data point or series under its service (or {@link UNKNOWN_SERVICE}). */
  function reject(service: string | null, reason: string, n = 1): void {
    const state =
      (service !== null && serviceState(service, true)) || serviceState(UNKNOWN_SERVICE, true)!;
    state.rejected[reason] = (state.rejected[reason] ?? 0) + n;
  }

  function refuse(state: ServiceState, reason: string, message: string): null {
    state.refusedSeries += 1;
    state.reason = message;
    state.rejected[reason] = (state.rejected[reason] ?? 0) + 1;
    return null;
  }

  /**
   * The series of (service, name, kind, tags), created if the caps allow; null when refused
   * (and counted). `service` and tags are taken as given, sanitised here.
   */
  function series(
    rawService: string,
    name: string,
    kind: AppMetricKind,
    tags: Record<string, string>,
  ): Series | null {
    const service = sanitizeServiceName(rawService) || DEFAULT_STATSD_SERVICE;
    const state = serviceState(service, true);
    if (state === null) {
      reject(null, 'max_services');
      return null;
    }
    const key = appMetricKey(name, tags);
    const existing = state.series.get(key);
    if (existing !== undefined) {
      if (existing.kind !== kind) {
        state.rejected.kind_conflict = (state.rejected.kind_conflict ?? 0) + 1;
        return null;
      }
      return existing;
    }
    if (state.series.size >= options.maxSeries) {
      return refuse(state, 'max_series', `max series ${options.maxSeries} reached`);
    }
    for (const [k, v] of Object.entries(tags)) {
      const values = state.tagValues.get(k);
      if (values !== undefined && !values.has(v) && values.size >= options.maxTagValues) {
        return refuse(
          state,
          'max_tag_values',
          `tag "${k}" has ${options.maxTagValues} values (max tag values)`,
        );
      }
    }
    for (const [k, v] of Object.entries(tags)) {
      let values = state.tagValues.get(k);
      if (values === undefined) state.tagValues.set(k, (values = new Map()));
      values.set(v, (values.get(v) ?? 0) + 1);
    }
    const created: Series = {
      service,
      key,
      name,
      kind,
      tags,
      lastSeen: now(),
      touched: false,
      count: 0,
      sum: 0,
      min: Infinity,
      max: -Infinity,
      value: 0,
      samples: [],
      seen: 0,
      members: null,
      given: null,
    };
    state.series.set(key, created);
    return created;
  }

  function touch(s: Series): void {
    if (!s.touched) {
      s.touched = true;
      dirty.push(s);
    }
  }

  function sample(s: Series, value: number, weight: number): void {
    touch(s);
    s.count += weight;
    s.sum += value * weight;
    if (value < s.min) s.min = value;
    if (value > s.max) s.max = value;
    s.seen += 1;
    // Algorithm R: every sample of the interval equally likely to be kept.
    if (s.samples.length < reservoirSize) s.samples.push(value);
    else {
      const j = Math.floor(random() * s.seen);
      if (j < reservoirSize) s.samples[j] = value;
    }
  }

  function statsdSeries(line: StatsdLine): Series | null {
    const raw = line.kind + SEP + line.name + SEP + line.tags;
    const cached = byRaw.get(raw);
    if (cached !== undefined) return cached;
    const tags = parseStatsdTags(line.tags);
    let service: string;
    let name = line.name;
    if (tags.service !== undefined && tags.service !== '') {
      service = tags.service;
    } else {
      const dot = name.indexOf('.');
      service = dot > 0 && dot < name.length - 1 ? name.slice(0, dot) : DEFAULT_STATSD_SERVICE;
      if (dot > 0 && dot < name.length - 1) name = name.slice(dot + 1);
    }
    delete tags.service;
    const s = series(service, name, line.kind, tags);
    if (s !== null) byRaw.set(raw, s);
    return s;
  }

  function percentile(sorted: number[], q: number): number {
    return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
  }

  function metricOf(s: Series, intervalMs: number): AppMetric {
    const metric: AppMetric = { name: s.name, kind: s.kind, tags: { ...s.tags } };
    switch (s.kind) {
      case 'counter':
        metric.count = s.count;
        metric.rate = s.count / (intervalMs / 1000);
        break;
      case 'gauge':
        metric.value = s.value;
        break;
      case 'set':
        metric.unique = s.members?.size ?? 0;
        break;
      default: {
        metric.count = s.count;
        metric.sum = s.sum;
        if (s.count > 0 && Number.isFinite(s.min)) metric.min = s.min;
        if (s.count > 0 && Number.isFinite(s.max)) metric.max = s.max;
        if (s.samples.length > 0) {
          const sorted = Float64Array.from(s.samples).sort();
          const list = Array.from(sorted);
          metric.p50 = percentile(list, 0.5);
          metric.p90 = percentile(list, 0.9);
          metric.p99 = percentile(list, 0.99);
        } else if (s.given !== null) {
          if (s.given.p50 !== undefined) metric.p50 = s.given.p50;
          if (s.given.p90 !== undefined) metric.p90 = s.given.p90;
          if (s.given.p99 !== undefined) metric.p99 = s.given.p99;
        }
      }
    }
    return metric;
  }

  function reset(s: Series): void {
    s.touched = false;
    s.count = 0;
    s.sum = 0;
    s.min = Infinity;
    s.max = -Infinity;
    s.samples = [];
    s.seen = 0;
    s.members = null;
    s.given = null;
  }

  function sweep(): void {
    const oldest = now() - idleMs;
    for (const state of services.values()) {
      for (const [key, s] of state.series) {
        if (s.lastSeen >= oldest || s.touched) continue;
        state.series.delete(key);
        for (const [k, v] of Object.entries(s.tags)) {
          const values = state.tagValues.get(k);
          const left = (values?.get(v) ?? 1) - 1;
          if (left > 0) values?.set(v, left);
          else values?.delete(v);
        }
      }
    }
    for (const [raw, s] of byRaw) {
      if (services.get(s.service)?.series.get(s.key) !== s) byRaw.delete(raw);
    }
  }

  return {
    reject,
    /** The series of (service, name, kind, tags), null when a cap refused it (counted). */
    series: (
      service: string,
      name: string,
      kind: AppMetricKind,
      tags: Record<string, string>,
    ): AppSeries | null => series(service, name, kind, tags),

    /** One parsed StatsD line (see {@link parseStatsdPacket}). */
    statsd(line: StatsdLine): void {
      const s = statsdSeries(line);
      if (s === null) return;
      s.lastSeen = now();
      switch (line.kind) {
        case 'counter':
          touch(s);
          s.count += line.value / line.sampleRate;
          return;
        case 'gauge':
          touch(s);
          s.value = line.delta ? s.value + line.value : line.value;
          return;
        case 'set':
          touch(s);
          s.members ??= new Set();
          if (s.members.size < maxSetMembers) s.members.add(line.member);
          return;
        default:
          sample(s, line.value, 1 / line.sampleRate);
      }
    },

    /** Adds to a counter (an OTLP delta, or the difference of two cumulative points). */
    addCount(s: AppSeries, n: number): void {
      const own = s as Series;
      own.lastSeen = now();
      touch(own);
      own.count += n;
    },

    /** Sets a gauge. */
    setGauge(s: AppSeries, value: number): void {
      const own = s as Series;
      own.lastSeen = now();
      touch(own);
      own.value = value;
    },

    /** Merges a sender-summarised distribution into a histogram series. */
    addDistribution(s: AppSeries, d: Distribution): void {
      const own = s as Series;
      own.lastSeen = now();
      touch(own);
      own.count += d.count;
      own.sum += d.sum;
      if (d.min !== undefined && d.min < own.min) own.min = d.min;
      if (d.max !== undefined && d.max > own.max) own.max = d.max;
      // Several points of one series in an interval: the latest estimate stands.
      own.given = { p50: d.p50, p90: d.p90, p99: d.p99 };
    },

    /**
     * Closes the interval: every service's metrics written since the last flush, or null when
     * nothing arrived. Called by the sampler's tick, so intervals are the sampler's.
     */
    flush(intervalMs: number): Record<string, AppServiceMetrics> | null {
      flushes += 1;
      let out: Record<string, AppServiceMetrics> | null = null;
      for (const s of dirty) {
        out ??= {};
        const metrics = (out[s.service] ??= { metrics: {} }).metrics;
        metrics[s.key] = metricOf(s, intervalMs);
        reset(s);
      }
      dirty.length = 0;
      // Once a minute at one-second ticks: forgetting idle series costs a walk of them all.
      if (flushes % 60 === 0) sweep();
      return out;
    },

    /** Every service with its series, caps and refusals: `GET /api/apps`. */
    describe(): AppServiceInfo[] {
      return [...services.values()]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((state) => ({
          name: state.name,
          metrics: [...state.series.values()]
            .sort((a, b) => a.key.localeCompare(b.key))
            .map((s) => ({
              key: s.key,
              name: s.name,
              kind: s.kind,
              tags: { ...s.tags },
              fields: [...APP_METRIC_FIELDS[s.kind]],
            })),
          limits: {
            series: state.series.size,
            maxSeries: options.maxSeries,
            refusedSeries: state.refusedSeries,
            overLimit: state.series.size >= options.maxSeries || state.refusedSeries > 0,
            reason: state.reason,
          },
          rejected: { ...state.rejected },
        }));
    },
  };
}

export type AppAggregator = ReturnType<typeof createAppAggregator>;
