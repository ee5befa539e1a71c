import type { ProcessesTopQuery, ProcessesTopResponse } from '@livestat/contracts';
import type { Queryable, QueryOptions } from './db.js';
import { TIERS } from './rollup.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/**
 * Widest range answered from the per-tick rows, from the per-minute top lists, and from the
 * per-hour ones. Each stored process of each row read is unpacked from jsonb and grouped: a
 * tick holds ~23, a minute ~30–40, an hour or a day at most 3 × PROCESS_ROLLUP_TOP (~30–40
 * in bench:processes-top), so these keep a query near ten thousand of them (10 min of ticks,
 * 6 h of minutes, 3 days of hours) — an hour of ticks was 83,000 and took 150 ms.
 */
export const PROCESS_RAW_MAX_SPAN_MS = 10 * 60_000;
export const PROCESS_MINUTE_MAX_SPAN_MS = 6 * HOUR_MS;
export const PROCESS_HOUR_MAX_SPAN_MS = 3 * DAY_MS;

export type ProcessTier = ProcessesTopResponse['tier'];

/**
 * The tier that answers a window: the per-tick rows while the range is short (a brush over a
 * spike) and they are still kept, then the per-minute top lists, the per-hour ones, and past
 * three days the per-day ones — a 30-day answer reads 30 rows per host (and the hours at its
 * ends), not 2.6 million ticks.
 */
export function processTier(
  from: number,
  to: number,
  now: number,
  processRetentionMs: number,
): ProcessTier {
  const span = to - from;
  if (span <= PROCESS_RAW_MAX_SPAN_MS && from >= now - processRetentionMs) return 'raw';
  if (span <= PROCESS_MINUTE_MAX_SPAN_MS && from >= now - TIERS[0]!.retentionMs) return '1m';
  if (span <= PROCESS_HOUR_MAX_SPAN_MS) return '1h';
  return '1d';
}

const MEASURE = { cpu: 'cpu_s', memory: 'peak_rss', io: 'io_b' } as const;

// Each source yields the same columns per process identity (pid, start, name, user).
const RAW = `
  SELECT (p->>0)::int AS pid, (p->>1)::bigint AS started, p->>2 AS name, p->>3 AS usr,
         sum((p->>4)::float8 / 100 * t.interval_ms / 1000) AS cpu_s,
         max((p->>5)::float8) AS peak_rss,
         sum((p->>6)::float8 * t.interval_ms / 1000) AS io_b,
         (extract(epoch FROM min(t.ts)) * 1000)::float8 AS first_ms,
         (extract(epoch FROM max(t.ts)) * 1000)::float8 AS last_ms,
         sum(t.interval_ms)::float8 AS seen_ms
  FROM process_ticks t, jsonb_array_elements(t.processes) AS p
  WHERE t.host = $1 AND t.ts >= to_timestamp($2::float8 / 1000) AND t.ts < to_timestamp($3::float8 / 1000)
  GROUP BY 1, 2, 3, 4`;

// The stored elements of `table`'s buckets starting in [from, to) ($n are ms parameters).
const elements = (table: string, from: string, to: string) => `
  SELECT p FROM ${table} r, jsonb_array_elements(r.processes) AS p
  WHERE r.host = $1 AND r.bucket >= to_timestamp(${from}::float8 / 1000)
    AND r.bucket < to_timestamp(${to}::float8 / 1000)`;

const rollup = (source: string) => `
  SELECT (p->>0)::int AS pid, (p->>1)::bigint AS started, p->>2 AS name, p->>3 AS usr,
         sum((p->>4)::float8) AS cpu_s,
         max((p->>5)::float8) AS peak_rss,
         sum((p->>6)::float8) AS io_b,
         min((p->>7)::float8) AS first_ms,
         max((p->>8)::float8) AS last_ms,
         sum((p->>9)::float8) AS seen_ms
  FROM (${source}) AS e
  GROUP BY 1, 2, 3, 4`;

const SOURCES: Record<ProcessTier, string> = {
  raw: RAW,
  '1m': rollup(elements('process_rollup_1m', '$2', '$3')),
  '1h': rollup(elements('process_rollup_1h', '$2', '$3')),
  // The hours before the first whole day ($5) and from the end of the last ($6), days between.
  '1d': rollup(
    `${elements('process_rollup_1h', '$2', '$5')} UNION ALL
     ${elements('process_rollup_1d', '$5', '$6')} UNION ALL
     ${elements('process_rollup_1h', '$6', '$3')}`,
  ),
};

interface Row {
  pid: number;
  started: string | number;
  name: string;
  usr: string;
  cpu_s: number;
  peak_rss: number;
  io_b: number | null;
  first_ms: number;
  last_ms: number;
  seen_ms: number;
  command: string | null;
}

/**
 * Who used the most of `by` on `host` between `from` and `to`, from `tier`: per process
 * (pid, start time and name), CPU-seconds, peak RSS and bytes of I/O summed over the window.
 * A rollup tier counts whole buckets: those starting in [from rounded down to a bucket, to);
 * '1d' counts whole hours so, the whole days among them from the per-day lists.
 */
export async function queryTopProcesses(
  db: Queryable,
  query: ProcessesTopQuery,
  tier: ProcessTier,
  options?: QueryOptions,
): Promise<ProcessesTopResponse> {
  const bucketMs = tier === '1m' ? TIERS[0]!.bucketMs : tier === 'raw' ? 1 : HOUR_MS;
  const from = query.from - (query.from % bucketMs);
  const params: unknown[] = [query.host, from, query.to, query.limit];
  if (tier === '1d') {
    // The whole days inside the range; none when it holds none (then the hours answer).
    const firstDay = Math.min(from + ((DAY_MS - (from % DAY_MS)) % DAY_MS), query.to);
    const endDay = Math.max(firstDay, query.to - (query.to % DAY_MS));
    params.push(firstDay, endDay);
  }
  const measure = MEASURE[query.by];
  const rows = await db.query<Row>(
    `WITH top AS (${SOURCES[tier]} ORDER BY ${measure} DESC NULLS LAST, pid LIMIT $4)
     SELECT top.*, c.command FROM top
     LEFT JOIN process_commands c ON c.host = $1 AND c.pid = top.pid AND c.started = top.started
     ORDER BY ${measure} DESC NULLS LAST, pid`,
    params,
    options,
  );
  return {
    host: query.host,
    from: new Date(query.from).toISOString(),
    to: new Date(query.to).toISOString(),
    by: query.by,
    tier,
    processes: rows.map((row) => ({
      pid: row.pid,
      name: row.name,
      user: row.usr,
      command: row.command ?? '',
      cpuSeconds: round(row.cpu_s),
      avgCpuPercent: row.seen_ms > 0 ? round((row.cpu_s * 100_000) / row.seen_ms) : 0,
      peakRssBytes: Math.round(row.peak_rss),
      ioBytes: row.io_b === null ? null : Math.round(row.io_b),
      firstSeen: new Date(row.first_ms).toISOString(),
      lastSeen: new Date(row.last_ms).toISOString(),
    })),
  };
}

const round = (value: number) => Math.round(value * 1000) / 1000;
