import { resolveSeries } from '@livestat/contracts';
import type { Snapshot } from '@livestat/contracts';
import { MEMORY_VIEWS } from './memory';
import type { ChartView } from './panel-state';
import { cpuViews } from './cpu';
import { networkViews } from './network';
import { diskViews } from './disk';
import { perfViews } from './perf';
import { bandwidthViews } from './bandwidth';

/** The cores, interfaces and devices a host's detail charts are drawn for. */
export interface ChartedNames {
  cores?: readonly number[];
  interfaces?: readonly string[];
  devices?: readonly string[];
}

/** The dashboard's panels, in the order they are laid out. */
export const PANEL_IDS = ['cpu', 'memory', 'network', 'disk', 'perf', 'bandwidth'] as const;
export type PanelId = (typeof PANEL_IDS)[number];

/** Every chart one panel can show: its own views, and the views of each interface or device. */
export interface PanelCharts {
  panel: PanelId;
  title: string;
  views: ChartView[];
  details: { name: string; views: ChartView[] }[];
}

/**
 * Every chart of every panel for a host with these names, hardware counters and DRAM included:
 * the one list the live window's backfill and the history chooser are derived from, so neither
 * drifts from what the panels draw.
 */
export function panelCharts(names: ChartedNames = {}): PanelCharts[] {
  const details = (list: readonly string[] | undefined, views: (name: string) => ChartView[]) =>
    [...(list ?? [])]
      .sort((a, b) => a.localeCompare(b))
      .map((name) => ({ name, views: views(name) }));
  return [
    { panel: 'cpu', title: 'CPU', views: cpuViews(names.cores ?? []), details: [] },
    { panel: 'memory', title: 'Memory', views: [...MEMORY_VIEWS], details: [] },
    {
      panel: 'network',
      title: 'Network',
      views: networkViews(null),
      details: details(names.interfaces, networkViews),
    },
    {
      panel: 'disk',
      title: 'Disk',
      views: diskViews(null),
      details: details(names.devices, diskViews),
    },
    { panel: 'perf', title: 'Perf', views: perfViews(true), details: [] },
    { panel: 'bandwidth', title: 'Bandwidth', views: bandwidthViews(true), details: [] },
  ];
}

/** The cores, interfaces and devices `snapshot` reports (none before the first snapshot). */
export function chartedNames(snapshot: Snapshot | undefined): ChartedNames {
  if (snapshot === undefined) return {};
  return {
    cores: snapshot.cpu.available ? snapshot.cpu.cores.map((core) => core.id) : [],
    interfaces: snapshot.network.available ? Object.keys(snapshot.network.interfaces) : [],
    devices: snapshot.disk.available ? Object.keys(snapshot.disk.devices) : [],
  };
}

/** Every series path a panel can chart for a host with these names, once each. */
export function chartedPaths(names: ChartedNames = {}): string[] {
  const paths = new Set<string>();
  for (const panel of panelCharts(names)) {
    const views = [...panel.views, ...panel.details.flatMap((detail) => detail.views)];
    for (const view of views) for (const line of view.lines) paths.add(line.path);
  }
  return [...paths];
}

/**
 * Every family of series the panels chart, as the contracts' catalogue names them
 * (`network.interfaces.*.rxBytesPerSec`); a path the catalogue does not know stays as it is.
 */
export const CHARTED_PATTERNS: readonly string[] = [
  ...new Set(
    chartedPaths({ cores: [0], interfaces: ['eth0'], devices: ['sda'] }).map(
      (path) => resolveSeries(path)?.pattern ?? path,
    ),
  ),
];
