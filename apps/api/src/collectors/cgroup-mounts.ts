import path from 'node:path';
import type { CgroupLayout } from '@livestat/contracts';
import { CollectorError } from './types.js';

/** The v1 controllers the cgroups collector reads. */
export const V1_CONTROLLERS = ['cpuacct', 'cpu', 'memory', 'blkio', 'pids'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

/** Where a host's cgroup hierarchies are mounted, as paths this process can read. */
export interface CgroupMounts {
  layout: CgroupLayout;
  /** The cgroup2 mount; in the hybrid layout it holds no controllers, only PSI files. */
  unified: string | null;
  /** Each v1 controller's hierarchy root (cpu and cpuacct are often one mount, `cpu,cpuacct`). */
  v1: Partial<Record<V1Controller, string>>;
}

// mountinfo escapes blanks and backslashes in paths as octal (`\040`).
const unescapeMount = (value: string): string =>
  value.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

/**
 * A mount point as this process can reach it: a host path under `/sys` is moved under
 * `sysRoot` (the host's /sys mounted elsewhere, or a fixture tree); a path already under
 * `sysRoot` (this process's own view inside a container) is kept.
 */
export function underSysRoot(mountPoint: string, sysRoot: string): string {
  const root = path.resolve(sysRoot);
  if (mountPoint === root || mountPoint.startsWith(`${root}/`)) return mountPoint;
  if (mountPoint === '/sys' || mountPoint.startsWith('/sys/')) {
    return path.join(root, mountPoint.slice('/sys'.length));
  }
  return mountPoint;
}

/**
 * Finds the cgroup mounts in `/proc/<pid>/mountinfo` text: the cgroup2 mount, and each
 * `cgroup` (v1) mount by the controllers in its super options. The layout is `v2` with only
 * cgroup2, `v1` with only v1 controllers, and `hybrid` with both. No cgroup mount at all is a
 * `CollectorError`.
 */
export function parseCgroupMounts(mountinfo: string, sysRoot: string): CgroupMounts {
  let unified: string | null = null;
  const v1: CgroupMounts['v1'] = {};
  for (const line of mountinfo.split('\n')) {
    const separator = line.indexOf(' - ');
    if (separator === -1) continue;
    const before = line.slice(0, separator).split(' ');
    const [fsType, , superOptions = ''] = line.slice(separator + 3).split(' ');
    const mountPoint = before[4];
    if (mountPoint === undefined) continue;
    const where = underSysRoot(unescapeMount(mountPoint), sysRoot);
    if (fsType === 'cgroup2') {
      unified ??= where;
    } else if (fsType === 'cgroup') {
      for (const option of superOptions.split(',')) {
        const controller = V1_CONTROLLERS.find((name) => name === option);
        if (controller !== undefined) v1[controller] ??= where;
      }
    }
  }
  const hasV1 = Object.keys(v1).length > 0;
  if (!hasV1 && unified === null) {
    throw new CollectorError('no_cgroups', 'no cgroup filesystem mounted (mountinfo lists none)');
  }
  const layout: CgroupLayout = !hasV1 ? 'v2' : unified === null ? 'v1' : 'hybrid';
  return { layout, unified, v1 };
}
