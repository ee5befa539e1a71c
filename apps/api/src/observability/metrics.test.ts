import { readFileSync } from 'node:fs';
import type { Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import type { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, silentLogger, type TestDatabase } from '../../test/databases.js';
import {
  openClient,
  snapshotOf,
  startStreamHarness,
  waitUntil,
} from '../../test/stream-harness.js';
import { createBatchWriter } from '../storage/batch-writer.js';
import { writeSnapshots } from '../storage/metrics-store.js';
import type { RedisBusStats } from '../stream/redis-bus.js';
import { VERSION } from '../version.js';
import { createEventLoopMonitor, EVENT_LOOP_RESOLUTION_MS } from './event-loop.js';
import { HOST_COUNTERS } from './host-counters.js';
import { HOST_GAUGES } from './host-gauges.js';
import { createServiceMetrics } from './metrics.js';

/** The value of an unlabelled sample (or of a histogram's `line`) in prom-client's own report. */
async function valueOf(registry: Registry, name: string, line = name) {
  const metric = registry.getSingleMetric(name);
  if (!metric) return undefined;
  const { values } = await metric.get();
  return values.find(
    (v) => ((v as { metricName?: string }).metricName ?? name) === line && !('le' in v.labels),
  )?.value;
}

const BASE_MS = Date.parse('2030-02-01T00:00:00.000Z');
const snapshot = (seq: number): Snapshot =>
  makeExampleSnapshot({ seq, timestamp: new Date(BASE_MS + seq * 1000).toISOString() });

// PGlite takes seconds to start on a busy machine: one database for the file.
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('pglite');
}, 60_000);
afterAll(() => database.drop());

describe('service metrics: the batch writer, over a real database', () => {
  it('counts snapshots as the writer stores them, and the queue in between', async () => {
    const writer = createBatchWriter({
      write: (batch) => writeSnapshots(database.db, batch),
      batchSize: 5,
      flushIntervalMs: 3_600_000,
      maxBuffered: 1000,
      logger: silentLogger,
    });
    const { registry } = createServiceMetrics(
      { writer: () => writer.stats() },
      { defaultMetrics: false },
    );
    expect(await valueOf(registry, 'livestat_snapshots_written_total')).toBe(0);
    expect(await valueOf(registry, 'livestat_batch_last_flush_timestamp_seconds')).toBe(0);

    for (let seq = 1; seq <= 5; seq++) writer.enqueue(snapshot(seq));
    await writer.flush();
    for (let seq = 6; seq <= 8; seq++) writer.enqueue(snapshot(seq));
    expect(await valueOf(registry, 'livestat_snapshots_written_total')).toBe(5);
    expect(await valueOf(registry, 'livestat_batch_queue_depth')).toBe(3);
    const flushedAt = await valueOf(registry, 'livestat_batch_last_flush_timestamp_seconds');
    expect(Math.abs((flushedAt ?? 0) - Date.now() / 1000)).toBeLessThan(3600);

    await writer.flush();
    expect(await valueOf(registry, 'livestat_snapshots_written_total')).toBe(8);
    expect(await valueOf(registry, 'livestat_batch_queue_depth')).toBe(0);
    expect(await valueOf(registry, 'livestat_snapshots_dropped_total')).toBe(0);
    expect(await valueOf(registry, 'livestat_batch_write_failures_total')).toBe(0);
    await writer.close();
  });

  it('counts failed writes and dropped snapshots while the database refuses them', async () => {
    // A database without the schema: every INSERT fails, for real.
    const empty = await createTestDatabase('pglite', { migrate: false });
    const writer = createBatchWriter({
      write: (batch) => writeSnapshots(empty.db, batch),
      batchSize: 1,
      flushIntervalMs: 3_600_000,
      maxBuffered: 3,
      retry: { initialMs: 3_600_000, maxMs: 3_600_000 },
      logger: silentLogger,
    });
    const { registry } = createServiceMetrics(
      { writer: () => writer.stats() },
      { defaultMetrics: false },
    );
    try {
      writer.enqueue(snapshot(1));
      await waitUntil(() => writer.stats().failures === 1, 'the first failed write');
      for (let seq = 2; seq <= 6; seq++) writer.enqueue(snapshot(seq));
      expect(await valueOf(registry, 'livestat_batch_write_failures_total')).toBe(1);
      expect(await valueOf(registry, 'livestat_snapshots_dropped_total')).toBe(3);
      expect(await valueOf(registry, 'livestat_batch_queue_depth')).toBe(3);
      expect(await valueOf(registry, 'livestat_snapshots_written_total')).toBe(0);
    } finally {
      await writer.close({ timeoutMs: 1 });
      await empty.drop();
    }
  });
});

