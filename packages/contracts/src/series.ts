import type { z } from 'zod';
import { appMetricField, parseAppSeriesPath, type AppMetricField } from './app.js';
import { COLLECTOR_NAMES, snapshot } from './snapshot.js';

/** The parts of a snapshot that hold series: the collectors and the sampler's own cost. */
export const SERIES_SECTIONS = [...COLLECTOR_NAMES, 'agent'] as const;
export type SeriesSection = (typeof SERIES_SECTIONS)[number];

/**
 * True for a section a snapshot may lack: those added after the first six (`processes`…), which
 * an older agent does not send. Storage and history treat a missing one as no data, not an error.
 */
export function isOptionalSection(section: SeriesSection): boolean {
  return snapshot.shape[section]._zod.def.type === 'optional';
}

/**
 * Arrays whose elements are named by one of their fields: `cpu.cores.3.usagePercent` is the core
 * with `id` 3, `disk.filesystems./home.usedPercent` the filesystem mounted at `/home`.
 */
const ARRAY_KEYS: Readonly<Record<string, string>> = { cores: 'id', filesystems: 'mountPoint' };

/** One step from a section's payload towards a number. */
export type SeriesStep =
  | { kind: 'field'; name: string }
  /** A key of a record, such as an interface or device name. */
  | { kind: 'key' }
  /** An element of an array, picked by the value of its `by` field. */
  | { kind: 'element'; by: string; numeric: boolean };

/** A family of series: `network.interfaces.*.rxBytesPerSec` stands for one per interface. */
export interface SeriesPattern {
  pattern: string;
  section: SeriesSection;
  steps: readonly SeriesStep[];
}

/** A step with its wildcard filled in. */
export type ResolvedStep =
  | { kind: 'field'; name: string }
  | { kind: 'key'; name: string }
  | { kind: 'element'; by: string; value: string | number };

/** A series path matched to its pattern: where its numbers sit inside the section's payload. */
export interface ResolvedSeries {
  path: string;
  section: SeriesSection;
  pattern: string;
  steps: readonly ResolvedStep[];
}

type Schema = z.core.$ZodType;

// Reads the schema's structure (zod 4's `_zod.def`) so the catalogue cannot drift from the
// snapshot: a field added to a collector is a series the day it is added.
function walk(
  schema: Schema,
  steps: SeriesStep[],
  out: SeriesStep[][],
  field?: string,
  skip?: string,
): void {
  const def = schema._zod.def as unknown as Record<string, unknown> & { type: string };
  switch (def.type) {
    case 'number':
      out.push(steps);
      return;
    case 'nullable':
    case 'optional':
      walk(def.innerType as Schema, steps, out, field);
      return;
    case 'union':
      // collectorResult: `{available: true, ...}` | `{available: false, error}`.
      for (const option of def.options as Schema[]) walk(option, steps, out, field);
      return;
    case 'object':
      for (const [name, child] of Object.entries(def.shape as Record<string, Schema>)) {
        if (name === skip) continue;
        walk(child, [...steps, { kind: 'field', name }], out, name);
      }
      return;
    case 'record': {
      const keyDef = (def.keyType as Schema)._zod.def as unknown as {
        type: string;
        entries?: Record<string, string>;
      };
      if (keyDef.type === 'enum' && keyDef.entries) {
        for (const name of Object.values(keyDef.entries)) {
          walk(def.valueType as Schema, [...steps, { kind: 'field', name }], out);
        }
      } else {
        walk(def.valueType as Schema, [...steps, { kind: 'key' }], out);
      }
      return;
    }
    case 'array': {
      const by = field === undefined ? undefined : ARRAY_KEYS[field];
      // Arrays without a naming field (perf's unsupportedEvents) hold no series.
      if (by === undefined) return;
      const element = def.element as Schema;
      const byDef = (element._zod.def as unknown as { shape: Record<string, Schema> }).shape[by];
      const numeric = byDef?._zod.def.type === 'number';
      // The naming field is the element's identity, not a series.
      walk(element, [...steps, { kind: 'element', by, numeric }], out, undefined, by);
      return;
    }
    default:
      return; // booleans, strings, literals: not series
  }
}

