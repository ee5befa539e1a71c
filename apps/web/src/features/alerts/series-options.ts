import {
  APP_METRIC_FIELDS,
  appSeriesPath,
  SERIES_PATTERNS,
  type AppMessage,
} from '@livestat/contracts';
import type { ChooserGroup } from '../history/series-groups';

/** A series a rule can watch, as the picker lists it. */
export interface SeriesOption {
  path: string;
  label: string;
}

/** A section of the picker: the History view's sections, then families and the rest. */
export interface SeriesSection {
  name: string;
  options: SeriesOption[];
}

const APPS = 'Applications';
const FAMILIES = 'Families (one alert each)';

/**
 * What a rule's series picker offers: every line of the History view's charts for the host
 * (grouped as its series picker groups them), every field of each metric its applications sent
 * last (`app`), every family of the catalogue (`*` = one alert per interface, device or
 * filesystem; for an application metric, one per service), then the catalogue's other series.
 * `current` (a rule's series the lists lack) is kept on top so editing never loses it.
 */
export function seriesSections(
  groups: readonly ChooserGroup[],
  current = '',
  app?: Pick<AppMessage, 'services'>,
): SeriesSection[] {
  const seen = new Set<string>();
  const sections = new Map<string, SeriesOption[]>();
  const add = (section: string, option: SeriesOption) => {
    if (seen.has(option.path)) return;
    seen.add(option.path);
    const list = sections.get(section) ?? [];
    list.push(option);
    sections.set(section, list);
  };
  for (const group of groups) {
    for (const s of group.series) {
      const label = group.series.length === 1 ? group.label : `${group.label}: ${s.label}`;
      add(group.section, { path: s.path, label: `${label} (${s.path})` });
    }
  }
  const appFamilies: string[] = [];
  for (const [service, { metrics }] of Object.entries(app?.services ?? {})) {
    for (const [key, metric] of Object.entries(metrics)) {
      for (const field of APP_METRIC_FIELDS[metric.kind]) {
        const path = appSeriesPath(service, key, field);
        add(APPS, { path, label: `${service} ${metric.name} ${field} (${path})` });
        appFamilies.push(appSeriesPath('*', key, field));
      }
    }
  }
  for (const { pattern } of SERIES_PATTERNS) {
    if (pattern.includes('*')) add(FAMILIES, { path: pattern, label: pattern });
  }
  for (const path of appFamilies) add(FAMILIES, { path, label: `${path} (every service)` });
  for (const { pattern } of SERIES_PATTERNS) {
    if (!pattern.includes('*')) add('Other series', { path: pattern, label: pattern });
  }
  const list = [...sections].map(([name, options]) => ({ name, options }));
  if (current !== '' && !seen.has(current)) {
    list.unshift({ name: 'This rule', options: [{ path: current, label: current }] });
  }
  return list;
}
