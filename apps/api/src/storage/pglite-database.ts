import { Worker } from 'node:worker_threads';
import type { Logger } from '../logger.js';
import {
  DEFAULT_LANE_TIMEOUTS_MS,
  QueryCancelledError,
  QueryTimeoutError,
  type Database,
  type DatabaseLane,
  type LaneStats,
  type Queryable,
  type QueryOptions,
} from './db.js';

/** What the database thread (./pglite-worker.js) is asked to do. */
type WorkerOp =
  | { op: 'query'; sql: string; params?: unknown[] | undefined }
  | { op: 'exec'; sql: string }
  | { op: 'copy'; sql: string; text: string }
  | { op: 'close' };

/** A message to the database thread. */
export type WorkerRequest = WorkerOp & { id: number };

/** Its answer; id 0 announces that the database opened (or why it could not). */
export type WorkerReply =
  { id: number; ok: true; rows: unknown[] } | { id: number; ok: false; error: SerializedError };

interface SerializedError {
  name: string;
  message: string;
  code?: string | undefined;
  detail?: string | undefined;
}

export interface PgliteOptions {
  /** Where the database lives; undefined keeps it in memory (tests), lost on a restart. */
  dataDir?: string | undefined;
  logger?: Logger | undefined;
  /** Statement timeouts per lane; a statement past its time restarts the database thread. */
  laneTimeoutsMs?: Partial<Record<DatabaseLane, number>> | undefined;
  /**
   * A gzip tarball of a fresh data directory, unpacked by a first start on an empty
   * `dataDir` (tests); by default the one `npm run build` writes beside ./pglite-worker.js.
   */
  template?: string | undefined;
}

const WORKER_URL = new URL('./pglite-worker.js', import.meta.url);
// Logins first, then the writer, then history: a queue of reads never delays a write.
const PRIORITY: Readonly<Record<DatabaseLane, number>> = { auth: 0, write: 1, read: 2 };
const CLOSE_TIMEOUT_MS = 10_000;

/** The thread's error, rebuilt with its SQLSTATE `code` so callers can tell errors apart. */
function rebuild(error: SerializedError): Error {
  return Object.assign(new Error(error.message), {
    name: error.name,
    code: error.code,
    detail: error.detail,
  });
}

interface Waiter {
  lane: DatabaseLane;
  grant: () => void;
  fail: (err: Error) => void;
}

/**
 * Embedded PostgreSQL (PGlite, WebAssembly) on a worker thread of its own, behind the same
 * {@link Database} interface as PostgreSQL. A statement on PGlite runs synchronously to its
 * end, so on the main thread it would stop sampling and streaming; here it stops only its own
 * thread. PGlite has one connection: callers queue for it, logins before writes before
 * history reads. A statement past its timeout (or aborted by its caller) is ended by
 * terminating the thread, which is restarted on the same directory — PGlite cannot interrupt
 * a statement, and PostgreSQL's `statement_timeout` does not fire in it.
 */
export async function createPgliteDatabase(
  dataDirOrOptions?: string | PgliteOptions,
): Promise<Database> {
  const { db, opened } = startPgliteDatabase(dataDirOrOptions);
  await opened;
  return db;
}

/**
 * {@link createPgliteDatabase} without waiting: the thread loads, compiles and opens PGlite
 * while the caller goes on (the API starts sampling and serving meanwhile); statements sent
 * before then wait for it. `opened` rejects when the directory cannot be opened.
 */
