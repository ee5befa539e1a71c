import { HISTORY_PRESETS } from './history-presets';
import type { HistoryPresetId } from './history-presets';
import type { SeriesGroup } from './history-view';

/** What a link into the History view chooses: a host, series to chart, a range preset. */
export interface HistoryLink {
  host?: string;
  /** Series paths (`cgroups.groups.nginx.service.cpuPercent`); their charts start selected. */
  series: string[];
  range?: HistoryPresetId;
}

/** A route query as vue-router hands it over: each key a string, a list, or null. */
type Query = Record<string, string | null | readonly (string | null)[] | undefined>;

const values = (value: Query[string]): string[] =>
  (Array.isArray(value) ? value : [value]).filter(
    (item): item is string => typeof item === 'string' && item !== '',
  );

const isPreset = (id: string): id is HistoryPresetId => HISTORY_PRESETS.some((p) => p.id === id);

/**
 * Where a link to History goes: `/history?host=web-1&range=7d&series=a&series=b`, so "this
 * container's last week" is one click and the address can be shared.
 */
export function historyLocation(link: HistoryLink): {
  name: 'history';
  query: Record<string, string | string[]>;
} {
  const query: Record<string, string | string[]> = {};
  if (link.host !== undefined) query.host = link.host;
  if (link.range !== undefined) query.range = link.range;
  if (link.series.length > 0) query.series = [...link.series];
  return { name: 'history', query };
}

/**
 * The choices a History address carries; what it does not say (or says wrongly, an unknown
 * range) is left out, and the view keeps its defaults for it.
 */
export function parseHistoryQuery(query: Query): HistoryLink {
  const link: HistoryLink = { series: [...new Set(values(query.series))] };
  const [host] = values(query.host);
  if (host !== undefined) link.host = host;
  const [range] = values(query.range);
  if (range !== undefined && isPreset(range)) link.range = range;
  return link;
}

/**
 * The charts a link's series select: each offered group that draws one of them, in the order
 * offered; null when the link names no series, or none that any group draws.
 */
export function linkedSelection(
  series: readonly string[] | undefined,
  groups: readonly SeriesGroup[],
): string[] | null {
  if (series === undefined || series.length === 0) return null;
  const wanted = new Set(series);
  const ids = groups
    .filter((group) => group.series.some((s) => wanted.has(s.path)))
    .map((group) => group.id);
  return ids.length === 0 ? null : ids;
}
