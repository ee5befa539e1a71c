import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../test/databases.js';
import { createPostgresDatabase, QueryCancelledError, QueryTimeoutError } from './db.js';
import { silentLogger } from '../../test/databases.js';

// PostgreSQL: each lane has its own pool, so history can fill its own and nothing else; a
// timed-out or abandoned statement is cancelled on the server, not merely forgotten.

describePostgres('PostgreSQL lanes and cancellation', () => {
  let test: TestDatabase;
  let admin: pg.Client;

  beforeAll(async () => {
    test = await createTestDatabase('postgres');
    admin = new pg.Client({ connectionString: test.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin.end();
    await test.drop();
  });

  /** Statements of this test database still running on the server. */
  async function runningOnServer(like: string): Promise<number> {
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND state = 'active' AND query LIKE $1
         AND pid <> pg_backend_pid()`,
      [like],
    );
    return rows[0]?.n ?? 0;
  }

  async function until(check: () => Promise<boolean>, label: string): Promise<void> {
    const giveUpAt = Date.now() + 15_000;
    while (!(await check())) {
      if (Date.now() > giveUpAt) throw new Error(`timed out waiting for ${label}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('cancels a statement on the server when its caller aborts', async () => {
    const controller = new AbortController();
    const running = test.db
      .lane('read')
      .query('SELECT pg_sleep(30) /* abort-me */', [], { signal: controller.signal });
    await until(async () => (await runningOnServer('%abort-me%')) === 1, 'the query to start');
    controller.abort();
    await expect(running).rejects.toBeInstanceOf(QueryCancelledError);
    await until(async () => (await runningOnServer('%abort-me%')) === 0, 'the server to cancel');
  });

  it('cancels a statement on the server past its timeout', async () => {
    await expect(
      test.db.lane('read').query('SELECT pg_sleep(30) /* time-me */', [], { timeoutMs: 300 }),
    ).rejects.toBeInstanceOf(QueryTimeoutError);
    await until(async () => (await runningOnServer('%time-me%')) === 0, 'the server to cancel');
  });

  it('bounds each lane by its own statement timeout', async () => {
    const db = createPostgresDatabase({
      connectionString: test.url!,
      logger: silentLogger,
      laneTimeoutsMs: { read: 300 },
    });
    try {
      await expect(db.lane('read').query('SELECT pg_sleep(5)')).rejects.toMatchObject({
        code: '57014',
      });
      // The write lane keeps its own, longer bound.
      await expect(db.query('SELECT pg_sleep(0.5) AS slept')).resolves.toEqual([{ slept: '' }]);
    } finally {
      await db.close();
    }
  });

  it('keeps logins and writes going while history fills its pool', async () => {
    const db = createPostgresDatabase({
      connectionString: test.url!,
      logger: silentLogger,
      poolSizes: { read: 2 },
    });
    try {
      const controller = new AbortController();
      const reads = Array.from({ length: 5 }, () =>
        db
          .lane('read')
          .query('SELECT pg_sleep(30) /* flood */', [], { signal: controller.signal })
          .catch((err: unknown) => err),
      );
      await until(async () => (await runningOnServer('%flood%')) === 2, 'the pool to fill');
      expect(db.stats().read).toMatchObject({ active: 2, waiting: 3, size: 2 });
      await expect(db.lane('auth').query('SELECT 1 AS one')).resolves.toEqual([{ one: 1 }]);
      await expect(db.query('SELECT 2 AS two')).resolves.toEqual([{ two: 2 }]);
      controller.abort();
      for (const outcome of await Promise.all(reads)) {
        expect(outcome).toBeInstanceOf(QueryCancelledError);
      }
      await until(async () => (await runningOnServer('%flood%')) === 0, 'the flood to end');
    } finally {
      await db.close();
    }
  });

  it("never lets a late cancel hit the next caller's statement on the same connection", async () => {
    // One connection per lane, and the auth lane (which carries cancels) held busy: the abort's
    // cancel is delivered only after the aborted statement has finished on its own.
    const db = createPostgresDatabase({
      connectionString: test.url!,
      logger: silentLogger,
      poolSizes: { read: 1, auth: 1 },
    });
    try {
      let held!: () => void;
      const holding = new Promise<void>((resolve) => (held = resolve));
      const authBusy = db.lane('auth').session(async (session) => {
        held();
        await session.query('SELECT pg_sleep(0.8)');
      });
      await holding;
      const controller = new AbortController();
      const first = db.lane('read').query('SELECT pg_sleep(0.2) AS first /* late-cancel */', [], {
        signal: controller.signal,
      });
      await until(async () => (await runningOnServer('%late-cancel%')) === 1, 'the query to start');
      controller.abort();
      // Finished before its cancel could be sent: its answer stands.
      await expect(first).resolves.toEqual([{ first: '' }]);
      // The next statement on that connection must not be the one cancelled.
      await expect(db.lane('read').query('SELECT pg_sleep(1) AS second')).resolves.toEqual([
        { second: '' },
      ]);
      await authBusy;
    } finally {
      await db.close();
    }
  });
});
