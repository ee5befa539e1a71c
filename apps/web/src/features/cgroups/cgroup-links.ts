import { historyLocation } from '../history/history-link';
import type { ChartView } from '../live/panels/panel-state';

/** The series path of one measure of the cgroup named `name` (names may hold dots). */
export const cgroupPath = (name: string, field: 'cpuPercent' | 'memoryBytes') =>
  `cgroups.groups.${name}.${field}`;

const CGROUP_PREFIX = 'cgroups.groups.';

/**
 * The cgroup a series path is of (`cgroups.groups.nginx.service.cpuPercent` → `nginx.service`),
 * or null for any other path. Names may hold dots; the measure is the last part, or the last
 * two for its pressure (`….pressure.io`).
 */
export function cgroupNameOf(path: string): string | null {
  if (!path.startsWith(CGROUP_PREFIX)) return null;
  const parts = path.slice(CGROUP_PREFIX.length).split('.');
  const measure = parts.at(-2) === 'pressure' ? 2 : 1;
  const name = parts.slice(0, -measure).join('.');
  return name === '' ? null : name;
}

/** The live charts of one cgroup: its CPU and its memory, from the dashboard's live window. */
export function cgroupViews(name: string): ChartView[] {
  return [
    {
      id: 'cpu',
      label: 'CPU',
      unit: 'percent',
      lines: [{ path: cgroupPath(name, 'cpuPercent'), label: 'CPU' }],
    },
    {
      id: 'memory',
      label: 'Memory',
      unit: 'bytes',
      lines: [{ path: cgroupPath(name, 'memoryBytes'), label: 'Memory' }],
    },
  ];
}

/** History of the cgroup's CPU and memory over the last 7 days, on `host`. */
export function cgroupHistoryLocation(host: string | null, name: string) {
  return historyLocation({
    ...(host === null ? {} : { host }),
    series: [cgroupPath(name, 'cpuPercent'), cgroupPath(name, 'memoryBytes')],
    range: '7d',
  });
}
