import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { describe } from 'vitest';
import { createPgliteDatabase, createPostgresDatabase, type Database } from '../src/storage/db.js';
import { migrate } from '../src/storage/migrate.js';
import { recordSkip } from './skips.js';

// Storage tests run on PGlite always and on the real PostgreSQL at TEST_DATABASE_URL when it
// answers. When it does not, they are skipped by name, loudly; REQUIRE_SERVICES=1 (CI) turns
// the skip into a failure.

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REQUIRE_SERVICES = process.env.REQUIRE_SERVICES === '1';

export const silentLogger = pino({ level: 'silent' });

async function probePostgres(): Promise<string | null> {
  const client = new pg.Client({
    connectionString: TEST_DATABASE_URL,
    connectionTimeoutMillis: 2000,
  });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const postgresProblem = await probePostgres();

/** A fresh, migrated database of one backend, and a way to throw it away. */
export interface TestDatabase {
  db: Database;
  /** The connection string of the fresh PostgreSQL database; undefined for PGlite. */
  url: string | undefined;
  drop(): Promise<void>;
}

export type Backend = 'pglite' | 'postgres';

/** Connection string for a database named `name` on the test server. */
export function postgresUrl(name: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A new empty database: in-memory PGlite, or a database of its own on the test PostgreSQL
 * (created here, dropped by `drop`), so test files never see each other's rows.
 */
export async function createTestDatabase(
  backend: Backend,
  options: { migrate?: boolean } = {},
): Promise<TestDatabase> {
  let test: TestDatabase;
  if (backend === 'pglite') {
    const db = await createPgliteDatabase();
    test = { db, url: undefined, drop: () => db.close() };
  } else {
    const name = `livestat_test_${process.pid}_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = postgresUrl(name);
    const db = createPostgresDatabase({ connectionString: url, logger: silentLogger });
    test = {
      db,
      url,
      async drop() {
        await db.close();
        const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await admin.connect();
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      },
    };
  }
  if (options.migrate !== false) await migrate(test.db, silentLogger);
  return test;
}

/**
 * Declares a suite that needs the real PostgreSQL at TEST_DATABASE_URL. It is skipped, with
 * the reason in its title and on stderr, when PostgreSQL does not answer — and fails under
 * REQUIRE_SERVICES=1.
 */
export function describePostgres(title: string, suite: () => void): void {
  if (postgresProblem === null || REQUIRE_SERVICES) {
    describe(title, () => {
      if (postgresProblem !== null) {
        throw new Error(
          `REQUIRE_SERVICES=1 but PostgreSQL at TEST_DATABASE_URL is unreachable: ${postgresProblem}`,
        );
      }
      suite();
    });
    return;
  }
  process.stderr.write(
    `\n!!! SKIPPED "${title}": PostgreSQL at TEST_DATABASE_URL is unreachable (${postgresProblem})\n`,
  );
  recordSkip(title, `PostgreSQL at TEST_DATABASE_URL is unreachable (${postgresProblem})`);
  describe.skip(`${title} — SKIPPED: PostgreSQL unreachable (${postgresProblem})`, suite);
}

/** Declares the same suite once per backend: PGlite always, PostgreSQL as {@link describePostgres}. */
export function describeEachBackend(title: string, suite: (backend: Backend) => void): void {
  describe(`${title} [pglite]`, () => suite('pglite'));
  describePostgres(`${title} [postgres]`, () => suite('postgres'));
}
