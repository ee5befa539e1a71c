import {
  appSeriesPath,
  type AppMetric,
  type AppMetricField,
  type AppMetricInfo,
  type AppMetricKind,
} from '@livestat/contracts';
import { formatValue } from '../../lib/chart-units';
import type { ChartSpec } from '../live/chart-options';

/** How a metric is drawn: counters as a rate, gauges and sets as a line, timings as bands. */
export type AppChartKind = 'rate' | 'line' | 'bands';

/** The chart a metric of `kind` gets. */
export function chartKindOf(kind: AppMetricKind): AppChartKind {
  switch (kind) {
    case 'counter':
      return 'rate';
    case 'timer':
    case 'histogram':
      return 'bands';
    case 'gauge':
    case 'set':
      return 'line';
  }
}

/** The fields a chart of `kind` draws, with their legend labels. */
const CHARTED: Record<AppMetricKind, readonly [AppMetricField, string][]> = {
  counter: [['rate', 'per second']],
  gauge: [['value', 'value']],
  set: [['unique', 'distinct']],
  timer: [
    ['p50', 'p50'],
    ['p90', 'p90'],
    ['p99', 'p99'],
  ],
  histogram: [
    ['p50', 'p50'],
    ['p90', 'p90'],
    ['p99', 'p99'],
  ],
};

/** A metric as a card shows it: its service, its key and what it is. */
export type AppMetricRef = Pick<AppMetricInfo, 'key' | 'name' | 'kind' | 'tags'> & {
  service: string;
};

/** A whole number as the tooltip writes a sample count: `40`, `12,345`. */
export const formatWhole = (value: number) => Math.round(value).toLocaleString('en-US');

/** Fields the tooltip of a kind's chart lists beside its lines: how many samples a timing had. */
const NOTED: Partial<Record<AppMetricKind, readonly [AppMetricField, string][]>> = {
  timer: [['count', 'samples']],
  histogram: [['count', 'samples']],
};

/**
 * The catalogue paths one metric's chart reads — its lines and its tooltip's notes — which the
 * live window backfills.
 */
export function chartedPaths(metric: AppMetricRef): string[] {
  return [...CHARTED[metric.kind], ...(NOTED[metric.kind] ?? [])].map(([field]) =>
    appSeriesPath(metric.service, metric.key, field),
  );
}

/**
 * The live chart of one metric: a rate per second for a counter; the value for a gauge (a set's
 * distinct members likewise), whose axis goes below zero with it; for a timer or histogram, the
 * band the interval's samples fell in, p50 up to p99 filled, with p90 as a line across it and
 * the interval's sample count in the tooltip.
 */
export function chartSpecOf(metric: AppMetricRef): ChartSpec {
  const path = (field: AppMetricField) => appSeriesPath(metric.service, metric.key, field);
  const lines = CHARTED[metric.kind].map(([field, label]) => ({ path: path(field), label }));
  switch (chartKindOf(metric.kind)) {
    case 'rate':
      return { unit: 'rate', lines, signed: true };
    case 'bands':
      return {
        unit: 'count',
        lines,
        band: { from: path('p50'), to: path('p99') },
        notes: (NOTED[metric.kind] ?? []).map(([field, label]) => ({
          path: path(field),
          label,
          format: formatWhole,
        })),
      };
    case 'line':
      return metric.kind === 'set'
        ? { unit: 'count', lines }
        : { unit: 'count', lines, signed: true };
  }
}

/** The headline figure of a metric's newest interval (`12.5/s`, `p99 48.2`), or null. */
export function headlineOf(metric: AppMetric | undefined): string | null {
  if (!metric) return null;
  switch (metric.kind) {
    case 'counter':
      return metric.rate === undefined ? null : formatValue('rate', metric.rate);
    case 'gauge':
      return metric.value === undefined ? null : formatValue('count', metric.value);
    case 'set':
      return metric.unique === undefined ? null : `${formatValue('count', metric.unique)} distinct`;
    case 'timer':
    case 'histogram':
      return metric.p99 === undefined
        ? null
        : `p50 ${formatValue('count', metric.p50)} · p99 ${formatValue('count', metric.p99)}`;
  }
}

/**
 * What a card says a metric is: a counter is drawn per second; a StatsD timer (`|ms`) is in
 * milliseconds; a histogram's unit is the application's own.
 */
export function kindLabelOf(kind: AppMetricKind): string {
  if (kind === 'counter') return 'counter · per second';
  if (kind === 'timer') return 'timer · ms';
  return kind;
}

/** `provider=openai, region=eu`: a metric's tags in one line, or '' without any. */
export function tagsText(tags: Readonly<Record<string, string>>): string {
  return Object.keys(tags)
    .sort()
    .map((key) => `${key}=${tags[key]}`)
    .join(', ');
}
