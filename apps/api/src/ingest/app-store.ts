import { flattenAppSeries, type AppMessage } from '@livestat/contracts';
import type { Logger } from '../logger.js';
import type { Database } from '../storage/db.js';
import { mergeAggregates } from '../storage/metrics-store.js';
import { TIERS, type Aggregate } from '../storage/rollup.js';

/** The `metric_type` of application rows in `metrics_snapshots`. */
export const APP_METRIC_TYPE = 'app';

export interface AppStoreOptions {
  db: Database;
  logger: Logger;
  /** Write when this many messages wait… */
  batchSize?: number;
  /** …or when the oldest has waited this long. */
  flushIntervalMs?: number;
  /** Messages held while the database is down; past it the oldest are dropped. */
  maxQueued?: number;
}

/**
 * The compact form stored per message: `{service: {metricKey: {field: value}}}`, so a catalogue
 * path `app.<service>.<metricKey>.<field>` is exactly the stored JSON path (history reads it
 * like any section's, and rollups keep it under that name).
 */
export function storedAppData(
  message: AppMessage,
): Record<string, Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, Record<string, number>>> = {};
  for (const [service, { metrics }] of Object.entries(message.services)) {
    const byKey: Record<string, Record<string, number>> = (out[service] = {});
    for (const [key, metric] of Object.entries(metrics)) {
      const fields: Record<string, number> = {};
      for (const [field, value] of Object.entries(metric)) {
        if (typeof value === 'number' && Number.isFinite(value)) fields[field] = value;
      }
      byKey[key] = fields;
    }
  }
  return out;
}

const INSERT = `
  INSERT INTO metrics_snapshots (host, ts, metric_type, metric_data, interval_ms)
  SELECT host, ts, '${APP_METRIC_TYPE}', data, interval_ms
  FROM unnest($1::text[], $2::timestamptz[], $3::jsonb[], $4::int[]) AS m(host, ts, data, interval_ms)
  ON CONFLICT (host, metric_type, ts) DO NOTHING
  RETURNING host, (extract(epoch FROM ts) * 1000)::float8 AS ts_ms`;

/**
 * Stores `app` messages as `metrics_snapshots` rows of type `app` and merges their series into
 * the same rollup tiers as the host's, in one transaction per batch. Like the snapshot writer,
 * streaming never waits on it: messages queue (bounded) and a failed batch is retried.
 * Idempotent: only rows this batch inserted reach the rollups.
 */
export function createAppStore(options: AppStoreOptions) {
  const { db, logger } = options;
  const batchSize = options.batchSize ?? 10;
  const flushIntervalMs = options.flushIntervalMs ?? 2000;
  const maxQueued = options.maxQueued ?? 10_000;
  let queue: AppMessage[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> | null = null;
  let failing = false;
  const stats = { stored: 0, dropped: 0 };

  async function write(batch: AppMessage[]): Promise<void> {
    await db.transaction(async (tx) => {
      const inserted = await tx.query<{ host: string; ts_ms: number }>(INSERT, [
        batch.map((m) => m.host),
        batch.map((m) => m.timestamp),
        batch.map((m) => JSON.stringify(storedAppData(m))),
        batch.map((m) => m.intervalMs),
      ]);
      const fresh = new Set(inserted.map((row) => `${row.host}\u0000${row.ts_ms}`));
      for (const tier of TIERS) {
        const buckets = new Map<string, Aggregate>();
        for (const message of batch) {
          const ms = Date.parse(message.timestamp);
          if (!fresh.has(`${message.host}\u0000${ms}`)) continue;
          const bucketMs = ms - (ms % tier.bucketMs);
          for (const [series, value] of flattenAppSeries(message)) {
            const key = `${message.host}\u0000${series}\u0000${bucketMs}`;
            const a = buckets.get(key);
            if (a === undefined) {
              buckets.set(key, {
                host: message.host,
                series,
                bucketMs,
                samples: 1,
                sum: value,
                min: value,
                max: value,
              });
            } else {
              a.samples += 1;
              a.sum += value;
              if (value < a.min) a.min = value;
              if (value > a.max) a.max = value;
            }
          }
        }
        await mergeAggregates(tx, tier, [...buckets.values()]);
      }
    });
  }

  function flush(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    if (writing !== null || queue.length === 0) return writing ?? Promise.resolve();
    const batch = queue;
    queue = [];
    writing = write(batch)
      .then(
        () => {
          stats.stored += batch.length;
          if (failing) logger.info('storing application metrics resumed');
          failing = false;
        },
        (err: unknown) => {
          if (!failing) logger.warn({ err }, 'storing application metrics failed; will retry');
          failing = true;
          queue = [...batch, ...queue];
          trim();
        },
      )
      .finally(() => {
        writing = null;
        if (queue.length > 0) schedule();
      });
    return writing;
  }

  function trim(): void {
    if (queue.length <= maxQueued) return;
    stats.dropped += queue.length - maxQueued;
    queue = queue.slice(queue.length - maxQueued);
  }

  function schedule(): void {
    if (timer === undefined)
      timer = setTimeout(() => void flush(), failing ? 5000 : flushIntervalMs);
  }

  return {
    enqueue(message: AppMessage): void {
      queue.push(message);
      trim();
      if (queue.length >= batchSize && writing === null) void flush();
      else schedule();
    },
    /** Writes what is queued (shutdown), waiting for a write in flight first. */
    async close(): Promise<void> {
      clearTimeout(timer);
      await writing;
      await flush();
      clearTimeout(timer);
    },
    stats: () => ({ ...stats, queued: queue.length }),
  };
}
