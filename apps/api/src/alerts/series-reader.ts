import {
  APP_METRIC_FIELDS,
  appSeriesPath,
  parseAppSeriesFamily,
  parseAppSeriesPath,
  resolveSeries,
  SERIES_PATTERNS,
  type AppMessage,
  type AppMetric,
  type AppMetricField,
  type SeriesStep,
  type Snapshot,
} from '@livestat/contracts';

/** One value a rule reads from a snapshot: the concrete series path and its number. */
export interface SeriesValue {
  path: string;
  value: number;
}

/** Reads a rule's series out of a snapshot: one value for a path, one per member for a family. */
export type SeriesReader = (snapshot: Snapshot) => SeriesValue[];

type Step =
  | SeriesStep
  | { kind: 'fixed-key'; name: string }
  | { kind: 'fixed-element'; by: string; value: string | number };

const NONE: SeriesValue[] = [];

/**
 * Compiles a rule's series (`cpu.usagePercent`, `disk.filesystems./.usedPercent`, or a family
 * `disk.filesystems.*.usedPercent`) into a reader that walks only the fields it needs: the
 * evaluator runs it for every rule on every snapshot, so it must not flatten the snapshot.
 * A series no snapshot can hold (a collector that is not there yet) reads nothing.
 */
export function compileSeriesReader(series: string): SeriesReader {
  const family = SERIES_PATTERNS.find((p) => p.pattern === series && p.pattern.includes('*'));
  let section: string;
  let steps: Step[];
  if (family) {
    section = family.section;
    steps = [...family.steps];
  } else {
    const resolved = resolveSeries(series);
    if (resolved === null) {
      // Not in this build's catalogue: a rule for a collector that may land later, or PSI on
      // a host without it. Read it by plain field names, so it works the day the field exists.
      const [first, ...rest] = series.split('.');
      if (!first || rest.length === 0) return () => NONE;
      section = first;
      steps = rest.map((name) => ({ kind: 'field', name }));
    } else {
      section = resolved.section;
      steps = resolved.steps.map((step) =>
        step.kind === 'field'
          ? step
          : step.kind === 'key'
            ? { kind: 'fixed-key', name: step.name }
            : { kind: 'fixed-element', by: step.by, value: step.value },
      );
    }
  }
  if (steps.every((step) => step.kind === 'field' || step.kind === 'fixed-key')) {
    // One number at a known place: no path to build, the rule's series is its path.
    const names = steps.map((step) => (step as { name: string }).name);
    return (snapshot) => {
      let node = (snapshot as unknown as Record<string, unknown>)[section];
      if ((node as { available?: unknown } | undefined)?.available === false) return NONE;
      for (const name of names) {
        if (node === null || typeof node !== 'object') return NONE;
        node = (node as Record<string, unknown>)[name];
      }
      return typeof node === 'number' && Number.isFinite(node)
        ? [{ path: series, value: node }]
        : NONE;
    };
  }
  // A family has one wildcard: its member's path is the pattern with the member's name in it,
  // made once per member rather than once per read.
  const paths = new Map<string | number, string>();
  const template = family ? family.pattern : series;
  const pathOf = (name: string | number | null) => {
    if (name === null) return series;
    let path = paths.get(name);
    if (path === undefined) paths.set(name, (path = template.replace('*', String(name))));
    return path;
  };
  return (snapshot) => {
    const payload = (snapshot as unknown as Record<string, unknown>)[section];
    if (payload === null || typeof payload !== 'object') return NONE;
    if ((payload as { available?: unknown }).available === false) return NONE;
    const out: SeriesValue[] = [];
    walk(payload, steps, 0, null, pathOf, out);
    return out;
  };
}

function walk(
  node: unknown,
  steps: Step[],
  index: number,
  name: string | number | null,
  pathOf: (name: string | number | null) => string,
  out: SeriesValue[],
): void {
  if (index === steps.length) {
    if (typeof node === 'number' && Number.isFinite(node))
      out.push({ path: pathOf(name), value: node });
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const step = steps[index]!;
  const record = node as Record<string, unknown>;
  switch (step.kind) {
    case 'field':
    case 'fixed-key':
      walk(record[step.name], steps, index + 1, name, pathOf, out);
      return;
    case 'key':
      for (const key in record) walk(record[key], steps, index + 1, key, pathOf, out);
      return;
    case 'fixed-element':
    case 'element': {
      if (!Array.isArray(node)) return;
      for (const element of node as Record<string, unknown>[]) {
        const member = element?.[step.by];
        if (typeof member !== 'string' && typeof member !== 'number') continue;
        if (step.kind === 'fixed-element') {
          if (member !== step.value) continue;
          walk(element, steps, index + 1, name, pathOf, out);
        } else walk(element, steps, index + 1, member, pathOf, out);
      }
      return;
    }
  }
}

/** Reads a rule's application series out of an `app` message. */
export type AppSeriesReader = (message: AppMessage) => SeriesValue[];

/** The field of a metric when its kind carries it (a gauge has no `p99`) and it is a number. */
function fieldValue(metric: AppMetric | undefined, field: AppMetricField): number | undefined {
  if (metric === undefined || !APP_METRIC_FIELDS[metric.kind].includes(field)) return undefined;
  const value = metric[field];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * Compiles a rule's application series — `app.worker.queue.depth.value`, or a family
 * `app.*.queue.depth.value` (every service) or `app.worker.*.p99` (every metric of a service) —
 * into a reader of `app` messages that looks up only what the rule names. A series that is
 * neither reads nothing.
 */
export function compileAppSeriesReader(series: string): AppSeriesReader {
  const own = (record: object, key: string) => Object.hasOwn(record, key);
  const family = parseAppSeriesFamily(series);
  if (family === null) {
    const ref = parseAppSeriesPath(series);
    if (ref === null) return () => NONE;
    const { service, metricKey, field } = ref;
    return ({ services }) => {
      if (!own(services, service) || !own(services[service]!.metrics, metricKey)) return NONE;
      const value = fieldValue(services[service]!.metrics[metricKey], field);
      return value === undefined ? NONE : [{ path: series, value }];
    };
  }
  const { service, metricKey, field } = family;
  return ({ services }) => {
    const out: SeriesValue[] = [];
    const names =
      service === null ? Object.keys(services) : own(services, service) ? [service] : [];
    for (const name of names) {
      const metrics = services[name]!.metrics;
      const keys =
        metricKey === null ? Object.keys(metrics) : own(metrics, metricKey) ? [metricKey] : [];
      for (const key of keys) {
        const value = fieldValue(metrics[key], field);
        if (value !== undefined) out.push({ path: appSeriesPath(name, key, field), value });
      }
    }
    return out;
  };
}
