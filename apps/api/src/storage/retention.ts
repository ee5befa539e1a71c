import type { Logger } from '../logger.js';
import type { Database } from './db.js';
import { STORED_SECTIONS, TIERS } from './rollup.js';

/** A table and the age past which its rows go. */
export interface RetentionRule {
  table: string;
  column: string;
  maxAgeMs: number;
  /**
   * Prune one (host, metric_type) at a time through the unique btree index. Raw rows are large
   * and many: a scan of the time column would revisit every dead row of earlier batches until
   * vacuum runs, while the btree skips them (its entries are marked dead on first visit).
   */
  perHostAndType?: boolean;
}

/**
 * Raw rows after `rawRetentionMs` (RETENTION_DAYS), then each rollup tier after its own age;
 * the per-tick top processes after `processRetentionMs` (PROCESS_RETENTION_HOURS, default 48 h),
 * their top lists with the series rollups, and command lines once no top list can name them.
 */
export function retentionRules(
  rawRetentionMs: number,
  processRetentionMs = 48 * 3_600_000,
): RetentionRule[] {
  return [
    { table: 'metrics_snapshots', column: 'ts', maxAgeMs: rawRetentionMs, perHostAndType: true },
    ...TIERS.map((tier) => ({ table: tier.table, column: 'bucket', maxAgeMs: tier.retentionMs })),
    { table: 'process_ticks', column: 'ts', maxAgeMs: processRetentionMs },
    { table: 'process_rollup_1m', column: 'bucket', maxAgeMs: TIERS[0]!.retentionMs },
    { table: 'process_rollup_1h', column: 'bucket', maxAgeMs: TIERS[1]!.retentionMs },
    { table: 'process_rollup_1d', column: 'bucket', maxAgeMs: TIERS[1]!.retentionMs },
    { table: 'process_commands', column: 'last_seen', maxAgeMs: TIERS[1]!.retentionMs },
  ];
}

export interface RetentionOptions {
  db: Database;
  logger: Logger;
  rules: readonly RetentionRule[];
  /** Rows per DELETE: small, so each statement holds its locks only briefly. */
  batchRows?: number;
  /** Pause between batches, leaving room for the writer and history queries. */
  pauseMs?: number;
  /** How often a pass runs. */
  intervalMs?: number;
  now?: () => number;
}

export interface Retention {
  /** Deletes every row past its age, batch by batch; resolves with the rows deleted per table. */
  runOnce(): Promise<Record<string, number>>;
  /** Runs a pass now and then every `intervalMs`; errors are logged, the next pass retries. */
  start(): void;
  /** Stops the schedule and waits for a running pass to end after its current batch. */
  stop(): Promise<void>;
}

/**
 * Prunes old rows in small batches: the BRIN index on the time column finds the oldest rows
 * cheaply, and each DELETE takes at most `batchRows`, so no long lock blocks the batch writer.
 */
export function createRetention(options: RetentionOptions): Retention {
  const { db, logger, rules } = options;
  const batchRows = options.batchRows ?? 5000;
  const pauseMs = options.pauseMs ?? 50;
  const intervalMs = options.intervalMs ?? 10 * 60_000;
  const now = options.now ?? Date.now;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  async function pruneBatches(sql: string, params: unknown[]): Promise<number> {
    let deleted = 0;
    while (!stopped) {
      const rows = await db.query<{ n: number }>(sql, [...params, batchRows]);
      const n = rows[0]?.n ?? 0;
      deleted += n;
      if (n < batchRows) break;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    return deleted;
  }

  // Table and column names come from the rules, never from input.
  async function pruneTable(rule: RetentionRule): Promise<number> {
    const cutoff = new Date(now() - rule.maxAgeMs).toISOString();
    const { table, column } = rule;
    if (!rule.perHostAndType) {
      return pruneBatches(
        `WITH d AS (DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
           SELECT ctid FROM ${table} WHERE ${column} < $1 LIMIT $2)) RETURNING 1)
         SELECT count(*)::int AS n FROM d`,
        [cutoff],
      );
    }
    const hosts = await db.query<{ host: string }>(
      'SELECT host FROM hosts WHERE first_seen < $1 ORDER BY host',
      [cutoff],
    );
    let deleted = 0;
    for (const { host } of hosts) {
      // Application rows (`app`) are pruned like the sections beside them.
      for (const section of [...STORED_SECTIONS, 'app']) {
        deleted += await pruneBatches(
          `WITH d AS (DELETE FROM ${table} WHERE ctid = ANY(ARRAY(
             SELECT ctid FROM ${table} WHERE host = $1 AND metric_type = $2 AND ${column} < $3
             LIMIT $4)) RETURNING 1)
           SELECT count(*)::int AS n FROM d`,
          [host, section, cutoff],
        );
      }
    }
    return deleted;
  }

  async function runOnce(): Promise<Record<string, number>> {
    const deleted: Record<string, number> = {};
    const started = performance.now();
    for (const rule of rules) deleted[rule.table] = await pruneTable(rule);
    const total = Object.values(deleted).reduce((a, b) => a + b, 0);
    if (total > 0) {
      logger.info(
        { deleted, ms: Math.round(performance.now() - started) },
        'retention pruned old rows',
      );
    }
    return deleted;
  }

  // One pass now, then the next `intervalMs` after it ends: passes never overlap.
  function pass(): void {
    running = runOnce()
      .catch((err: Error) =>
        logger.warn({ err: { message: err.message } }, 'retention pass failed'),
      )
      .finally(() => {
        running = undefined;
        if (stopped) return;
        timer = setTimeout(pass, intervalMs);
        timer.unref();
      });
  }

  return {
    runOnce,
    start() {
      stopped = false;
      pass();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
