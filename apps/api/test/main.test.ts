import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { healthResponse, type HealthResponse } from '@livestat/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteDatabase } from '../src/storage/db.js';
import { STORED_SECTIONS } from '../src/storage/rollup.js';
import { createTestDatabase, describePostgres, type TestDatabase } from './databases.js';
import { producedSnapshots, runTs, spawnTs, startApi } from './process.js';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'livestat-main-'));
});
afterAll(() => rm(dataDir, { recursive: true, force: true }));

/** Distinct snapshots and rows stored for `host` in the PGlite database under `dir`. */
async function storedSnapshots(dir: string, host: string) {
  const db = await createPgliteDatabase(join(dir, 'pglite'));
  try {
    const rows = await db.query<{ snapshots: number; rows: number }>(
      'SELECT count(DISTINCT ts)::int AS snapshots, count(*)::int AS rows FROM metrics_snapshots WHERE host = $1',
      [host],
    );
    return rows[0];
  } finally {
    await db.close();
  }
}

describe('the API process', () => {
  it('starts, answers /api/health, and exits 0 on SIGTERM', async () => {
    const child = spawnTs('src/main.ts', [], {
      PORT: '0',
      METRICS_HOST_NAME: 'main-test',
      SAMPLING_INTERVAL_SECONDS: '0.2',
      DATA_DIR: join(dataDir, 'health'),
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line in:\n${stdout}`)), 20_000);
      child.stdout.on('data', () => {
        const match = /"url":"(http:\/\/[^"]+)"/.exec(stdout);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    try {
      // Health says ok once migrations ran and the admin exists, and shows the sampler
      // running once it has ticked twice. The listening line comes before PGlite has opened
      // (it opens beside sampling and serving): ready takes PGlite's start on top.
      let status = 0;
      let health: HealthResponse | undefined;
      await expect
        .poll(
          async () => {
            const res = await fetch(`${url}/api/health`);
            status = res.status;
            health = healthResponse.parse(await res.json());
            return status === 200 && health.sampler.seq >= 2;
          },
          { timeout: 60_000, interval: 100 },
        )
        .toBe(true);
      expect(status).toBe(200);
      expect(health!.host).toBe('main-test');
      expect(health!.status).toBe('ok');
      expect(health!.sampler.seq).toBeGreaterThanOrEqual(2);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stdout).toContain('shutdown complete');
  }, 90_000);

  it('refuses to start on a bad variable, naming it', async () => {
    const { code, stderr } = await runTs('src/main.ts', [], { SAMPLING_INTERVAL_SECONDS: 'often' });
    expect(code).toBe(1);
    expect(stderr).toContain('SAMPLING_INTERVAL_SECONDS must be a number');
  }, 30_000);

  it('keeps every snapshot in PGlite under DATA_DIR across a SIGTERM, and lets one process at a time use it', async () => {
    const dir = join(dataDir, 'embedded');
    const api = await startApi({ DATA_DIR: dir, METRICS_HOST_NAME: 'embedded', BATCH_SIZE: '3' });
    try {
      const second = await runTs('src/main.ts', [], { PORT: '0', DATA_DIR: dir });
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/in use by process \d+.*DATA_DIR/);
      // A few snapshots produced, to find stored after the SIGTERM, and the database open
      // (PGlite opens beside sampling).
      await expect
        .poll(
          async () => {
            const health = healthResponse.parse(
              await (await fetch(`${api.url}/api/health`)).json(),
            );
            return health.database === 'up' && health.sampler.seq >= 3;
          },
          { timeout: 60_000, interval: 100 },
        )
        .toBe(true);
    } finally {
      api.child.kill('SIGTERM');
    }
    expect(await api.exited).toBe(0);
    const produced = producedSnapshots(api.output());
    expect(produced).toBeGreaterThanOrEqual(3);
    expect(await storedSnapshots(dir, 'embedded')).toEqual({
      snapshots: produced,
      rows: produced * STORED_SECTIONS.length,
    });
  }, 90_000);
});

describePostgres('the API process on PostgreSQL', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase('postgres', { migrate: false });
  });
  afterAll(() => test.drop());

  it('migrates DATABASE_URL, writes from the first ticks, and flushes the rest on SIGTERM', async () => {
    const api = await startApi({
      DATABASE_URL: test.url,
      METRICS_HOST_NAME: 'pg-main',
      BATCH_SIZE: '2',
    });
    try {
      await expect
        .poll(
          async () =>
            (
              await test.db.query<{ n: number }>('SELECT count(*)::int AS n FROM metrics_snapshots')
            )[0]?.n,
          { timeout: 10_000 },
        )
        .toBeGreaterThanOrEqual(14);
      const health = healthResponse.parse(await (await fetch(`${api.url}/api/health`)).json());
      expect(health.database).toBe('up');
    } finally {
      api.child.kill('SIGTERM');
    }
    expect(await api.exited).toBe(0);
    const produced = producedSnapshots(api.output());
    const rows = await test.db.query<{ snapshots: number }>(
      `SELECT count(DISTINCT ts)::int AS snapshots FROM metrics_snapshots WHERE host = 'pg-main'`,
    );
    expect(rows[0]?.snapshots).toBe(produced);
  }, 60_000);

  it('starts and samples with the database unreachable, reporting it down', async () => {
    const api = await startApi({
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere',
      METRICS_HOST_NAME: 'pg-down',
    });
    try {
      // The sampler runs without the database: wait for it to have ticked twice.
      await expect
        .poll(
          async () =>
            healthResponse.parse(await (await fetch(`${api.url}/api/health`)).json()).sampler.seq,
          { timeout: 15_000, interval: 100 },
        )
        .toBeGreaterThanOrEqual(2);
      const res = await fetch(`${api.url}/api/health`);
      expect(res.status).toBe(503);
      const health = healthResponse.parse(await res.json());
      expect(health).toMatchObject({ status: 'degraded', database: 'down' });
      expect(health.sampler.seq).toBeGreaterThanOrEqual(2);
      // Sampling starts beside the first migration attempt, which may not have failed yet.
      await expect
        .poll(() => api.output(), { timeout: 15_000 })
        .toContain('database unreachable at start');
      expect(api.output()).not.toContain('postgres://');
    } finally {
      api.child.kill('SIGTERM');
    }
    // Snapshots it could never store are reported lost: a non-zero exit says so.
    expect(await api.exited).toBe(1);
  }, 60_000);
});