describe('service metrics: totals read from accessors', () => {
  it('mirrors each total as a counter, restarting it when the source restarts', async () => {
    let stats: RedisBusStats = { published: 5, publishFailures: 0, received: 2, invalid: 0 };
    let sampler = { seq: 7, skippedTicks: 1, skippedTicksLastMinute: 1 };
    const { registry } = createServiceMetrics(
      { redis: () => stats, sampler: () => sampler },
      { defaultMetrics: false },
    );
    expect(await valueOf(registry, 'livestat_redis_published_total')).toBe(5);
    expect(await valueOf(registry, 'livestat_snapshots_published_total')).toBe(7);
    expect(await valueOf(registry, 'livestat_sampler_skipped_ticks_total')).toBe(1);
    expect(await valueOf(registry, 'livestat_sampler_skipped_ticks_last_minute')).toBe(1);

    stats = { published: 9, publishFailures: 4, received: 2, invalid: 1 };
    sampler = { seq: 12, skippedTicks: 1, skippedTicksLastMinute: 0 };
    expect(await valueOf(registry, 'livestat_redis_published_total')).toBe(9);
    expect(await valueOf(registry, 'livestat_redis_publish_failures_total')).toBe(4);
    expect(await valueOf(registry, 'livestat_redis_received_total')).toBe(2);
    expect(await valueOf(registry, 'livestat_redis_invalid_total')).toBe(1);
    expect(await valueOf(registry, 'livestat_snapshots_published_total')).toBe(12);
    // The minute's count is a gauge: it falls back once the overrun is a minute old.
    expect(await valueOf(registry, 'livestat_sampler_skipped_ticks_last_minute')).toBe(0);

    // A source that went back to a lower number restarted: Prometheus reads a counter reset.
    stats = { ...stats, published: 2 };
    expect(await valueOf(registry, 'livestat_redis_published_total')).toBe(2);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE livestat_redis_published_total counter');
    expect(text).toMatch(/^livestat_redis_published_total 2$/m);
  });

  it('exposes the event-loop lag /api/health judges by, from the real event loop', async () => {
    const monitor = createEventLoopMonitor({ resolutionMs: 10, sliceMs: 1000, slices: 5 });
    try {
      const { registry } = createServiceMetrics(
        { eventLoop: () => monitor.lag() },
        { defaultMetrics: false },
      );
      await new Promise((resolve) => setTimeout(resolve, 30));
      const until = performance.now() + 400;
      while (performance.now() < until) {
        // a synchronous stall, as a heavy query on the main thread makes
      }
      await new Promise((resolve) => setTimeout(resolve, 30));
      const max = await valueOf(registry, 'livestat_event_loop_max_lag_seconds');
      expect(max).toBeGreaterThanOrEqual(0.3);
      expect(max).toBe(monitor.lag().maxLagMs / 1000);
      expect(await valueOf(registry, 'livestat_event_loop_lag_p99_seconds')).toBeGreaterThanOrEqual(
        0,
      );
    } finally {
      monitor.stop();
    }
  });

  it('leaves out what is not wired, and includes Node.js and process metrics by default', async () => {
    const bare = createServiceMetrics({}, { defaultMetrics: false });
    const names = (await bare.registry.getMetricsAsJSON()).map((metric) => metric.name);
    expect(names).not.toContain('livestat_websocket_connections');
    expect(names).not.toContain('livestat_snapshots_written_total');
    expect(names).not.toContain('livestat_redis_published_total');
    expect(names).not.toContain('nodejs_eventloop_lag_seconds');
    expect(names).toContain('livestat_broadcast_duration_seconds');

    const full = createServiceMetrics({ sockets: () => 4 });
    const text = await full.registry.metrics();
    expect(text).toMatch(/^livestat_websocket_connections 4$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds [0-9.e-]+$/m);
    expect(text).toMatch(/^process_cpu_seconds_total [0-9.e-]+$/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes [0-9.e+]+$/m);
    expect(text).toContain(`livestat_build_info{version="${VERSION}"} 1`);
  });

  it("times prom-client's event-loop delays at the health monitor's period, not every 10 ms", async () => {
    // Each period is a wake-up of an idle process: prom-client's default, 10 ms, woke the API
    // 100 times a second. The shortest gap between two of its timer's callbacks is its period.
    const metrics = createServiceMetrics({});
    await metrics.registry.metrics();
    await new Promise((resolve) => setTimeout(resolve, 5 * EVENT_LOOP_RESOLUTION_MS));
    await metrics.registry.metrics();
    const min = await valueOf(metrics.registry, 'nodejs_eventloop_lag_min_seconds');
    expect(min).toBeGreaterThanOrEqual((EVENT_LOOP_RESOLUTION_MS - 2) / 1000);
  });
});

