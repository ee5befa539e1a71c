import { mkdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
import type { Logger } from '../logger.js';

/** Anything that runs SQL with `$1…` parameters and returns rows. */
export interface Queryable {
  query<Row extends object = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
  ): Promise<Row[]>;
  /** Several `;`-separated statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Bulk-loads rows in COPY text format (tab-separated, `\n`-terminated, backslash-escaped) into
   * `table (columns)`: the fastest way in, several times an INSERT of the same rows.
   */
  copyFrom(table: string, columns: readonly string[], text: string): Promise<void>;
}

/**
 * The one database interface storage code uses: the same SQL runs on embedded PGlite and on
 * PostgreSQL. Both return `bigint` as a JS number and `timestamptz` as a Date.
 */
export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction on one connection: committed if it resolves, rolled back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs `fn` on one connection, for session state such as advisory locks. */
  session<T>(fn: (session: Queryable) => Promise<T>): Promise<T>;
  /** Resolves when the database answers. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Embedded PostgreSQL (PGlite, WebAssembly) stored in `dataDir`, or in memory when `dataDir`
 * is undefined (tests). One connection: PGlite queues concurrent callers itself.
 */
export async function createPgliteDatabase(dataDir?: string): Promise<Database> {
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
  const pglite = await PGlite.create(dataDir);
  const wrap = (q: Pick<PGlite, 'query' | 'exec'>): Queryable => ({
    async query<Row extends object>(sql: string, params?: unknown[]) {
      return (await q.query<Row>(sql, params)).rows;
    },
    async exec(sql: string) {
      await q.exec(sql);
    },
    async copyFrom(table, columns, text) {
      // PGlite reads COPY input from a blob attached to the query.
      await q.query(`COPY ${table} (${columns.join(', ')}) FROM '/dev/blob'`, [], {
        blob: new Blob([text]),
      });
    },
  });
  const self = wrap(pglite);
  return {
    kind: 'pglite',
    ...self,
    transaction: (fn) => pglite.transaction((tx) => fn(wrap(tx))),
    // A single connection: every caller already shares the one session.
    session: (fn) => fn(self),
    async ping() {
      await pglite.query('SELECT 1');
    },
    async close() {
      if (!pglite.closed) await pglite.close();
    },
  };
}

export interface PostgresOptions {
  connectionString: string;
  logger: Logger;
  /** Pool size; the writer, history and retention share it. */
  max?: number;
  /** How long to wait for a connection before the query fails (and the writer retries). */
  connectionTimeoutMs?: number;
  /** Server-side cap on any one statement, so a stuck query cannot hold a connection forever. */
  statementTimeoutMs?: number;
}

// Parsed per pool rather than globally, so nothing else in the process changes behaviour.
const INT8_OID = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    // Counts and ids stay far below 2^53; PGlite returns them as numbers too.
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

/** PostgreSQL through a node-postgres pool. */
export function createPostgresDatabase(options: PostgresOptions): Database {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    statement_timeout: options.statementTimeoutMs ?? 60_000,
    application_name: 'livestat',
    types,
  });
  // An idle client whose server went away emits here; without a listener the process dies.
  pool.on('error', (err) => {
    options.logger.warn({ err: { message: err.message } }, 'idle database connection lost');
  });

  const copyInto = async (
    client: pg.PoolClient,
    table: string,
    columns: readonly string[],
    text: string,
  ) => {
    const sink = client.query(copyFromStdin(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
    await pipeline(Readable.from([text]), sink);
  };
  const wrap = (client: pg.Pool | pg.PoolClient): Queryable => ({
    async query<Row extends object>(sql: string, params?: unknown[]) {
      return (await client.query<Row & pg.QueryResultRow>(sql, params)).rows;
    },
    async exec(sql: string) {
      await client.query(sql);
    },
    copyFrom: (table, columns, text) =>
      client instanceof pg.Pool
        ? withClient((c) => copyInto(c, table, columns, text))
        : copyInto(client, table, columns, text),
  });
  async function withClient<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
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
  return {
    kind: 'postgres',
    ...wrap(pool),
    transaction: (fn) =>
      withClient(async (client) => {
        await client.query('BEGIN');
        try {
          const result = await fn(wrap(client));
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      }),
    session: (fn) => withClient((client) => fn(wrap(client))),
    async ping() {
      await pool.query('SELECT 1');
    },
    async close() {
      if (!pool.ended) await pool.end();
    },
  };
}
