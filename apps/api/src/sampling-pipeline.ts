import type { CgroupsTable } from '@livestat/contracts';
import type { CgroupsCollector } from './collectors/cgroups.js';
import { createSelfMeter } from './collectors/self-meter.js';
import { createAggregator } from './collectors/aggregator.js';
import { createCollectors } from './collectors/index.js';
import type { ProcessTable } from './collectors/process-table.js';
import type { ProcessesCollector } from './collectors/processes.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { createSampler } from './sampler.js';

/** Collection never waits longer than this for a collector, even at sub-second intervals. */
const MIN_COLLECTOR_TIMEOUT_MS = 2000;

/**
 * The configured collectors, their aggregator and the sampler that ticks them: the one
 * sampling pipeline the API, the agent role and `npm run sample` all run. The caller starts
 * the sampler and, on shutdown, stops the sampler and then the aggregator (which ends the
 * perf children).
 */
export function createSamplingPipeline(config: Config, logger: Logger) {
  const now = () => performance.now();
  const collectors = createCollectors(config.collectors, {
    procRoot: config.procRoot,
    sysRoot: config.sysRoot,
    rootFs: config.rootFs,
    now,
    cgroupsMax: config.cgroupsMax,
    dockerHost: config.dockerHost,
    processIdleEveryTicks: config.processIdleEveryTicks,
    intervalMs: config.samplingIntervalMs,
    logger,
  });
  const aggregator = createAggregator({
    collectors,
    now,
    // A collector gets one interval to answer, so a hung one cannot hold up the next tick.
    timeoutMs: Math.max(config.samplingIntervalMs, MIN_COLLECTOR_TIMEOUT_MS),
    logger,
  });
  const sampler = createSampler({
    host: config.hostName,
    intervalMs: config.samplingIntervalMs,
    aggregator,
    agent: createSelfMeter(),
    logger,
    now,
  });
  const processes = collectors.find(
    (collector): collector is ProcessesCollector => collector.name === 'processes',
  );
  /** The last tick's full process table (valid until the next tick); null without the collector. */
  const processTable = (): ProcessTable | null => processes?.latestTable() ?? null;
  const cgroups = collectors.find(
    (collector): collector is CgroupsCollector => collector.name === 'cgroups',
  );
  /** The last tick's every cgroup; null without the collector or when it was unavailable. */
  const cgroupsTable = (): CgroupsTable | null => cgroups?.table() ?? null;
  return { aggregator, sampler, processTable, cgroupsTable };
}

export type SamplingPipeline = ReturnType<typeof createSamplingPipeline>;
