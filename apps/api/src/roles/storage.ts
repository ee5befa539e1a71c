import { access, chmod, constants, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { ShutdownStep } from '../shutdown.js';
import { createBatchWriter, type BatchWriter } from '../storage/batch-writer.js';
import { lockDataDir } from '../storage/data-dir-lock.js';
import { checkRoomForNewDatabase, createDiskSpaceWatch } from '../storage/disk-space.js';
import { createPostgresDatabase, startPgliteDatabase, type Database } from '../storage/db.js';
import {
  prepareQueued,
  queueSnapshot,
  writePrepared,
  writeQueued,
  type PreparedSnapshots,
  type QueuedSnapshot,
} from '../storage/metrics-store.js';
import { MigrationError } from '../storage/migrate.js';
import { prepareDatabase } from '../storage/prepare.js';
import { createProcessListCache } from '../storage/process-ticks.js';

/** An open database and what releases the embedded one's directory (a no-op for PostgreSQL). */
export interface OpenedDatabase {
  db: Database;
  releaseDataDir: () => Promise<void>;
  /**
   * Resolves once the embedded database opened on its thread (at once for PostgreSQL, whose
   * pool connects lazily); rejects when PGlite cannot open the directory: the caller stops.
   */
  opened: Promise<void>;
}

/**
 * PostgreSQL when DATABASE_URL is set (the pool connects lazily: this never waits on the
 * server), else PGlite embedded under DATA_DIR, locked to this process. Throws when the
 * directory is unusable or another process's; PGlite itself opens on its thread meanwhile
 * (`opened`), so start-up need not wait for it: the writer buffers until migrations ran.
 */
export async function openDatabase(config: Config, logger: Logger): Promise<OpenedDatabase> {
  const laneTimeoutsMs = { read: config.historyQueryTimeoutMs };
  if (config.databaseUrl) {
    const db = createPostgresDatabase({
      connectionString: config.databaseUrl,
      logger,
      laneTimeoutsMs,
    });
    return { db, releaseDataDir: async () => {}, opened: Promise.resolve() };
  }
  await ensureDataDir(config.dataDir);
  const dir = join(config.dataDir, 'pglite');
  // PGlite creating its files on a disk that fills up hangs: refuse with one clear line first.
  await checkRoomForNewDatabase({
    dir,
    dataDir: config.dataDir,
    minFreeBytes: config.minFreeDiskBytes,
  });
  // The embedded database holds password hashes and the whole history: owner-only files.
  // PGlite creates them on its own thread, which cannot set the umask itself.
  process.umask(0o077);
  const releaseDataDir = await lockDataDir(dir);
  try {
    await chmod(dir, 0o700);
    const { db, opened } = startPgliteDatabase({ dataDir: dir, logger, laneTimeoutsMs });
    void opened.then(() => logger.info({ dir }, 'embedded database (PGlite) opened'));
    return { db, releaseDataDir, opened };
  } catch (err) {
    await releaseDataDir();
    throw err;
  }
}

/**
 * Creates DATA_DIR if need be and checks this process may write there, so a mistake in it is
 * one line naming the variable rather than an error from deep inside PGlite.
 */
async function ensureDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await access(dataDir, constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOTDIR' || code === 'EEXIST'
        ? 'is not a directory (a file is in the way)'
        : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
          ? `is not writable by this user (${code})`
          : `cannot be used (${code ?? (err as Error).message})`;
    throw new Error(
      `DATA_DIR ${dataDir} ${why}: set DATA_DIR to a directory livestat may create and write, ` +
        'or DATABASE_URL to use PostgreSQL',
      { cause: err },
    );
  }
}

/** The database being migrated, the writer in front of it, and the steps that close both. */
export interface Storage {
  db: Database;
  writer: BatchWriter;
  /** True once migrations ran; until then writes fail and the writer holds the snapshots. */
  ready(): boolean;
  /**
   * Resolves once migrations ran. Rejects with a `MigrationError` (a broken or edited
   * migration: the caller shuts down), or with the last connection error when the shutdown
   * aborted the retries.
   */
  prepared: Promise<void>;
  /** Shutdown: write what remains; fails when snapshots could not be written. */
  flushStep: ShutdownStep;
  /** Shutdown: end the migration retries, close the database, release DATA_DIR. */
  closeStep: ShutdownStep;
}

