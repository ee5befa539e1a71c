import type { CgroupsMessage, CgroupsTable } from '@livestat/contracts';
import type { WatchKind } from './watches.js';

/**
 * The `cgroups` kind of watch: every cgroup the collector measured, CPU-heaviest first, as a
 * `cgroups` message. A watch has no parameters, so every watcher of a host shares one rendering.
 */
export const cgroupWatchKind: WatchKind<CgroupsTable, null> = {
  kind: 'cgroups',
  paramsKey: () => '',
  render(table, host, timestamp) {
    const message: CgroupsMessage = { type: 'cgroups', host, timestamp, ...table };
    return JSON.stringify(message);
  },
};