describe('service metrics: the stream', () => {
  it('counts sockets and broadcasts through a real stream server and real clients', async () => {
    let sockets = () => 0;
    const metrics = createServiceMetrics({ sockets: () => sockets() }, { defaultMetrics: false });
    const h = await startStreamHarness({ database, onBroadcast: metrics.onBroadcast });
    sockets = () => h.stream.connections();
    h.bus.subscribe(({ snapshot }) => metrics.observeSnapshot(snapshot));
    const { registry } = metrics;
    try {
      const { token } = await h.login('metrics-viewer');
      const clients = [await openClient(h.url(token)), await openClient(h.url(token))];
      await waitUntil(() => h.stream.connections() === 2, 'two sessions');
      expect(await valueOf(registry, 'livestat_websocket_connections')).toBe(2);

      const published = [
        snapshotOf('stream-a', 1),
        snapshotOf('stream-a', 2),
        snapshotOf('stream-b', 1),
      ];
      for (const s of published) h.bus.publish(s);
      for (const client of clients) {
        await client.until(() => client.snapshots().length >= 3, 'three snapshots');
      }
      const line = (suffix: string) =>
        valueOf(
          registry,
          'livestat_broadcast_duration_seconds',
          `livestat_broadcast_duration_seconds_${suffix}`,
        );
      expect(await line('count')).toBe(3);
      expect(await line('sum')).toBeGreaterThan(0);
      expect(await valueOf(registry, 'livestat_broadcast_sessions_total')).toBe(6);
      const text = await registry.metrics();
      expect(text).toMatch(/^livestat_broadcast_duration_seconds_bucket\{le="\+Inf"\} 3$/m);
      // What the bus carried is also what the host gauges show.
      expect(text).toMatch(/^node_load1\{instance="stream-a"\} 0\.42$/m);
      expect(text).toMatch(/^node_load1\{instance="stream-b"\} 0\.42$/m);

      clients[0]?.ws.close();
      await clients[0]?.closed;
      await waitUntil(() => h.stream.connections() === 1, 'one session left');
      expect(await valueOf(registry, 'livestat_websocket_connections')).toBe(1);
      h.bus.publish(snapshotOf('stream-a', 3));
      await clients[1]?.until(() => (clients[1]?.snapshots().length ?? 0) >= 4, 'a fourth');
      expect(await line('count')).toBe(4);
      expect(await valueOf(registry, 'livestat_broadcast_sessions_total')).toBe(7);
    } finally {
      await h.close();
    }
  });
});

describe('service metrics: documentation', () => {
  it('README.md lists every livestat_ service metric', async () => {
    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Service metrics'));
    const documented = new Set(
      [...section.matchAll(/^\| `([a-z_:][a-z0-9_:]*)`/gm)].map((m) => m[1]),
    );
    const everything = createServiceMetrics(
      {
        sockets: () => 0,
        sampler: () => ({ seq: 0, skippedTicks: 0, skippedTicksLastMinute: 0 }),
        eventLoop: () => ({ lagMs: 0, maxLagMs: 0, windowMs: 60_000 }),
        writer: () => ({
          written: 0,
          dropped: 0,
          queued: 0,
          inFlight: 0,
          failures: 0,
          lastFlushAt: null,
        }),
        redis: () => ({ published: 0, publishFailures: 0, received: 0, invalid: 0 }),
      },
      { defaultMetrics: false },
    );
    const hostMetrics = new Set<string>([
      ...[...HOST_GAUGES, ...HOST_COUNTERS].map((def) => def.name),
      'livestat_collector_duration_seconds',
      'livestat_collector_errors_total',
    ]);
    const service = (await everything.registry.getMetricsAsJSON())
      .map((metric) => metric.name)
      // node_memory_* families are made per meminfo field: host metrics too.
      .filter((name) => !hostMetrics.has(name) && !name.startsWith('node_memory_'));
    expect(service.sort()).toEqual([...documented].sort());
  });
});
