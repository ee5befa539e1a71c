import {
  resolveSeries,
  SERIES_PATTERNS,
  type HistoryPoint,
  type HistoryResponse,
  type ResolvedSeries,
} from '@livestat/contracts';
import type { Database } from './db.js';
import { planHistory, type HistoryPlan } from './history-plan.js';
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
}

/** A request naming something that does not exist; the message names the parameter. */
export class HistoryRequestError extends Error {
  constructor(
    readonly parameter: 'series' | 'host',
    message: string,
  ) {
    super(message);
    this.name = 'HistoryRequestError';
  }
}

const KNOWN_SERIES = SERIES_PATTERNS.map((p) => p.pattern.replace('*', '<name>')).join(', ');

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
function extraction(series: ResolvedSeries, first: number): Extraction {
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
function canonicalPath(series: ResolvedSeries): string {
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

function rawQuery(series: ResolvedSeries): Extraction {
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

function rollupQuery(series: ResolvedSeries, tier: HistoryPlan['tier']): Extraction {
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
  series: ResolvedSeries,
  plan: HistoryPlan,
  to: number,
): Promise<HistoryPoint[]> {
  const { sql, params } = plan.tier === 'raw' ? rawQuery(series) : rollupQuery(series, plan.tier);
  const from = Math.max(plan.origin, PG_MIN_MS);
  const rows = await db.query<BucketRow>(sql, [
    host,
    plan.origin,
    plan.bucketMs,
    from,
    Math.max(to, from),
    ...params,
  ]);
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
  const paths = [...new Set(request.series)];
  const resolved = paths.map((path) => {
    const series = resolveSeries(path);
    if (series === null) {
      throw new HistoryRequestError(
        'series',
        `series: unknown series '${path}'; known: ${KNOWN_SERIES}`,
      );
    }
    return series;
  });
  const plan = planHistory({ ...request, ...options });
  // Independent queries: a pg pool runs them side by side, PGlite queues them.
  const answers = await Promise.all(
    resolved.map((series) => querySeries(db, request.host, series, plan, request.to)),
  );
  return {
    host: request.host,
    from: plan.origin,
    to: request.to,
    bucketMs: plan.bucketMs,
    tier: plan.tier,
    series: Object.fromEntries(paths.map((path, k) => [path, answers[k] ?? []])),
  };
}

/** History as the HTTP layer sees it: hosts checked, the local host by default. */
export interface HistoryService {
  /** The host this process samples: answered when a request names none. */
  readonly localHost: string;
  /**
   * Answers `request` for `request.host`, or the local host. A host that is neither the
   * local one nor one with stored data throws {@link HistoryRequestError} listing the known.
   */
  query(
    request: Omit<HistoryRequest, 'host'> & { host?: string | undefined },
  ): Promise<HistoryResponse>;
}

export interface HistoryServiceDeps {
  db: Database;
  localHost: string;
  rawRetentionMs: number;
  /** The sampling interval: no bucket is narrower. */
  minBucketMs?: number;
  now?: () => number;
}

/** Creates the {@link HistoryService} over one database. */
export function createHistoryService(deps: HistoryServiceDeps): HistoryService {
  const now = deps.now ?? Date.now;
  async function checkHost(host: string): Promise<void> {
    if (host === deps.localHost) return;
    const found = await deps.db.query('SELECT 1 FROM hosts WHERE host = $1', [host]);
    if (found.length > 0) return;
    const rows = await deps.db.query<{ host: string }>('SELECT host FROM hosts ORDER BY host');
    const known = [...new Set([deps.localHost, ...rows.map((row) => row.host)])].sort();
    throw new HistoryRequestError(
      'host',
      `host: unknown host '${host}'; known: ${known.join(', ')}`,
    );
  }
  return {
    localHost: deps.localHost,
    async query(request) {
      const host = request.host ?? deps.localHost;
      await checkHost(host);
      return queryHistory(
        deps.db,
        { ...request, host },
        { now: now(), rawRetentionMs: deps.rawRetentionMs, minBucketMs: deps.minBucketMs },
      );
    },
  };
}