export function startPgliteDatabase(dataDirOrOptions?: string | PgliteOptions): {
  db: Database;
  opened: Promise<void>;
} {
  const options: PgliteOptions =
    typeof dataDirOrOptions === 'string' || dataDirOrOptions === undefined
      ? { dataDir: dataDirOrOptions }
      : dataDirOrOptions;
  const { dataDir, logger, template } = options;
  const timeouts = { ...DEFAULT_LANE_TIMEOUTS_MS, ...options.laneTimeoutsMs };

  let worker: Worker | null = null;
  let starting: Promise<Worker> | null = null;
  let generation = 0;
  let nextId = 1;
  let closed = false;
  let closing: Promise<void> | undefined;
  const pending = new Map<
    number,
    { resolve: (rows: unknown[]) => void; reject: (err: Error) => void }
  >();

  function failPending(err: Error): void {
    for (const { reject } of pending.values()) reject(err);
    pending.clear();
  }

  function spawn(): Promise<Worker> {
    return new Promise<Worker>((resolve, reject) => {
      const thread = new Worker(WORKER_URL, { workerData: { dataDir, template } });
      let ready = false;
      thread.on('message', (reply: WorkerReply) => {
        if (reply.id === 0) {
          if (reply.ok) {
            ready = true;
            resolve(thread);
          } else reject(rebuild(reply.error));
          return;
        }
        const waiter = pending.get(reply.id);
        if (!waiter) return;
        pending.delete(reply.id);
        if (reply.ok) waiter.resolve(reply.rows);
        else waiter.reject(rebuild(reply.error));
      });
      thread.on('error', (err) => {
        if (!ready) reject(err);
        else logger?.error({ err }, 'embedded database thread failed');
      });
      thread.on('exit', (code) => {
        if (!ready) reject(new Error(`embedded database thread exited (${code}) while opening`));
        if (worker === thread) {
          worker = null;
          generation += 1;
          failPending(new Error('embedded database thread exited'));
        }
      });
    });
  }

  async function currentWorker(): Promise<Worker> {
    if (closed) throw new Error('database closed');
    if (worker) return worker;
    starting ??= spawn().then(
      (thread) => {
        worker = thread;
        starting = null;
        return thread;
      },
      (err: unknown) => {
        starting = null;
        throw err;
      },
    );
    return starting;
  }

  /** Ends the thread (and whatever it was running); the next statement starts a new one. */
  function restart(reason: string): void {
    const thread = worker;
    if (!thread) return;
    worker = null;
    generation += 1;
    failPending(new Error(`embedded database restarted: ${reason}`));
    logger?.warn(
      { reason, inMemory: dataDir === undefined },
      'embedded database thread restarted to end a statement',
    );
    void thread.terminate();
  }

  // The single connection, leased to one caller at a time.
  let leased = false;
  const waiting: Waiter[] = [];
  const active: Record<DatabaseLane, number> = { write: 0, auth: 0, read: 0 };
  // What the thread is running now, for ping: busy within its time counts as up.
  let runningUntil = 0;

  function acquire(lane: DatabaseLane, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(new QueryCancelledError());
    if (!leased) {
      leased = true;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        lane,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        fail: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      const onAbort = () => {
        const index = waiting.indexOf(waiter);
        if (index >= 0) waiting.splice(index, 1);
        reject(new QueryCancelledError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      // After the last waiter of the same or a more urgent lane: FIFO within a lane.
      let at = waiting.length;
      while (at > 0 && PRIORITY[waiting[at - 1]!.lane] > PRIORITY[lane]) at -= 1;
      waiting.splice(at, 0, waiter);
    });
  }

  function release(): void {
    const next = waiting.shift();
    if (next) next.grant();
    else leased = false;
  }

  /** Sends one request to the thread, bounded by `timeoutMs` and `signal`. */
  async function send(
    request: WorkerOp,
    lane: DatabaseLane,
    leaseGeneration: { value: number | undefined },
    queryOptions: QueryOptions | undefined,
  ): Promise<unknown[]> {
    const { signal } = queryOptions ?? {};
    const timeoutMs = queryOptions?.timeoutMs ?? timeouts[lane];
    if (signal?.aborted) throw new QueryCancelledError();
    const thread = await currentWorker();
    // A transaction or session lives in one thread: a restart in between loses it.
    leaseGeneration.value ??= generation;
    if (leaseGeneration.value !== generation) {
      throw new Error('embedded database restarted during this transaction');
    }
    const id = nextId++;
    return new Promise<unknown[]>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        runningUntil = 0;
      };
      const onAbort = () => {
        if (!pending.has(id)) return;
        pending.delete(id);
        finish();
        reject(new QueryCancelledError());
        restart('its caller went away');
      };
      pending.set(id, {
        resolve: (rows) => {
          finish();
          resolve(rows);
        },
        reject: (err) => {
          finish();
          reject(err);
        },
      });
      if (timeoutMs > 0) {
        runningUntil = Date.now() + timeoutMs;
        timer = setTimeout(() => {
          if (!pending.has(id)) return;
          pending.delete(id);
          finish();
          reject(new QueryTimeoutError(timeoutMs));
          restart(`a statement ran past ${timeoutMs} ms`);
        }, timeoutMs);
      } else runningUntil = Number.POSITIVE_INFINITY;
      signal?.addEventListener('abort', onAbort, { once: true });
      thread.postMessage({ ...request, id } satisfies WorkerRequest);
    });
  }

  /** Runs `fn` with the connection leased on `lane`. */
  async function withLease<T>(
    lane: DatabaseLane,
    signal: AbortSignal | undefined,
    fn: (on: Queryable) => Promise<T>,
  ): Promise<T> {
    await acquire(lane, signal);
    active[lane] += 1;
    const leaseGeneration = { value: undefined as number | undefined };
    const on: Queryable = {
      async query<Row extends object>(sql: string, params?: unknown[], q?: QueryOptions) {
        return (await send({ op: 'query', sql, params }, lane, leaseGeneration, q)) as Row[];
      },
      async exec(sql, q) {
        await send({ op: 'exec', sql }, lane, leaseGeneration, q);
      },
      async copyFrom(table, columns, text) {
        const sql = `COPY ${table} (${columns.join(', ')}) FROM '/dev/blob'`;
        await send({ op: 'copy', sql, text }, lane, leaseGeneration, undefined);
      },
    };
    try {
      return await fn(on);
    } finally {
      active[lane] -= 1;
      release();
    }
  }

  /**
   * Waits for the queue (the writer's last flush may be in it), closes PGlite so it writes
   * its state out, and ends the thread; a thread stuck past CLOSE_TIMEOUT_MS (a full disk) is
   * terminated, so shutdown always ends.
   */
  async function closeThread(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), CLOSE_TIMEOUT_MS);
    });
    const graceful = withLease('write', undefined, async () => {
      if (worker === null) return;
      await send({ op: 'close' }, 'write', { value: undefined }, { timeoutMs: CLOSE_TIMEOUT_MS });
    }).catch(() => undefined);
    const outcome = await Promise.race([graceful, timedOut]);
    clearTimeout(timer);
    closed = true;
    if (outcome === 'timeout')
      logger?.warn('embedded database did not close in time; ended its thread');
    const thread = worker;
    worker = null;
    failPending(new Error('database closed'));
    for (const waiter of waiting.splice(0)) waiter.fail(new Error('database closed'));
    await thread?.terminate();
  }

  function onLane(lane: DatabaseLane): Database {
    return {
      kind: 'pglite',
      lane: (name) => lanes[name],
      query: (sql, params, q) => withLease(lane, q?.signal, (on) => on.query(sql, params, q)),
      exec: (sql, q) => withLease(lane, q?.signal, (on) => on.exec(sql, q)),
      copyFrom: (table, columns, text) =>
        withLease(lane, undefined, (on) => on.copyFrom(table, columns, text)),
      transaction: (fn) =>
        withLease(lane, undefined, async (on) => {
          await on.exec('BEGIN');
          try {
            const result = await fn(on);
            await on.exec('COMMIT');
            return result;
          } catch (err) {
            await on.exec('ROLLBACK').catch(() => undefined);
            throw err;
          }
        }),
      session: (fn) => withLease(lane, undefined, fn),
      async ping() {
        // A statement still within its time is a busy database, not a dead one.
        if (leased && worker !== null && Date.now() < runningUntil) return;
        await withLease('auth', undefined, (on) => on.query('SELECT 1', [], { timeoutMs: 5000 }));
      },
      stats() {
        const stats = {} as Record<DatabaseLane, LaneStats>;
        for (const name of ['write', 'auth', 'read'] as const) {
          stats[name] = {
            active: active[name],
            waiting: waiting.filter((w) => w.lane === name).length,
            size: 1,
          };
        }
        return stats;
      },
      close: () => (closing ??= closeThread()),
    };
  }
  const lanes = {} as Record<DatabaseLane, Database>;
  for (const name of ['write', 'auth', 'read'] as const) lanes[name] = onLane(name);
  // Opening now, so a bad or locked directory fails at start rather than at the first query.
  const opened = currentWorker().then(() => undefined);
  opened.catch(() => undefined); // the caller's to handle; statements see the same error
  return { db: lanes.write, opened };
}
