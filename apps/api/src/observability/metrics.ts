import type { ActiveAlert, AppMessage, Snapshot } from '@livestat/contracts';
import { registerAppMetrics } from './app-metrics.js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SamplerStats } from '../sampler.js';
import type { BatchWriterStats } from '../storage/batch-writer.js';
import type { BroadcastObserver } from '../stream/broadcaster.js';
import type { RedisBusStats } from '../stream/redis-bus.js';
import { VERSION } from '../version.js';
import { EVENT_LOOP_RESOLUTION_MS, type EventLoopLag } from './event-loop.js';
import { registerAlertMetrics } from './alert-metrics.js';
import { createHostMetrics, type HostMetricsOptions } from './host-metrics.js';

/**
 * Where the service's own figures come from, each read when Prometheus scrapes. A source left
 * out leaves its metrics out (an API without Redis exports no Redis counters).
 */
export interface ServiceMetricsSources {
  /** WebSocket sessions taking broadcasts (`stream.connections()`). */
  sockets?: () => number;
  /** This process's sampler: every snapshot it makes is published to the bus. */
  sampler?: () => Pick<SamplerStats, 'seq' | 'skippedTicks' | 'skippedTicksLastMinute'>;
  /** The event-loop lag `/api/health` judges by (`createEventLoopMonitor().lag`). */
  eventLoop?: () => EventLoopLag;
  writer?: () => Pick<
    BatchWriterStats,
    'written' | 'dropped' | 'queued' | 'inFlight' | 'failures' | 'lastFlushAt'
  >;
  /** The Redis bus's counters, when `REDIS_URL` is set. */
  redis?: () => RedisBusStats;
  /** The active alerts (`livestat_alerts_firing`), unless ALERTS=off. */
  alerts?: () => readonly ActiveAlert[];
}

export interface ServiceMetricsOptions extends Omit<HostMetricsOptions, 'registry'> {
  /** prom-client's process and Node.js metrics (event-loop lag, heap, GC…); default true. */
  defaultMetrics?: boolean;
}

export interface ServiceMetrics {
  /** Everything `GET /metrics` exposes. */
  registry: Registry;
  /** Every snapshot seen on the bus, of any host: the host metrics and collector timings. */
  observeSnapshot: (snapshot: Snapshot) => void;
  /** The stream server's broadcast observer (`createStreamServer({ onBroadcast })`). */
  onBroadcast: BroadcastObserver;
  /** Every `app` message seen on the app bus: `livestat_app_value`. */
  observeApp: (message: AppMessage) => void;
}

/** Fan-out of one snapshot to every socket: tens of µs for a few sockets, ms for thousands. */
const BROADCAST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5];

/**
 * The Prometheus registry behind `GET /metrics`: the service's own counters and gauges
 * (`livestat_*`), prom-client's process and Node.js metrics under their standard names, and
 * every host's metrics node_exporter-style ({@link createHostMetrics}). Create one per process:
 * the default metrics start an event-loop delay monitor that lives as long as the process.
 */
