import type { CgroupFileTier } from './cgroup-files.js';
import type { V1Controller } from './cgroup-mounts.js';
import { flatKey, memoryLimit, parseBlkio, singleValue } from './cgroup-parse.js';
import type { CgroupReading } from './cgroup-reading.js';
import { readPsi, type ReadCgroupFile } from './cgroup-v2.js';

const NS_PER_US = 1000;

/** Where one cgroup's files are on a v1 or hybrid host. */
export interface V1Place {
  roots: Partial<Record<V1Controller, string>>;
  /** The cgroup2 mount of the hybrid layout (PSI only); null on pure v1. */
  unified: string | null;
  id: string;
}

function v1File(place: V1Place, read: ReadCgroupFile) {
  return (controller: V1Controller, name: string, tier: CgroupFileTier): string | null => {
    const root = place.roots[controller];
    return root === undefined ? null : read(`${root}/${place.id}`, name, tier);
  };
}

/** The v1 files read every tick: `cpuacct.usage` and `memory.usage_in_bytes`. */
export function readCgroupV1Tick(place: V1Place, read: ReadCgroupFile): Partial<CgroupReading> {
  const file = v1File(place, read);
  const usage = file('cpuacct', 'cpuacct.usage', 'tick');
  const memory = file('memory', 'memory.usage_in_bytes', 'tick');
  const usageNs = usage === null ? null : singleValue(usage);
  return {
    cpuUs: usageNs === null ? null : usageNs / NS_PER_US,
    memoryBytes: memory === null ? null : singleValue(memory),
  };
}

/**
 * The slow-moving v1 files of one cgroup (each controller its own tree, where the cgroup may
 * or may not exist): `cpu.stat` `throttled_time`, `memory.limit_in_bytes`, `memory.stat`
 * (`total_rss`, `total_cache`: hierarchical, as usage is), `blkio.throttle.io_service_bytes`
 * and `…io_serviced`, `pids.current`. In the hybrid layout, the unified tree gives PSI where
 * the same path exists there; on pure v1 PSI is null.
 */
export function readCgroupV1Slow(place: V1Place, read: ReadCgroupFile): Partial<CgroupReading> {
  const file = v1File(place, read);
  const cpuStat = file('cpu', 'cpu.stat', 'slow');
  const limit = file('memory', 'memory.limit_in_bytes', 'slow');
  const stat = file('memory', 'memory.stat', 'slow');
  const bytes = file('blkio', 'blkio.throttle.io_service_bytes', 'slow');
  const ops = file('blkio', 'blkio.throttle.io_serviced', 'slow');
  const pids = file('pids', 'pids.current', 'slow');
  const throttledNs = cpuStat === null ? null : flatKey(cpuStat, 'throttled_time');
  const byteTotals = bytes === null ? null : parseBlkio(bytes);
  const opTotals = ops === null ? null : parseBlkio(ops);
  const psi =
    place.unified === null
      ? { psiCpu: null, psiMemory: null, psiIo: null }
      : readPsi(`${place.unified}/${place.id}`, read);
  return {
    throttledUs: throttledNs === null ? null : throttledNs / NS_PER_US,
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
