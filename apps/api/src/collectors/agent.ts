import type { AgentMetrics, CollectorName, CollectorTiming } from '@livestat/contracts';
import { round } from './rates.js';

export interface AgentMeterDeps {
  /** Monotonic clock in ms. */
  now: () => number;
  cpuUsage: () => NodeJS.CpuUsage;
  memoryUsage: () => { rss: number; heapUsed: number };
}

/**
 * The `agent` section: the sampler's own cost. CPU % is process CPU time (user + system)
 * over wall time since the previous measurement, so 100 means one full core.
 */
export function createAgentMeter(
  deps: AgentMeterDeps = {
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

export type AgentMeter = ReturnType<typeof createAgentMeter>;