/**
 * Starts migrating (retrying in the background while the database is unreachable, so the
 * process starts and samples anyway) and creates the batch writer. Both roles run this:
 * migrations take an advisory lock, so an agent and the API replicas may start in any order.
 */
export function startStorage(
  { db, releaseDataDir }: OpenedDatabase,
  config: Config,
  logger: Logger,
): Storage {
  const stopPreparing = new AbortController();
  let databaseReady = false;
  const prepared = prepareDatabase(db, logger, { signal: stopPreparing.signal }).then(() => {
    databaseReady = true;
    // What was buffered while the database opened goes now, not after the writer's backoff.
    void writer.flush().catch(() => undefined);
  });
  prepared.catch(() => undefined); // the role handles it, once its shutdown exists
  const ready = prepared.catch(() => undefined);
  // PGlite is this process's alone: the process tiers' lists it wrote last are what is stored.
  const processLists = db.kind === 'pglite' ? createProcessListCache() : undefined;
  // The writer holds what each write takes from a snapshot, made as it is queued, not the
  // snapshot: held up to a flush interval, its sections were promoted to the old generation
  // (bench/RESULTS.md, bench/footprint).
  const queue = createBatchWriter<PreparedSnapshots, QueuedSnapshot>({
    // During a backlog the next batch's rows and rollups are prepared while this one is written.
    prepare: (batch) => prepareQueued(batch),
    write: async (batch, prepared, afterPrevious) => {
      // PGlite opens beside sampling: a first batch waits for it (it opens, or the process
      // stops). PostgreSQL may be down for long: fail, and the writer retries with backoff.
      if (!databaseReady && db.kind === 'pglite') await ready;
      if (!databaseReady) throw new Error('database not ready');
      return prepared
        ? writePrepared(db, prepared, { afterPrevious, processLists })
        : writeQueued(db, batch, undefined, { afterPrevious, processLists });
    },
    // A backlog's next batch is COPYed on a second connection while the previous one merges
    // its rollups and commits (bench/ingest). PGlite has one connection: a write waiting there
    // for the previous one would hold it from under that one.
    overlap: db.kind === 'postgres',
    batchSize: config.batchSize,
    flushIntervalMs: config.flushIntervalMs,
    maxBuffered: config.maxBufferedSnapshots,
    // Only the embedded database's disk is ours to watch; PostgreSQL's own disk filling up
    // reaches the writer as SQLSTATE 53100.
    diskSpace:
      db.kind === 'pglite' && config.minFreeDiskBytes > 0
        ? createDiskSpaceWatch({
            dir: join(config.dataDir, 'pglite'),
            minFreeBytes: config.minFreeDiskBytes,
          })
        : undefined,
    logger,
  });
  const writer: BatchWriter = {
    ...queue,
    enqueue: (snapshot) => queue.enqueue(queueSnapshot(snapshot)),
  };
  return {
    db,
    writer,
    ready: () => databaseReady,
    prepared,
    flushStep: [
      'flush batch writer',
      async () => {
        // PGlite still opening or migrating (a stop in the first seconds): what it buffered
        // is written once it is ready. PostgreSQL may be down: its writer does not wait.
        if (db.kind === 'pglite') await ready;
        // The writer logs what it wrote; what it could not write fails the shutdown.
        const { lost } = await writer.close();
        if (lost > 0)
          throw new Error(
            `${lost} snapshots could not be written (` +
              (writer.stats().storage === 'disk full' ? 'disk full' : 'database unreachable') +
              ')',
          );
      },
    ],
    closeStep: [
      'close database',
      async () => {
        stopPreparing.abort();
        const failure = await prepared.then(
          () => null,
          (err: unknown) => err,
        );
        await db.close();
        await releaseDataDir();
        if (failure instanceof MigrationError) throw failure;
      },
    ],
  };
}