function patternText(section: string, steps: readonly SeriesStep[]): string {
  return [section, ...steps.map((step) => (step.kind === 'field' ? step.name : '*'))].join('.');
}

function buildCatalogue(): SeriesPattern[] {
  const seen = new Map<string, SeriesPattern>();
  for (const section of SERIES_SECTIONS) {
    const out: SeriesStep[][] = [];
    walk(snapshot.shape[section], [], out);
    for (const steps of out) {
      const pattern = patternText(section, steps);
      if (!seen.has(pattern)) seen.set(pattern, { pattern, section, steps });
    }
  }
  return [...seen.values()];
}

/** Every family of numeric series a snapshot carries, derived from the snapshot schema. */
export const SERIES_PATTERNS: readonly SeriesPattern[] = buildCatalogue();

/**
 * Matches a series path to its pattern. A wildcard takes everything between its pattern's
 * fixed prefix and suffix, so interface names with dots (`eth0.100`) still resolve.
 * Returns null for a path no snapshot can hold.
 */
export function resolveSeries(path: string): ResolvedSeries | null {
  for (const { pattern, section, steps } of SERIES_PATTERNS) {
    const star = pattern.indexOf('*');
    if (star === -1) {
      if (path !== pattern) continue;
      return { path, section, pattern, steps: steps as ResolvedStep[] };
    }
    const prefix = pattern.slice(0, star);
    const suffix = pattern.slice(star + 1);
    if (path.length <= prefix.length + suffix.length) continue;
    if (!path.startsWith(prefix) || !path.endsWith(suffix)) continue;
    const name = path.slice(prefix.length, path.length - suffix.length);
    const resolved: ResolvedStep[] = [];
    let ok = true;
    for (const step of steps) {
      if (step.kind === 'field') resolved.push(step);
      else if (step.kind === 'key') resolved.push({ kind: 'key', name });
      else if (!step.numeric) resolved.push({ kind: 'element', by: step.by, value: name });
      else if (/^\d+$/.test(name))
        resolved.push({ kind: 'element', by: step.by, value: Number(name) });
      else ok = false;
    }
    if (ok) return { path, section, pattern, steps: resolved };
  }
  return null;
}

/**
 * The first segment of application series (`app.<service>.<metricKey>.<field>`), and the
 * `metric_type` of their stored rows: `{service: {metricKey: {field: value}}}`.
 */
export const APP_SECTION = 'app';

/**
 * An application series resolved like a section's: two record keys and a field of the stored
 * `app` row, so the raw and rollup queries read it as they read `network.interfaces.*.…`.
 */
export interface ResolvedAppSeries {
  path: string;
  section: typeof APP_SECTION;
  /** `app.*.*.<field>`: every metric's field of that name. */
  pattern: string;
  steps: readonly [
    { kind: 'key'; name: string },
    { kind: 'key'; name: string },
    { kind: 'field'; name: AppMetricField },
  ];
  service: string;
  metricKey: string;
  field: AppMetricField;
}

/** A series of the whole catalogue: a snapshot's or an application's. */
export type CatalogueSeries = ResolvedSeries | ResolvedAppSeries;

/** `app.worker.queue.depth.value` resolved; null for a path that is not an application series. */
export function resolveAppSeries(path: string): ResolvedAppSeries | null {
  const ref = parseAppSeriesPath(path);
  if (ref === null) return null;
  return {
    path,
    section: APP_SECTION,
    pattern: `${APP_SECTION}.*.*.${ref.field}`,
    steps: [
      { kind: 'key', name: ref.service },
      { kind: 'key', name: ref.metricKey },
      { kind: 'field', name: ref.field },
    ],
    ...ref,
  };
}

