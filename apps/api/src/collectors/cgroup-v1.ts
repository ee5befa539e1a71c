import path from 'node:path';
import { readCgroupFile } from './cgroup-files.js';
import type { V1Controller } from './cgroup-mounts.js';
import { flatKey, memoryLimit, parseBlkio, singleValue } from './cgroup-parse.js';
import type { CgroupReading } from './cgroup-reading.js';
import { readPsi } from './cgroup-v2.js';

const NS_PER_US = 1000;

/**
 * Reads one cgroup across the v1 hierarchies (each controller its own tree, where the cgroup
 * may or may not exist): `cpuacct.usage`, `cpu.stat` `throttled_time`,
 * `memory.usage_in_bytes`, `memory.limit_in_bytes`, `memory.stat` (`total_rss`,
 * `total_cache`: hierarchical, as usage is), `blkio.throttle.io_service_bytes` and
 * `…io_serviced`, `pids.current`. In the hybrid layout, `unified` gives PSI where the same
 * path exists in the cgroup2 tree; on pure v1 PSI is null.
 */
export function readCgroupV1(
  roots: Partial<Record<V1Controller, string>>,
  unified: string | null,
  id: string,
): CgroupReading {
  const file = (controller: V1Controller, name: string): string | null => {
    const root = roots[controller];
    return root === undefined ? null : readCgroupFile(path.join(root, id, name));
  };
  const usage = file('cpuacct', 'cpuacct.usage');
  const cpuStat = file('cpu', 'cpu.stat');
  const memory = file('memory', 'memory.usage_in_bytes');
  const limit = file('memory', 'memory.limit_in_bytes');
  const stat = file('memory', 'memory.stat');
  const bytes = file('blkio', 'blkio.throttle.io_service_bytes');
  const ops = file('blkio', 'blkio.throttle.io_serviced');
  const pids = file('pids', 'pids.current');
  const usageNs = usage === null ? null : singleValue(usage);
  const throttledNs = cpuStat === null ? null : flatKey(cpuStat, 'throttled_time');
  const byteTotals = bytes === null ? null : parseBlkio(bytes);
  const opTotals = ops === null ? null : parseBlkio(ops);
  const psi =
    unified === null
      ? { psiCpu: null, psiMemory: null, psiIo: null }
      : readPsi(path.join(unified, id));
  return {
    cpuUs: usageNs === null ? null : usageNs / NS_PER_US,
    throttledUs: throttledNs === null ? null : throttledNs / NS_PER_US,
    memoryBytes: memory === null ? null : singleValue(memory),
    memoryLimitBytes: limit === null ? null : memoryLimit(limit),
    memoryAnonBytes: stat === null ? null : flatKey(stat, 'total_rss'),
    memoryFileBytes: stat === null ? null : flatKey(stat, 'total_cache'),
    ioReadBytes: byteTotals?.read ?? null,
    ioWriteBytes: byteTotals?.write ?? null,
    ioReadOps: opTotals?.read ?? null,
    ioWriteOps: opTotals?.write ?? null,
    pids: pids === null ? null : singleValue(pids),
    ...psi,
  };
}
