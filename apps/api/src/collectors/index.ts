import type { CollectorName } from '@livestat/contracts';
import type { Logger } from '../logger.js';
import { createBandwidthCollector } from './bandwidth.js';
import { createCpuCollector } from './cpu.js';
import { createDiskCollector } from './disk.js';
import { createMemoryCollector } from './memory.js';
import { createNetworkCollector } from './network.js';
import { createPerfCollector } from './perf.js';
import { createPressureCollector } from './pressure.js';
import { createProcessesCollector } from './processes.js';
import type { Collector, CollectorDeps } from './types.js';

export interface CollectorSetOptions extends CollectorDeps {
  /** Sampling interval; the perf children count over the same interval. */
  intervalMs: number;
  logger: Logger;
}

/** Builds the named collectors, in the dashboard's order. */
export function createCollectors(
  names: readonly CollectorName[],
  options: CollectorSetOptions,
): Collector[] {
  const { intervalMs, logger, ...deps } = options;
  const factories: Record<CollectorName, () => Collector> = {
    cpu: () => createCpuCollector(deps),
    memory: () => createMemoryCollector(deps),
    network: () => createNetworkCollector(deps),
    disk: () => createDiskCollector(deps),
    perf: () =>
      createPerfCollector(deps, { intervalMs, logger: logger.child({ collector: 'perf' }) }),
    bandwidth: () => createBandwidthCollector(deps, { intervalMs }),
    processes: () => createProcessesCollector(deps),
    pressure: () => createPressureCollector(deps),
    // The cgroups collector lands next (issue 15); until then the section says so.
    cgroups: () => ({
      name: 'cgroups',
      collect: async () => ({ available: false, error: 'cgroups collector not built yet' }),
    }),
  };
  return names.map((name) => factories[name]());
}
