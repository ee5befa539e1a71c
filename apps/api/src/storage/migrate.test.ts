import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  silentLogger,
  type TestDatabase,
} from '../../test/databases.js';
import { createPostgresDatabase } from './db.js';
import { loadMigrations, migrate, MigrationError } from './migrate.js';

describe('loadMigrations', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'livestat-migrations-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('orders the shipped migrations by number, starting with the metrics tables', async () => {
    const migrations = await loadMigrations();
    expect(migrations[0]?.name).toBe('0001_metrics.sql');
    const versions = migrations.map((m) => m.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
  });

  it('refuses a file that is not NNNN_name.sql', async () => {
    await writeFile(join(dir, 'init.sql'), 'SELECT 1');
    await expect(loadMigrations(dir)).rejects.toThrow(/init\.sql is not named NNNN_name\.sql/);
  });
});

describeEachBackend('migrate', (backend) => {
  let test: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    test = await createTestDatabase(backend, { migrate: false });
    dir = await mkdtemp(join(tmpdir(), 'livestat-migrations-'));
  });
  afterAll(async () => {
    await test.drop();
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await test.db.exec('DROP TABLE IF EXISTS schema_migrations, a, b');
  });

  it('applies the shipped migrations once; a second run applies nothing', async () => {
    const first = await migrate(test.db, silentLogger);
    expect(first).toContain('0001_metrics.sql');
    expect(await migrate(test.db, silentLogger)).toEqual([]);
    const tables = await test.db.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining([
        'metrics_snapshots',
        'metrics_rollup_1m',
        'metrics_rollup_1h',
        'hosts',
      ]),
    );
    await test.db.exec('DROP TABLE metrics_snapshots, metrics_rollup_1m, metrics_rollup_1h, hosts');
  });

  it('rolls back a failing migration whole and records nothing of it', async () => {
    await writeFile(join(dir, '0001_a.sql'), 'CREATE TABLE a (x int);');
    await writeFile(join(dir, '0002_b.sql'), 'CREATE TABLE b (x int); SELECT nosuchfunction();');
    await expect(migrate(test.db, silentLogger, dir)).rejects.toThrow(MigrationError);
    await expect(migrate(test.db, silentLogger, dir)).rejects.toThrow(/0002_b\.sql failed/);
    const recorded = await test.db.query<{ name: string }>('SELECT name FROM schema_migrations');
    expect(recorded.map((r) => r.name)).toEqual(['0001_a.sql']);
    const b = await test.db.query(`SELECT 1 FROM information_schema.tables WHERE table_name = 'b'`);
    expect(b).toHaveLength(0);
    await rm(join(dir, '0002_b.sql'));
  });

  it('stops when an applied migration was edited', async () => {
    await writeFile(join(dir, '0001_a.sql'), 'CREATE TABLE a (x int);');
    expect(await migrate(test.db, silentLogger, dir)).toEqual(['0001_a.sql']);
    await writeFile(join(dir, '0001_a.sql'), 'CREATE TABLE a (x bigint);');
    await expect(migrate(test.db, silentLogger, dir)).rejects.toThrow(
      /0001_a\.sql changed after it was applied/,
    );
  });

  if (backend === 'postgres') {
    it('is safe from several processes at once: each migration applied exactly once', async () => {
      await writeFile(join(dir, '0001_a.sql'), 'CREATE TABLE a (x int); SELECT pg_sleep(0.2);');
      // Separate pools are separate sessions, as separate processes would be.
      const pools = Array.from({ length: 4 }, () =>
        createPostgresDatabase({ connectionString: test.url!, logger: silentLogger }),
      );
      try {
        const results = await Promise.all(pools.map((db) => migrate(db, silentLogger, dir)));
        expect(results.flat()).toEqual(['0001_a.sql']);
        const recorded = await test.db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM schema_migrations',
        );
        expect(recorded[0]?.n).toBe(1);
      } finally {
        await Promise.all(pools.map((db) => db.close()));
      }
    });
  }
});
