import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { pg as loadPg, pgCopyStreams } from '../lazy-modules.js';
import type { Logger } from '../logger.js';

/**
 * Which work a statement belongs to. Each lane has its own connections (PostgreSQL) or its own
 * place in the queue (PGlite), so heavy history reads never starve a login or the batch writer.
 */
export type DatabaseLane = 'write' | 'auth' | 'read';

/** Bounds for one statement. */
export interface QueryOptions {
  /** Aborting cancels the statement, or takes it out of the queue if it has not started. */
  signal?: AbortSignal | undefined;
  /** Longest the statement may run; past it the statement is cancelled ({@link QueryTimeoutError}). */
  timeoutMs?: number | undefined;
}

/** A statement ran past its time and was cancelled. */
export class QueryTimeoutError extends Error {
  readonly code = 'query_timeout';
  constructor(readonly timeoutMs: number) {
    super(`query cancelled after ${timeoutMs} ms (statement timeout)`);
    this.name = 'QueryTimeoutError';
  }
}

/** The caller aborted the statement (its client went away). */
export class QueryCancelledError extends Error {
  readonly code = 'query_cancelled';
  constructor() {
    super('query cancelled by its caller');
    this.name = 'QueryCancelledError';
  }
}

/** Anything that runs SQL with `$1…` parameters and returns rows. */
export interface Queryable {
  query<Row extends object = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    options?: QueryOptions,
  ): Promise<Row[]>;
  /** Several `;`-separated statements without parameters (migrations). */
  exec(sql: string, options?: QueryOptions): Promise<void>;
  /**
   * Bulk-loads rows in COPY text format (tab-separated, `\n`-terminated, backslash-escaped) into
   * `table (columns)`: the fastest way in, several times an INSERT of the same rows.
   */
  copyFrom(table: string, columns: readonly string[], text: string): Promise<void>;
}

/** How busy one lane is: statements running and callers waiting for a connection. */
export interface LaneStats {
  active: number;
  waiting: number;
  /** Connections (PostgreSQL) or 1 (PGlite's single connection, shared by the lanes). */
  size: number;
}

/**
 * The one database interface storage code uses: the same SQL runs on embedded PGlite and on
 * PostgreSQL. Both return `bigint` as a JS number and `timestamptz` as a Date.
 */
