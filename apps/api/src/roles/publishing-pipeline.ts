import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createSamplingPipeline, type SamplingPipeline } from '../sampling-pipeline.js';
import type { ShutdownStep } from '../shutdown.js';
import type { BatchWriter } from '../storage/batch-writer.js';
import type { Bus } from '../stream/bus.js';
import { processTablePayload } from '../stream/process-watch.js';
import type { WatchHub } from '../stream/watches.js';
import { attachProcessTick, processTick } from '../storage/process-ticks.js';

/**
 * The sampling pipeline with its outlets — every snapshot is published on the bus and
 * queued for the database, the process and cgroup tables handed to watchers — and the shutdown steps that
 * stop it. Both roles run it; the
 * caller starts `sampler`.
 */
export function createPublishingPipeline(
  config: Config,
  logger: Logger,
  outlets: { bus: Bus; writer: BatchWriter; watches: WatchHub },
  /** One made (and priming) earlier, as main.ts does for the API; else made here. */
  sampling: SamplingPipeline = createSamplingPipeline(config, logger),
) {
  const { aggregator, sampler, processTable, cgroupsTable } = sampling;
  sampler.subscribe((snapshot) => {
    outlets.bus.publish(snapshot);
    // The tick's top processes travel beside the snapshot to the writer, never in the broadcast.
    const table = processTable();
    if (table) attachProcessTick(snapshot, processTick(table));
    outlets.writer.enqueue(snapshot);
    // The full process table goes only where a socket watches this host.
    if (table && outlets.watches.wanted('processes', snapshot.host)) {
      outlets.watches.publish({
        kind: 'processes',
        host: snapshot.host,
        timestamp: snapshot.timestamp,
        table: processTablePayload(table),
      });
    }
    const cgroups = cgroupsTable();
    if (cgroups && outlets.watches.wanted('cgroups', snapshot.host)) {
      outlets.watches.publish({
        kind: 'cgroups',
        host: snapshot.host,
        timestamp: snapshot.timestamp,
        table: cgroups,
      });
    }
  });
  const stopSampling: ShutdownStep = [
    'stop sampling',
    async () => {
      await sampler.stop();
      // Tests read this count to check that every snapshot produced was stored.
      logger.info({ snapshots: sampler.stats().seq }, 'sampler stopped');
    },
  ];
  // Ends the perf children.
  const stopCollectors: ShutdownStep = ['stop collectors', () => aggregator.stop()];
  return { aggregator, sampler, stopSampling, stopCollectors };
}
