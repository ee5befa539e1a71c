import type { CollectorName } from '@livestat/contracts';
import type { Logger } from '../logger.js';
import { createBandwidthCollector } from './bandwidth.js';
import { createCgroupsCollector } from './cgroups.js';
import { createContainerNames, parseDockerHost } from './container-names.js';
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
  /** `CGROUPS_MAX`; default 500. */
  cgroupsMax?: number;
  /** `DOCKER_HOST`, already validated; default `unix:///var/run/docker.sock`. */
  dockerHost?: string;
  /** `PROCESS_IDLE_EVERY_TICKS`; default the process reader's `DEFAULT_IDLE_EVERY_TICKS`. */
  processIdleEveryTicks?: number;
}

/** Builds the named collectors, in the dashboard's order. */
export function createCollectors(
  names: readonly CollectorName[],
  options: CollectorSetOptions,
): Collector[] {
  const { intervalMs, logger, cgroupsMax, dockerHost, processIdleEveryTicks, ...deps } = options;
  const factories: Record<CollectorName, () => Collector> = {
    cpu: () => createCpuCollector(deps),
    memory: () => createMemoryCollector(deps),
    network: () => createNetworkCollector(deps),
    disk: () => createDiskCollector(deps),
    perf: () =>
      createPerfCollector(deps, { intervalMs, logger: logger.child({ collector: 'perf' }) }),
    bandwidth: () => createBandwidthCollector(deps, { intervalMs }),
    processes: () => createProcessesCollector(deps, { idleEveryTicks: processIdleEveryTicks }),
    pressure: () => createPressureCollector(deps),
    cgroups: () =>
      createCgroupsCollector(deps, {
        max: cgroupsMax,
        names: createContainerNames({
          endpoint: parseDockerHost(dockerHost ?? 'unix:///var/run/docker.sock'),
        }),
      }),
  };
  return names.map((name) => factories[name]());
}
