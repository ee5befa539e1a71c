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

/** The catalogue paths one metric's chart draws (what the live window backfills). */
export function chartedPaths(metric: AppMetricRef): string[] {
  return CHARTED[metric.kind].map(([field]) => appSeriesPath(metric.service, metric.key, field));
}

/**
 * The live chart of one metric: a rate per second for a counter; the value for a gauge (a set's
 * distinct members likewise); p50, p90 and p99 for a timer or histogram, whose three lines make
 * the band the interval's samples fell in.
 */
export function chartSpecOf(metric: AppMetricRef): ChartSpec {
  const lines = CHARTED[metric.kind].map(([field, label]) => ({
    path: appSeriesPath(metric.service, metric.key, field),
    label,
  }));
  switch (chartKindOf(metric.kind)) {
    case 'rate':
      return { unit: 'rate', lines };
    case 'bands':
      return { unit: 'ratio', lines };
    case 'line':
      return { unit: metric.kind === 'set' ? 'count' : 'ratio', lines };
  }
}

/** The headline figure of a metric's newest interval (`12.5/s`, `p99 48.2`), or null. */
export function headlineOf(metric: AppMetric | undefined): string | null {
  if (!metric) return null;
  switch (metric.kind) {
    case 'counter':
      return metric.rate === undefined ? null : formatValue('rate', metric.rate);
    case 'gauge':
      return metric.value === undefined ? null : formatValue('ratio', metric.value);
    case 'set':
      return metric.unique === undefined ? null : `${formatValue('count', metric.unique)} distinct`;
    case 'timer':
    case 'histogram':
      return metric.p99 === undefined
        ? null
        : `p50 ${formatValue('ratio', metric.p50)} · p99 ${formatValue('ratio', metric.p99)}`;
  }
}

/** `provider=openai, region=eu`: a metric's tags in one line, or '' without any. */
export function tagsText(tags: Readonly<Record<string, string>>): string {
  return Object.keys(tags)
    .sort()
    .map((key) => `${key}=${tags[key]}`)
    .join(', ');
}
