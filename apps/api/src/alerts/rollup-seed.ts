import type { AlertRule } from '@livestat/contracts';
import type { Queryable } from '../storage/db.js';
import type { Evaluator } from './evaluator.js';

/** Rules at least this long are filled from the 1-minute rollups when the evaluator starts. */
export const SEED_MIN_SECONDS = 120;
const MINUTE_MS = 60_000;

/**
 * Fills the windows of long rules (`for` ≥ 2 min) from the stored 1-minute rollups, so a new
 * leader — or the only one after a restart — does not wait a rule's whole duration of live
 * data before it can fire. Only whole minutes before the current one are read: the live stream
 * brings the rest. Returns the buckets read.
 */
export async function seedFromRollups(
  db: Queryable,
  evaluator: Evaluator,
  rules: readonly AlertRule[],
  now: number,
): Promise<number> {
  const cut = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  let read = 0;
  const done = new Set<string>();
  for (const rule of rules) {
    if (!rule.enabled || rule.builtin !== null || rule.forSeconds < SEED_MIN_SECONDS) continue;
    const key = `${rule.series}\u0000${rule.forSeconds}`;
    if (done.has(key)) continue;
    done.add(key);
    // '*' stands for one member; LIKE's own wildcards in the rest are escaped.
    const like = rule.series.replace(/[\\%_]/g, (c) => `\\${c}`).replace('*', '%');
    const rows = await db.query<{
      host: string;
      series: string;
      bucket: Date;
      samples: number;
      sum: number;
    }>(
      `SELECT host, series, bucket, samples, sum FROM metrics_rollup_1m
       WHERE series LIKE $1 AND bucket >= $2 AND bucket < $3 ORDER BY bucket`,
      [like, new Date(cut - rule.forSeconds * 1000), new Date(cut)],
    );
    for (const row of rows) {
      evaluator.seed(row.host, row.series, row.bucket.getTime(), row.sum, row.samples);
    }
    read += rows.length;
  }
  return read;
}