export function createServiceMetrics(
  sources: ServiceMetricsSources,
  options: ServiceMetricsOptions = {},
): ServiceMetrics {
  const { defaultMetrics = true, ...hostOptions } = options;
  const registry = new Registry();
  const registers = [registry];
  // prom-client's delay timer at the same period as /api/health's: its default, 10 ms, woke the
  // process 100 times a second. Its nodejs_eventloop_lag_* are the times between the timer's
  // callbacks, so an idle loop now reads ~0.05 s there (~0.01 s before).
  if (defaultMetrics) {
    collectDefaultMetrics({
      register: registry,
      eventLoopMonitoringPrecision: EVENT_LOOP_RESOLUTION_MS,
    });
  }

  new Gauge({
    name: 'livestat_build_info',
    help: 'The livestat API version running; always 1.',
    labelNames: ['version'],
    registers,
  }).set({ version: VERSION }, 1);

  /** A counter that follows a monotonic total read at scrape time (a source reset restarts it). */
  function mirroredCounter(name: string, help: string, read: () => number): void {
    let last = 0;
    const counter: Counter = new Counter({
      name,
      help,
      registers,
      collect() {
        const value = read();
        if (value < last) {
          counter.reset();
          last = 0;
        }
        if (value > last) counter.inc(value - last);
        last = value;
      },
    });
  }

  function polledGauge(name: string, help: string, read: () => number): void {
    const gauge: Gauge = new Gauge({
      name,
      help,
      registers,
      collect() {
        gauge.set(read());
      },
    });
  }

  const { sockets, sampler, writer, redis, eventLoop } = sources;
  if (sockets) {
    polledGauge(
      'livestat_websocket_connections',
      'Open WebSocket sessions taking broadcasts.',
      sockets,
    );
  }
  if (sampler) {
    mirroredCounter(
      'livestat_snapshots_published_total',
      'Snapshots this process sampled and published to the bus.',
      () => sampler().seq,
    );
    mirroredCounter(
      'livestat_sampler_skipped_ticks_total',
      'Sampling ticks skipped because a collection overran its interval.',
      () => sampler().skippedTicks,
    );
    polledGauge(
      'livestat_sampler_skipped_ticks_last_minute',
      'Sampling ticks skipped in the last minute, including any being missed now (as /api/health).',
      () => sampler().skippedTicksLastMinute,
    );
  }
  if (eventLoop) {
    // prom-client's nodejs_eventloop_lag_* cover the time since the last scrape; these are the
    // minute /api/health judges by, so an alert and the health check agree.
    polledGauge(
      'livestat_event_loop_lag_p99_seconds',
      'Event-loop lag, 99th percentile over the last minute (worst 10 s slice), as /api/health.',
      () => eventLoop().lagMs / 1000,
    );
    polledGauge(
      'livestat_event_loop_max_lag_seconds',
      'Longest event-loop stall in the last minute, as /api/health.',
      () => eventLoop().maxLagMs / 1000,
    );
  }
  if (writer) {
    mirroredCounter(
      'livestat_snapshots_written_total',
      'Snapshots stored in the database.',
      () => writer().written,
    );
    mirroredCounter(
      'livestat_snapshots_dropped_total',
      'Snapshots dropped, oldest first, because the write buffer was full (database down).',
      () => writer().dropped,
    );
    mirroredCounter(
      'livestat_batch_write_failures_total',
      'Batch writes that failed and will be retried.',
      () => writer().failures,
    );
    polledGauge(
      'livestat_batch_queue_depth',
      'Snapshots held by the batch writer, not yet stored (queued + being written).',
      () => {
        const stats = writer();
        return stats.queued + stats.inFlight;
      },
    );
    polledGauge(
      'livestat_batch_last_flush_timestamp_seconds',
      'Time of the last successful batch write (Unix seconds); 0 before the first.',
      () => {
        const at = writer().lastFlushAt;
        return at === null ? 0 : Date.parse(at) / 1000;
      },
    );
  }
  if (redis) {
    mirroredCounter(
      'livestat_redis_published_total',
      'Snapshots published to the Redis channel.',
      () => redis().published,
    );
    mirroredCounter(
      'livestat_redis_publish_failures_total',
      'Redis publishes that failed (Redis unreachable).',
      () => redis().publishFailures,
    );
    mirroredCounter(
      'livestat_redis_received_total',
      'Snapshots received from other processes over Redis.',
      () => redis().received,
    );
    mirroredCounter(
      'livestat_redis_invalid_total',
      'Messages on the Redis channel that were not a valid snapshot envelope.',
      () => redis().invalid,
    );
  }

  const broadcastDuration = new Histogram({
    name: 'livestat_broadcast_duration_seconds',
    help: 'Time to hand one snapshot to every WebSocket session.',
    buckets: BROADCAST_BUCKETS,
    registers,
  });
  const broadcastSessions = new Counter({
    name: 'livestat_broadcast_sessions_total',
    help: 'Sessions offered a broadcast snapshot, summed over broadcasts (before each session’s host filter).',
    registers,
  });

  if (sources.alerts) registerAlertMetrics(registry, sources.alerts);

  const hosts = createHostMetrics({ registry, ...hostOptions });
  const apps = registerAppMetrics(registry);
  return {
    registry,
    observeApp: apps.observe,
    observeSnapshot: (snapshot) => void hosts.observe(snapshot),
    onBroadcast: (durationSeconds, sessions) => {
      broadcastDuration.observe(durationSeconds);
      broadcastSessions.inc(sessions);
    },
  };
}
