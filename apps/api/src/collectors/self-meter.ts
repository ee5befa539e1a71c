import type { AgentMetrics, CollectorName, CollectorTiming } from '@livestat/contracts';
import { round } from './rates.js';

export interface SelfMeterDeps {
  /** Monotonic clock in ms. */
  now: () => number;
  cpuUsage: () => NodeJS.CpuUsage;
  memoryUsage: () => { rss: number; heapUsed: number };
}

/**
 * The snapshot's `agent` section: the sampler's own cost. CPU % is process CPU time (user +
 * system) over wall time since the previous measurement, so 100 means one full core. Not a
 * collector — it measures this process, not the host, and cannot fail — so it is named for
 * what it does rather than for its snapshot key.
 */
export function createSelfMeter(
  deps: SelfMeterDeps = {
    now: () => performance.now(),
    cpuUsage: () => process.cpuUsage(),
    memoryUsage: () => process.memoryUsage(),
  },
) {
  let lastAt = deps.now();
  let lastCpu = deps.cpuUsage();

  return {
    measure(
      timings: Partial<Record<CollectorName, CollectorTiming>>,
      collectDurationMs: number,
    ): AgentMetrics {
      const at = deps.now();
      const cpu = deps.cpuUsage();
      const elapsedMicros = (at - lastAt) * 1000;
      const usedMicros = cpu.user - lastCpu.user + (cpu.system - lastCpu.system);
      lastAt = at;
      lastCpu = cpu;
      const memory = deps.memoryUsage();
      return {
        cpuPercent: elapsedMicros > 0 ? round(Math.max(0, (usedMicros * 100) / elapsedMicros)) : 0,
        rssBytes: memory.rss,
        heapUsedBytes: memory.heapUsed,
        collectDurationMs: round(collectDurationMs),
        collectors: timings,
      };
    },
  };
}

export type SelfMeter = ReturnType<typeof createSelfMeter>;
