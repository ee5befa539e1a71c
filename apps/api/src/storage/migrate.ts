import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../logger.js';
import type { Database } from './db.js';

/** `apps/api/migrations`, the same relative path from `src/storage` and `dist/storage`. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

// Any constant works as long as nothing else in the database uses it; this is "livestat" in hex-ish.
const MIGRATION_LOCK_KEY = 0x11e57a7;

/** A migration file is malformed, or an applied one was changed after the fact. */
export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** Reads `NNNN_name.sql` files, ordered by number; any other `.sql` name is an error. */
export async function loadMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.sql'));
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = /^(\d+)_([\w-]+)\.sql$/.exec(file);
    if (!match) throw new MigrationError(`migration file ${file} is not named NNNN_name.sql`);
    const sql = await readFile(`${dir}/${file}`, 'utf8');
    migrations.push({
      version: Number(match[1]),
      name: file,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i]!.version === migrations[i - 1]!.version) {
      throw new MigrationError(`two migrations share version ${migrations[i]!.version}`);
    }
  }
  return migrations;
}

/**
 * Applies the pending migrations in order, each in its own transaction, and records them.
 * Safe to run twice and from several processes at once: a session advisory lock lets one
 * process migrate while the others wait, then find nothing left to do. An applied file whose
 * content changed stops start-up rather than leave schemas that differ between installs.
 * Returns the names of the migrations it applied.
 */
export async function migrate(
  db: Database,
  logger: Logger,
  dir: string = MIGRATIONS_DIR,
): Promise<string[]> {
  const migrations = await loadMigrations(dir);
  return db.session(async (session) => {
    await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await session.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        checksum text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
      const rows = await session.query<{ version: number; name: string; checksum: string }>(
        'SELECT version, name, checksum FROM schema_migrations',
      );
      const applied = new Map(rows.map((row) => [row.version, row]));
      const done: string[] = [];
      for (const migration of migrations) {
        const previous = applied.get(migration.version);
        if (previous) {
          if (previous.checksum !== migration.checksum) {
            throw new MigrationError(
              `migration ${migration.name} changed after it was applied (as ${previous.name}); add a new migration instead`,
            );
          }
          continue;
        }
        const started = performance.now();
        await session.exec('BEGIN');
        try {
          await session.exec(migration.sql);
          await session.query(
            'INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)',
            [migration.version, migration.name, migration.checksum],
          );
          await session.exec('COMMIT');
        } catch (err) {
          await session.exec('ROLLBACK').catch(() => undefined);
          throw new MigrationError(`migration ${migration.name} failed: ${(err as Error).message}`);
        }
        logger.info(
          { migration: migration.name, ms: Math.round(performance.now() - started) },
          'applied migration',
        );
        done.push(migration.name);
      }
      return done;
    } finally {
      await session
        .query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
        .catch(() => undefined);
    }
  });
}
