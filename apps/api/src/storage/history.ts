import {
  resolveCatalogueSeries,
  SERIES_PATTERNS,
  type CatalogueSeries,
  type HistoryPoint,
  type HistoryResponse,
} from '@livestat/contracts';
import { QueryCancelledError, QueryTimeoutError, type Database } from './db.js';
import { coarserPoints, historyCost, planHistory, type HistoryPlan } from './history-plan.js';
import { withRecent, type RecentSource } from './history-recent.js';
import { TIERS } from './rollup.js';

/** One history question, validated and in epoch ms. */
export interface HistoryRequest {
  host: string;
  /** Series paths such as `cpu.usagePercent`; repeated paths are answered once. */
  series: readonly string[];
  from: number;
  /** Exclusive end. */
  to: number;
  /** Most buckets per series. */
  points: number;
}

/** What the answer depends on besides the request. */
export interface HistoryOptions {
  now: number;
  /** How long raw rows are kept, so ranges reaching further read rollups. */
  rawRetentionMs: number;
  /** The sampling interval: no bucket is narrower (see {@link planHistory}). */
  minBucketMs?: number;
  /**
   * Most rows the request may read (series × rows per series, see {@link historyCost});
   * past it the request is refused before it runs. Default: no limit.
   */
  maxRowsScanned?: number;
  /** Aborting cancels every statement of the request. */
  signal?: AbortSignal | undefined;
}

/** A request naming something that does not exist; the message names the parameter. */
export class HistoryRequestError extends Error {
  constructor(
    readonly parameter: 'series' | 'host' | 'points' | 'from',
    message: string,
  ) {
    super(message);
    this.name = 'HistoryRequestError';
  }
}

const KNOWN_SERIES = [
  ...SERIES_PATTERNS.map((p) => p.pattern.replace('*', '<name>')),
  'app.<service>.<metric>[;<tag>=<value>].<field>',
].join(', ');

// Timestamps PostgreSQL cannot hold (before 4713 BC) hold no rows either; clamping keeps a
// far-fetched `from` an empty answer rather than an error.
const PG_MIN_MS = Date.UTC(-4712, 0, 1);

// Field names come from the snapshot schema, never from the request; checked anyway because
// they are spliced into a jsonpath.
const SAFE_FIELD = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** How a series' value is read from a section's `metric_data`: SQL plus its parameters. */
interface Extraction {
  sql: string;
  params: unknown[];
}

/**
 * Fields and record keys become a `#>` path (request text travels as a parameter). An array
 * element picked by its id or mount point needs a jsonpath filter: the path is built from
 * schema field names, the element's key travels in the `vars` parameter.
 */
function extraction(series: CatalogueSeries, first: number): Extraction {
  const path: string[] = [];
  for (const step of series.steps) if (step.kind !== 'element') path.push(step.name);
  if (path.length === series.steps.length) {
    const ref = `metric_data #> $${first}::text[]`;
    return {
      sql: `CASE WHEN jsonb_typeof(${ref}) = 'number' THEN (${ref})::float8 END`,
      params: [path],
    };
  }
  const vars: Record<string, string | number> = {};
  let jsonpath = '$';
  series.steps.forEach((step, index) => {
    if (step.kind === 'key') {
      vars[`k${index}`] = step.name;
      jsonpath += `.keyvalue() ? (@.key == $k${index}).value`;
      return;
    }
    const field = step.kind === 'field' ? step.name : step.by;
    if (!SAFE_FIELD.test(field)) throw new Error(`unexpected field name in ${series.pattern}`);
    if (step.kind === 'field') jsonpath += `."${field}"`;
    else {
      vars[`e${index}`] = step.value;
      jsonpath += `[*] ? (@."${field}" == $e${index})`;
    }
  });
  jsonpath += ' ? (@.type() == "number")';
  return {
    sql: `(jsonb_path_query_first(metric_data, $${first}::jsonpath, $${first + 1}::jsonb))::float8`,
    params: [jsonpath, JSON.stringify(vars)],
  };
}

/** The name rollups store a series under: `cpu.cores.00.usagePercent` is core 0's. */
function canonicalPath(series: CatalogueSeries): string {
  const names = series.steps.map((step) =>
    step.kind === 'element' ? String(step.value) : step.name,
  );
  return [series.section, ...names].join('.');
}