/**
 * The one resolver of history, CSV and alerts: a snapshot series ({@link resolveSeries}) or an
 * application series (`app.<service>.<metric>[;<tag>=<value>].<field>`). Null for neither.
 */
export function resolveCatalogueSeries(path: string): CatalogueSeries | null {
  return path.startsWith(`${APP_SECTION}.`) ? resolveAppSeries(path) : resolveSeries(path);
}

/** A family of application series: `null` marks the part written `*`. */
export interface AppSeriesFamily {
  /** Null: every service (`app.*.queue.depth.value`). */
  service: string | null;
  /** Null: every metric of the service (`app.worker.*.p99`). */
  metricKey: string | null;
  field: AppMetricField;
}

const APP_KEY_FAMILY = new RegExp(
  `^${APP_SECTION}\\.([^.\\s;=*\\u0000]+)\\.\\*\\.(${appMetricField.options.join('|')})$`,
);

/**
 * Parses an application family: one service's every metric (`app.worker.*.p99`) or one metric
 * of every service (`app.*.queue.depth.value`); null for anything else.
 */
export function parseAppSeriesFamily(path: string): AppSeriesFamily | null {
  const byKey = APP_KEY_FAMILY.exec(path);
  if (byKey) return { service: byKey[1]!, metricKey: null, field: byKey[2] as AppMetricField };
  const prefix = `${APP_SECTION}.*.`;
  if (!path.startsWith(prefix)) return null;
  // Any one service name stands in for the `*`, so the rest is checked by the path's grammar.
  const ref = parseAppSeriesPath(`${APP_SECTION}._.${path.slice(prefix.length)}`);
  return ref === null ? null : { service: null, metricKey: ref.metricKey, field: ref.field };
}

/** True for a family an alert rule may watch: a catalogue pattern with `*`, or an application family. */
export function isSeriesFamily(path: string): boolean {
  return (
    (path.includes('*') && SERIES_PATTERNS.some((p) => p.pattern === path)) ||
    parseAppSeriesFamily(path) !== null
  );
}

/**
 * True when the concrete `path` is `series`, or a member of the family `series`. A snapshot
 * family's `*` takes everything between its fixed prefix and suffix (see {@link resolveSeries});
 * an application family's matches a whole service or metric key, never part of one.
 */
export function seriesInFamily(series: string, path: string): boolean {
  const star = series.indexOf('*');
  if (star === -1) return series === path;
  const family = parseAppSeriesFamily(series);
  if (family !== null) {
    const ref = parseAppSeriesPath(path);
    return (
      ref !== null &&
      ref.field === family.field &&
      (family.service === null || ref.service === family.service) &&
      (family.metricKey === null || ref.metricKey === family.metricKey)
    );
  }
  const prefix = series.slice(0, star);
  const suffix = series.slice(star + 1);
  return (
    path.length > prefix.length + suffix.length && path.startsWith(prefix) && path.endsWith(suffix)
  );
}

function flattenInto(
  value: unknown,
  prefix: string,
  field: string | undefined,
  out: Map<string, number>,
  skip?: string,
): void {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) out.set(prefix, value);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    const by = field === undefined ? undefined : ARRAY_KEYS[field];
    if (by === undefined) return;
    for (const element of value) {
      const name = (element as Record<string, unknown> | null)?.[by];
      if (typeof name === 'string' || typeof name === 'number') {
        flattenInto(element, `${prefix}.${name}`, undefined, out, by);
      }
    }
    return;
  }
  for (const [key, child] of Object.entries(value)) {
    if (key !== skip) flattenInto(child, `${prefix}.${key}`, key, out);
  }
}

/**
 * Every numeric value of one section of a snapshot, keyed by series path
 * (`network.interfaces.eth0.rxBytesPerSec` → 1523.5). Nulls, booleans and strings are left out;
 * an unavailable collector yields nothing.
 */
export function flattenSeries(section: SeriesSection, payload: unknown): Map<string, number> {
  const out = new Map<string, number>();
  flattenInto(payload, section, undefined, out);
  return out;
}
