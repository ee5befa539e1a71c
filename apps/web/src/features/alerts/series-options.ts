import { SERIES_PATTERNS } from '@livestat/contracts';
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

/**
 * What a rule's series picker offers: every line of the History view's charts for the host
 * (grouped as its series picker groups them), every family of the catalogue (`*` = one alert
 * per interface, device or filesystem), then the catalogue's other series. `current` (a rule's
 * series the lists lack) is kept on top so editing never loses it.
 */
export function seriesSections(groups: readonly ChooserGroup[], current = ''): SeriesSection[] {
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
  for (const { pattern } of SERIES_PATTERNS) {
    if (pattern.includes('*')) add('Families (one alert each)', { path: pattern, label: pattern });
  }
  for (const { pattern } of SERIES_PATTERNS) {
    if (!pattern.includes('*')) add('Other series', { path: pattern, label: pattern });
  }
  const list = [...sections].map(([name, options]) => ({ name, options }));
  if (current !== '' && !seen.has(current)) {
    list.unshift({ name: 'This rule', options: [{ path: current, label: current }] });
  }
  return list;
}
