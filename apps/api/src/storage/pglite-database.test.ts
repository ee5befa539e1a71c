import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../test/databases.js';
import { QueryCancelledError, QueryTimeoutError, type Database } from './db.js';
import { createPgliteDatabase } from './pglite-database.js';

// PGlite on its own thread: the main thread stays free while a statement runs, a statement
// past its time or abandoned by its caller is ended, and the lanes' order holds.

describe('PGlite on a worker thread', () => {
  let dir: string;
  let db: Database;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'livestat-pglite-worker-'));
    db = await createPgliteDatabase({ dataDir: join(dir, 'pglite'), logger: silentLogger });
    await db.exec('CREATE TABLE kept (n int)');
    await db.query('INSERT INTO kept VALUES (1), (2), (3)');
    // From source there is no template: this runs initdb, 10-25 s on two busy cores.
  }, 60_000);
  afterAll(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the main thread running while a statement runs', async () => {
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(Date.now()), 50);
    try {
      await db.query('SELECT pg_sleep(1)');
    } finally {
      clearInterval(timer);
    }
    // On the main thread the interval could not fire once during the sleep.
    expect(ticks.length).toBeGreaterThan(0);
  });

  it('ends a statement past its timeout, restarts, and keeps the stored data', async () => {
    await expect(
      db.query('SELECT count(*) FROM generate_series(1, 1000000000)', [], { timeoutMs: 300 }),
    ).rejects.toBeInstanceOf(QueryTimeoutError);
    expect(await db.query<{ n: number }>('SELECT sum(n)::int AS n FROM kept')).toEqual([{ n: 6 }]);
  });

  it('cancels a running statement when its caller aborts', async () => {
    const controller = new AbortController();
    const running = db.query('SELECT pg_sleep(30)', [], { signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await expect(running).rejects.toBeInstanceOf(QueryCancelledError);
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('takes a queued statement out of the queue when aborted, without a restart', async () => {
    const blocker = db.query('SELECT pg_sleep(0.5) AS slept');
    const controller = new AbortController();
    const queued = db
      .lane('read')
      .query('INSERT INTO kept VALUES (100)', [], { signal: controller.signal });
    controller.abort();
    await expect(queued).rejects.toBeInstanceOf(QueryCancelledError);
    // The running statement was not disturbed, and the aborted one never ran.
    await expect(blocker).resolves.toEqual([{ slept: '' }]);
    expect(await db.query('SELECT n FROM kept WHERE n = 100')).toEqual([]);
  });

  it('serves logins before writes before history reads', async () => {
    const order: string[] = [];
    const blocker = db.query('SELECT pg_sleep(0.3)');
    const read = db
      .lane('read')
      .query('SELECT 1')
      .then(() => order.push('read'));
    const write = db.query('SELECT 1').then(() => order.push('write'));
    const auth = db
      .lane('auth')
      .query('SELECT 1')
      .then(() => order.push('auth'));
    expect(db.stats().read.waiting).toBe(1);
    await Promise.all([blocker, read, write, auth]);
    expect(order).toEqual(['auth', 'write', 'read']);
  });

  it('fails a transaction whose thread restarted rather than finish it outside one', async () => {
    const attempt = db.transaction(async (tx) => {
      await tx.query('INSERT INTO kept VALUES (7)');
      await tx.query('SELECT pg_sleep(10)', [], { timeoutMs: 200 });
      await tx.query('INSERT INTO kept VALUES (8)');
    });
    await expect(attempt).rejects.toBeInstanceOf(QueryTimeoutError);
    expect(await db.query('SELECT n FROM kept WHERE n IN (7, 8)')).toEqual([]);
  });

  it('counts a busy thread within its time as up for health', async () => {
    const busy = db.query('SELECT pg_sleep(1)');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(db.ping()).resolves.toBeUndefined();
    await busy;
  });

  it('runs in UTC and runs PL/pgSQL once its thread trimmed the bundled files', async () => {
    // pglite-bundle.js drops what only initdb reads and every zone but UTC; what statements
    // read must stay.
    expect(
      await db.query(
        `SELECT current_setting('TimeZone') AS zone, to_timestamp(1767268800)::text AS t`,
      ),
    ).toEqual([{ zone: 'UTC', t: '2026-01-01 12:00:00+00' }]);
    await db.exec(`DO $$ BEGIN PERFORM 1; END $$`);
  });

  it('sizes PostgreSQL for its one backend and still answers replies past its buffer', async () => {
    // pglite-worker.js: 4 connections' worth of shared tables, 2 MB of buffers, a 128 KiB
    // reply buffer.
    expect(await db.query(`SHOW max_connections`)).toEqual([{ max_connections: '4' }]);
    expect(await db.query(`SHOW shared_buffers`)).toEqual([{ shared_buffers: '2MB' }]);
    const [row] = await db.query<{ s: string }>(`SELECT repeat('x', 600000) AS s`);
    expect(row?.s.length).toBe(600_000);
    expect(await db.query(`SELECT 1 AS n`)).toEqual([{ n: 1 }]);
  });

  it('keeps dynamic shared memory in a file of the data directory, not in the thread', async () => {
    expect(await db.query(`SHOW dynamic_shared_memory_type`)).toEqual([
      { dynamic_shared_memory_type: 'mmap' },
    ]);
    expect(readdirSync(join(dir, 'pglite', 'pg_dynshmem')).length).toBeGreaterThan(0);
  });

  it('reports a file it cannot open as an error at creation', async () => {
    const file = join(dir, 'not-a-directory');
    await (await import('node:fs/promises')).writeFile(file, 'x');
    await expect(createPgliteDatabase({ dataDir: file })).rejects.toThrow();
  });
});

describe('closing PGlite', () => {
  it('ends a thread stuck in a statement instead of waiting for it', async () => {
    const db = await createPgliteDatabase({ logger: silentLogger });
    const stuck = db.query('SELECT pg_sleep(600)', [], { timeoutMs: 0 });
    stuck.catch(() => undefined);
    // The close timeout is 10 s, the test's 30 s; the statement's own end would be 600 s.
    await db.close();
    await expect(stuck).rejects.toThrow(/closed|exited/);
    await expect(db.query('SELECT 1')).rejects.toThrow('database closed');
  }, 30_000);
});

describe('a first start on an empty directory with a template', () => {
  let dir: string;
  let template: string;
  let cut: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'livestat-pglite-template-'));
    const source = await PGlite.create();
    await source.exec('CREATE TABLE kept (n int); INSERT INTO kept VALUES (1), (2), (3);');
    // A data directory whose configuration names a zone the running thread will not keep.
    await source.exec(`ALTER SYSTEM SET timezone = 'Europe/Paris'`);
    await source.exec(`ALTER SYSTEM SET log_timezone = 'Europe/Paris'`);
    const tarball = Buffer.from(await (await source.dumpDataDir('gzip')).arrayBuffer());
    await source.close();
    template = join(dir, 'template.tgz');
    await writeFile(template, tarball);
    const tar = gunzipSync(tarball);
    cut = join(dir, 'cut.tgz');
    await writeFile(cut, gzipSync(tar.subarray(0, tar.length >> 1)));
  }, 60_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('unpacks it owner-only and opens it; one cut short is unpacked again next time', async () => {
    const dataDir = join(dir, 'pglite');
    await expect(
      createPgliteDatabase({ dataDir, template: cut, logger: silentLogger }),
    ).rejects.toThrow(/cut short/);
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(false);

    const db = await createPgliteDatabase({ dataDir, template, logger: silentLogger });
    try {
      expect(await db.query('SELECT sum(n)::int AS n FROM kept')).toEqual([{ n: 6 }]);
      // UTC whatever the directory's configuration says: the thread keeps no other zone.
      expect(await db.query(`SHOW timezone`)).toEqual([{ TimeZone: 'UTC' }]);
      expect(await db.query(`SHOW log_timezone`)).toEqual([{ log_timezone: 'UTC' }]);
      expect(statSync(join(dataDir, 'PG_VERSION')).mode & 0o777).toBe(0o600);
      expect(statSync(join(dataDir, 'base')).mode & 0o777).toBe(0o700);
    } finally {
      await db.close();
    }
  }, 60_000);
});
