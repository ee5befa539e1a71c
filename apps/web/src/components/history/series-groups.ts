import { seriesPath } from '@livestat/contracts';
import type { Snapshot } from '@livestat/contracts';
import type { SeriesGroup } from '../../lib/history-view';

/** A chart the history view offers, and the part of the chooser it is listed under. */
export interface ChooserGroup extends SeriesGroup {
  section: 'Overview' | 'Interfaces' | 'Devices';
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

/** The charts a fresh history view shows: every panel's. */
export const DEFAULT_GROUP_IDS: readonly string[] = OVERVIEW_GROUPS.map((group) => group.id);

// A name the API cannot take as part of a series path (whitespace, too long) is not offered.
const valid = (group: ChooserGroup) =>
  group.series.every((s) => seriesPath.safeParse(s.path).success);

/**
 * The charts offered for a host: the overview, then rx/tx per network interface (loopback
 * left out) and read/write per disk device, as its latest snapshot lists them, by name.
 */
export function groupsForHost(snapshot: Snapshot | undefined): ChooserGroup[] {
  const groups = [...OVERVIEW_GROUPS];
  if (snapshot?.network.available) {
    const names = Object.entries(snapshot.network.interfaces)
      .filter(([, nic]) => !nic.loopback)
      .map(([name]) => name)
      .sort((a, b) => a.localeCompare(b));
    for (const name of names) {
      groups.push({
        id: `interface:${name}`,
        label: name,
        unit: 'byteRate',
        section: 'Interfaces',
        series: [
          { path: `network.interfaces.${name}.rxBytesPerSec`, label: `${name} rx` },
          { path: `network.interfaces.${name}.txBytesPerSec`, label: `${name} tx` },
        ],
      });
    }
  }
  if (snapshot?.disk.available) {
    const names = Object.keys(snapshot.disk.devices).sort((a, b) => a.localeCompare(b));
    for (const name of names) {
      groups.push({
        id: `device:${name}`,
        label: name,
        unit: 'byteRate',
        section: 'Devices',
        series: [
          { path: `disk.devices.${name}.readBytesPerSec`, label: `${name} read` },
          { path: `disk.devices.${name}.writeBytesPerSec`, label: `${name} write` },
        ],
      });
    }
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
