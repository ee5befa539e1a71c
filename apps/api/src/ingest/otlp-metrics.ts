import type { AppAggregator, AppSeries } from './app-aggregator.js';
import { histogramDistribution, exponentialBuckets, type Buckets } from './histogram-buckets.js';

// The OTLP metrics data model as both encodings present it once decoded (see otlp-codec.ts):
// plain objects, camelCase, 64-bit integers as numbers (protobuf) or strings (JSON).
type Obj = Record<string, unknown>;

const DELTA = 1;
const CUMULATIVE = 2;

/** What one export request came to: points taken, points refused and the first reason. */
export interface OtlpIngestResult {
  accepted: number;
  rejected: number;
  /** Short reasons, most frequent kinds once each (`3 data points without a value`). */
  errors: string[];
}

const asObj = (value: unknown): Obj | null =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : null;
const asList = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** An int64/double as either encoding carries it; NaN when absent or not a number. */
function num(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return NaN;
}

function anyValue(value: unknown): string {
  const v = asObj(value);
  if (v === null) return '';
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (v.intValue !== undefined) return String(num(v.intValue));
  if (v.doubleValue !== undefined) return String(num(v.doubleValue));
  if (typeof v.boolValue === 'boolean') return String(v.boolValue);
  // Arrays, maps and bytes: kept as JSON text, which is what a tag can be.
  return JSON.stringify(v.arrayValue ?? v.kvlistValue ?? v.bytesValue ?? '');
}

function attributes(list: unknown): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const item of asList(list)) {
    const kv = asObj(item);
    if (kv && typeof kv.key === 'string' && kv.key !== '') tags[kv.key] = anyValue(kv.value);
  }
  return tags;
}

function pointValue(point: Obj): number {
  return point.asDouble !== undefined ? num(point.asDouble) : num(point.asInt);
}

interface CumulativeState {
  start: number;
  value: number;
  buckets?: Buckets;
  count?: number;
  sum?: number;
}

/** Most cumulative series remembered; past it the memory starts over (one rate point lost). */
const MAX_CUMULATIVE = 100_000;

/**
 * Feeds OTLP export requests into the aggregator: gauges as gauges; monotonic sums as counters
 * (delta points added, cumulative points differenced against the last one, a drop or a new
 * start time being a reset); non-monotonic sums as gauges of their level; histograms and
 * exponential histograms as histograms with count, sum, min, max and percentiles estimated
 * from the buckets. The service is the resource's `service.name`.
 */
