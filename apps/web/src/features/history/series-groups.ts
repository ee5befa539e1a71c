import { seriesPath } from '@livestat/contracts';
import type { Snapshot } from '@livestat/contracts';
import type { SeriesGroup } from './history-view';
import { chartedNames, panelCharts } from '../live/panels/charted';
import type { ChartView } from '../live/panels/panel-state';
import { PRESSURE_VIEWS } from '../live/panels/pressure';
import { cgroupViews } from '../cgroups/cgroup-links';

/** A chart the history view offers, and the part of the chooser it is listed under. */
export interface ChooserGroup extends SeriesGroup {
  /**
   * `Overview`, a panel's title (`CPU`, `Network`…), `Interfaces`, `Devices`, `Pressure` or
   * `Containers & services`.
   */
  section: string;
}

/** One chart per dashboard panel: its headline series, average with a min–max band. */
export const OVERVIEW_GROUPS: readonly ChooserGroup[] = [
  {
    id: 'cpu',
    label: 'CPU usage',
    unit: 'percent',
    section: 'Overview',
    series: [{ path: 'cpu.usagePercent', label: 'usage' }],
  },
  {
    id: 'memory',
    label: 'Memory used',
    unit: 'percent',
    section: 'Overview',
    series: [{ path: 'memory.usedPercent', label: 'used' }],
  },
  {
    id: 'network',
    label: 'Network',
    unit: 'byteRate',
    section: 'Overview',
    series: [
      { path: 'network.rxBytesPerSec', label: 'rx' },
      { path: 'network.txBytesPerSec', label: 'tx' },
    ],
  },
  {
    id: 'disk',
    label: 'Disk I/O',
    unit: 'byteRate',
    section: 'Overview',
    series: [
      { path: 'disk.readBytesPerSec', label: 'read' },
      { path: 'disk.writeBytesPerSec', label: 'write' },
    ],
  },
  {
    id: 'paging',
    label: 'Paging',
    unit: 'byteRate',
    section: 'Overview',
    series: [
      { path: 'bandwidth.pageInBytesPerSec', label: 'page in' },
      { path: 'bandwidth.pageOutBytesPerSec', label: 'page out' },
    ],
  },
  {
    id: 'ipc',
    label: 'Perf IPC',
    unit: 'ratio',
    section: 'Overview',
    series: [{ path: 'perf.ipc', label: 'IPC' }],
  },
];

/** The charts a fresh history view shows: every panel's headline. */
export const DEFAULT_GROUP_IDS: readonly string[] = OVERVIEW_GROUPS.map((group) => group.id);

const key = (paths: readonly string[]) => [...paths].sort().join('\n');
const OVERVIEW_KEYS = new Set(OVERVIEW_GROUPS.map((g) => key(g.series.map((s) => s.path))));

function viewGroup(id: string, label: string, section: string, view: ChartView): ChooserGroup {
  return {
    id,
    label,
    unit: view.unit,
    section,
    series: view.lines.map((line) => ({ path: line.path, label: line.label })),
  };
}

/**
 * The rest of every chart the dashboard's panels draw, one group per chart, listed under its
 * panel: derived from the panel definitions, so history offers every line a panel charts. A
 * chart the overview already offers is not listed twice.
 */
export const PANEL_GROUPS: readonly ChooserGroup[] = panelCharts().flatMap(
  ({ panel, title, views }) =>
    views
      .filter(
        (view) => view.id !== 'cores' && !OVERVIEW_KEYS.has(key(view.lines.map((l) => l.path))),
      )
      .map((view) =>
        viewGroup(`${panel}-${view.id}`, `${title} ${view.label.toLowerCase()}`, title, view),
      ),
);

/** Pressure (PSI) of CPU, memory and I/O: some and full avg10, one chart each. */
export const PRESSURE_GROUPS: readonly ChooserGroup[] = PRESSURE_VIEWS.map((view) =>
  viewGroup(`pressure-${view.id}`, view.label, 'Pressure', view),
);

/** The section the charts of each container and service are listed under. */
export const CGROUPS_SECTION = 'Containers & services';

/** The CPU and the memory chart of the cgroup named `name`, as its live charts draw them. */
export function cgroupGroups(name: string): ChooserGroup[] {
  return cgroupViews(name).map((view) =>
    viewGroup(
      `cgroup:${name}:${view.id}`,
      `${name} ${view.label.toLowerCase()}`,
      CGROUPS_SECTION,
      view,
    ),
  );
}

/** The cgroups a snapshot carries, by name (none when it has no cgroups section). */
function cgroupNames(snapshot: Snapshot | undefined): string[] {
  const section = snapshot?.cgroups;
  return section?.available === true ? Object.keys(section.groups) : [];
}

// A name the API cannot take as part of a series path (whitespace, too long) is not offered.
const valid = (group: ChooserGroup) =>
  group.series.every((s) => seriesPath.safeParse(s.path).success);

/**
 * The charts offered for a host: the overview, every other chart of the panels, pressure, then
 * each chart of the per-core, per-interface (loopback left out) and per-device views, for the
 * cores, interfaces and devices its latest snapshot lists, by name, and the CPU and memory of
 * each cgroup it carries — and of those in `cgroups` (a link's), carried now or not.
 */
export function groupsForHost(
  snapshot: Snapshot | undefined,
  cgroups: readonly string[] = [],
): ChooserGroup[] {
  const groups = [...OVERVIEW_GROUPS, ...PANEL_GROUPS, ...PRESSURE_GROUPS];
  const names = chartedNames(snapshot);
  const loopback = (name: string) =>
    snapshot?.network.available === true && snapshot.network.interfaces[name]?.loopback === true;
  const interfaces = (names.interfaces ?? []).filter((name) => !loopback(name));
  for (const { panel, title, views, details } of panelCharts({ ...names, interfaces })) {
    const cores = views.find((view) => view.id === 'cores');
    if (cores !== undefined && cores.lines.length > 0) {
      groups.push(viewGroup('cpu-cores', `${title} per core`, 'Cores', cores));
    }
    const [prefix, section] =
      panel === 'network'
        ? ['interface', 'Interfaces']
        : panel === 'disk'
          ? ['device', 'Devices']
          : [];
    if (prefix === undefined || section === undefined) continue;
    for (const detail of details) {
      detail.views.forEach((view, index) => {
        // The first chart of each keeps the id the chooser has always used for it.
        const id = index === 0 ? `${prefix}:${detail.name}` : `${prefix}:${detail.name}:${view.id}`;
        const label = index === 0 ? detail.name : `${detail.name} ${view.label.toLowerCase()}`;
        groups.push(viewGroup(id, label, section, view));
      });
    }
  }
  const named = new Set([...cgroupNames(snapshot), ...cgroups]);
  for (const name of [...named].sort((a, b) => a.localeCompare(b))) {
    groups.push(...cgroupGroups(name));
  }
  return groups.filter(valid);
}

/** The groups of `ids` that `groups` offers, in the order offered. */
export function selectedGroups(
  groups: readonly ChooserGroup[],
  ids: readonly string[],
): ChooserGroup[] {
  const wanted = new Set(ids);
  return groups.filter((group) => wanted.has(group.id));
}

/** Every series path of `groups`, once each, in order. */
export function seriesPaths(groups: readonly SeriesGroup[]): string[] {
  return [...new Set(groups.flatMap((group) => group.series.map((s) => s.path)))];
}