interface BucketRow {
  i: number;
  avg: number | null;
  min: number | null;
  max: number | null;
}

// $1 host, $2 origin, $3 bucket width, $4..$5 time range; the bucket index is integer
// arithmetic on whole milliseconds, so every row lands in exactly one bucket.
const bucketIndex = (column: string) =>
  `((floor(extract(epoch FROM ${column}) * 1000)::int8 - $2::int8) / $3::int8)::int`;
const inRange = (column: string) =>
  `${column} >= to_timestamp($4::float8 / 1000) AND ${column} < to_timestamp($5::float8 / 1000)`;

function rawQuery(series: CatalogueSeries): Extraction {
  const value = extraction(series, 7);
  return {
    sql: `
      SELECT i, avg(v)::float8 AS avg, min(v)::float8 AS min, max(v)::float8 AS max
      FROM (
        SELECT ${bucketIndex('ts')} AS i, ${value.sql} AS v
        FROM metrics_snapshots
        WHERE host = $1 AND metric_type = $6 AND ${inRange('ts')}
        -- OFFSET 0 keeps the planner from inlining the subquery, which would evaluate the
        -- jsonb extraction once per aggregate and sort whole rows (2× slower, bench/history).
        OFFSET 0
      ) AS samples
      GROUP BY i ORDER BY i`,
    params: [series.section, ...value.params],
  };
}

function rollupQuery(series: CatalogueSeries, tier: HistoryPlan['tier']): Extraction {
  const table = TIERS.find((t) => t.name === tier)?.table;
  if (table === undefined) throw new Error(`no rollup table for tier ${tier}`);
  return {
    sql: `
      SELECT ${bucketIndex('bucket')} AS i, (sum(sum) / sum(samples))::float8 AS avg,
        min(min)::float8 AS min, max(max)::float8 AS max
      FROM ${table}
      WHERE host = $1 AND series = $6 AND ${inRange('bucket')}
      GROUP BY 1 ORDER BY 1`,
    params: [canonicalPath(series)],
  };
}

async function querySeries(
  db: Database,
  host: string,
  series: CatalogueSeries,
  plan: HistoryPlan,
  to: number,
  signal: AbortSignal,
): Promise<HistoryPoint[]> {
  const { sql, params } = plan.tier === 'raw' ? rawQuery(series) : rollupQuery(series, plan.tier);
  const from = Math.max(plan.origin, PG_MIN_MS);
  const rows = await db.query<BucketRow>(
    sql,
    [host, plan.origin, plan.bucketMs, from, Math.max(to, from), ...params],
    { signal },
  );
  // Every bucket is answered, empty ones as nulls, so a chart draws a gap as a gap.
  const points = Array.from({ length: plan.buckets }, (_, k): HistoryPoint => [
    plan.origin + k * plan.bucketMs,
    null,
    null,
    null,
  ]);
  for (const row of rows) {
    const point = points[row.i];
    if (point) points[row.i] = [point[0], row.avg, row.min, row.max];
  }
  return points;
}

/**
 * Answers a history request in PostgreSQL: per series, at most `points` buckets of
 * `[epochMs, avg, min, max]` from `origin` (the response's `from`) up to `to`, read from raw
 * rows or a rollup tier as {@link planHistory} decides. A rollup bucket that starts before
 * `to` counts whole. A series without data answers all-null buckets; an unknown series
 * throws {@link HistoryRequestError}. Works on PGlite and PostgreSQL alike.
 */
export async function queryHistory(
  db: Database,
  request: HistoryRequest,
  options: HistoryOptions,
): Promise<HistoryResponse> {
  return runHistory(db, request, options, prepareHistory(request, options));
}

/** A request checked and planned, before any statement runs. */
interface PreparedHistory {
  paths: string[];
  resolved: CatalogueSeries[];
  plan: HistoryPlan;
}