export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** The same database on another lane; this object is the `write` lane. */
  lane(name: DatabaseLane): Database;
  /** Runs `fn` in one transaction on one connection: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs `fn` on one connection, for session state such as advisory locks. */
  session<T>(fn: (session: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers (or is busy with a statement still within its time). */
  ping(): Promise<void>;
  /** Per-lane load, for `/api/health` and `/metrics`. */
  stats(): Record<DatabaseLane, LaneStats>;
  close(): Promise<void>;
}

export {
  createPgliteDatabase,
  startPgliteDatabase,
  type PgliteOptions,
} from './pglite-database.js';

/** Default statement timeouts per lane; history's comes from HISTORY_QUERY_TIMEOUT_SECONDS. */
export const DEFAULT_LANE_TIMEOUTS_MS: Readonly<Record<DatabaseLane, number>> = {
  // Migrations and a backlog flush of 1000 snapshots run here.
  write: 300_000,
  auth: 5_000,
  read: 10_000,
};

export interface PostgresOptions {
  connectionString: string;
  logger: Logger;
  /** Connections of the `write` lane (the writer, retention, migrations); CLIs pass 1 or 2. */
  max?: number;
  /** Connections per lane: by default write 3, auth 2, read 4 (10 in all, pg's usual pool). */
  poolSizes?: Partial<Record<DatabaseLane, number>>;
  /** How long to wait for a connection before the query fails (and the writer retries). */
  connectionTimeoutMs?: number;
  /** The `write` lane's statement timeout (0: none, for benchmarks); see `laneTimeoutsMs`. */
  statementTimeoutMs?: number;
  /** Statement timeouts per lane, server-side, so a stuck query cannot hold a connection. */
  laneTimeoutsMs?: Partial<Record<DatabaseLane, number>>;
}

// Parsed per pool rather than globally, so nothing else in the process changes behaviour.
const INT8_OID = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    // Counts and ids stay far below 2^53; PGlite returns them as numbers too.
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return loadPg().types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

const QUERY_CANCELED = '57014';
const LANES: readonly DatabaseLane[] = ['write', 'auth', 'read'];

/**
 * PostgreSQL through one node-postgres pool per lane, so a flood of history reads waits for
 * its own connections while logins and writes go on. A statement is bounded by its lane's
 * server-side `statement_timeout`, and a caller's `timeoutMs` or `signal` cancels it with
 * `pg_cancel_backend` (over the `auth` lane, which history never fills).
 */
export function createPostgresDatabase(options: PostgresOptions): Database {
  const sizes: Record<DatabaseLane, number> = {
    write: options.max ?? 3,
    auth: 2,
    read: 4,
    ...options.poolSizes,
  };
  const timeouts: Record<DatabaseLane, number> = {
    ...DEFAULT_LANE_TIMEOUTS_MS,
    ...(options.statementTimeoutMs !== undefined ? { write: options.statementTimeoutMs } : {}),
    ...options.laneTimeoutsMs,
  };
  const pools = new Map<DatabaseLane, pg.Pool>();
  function poolOf(lane: DatabaseLane): pg.Pool {
    let pool = pools.get(lane);
    if (pool) return pool;
    pool = new (loadPg().Pool)({
      connectionString: options.connectionString,
      max: sizes[lane],
      connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      statement_timeout: timeouts[lane],
      application_name: `livestat:${lane}`,
      types,
    });
    // An idle client whose server went away emits here; without a listener the process dies.
    pool.on('error', (err) => {
      options.logger.warn({ err: { message: err.message }, lane }, 'idle database connection lost');
    });
    pools.set(lane, pool);
    return pool;
  }
  async function cancelBackend(pid: number): Promise<void> {
    await poolOf('auth')
      .query('SELECT pg_cancel_backend($1)', [pid])
      .catch((err: Error) =>
        options.logger.warn({ err: { message: err.message }, pid }, 'could not cancel a query'),
      );
  }

  /** Runs one statement on `client`, cancelling it server-side on timeout or abort. */
  async function bounded<T>(
    client: pg.PoolClient,
    query: Promise<T>,
    queryOptions: QueryOptions | undefined,
  ): Promise<T> {
    const { signal, timeoutMs } = queryOptions ?? {};
    if (!signal && !timeoutMs) return query;
    let reason: 'timeout' | 'abort' | undefined;
    let cancelling: Promise<void> | undefined;
    const pid = (client as unknown as { processID: number }).processID;
    const cancel = (why: 'timeout' | 'abort') => {
      if (reason) return;
      reason = why;
      cancelling = cancelBackend(pid);
    };
    const timer = timeoutMs ? setTimeout(() => cancel('timeout'), timeoutMs) : undefined;
    const onAbort = () => cancel('abort');
    signal?.addEventListener('abort', onAbort);
    try {
      return await query;
    } catch (err) {
      if ((err as { code?: string }).code === QUERY_CANCELED) {
        if (reason === 'abort') throw new QueryCancelledError();
        if (reason === 'timeout') throw new QueryTimeoutError(timeoutMs ?? 0);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // A cancel can reach the server after the statement finished. Until it has been
      // delivered the connection stays ours: released earlier, the next caller's statement
      // on it would be the one cancelled (an idle backend ignores a cancel).
      if (cancelling) await cancelling;
    }
  }

  const copyInto = async (
    client: pg.PoolClient,
    table: string,
    columns: readonly string[],
    text: string,
  ) => {
    const sink = client.query(
      pgCopyStreams().from(`COPY ${table} (${columns.join(', ')}) FROM STDIN`),
    );
    await pipeline(Readable.from([text]), sink);
  };
  const onClient = (client: pg.PoolClient): Queryable => ({
    async query<Row extends object>(sql: string, params?: unknown[], queryOptions?: QueryOptions) {
      const result = await bounded(
        client,
        client.query<Row & pg.QueryResultRow>(sql, params),
        queryOptions,
      );
      return result.rows;
    },
    async exec(sql: string, queryOptions?: QueryOptions) {
      await bounded(client, client.query(sql), queryOptions);
    },
    copyFrom: (table, columns, text) => copyInto(client, table, columns, text),
  });

  async function withClient<T>(
    lane: DatabaseLane,
    fn: (client: pg.PoolClient) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    if (signal?.aborted) throw new QueryCancelledError();
    const client = await poolOf(lane).connect();
    if (signal?.aborted) {
      client.release();
      throw new QueryCancelledError();
    }
    // A checked-out client whose connection dies emits 'error' besides failing its query;
    // pg-pool only listens while the client is idle, so unheard it would crash the process.
    let broken: Error | undefined;
    const onError = (err: Error) => {
      broken = err;
    };
    client.on('error', onError);
    try {
      const result = await fn(client);
      client.release(broken);
      return result;
    } catch (err) {
      // A connection that failed mid-way may be broken or mid-transaction: never reuse it.
      client.release(err instanceof Error ? err : true);
      throw err;
    } finally {
      client.off('error', onError);
    }
  }

  function onLane(lane: DatabaseLane): Database {
    return {
      kind: 'postgres',
      lane: (name) => lanes[name],
      query: (sql, params, queryOptions) =>
        withClient(
          lane,
          (client) => onClient(client).query(sql, params, queryOptions),
          queryOptions?.signal,
        ),
      exec: (sql, queryOptions) =>
        withClient(
          lane,
          (client) => onClient(client).exec(sql, queryOptions),
          queryOptions?.signal,
        ),
      copyFrom: (table, columns, text) =>
        withClient(lane, (client) => copyInto(client, table, columns, text)),
      transaction: (fn) =>
        withClient(lane, async (client) => {
          await client.query('BEGIN');
          try {
            const result = await fn(onClient(client));
            await client.query('COMMIT');
            return result;
          } catch (err) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw err;
          }
        }),
      session: (fn) => withClient(lane, (client) => fn(onClient(client))),
      async ping() {
        await poolOf(lane).query('SELECT 1');
      },
      stats() {
        const stats = {} as Record<DatabaseLane, LaneStats>;
        for (const name of LANES) {
          const pool = pools.get(name);
          stats[name] = {
            active: pool ? pool.totalCount - pool.idleCount : 0,
            waiting: pool?.waitingCount ?? 0,
            size: sizes[name],
          };
        }
        return stats;
      },
      async close() {
        await Promise.all([...pools.values()].map((pool) => (pool.ended ? undefined : pool.end())));
      },
    };
  }
  const lanes = Object.fromEntries(LANES.map((name) => [name, onLane(name)])) as Record<
    DatabaseLane,
    Database
  >;
  return lanes.write;
}