export function createOtlpIngest(aggregator: AppAggregator) {
  const cumulative = new Map<string, CumulativeState>();

  function remember(key: string, state: CumulativeState): void {
    if (cumulative.size >= MAX_CUMULATIVE && !cumulative.has(key)) cumulative.clear();
    cumulative.set(key, state);
  }

  return function ingest(request: unknown): OtlpIngestResult {
    const result: OtlpIngestResult = { accepted: 0, rejected: 0, errors: [] };
    const reasons = new Map<string, number>();
    // In the answer only: a refused series the aggregator has already counted under its service.
    const answer = (reason: string, n = 1) => {
      result.rejected += n;
      reasons.set(reason, (reasons.get(reason) ?? 0) + n);
    };
    const refuse = (service: string | null, reason: string, n = 1) => {
      answer(reason, n);
      aggregator.reject(service, reason, n);
    };

    for (const rm of asList(asObj(request)?.resourceMetrics)) {
      const resource = asObj(asObj(rm)?.resource);
      const service = attributes(resource?.attributes)['service.name'] || 'unknown_service';
      for (const sm of asList(asObj(rm)?.scopeMetrics)) {
        for (const item of asList(asObj(sm)?.metrics)) {
          const metric = asObj(item);
          const name = typeof metric?.name === 'string' ? metric.name : '';
          if (metric === null || name === '') {
            refuse(service, 'bad_metric');
            continue;
          }
          const ctx = {
            service,
            name,
            refuse,
            seriesRefused: () => answer('series_refused'),
            accept: () => (result.accepted += 1),
          };
          if (asObj(metric.gauge)) gauge(ctx, asObj(metric.gauge)!);
          else if (asObj(metric.sum)) sum(ctx, asObj(metric.sum)!);
          else if (asObj(metric.histogram)) histogram(ctx, asObj(metric.histogram)!, false);
          else if (asObj(metric.exponentialHistogram)) {
            histogram(ctx, asObj(metric.exponentialHistogram)!, true);
          } else if (asObj(metric.summary)) {
            refuse(
              service,
              'summary_unsupported',
              asList(asObj(metric.summary)!.dataPoints).length,
            );
          } else refuse(service, 'bad_metric');
        }
      }
    }
    result.errors = [...reasons].map(([reason, n]) => `${n} ${reason.replaceAll('_', ' ')}`);
    return result;
  };

  interface Ctx {
    service: string;
    name: string;
    refuse: (service: string | null, reason: string, n?: number) => void;
    /** A point whose new series the caps refused (counted by the aggregator, by its reason). */
    seriesRefused: () => void;
    accept: () => void;
  }

  function seriesOf(ctx: Ctx, point: Obj, kind: AppSeries['kind']): AppSeries | null {
    const s = aggregator.series(ctx.service, ctx.name, kind, attributes(point.attributes));
    if (s === null) ctx.seriesRefused();
    return s;
  }

  function gauge(ctx: Ctx, data: Obj): void {
    for (const p of asList(data.dataPoints)) {
      const point = asObj(p) ?? {};
      const value = pointValue(point);
      if (!Number.isFinite(value)) {
        ctx.refuse(ctx.service, 'no_value');
        continue;
      }
      const s = seriesOf(ctx, point, 'gauge');
      if (s === null) continue;
      aggregator.setGauge(s, value);
      ctx.accept();
    }
  }

  function sum(ctx: Ctx, data: Obj): void {
    const temporality = num(data.aggregationTemporality);
    const monotonic = data.isMonotonic === true;
    for (const p of asList(data.dataPoints)) {
      const point = asObj(p) ?? {};
      const value = pointValue(point);
      if (!Number.isFinite(value)) {
        ctx.refuse(ctx.service, 'no_value');
        continue;
      }
      if (temporality !== DELTA && temporality !== CUMULATIVE) {
        ctx.refuse(ctx.service, 'bad_temporality');
        continue;
      }
      const s = seriesOf(ctx, point, monotonic ? 'counter' : 'gauge');
      if (s === null) continue;
      const key = `${s.service}\u0001${s.key}`;
      const start = num(point.startTimeUnixNano);
      const last = cumulative.get(key);
      if (monotonic && temporality === DELTA) aggregator.addCount(s, value);
      else if (monotonic) {
        // A cumulative counter counts from its start time: all of it is new the first time, and
        // again after a reset (the value fell, or the start moved).
        const reset = last === undefined || value < last.value || last.start !== start;
        aggregator.addCount(s, reset ? value : value - last.value);
        remember(key, { start, value });
      } else if (temporality === DELTA) {
        // An up-down counter sent as changes: its level is what the changes add up to.
        const level = (last?.value ?? 0) + value;
        aggregator.setGauge(s, level);
        remember(key, { start, value: level });
      } else aggregator.setGauge(s, value);
      ctx.accept();
    }
  }

  function histogram(ctx: Ctx, data: Obj, exponential: boolean): void {
    const temporality = num(data.aggregationTemporality);
    for (const p of asList(data.dataPoints)) {
      const point = asObj(p) ?? {};
      const count = num(point.count);
      const buckets = exponential ? exponentialBuckets(point) : explicitBuckets(point);
      if (!Number.isFinite(count) || count < 0 || buckets === null) {
        ctx.refuse(ctx.service, 'bad_histogram');
        continue;
      }
      const s = seriesOf(ctx, point, 'histogram');
      if (s === null) continue;
      const sumValue = Number.isFinite(num(point.sum)) ? num(point.sum) : 0;
      const min = Number.isFinite(num(point.min)) ? num(point.min) : undefined;
      const max = Number.isFinite(num(point.max)) ? num(point.max) : undefined;
      if (temporality === CUMULATIVE) {
        const key = `${s.service}\u0001${s.key}`;
        const start = num(point.startTimeUnixNano);
        const last = cumulative.get(key);
        remember(key, { start, value: count, count, sum: sumValue, buckets });
        const reset = last === undefined || count < (last.count ?? 0) || last.start !== start;
        if (reset) {
          aggregator.addDistribution(s, histogramDistribution(count, sumValue, min, max, buckets));
        } else {
          const delta = subtractBuckets(buckets, last.buckets!);
          // Min and max are over the whole life of a cumulative histogram, not this interval.
          aggregator.addDistribution(
            s,
            histogramDistribution(
              count - last.count!,
              sumValue - last.sum!,
              undefined,
              undefined,
              delta,
            ),
          );
        }
      } else {
        aggregator.addDistribution(s, histogramDistribution(count, sumValue, min, max, buckets));
      }
      ctx.accept();
    }
  }
}

function explicitBuckets(point: Obj): Buckets | null {
  const counts = asList(point.bucketCounts).map(num);
  const bounds = asList(point.explicitBounds).map(num);
  if (counts.length === 0) return { bounds: [], counts: [] };
  if (counts.length !== bounds.length + 1) return null;
  if (counts.some((c) => !Number.isFinite(c) || c < 0) || bounds.some((b) => !Number.isFinite(b))) {
    return null;
  }
  return { bounds, counts };
}

/** This point's buckets minus the last one's, matched by upper bound (exponential scales may move). */
function subtractBuckets(now: Buckets, before: Buckets): Buckets {
  const previous = new Map<number, number>();
  before.counts.forEach((c, i) => previous.set(before.bounds[i] ?? Infinity, c));
  return {
    bounds: now.bounds,
    counts: now.counts.map((c, i) =>
      Math.max(0, c - (previous.get(now.bounds[i] ?? Infinity) ?? 0)),
    ),
  };
}