/** Resolves the series and plans the request; throws {@link HistoryRequestError} when unknown or over the cost cap. */
function prepareHistory(request: HistoryRequest, options: HistoryOptions): PreparedHistory {
  const paths = [...new Set(request.series)];
  const resolved = paths.map((path) => {
    const series = resolveCatalogueSeries(path);
    if (series === null) {
      throw new HistoryRequestError(
        'series',
        `series: unknown series '${path}'; known: ${KNOWN_SERIES}`,
      );
    }
    return series;
  });
  const plan = planHistory({ ...request, ...options });
  if (options.maxRowsScanned !== undefined) checkCost(request, options, plan, resolved.length);
  return { paths, resolved, plan };
}

async function runHistory(
  db: Database,
  request: HistoryRequest,
  options: HistoryOptions,
  { paths, resolved, plan }: PreparedHistory,
): Promise<HistoryResponse> {
  // Independent queries: a pg pool runs them side by side, PGlite queues them. The first to
  // fail cancels the rest: the answer is lost anyway.
  const together = new AbortController();
  const stop = () => together.abort();
  options.signal?.addEventListener('abort', stop, { once: true });
  if (options.signal?.aborted) stop();
  let answers: HistoryPoint[][];
  try {
    answers = await Promise.all(
      resolved.map((series) =>
        querySeries(db, request.host, series, plan, request.to, together.signal).catch(
          (err: unknown) => {
            stop();
            throw err;
          },
        ),
      ),
    );
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
  return {
    host: request.host,
    from: plan.origin,
    to: request.to,
    bucketMs: plan.bucketMs,
    tier: plan.tier,
    series: Object.fromEntries(paths.map((path, k) => [path, answers[k] ?? []])),
  };
}

const TIER_ROWS: Readonly<Record<HistoryPlan['tier'], string>> = {
  raw: 'raw',
  '1m': '1-minute rollup',
  '1h': 'hourly rollup',
};

const count = (n: number) => n.toLocaleString('en-US');

/**
 * Refuses, before any statement runs, a request that would read more than `maxRowsScanned`
 * rows, with the coarsest change that would be answered: fewer points, or a shorter range.
 */
function checkCost(
  request: HistoryRequest,
  options: HistoryOptions,
  plan: HistoryPlan,
  series: number,
): void {
  const maxRows = options.maxRowsScanned ?? Infinity;
  // Raw rows come one per sampling interval; unknown, a second (the default interval).
  const samplingIntervalMs =
    options.minBucketMs !== undefined && options.minBucketMs > 0 ? options.minBucketMs : 1000;
  const cost = historyCost(plan, { to: request.to, series, samplingIntervalMs });
  if (cost.rows <= maxRows) return;
  const what =
    `${series} series × ${count(cost.rowsPerSeries)} ${TIER_ROWS[plan.tier]} rows ` +
    `exceeds the limit of ${count(maxRows)} rows scanned`;
  const coarser = coarserPoints(
    { ...request, ...options },
    { series, samplingIntervalMs, maxRows },
  );
  if (coarser) {
    const tier =
      coarser.plan.tier === 'raw'
        ? `raw rows in ${coarser.plan.bucketMs / 1000} s buckets`
        : `${TIER_ROWS[coarser.plan.tier]}s`;
    throw new HistoryRequestError(
      'points',
      `points: ${what}; ask for points ≤ ${coarser.points} (${tier}), fewer series or a shorter range`,
    );
  }
  const fewer = Math.floor(maxRows / Math.max(1, cost.rowsPerSeries));
  throw new HistoryRequestError(
    'from',
    `from: ${what}; ask for a shorter range` + (fewer >= 1 ? ` or at most ${fewer} series` : ''),
  );
}

/** History as the HTTP layer sees it: hosts checked, the only host by default. */
export interface HistoryService {
  /** The host this process samples. */
  readonly localHost: string;
  /**
   * Answers `request` for `request.host`; without one, for the only host there is (stored or
   * streaming), so every replica answers alike — with several, or none yet, it throws
   * {@link HistoryRequestError} asking for `host` and listing the known. A host that is neither
   * the local one nor one with stored data throws {@link HistoryRequestError} listing the known;
   * so does a request over the cost cap. Past `timeoutMs` it throws {@link QueryTimeoutError};
   * when `signal` aborts, {@link QueryCancelledError} — every statement is cancelled either way.
   */
  query(
    request: Omit<HistoryRequest, 'host'> & { host?: string | undefined },
    options?: { signal?: AbortSignal | undefined },
  ): Promise<HistoryResponse>;
  /** How long one request may take (HISTORY_QUERY_TIMEOUT_SECONDS). */
  readonly timeoutMs: number;
}

export interface HistoryServiceDeps {
  db: Database;
  localHost: string;
  rawRetentionMs: number;
  /** The sampling interval: no bucket is narrower. */
  minBucketMs?: number;
  /** Most rows one request may read (HISTORY_MAX_ROWS); default: no limit. */
  maxRowsScanned?: number;
  /**
   * How long one request may take, waiting for the database included (default 10 s): past
   * it, its statements are cancelled. Each statement is also bounded by its lane.
   */
  timeoutMs?: number;
  now?: () => number;
  /** What the stream sent lately, stored or not: the newest buckets are completed from it. */
  recent?: RecentSource;
  /**
   * The hosts streaming now (the bus's latest), beside those with stored rows: a request
   * without `host` is answered for the only one.
   */
  streamingHosts?: () => Promise<readonly string[]> | readonly string[];
}

/** The default of {@link HistoryServiceDeps.timeoutMs}. */
export const DEFAULT_HISTORY_TIMEOUT_MS = 10_000;

/** Creates the {@link HistoryService} over one database. */
export function createHistoryService(deps: HistoryServiceDeps): HistoryService {
  const now = deps.now ?? Date.now;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_HISTORY_TIMEOUT_MS;
  async function checkHost(host: string, signal: AbortSignal): Promise<void> {
    if (host === deps.localHost) return;
    const found = await deps.db.query('SELECT 1 FROM hosts WHERE host = $1', [host], { signal });
    if (found.length > 0) return;
    const streaming = (await deps.streamingHosts?.()) ?? [];
    // Streaming, its first rows not yet stored: the stream's ring answers for it.
    if (streaming.includes(host)) return;
    const rows = await deps.db.query<{ host: string }>('SELECT host FROM hosts ORDER BY host', [], {
      signal,
    });
    const known = [
      ...new Set([deps.localHost, ...rows.map((row) => row.host), ...streaming]),
    ].sort();
    throw new HistoryRequestError(
      'host',
      `host: unknown host '${host}'; known: ${known.join(', ')}`,
    );
  }
  // Not this process's own host: a serving-only replica has none with data, and every replica
  // must give a request without `host` the same answer.
  async function onlyHost(signal: AbortSignal): Promise<string> {
    const [rows, streaming] = await Promise.all([
      deps.db.query<{ host: string }>('SELECT host FROM hosts ORDER BY host', [], { signal }),
      deps.streamingHosts?.() ?? [],
    ]);
    const known = [...new Set([...rows.map((row) => row.host), ...streaming])].sort();
    if (known.length === 1) return known[0]!;
    throw new HistoryRequestError(
      'host',
      known.length === 0
        ? 'host: no host has sent data yet; name one with host='
        : `host: required when several hosts have data; known: ${known.join(', ')}`,
    );
  }
  return {
    localHost: deps.localHost,
    timeoutMs,
    async query(request, queryOptions = {}) {
      const { signal } = queryOptions;
      if (signal?.aborted) throw new QueryCancelledError();
      // One deadline for the whole request, so twenty series cannot take twenty timeouts.
      const bounded = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        bounded.abort();
      }, timeoutMs);
      const onAbort = () => bounded.abort();
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        const options: HistoryOptions = {
          now: now(),
          rawRetentionMs: deps.rawRetentionMs,
          minBucketMs: deps.minBucketMs,
          maxRowsScanned: deps.maxRowsScanned,
          signal: bounded.signal,
        };
        const host = request.host ?? (await onlyHost(bounded.signal));
        // Unknown series and requests over the cost cap are refused before any history statement.
        const prepared = prepareHistory({ ...request, host }, options);
        await checkHost(host, bounded.signal);
        const answer = await runHistory(deps.db, { ...request, host }, options, prepared);
        // The batch writer stores in batches: the stream's ring has what it has not yet.
        return deps.recent ? withRecent(answer, deps.recent(host)) : answer;
      } catch (err) {
        if (timedOut && !signal?.aborted && err instanceof QueryCancelledError) {
          throw new QueryTimeoutError(timeoutMs);
        }
        throw err;
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      }
    },
  };
}
