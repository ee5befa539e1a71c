import type { ComponentStatus } from '@livestat/contracts';
import type { Logger } from '../logger.js';
import type { Database } from './db.js';
import { migrate, MigrationError } from './migrate.js';

export interface PrepareOptions {
  /** First retry delay; doubles up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Aborting ends the retries (shutdown before the database ever answered). */
  signal?: AbortSignal;
}

/**
 * Migrates the database, retrying while it cannot be reached, so the API starts and streams
 * even when PostgreSQL is down at boot (the batch writer buffers meanwhile). A migration that
 * fails on its own SQL, or a changed migration, is not retried: it rejects.
 */
export async function prepareDatabase(
  db: Database,
  logger: Logger,
  options: PrepareOptions = {},
): Promise<void> {
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  let delayMs = options.initialDelayMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      await migrate(db, logger);
      if (attempt > 1) logger.info({ attempts: attempt }, 'database reachable; migrations done');
      return;
    } catch (err) {
      if (err instanceof MigrationError) throw err;
      if (options.signal?.aborted) throw err;
      if (attempt === 1) {
        logger.warn(
          { err: { message: (err as Error).message } },
          'database unreachable at start; retrying in the background while snapshots are buffered',
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        options.signal?.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      delayMs = Math.min(delayMs * 2, maxDelayMs);
    }
  }
}

/** `up` when the database answers within `timeoutMs`, else `down`: for `/api/health`. */
export async function databaseStatus(db: Database, timeoutMs = 1000): Promise<ComponentStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'down'>((resolve) => {
    timer = setTimeout(() => resolve('down'), timeoutMs);
  });
  try {
    return await Promise.race([
      db.ping().then(
        () => 'up' as const,
        () => 'down' as const,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
