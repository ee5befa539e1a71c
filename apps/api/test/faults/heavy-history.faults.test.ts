import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loginResponse, type Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { afterAll, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { hashPassword } from '../../src/auth/passwords.js';
import { createPgliteDatabase, type Database } from '../../src/storage/db.js';
import { writeSnapshots } from '../../src/storage/metrics-store.js';
import { migrate } from '../../src/storage/migrate.js';
import { createUserStore } from '../../src/storage/users.js';
import { createTestDatabase, describeEachBackend, silentLogger } from '../databases.js';
import {
  ADMIN_PASSWORD,
  getHealth,
  login,
  missingSeqs,
  recordArrivals,
  sleep,
  startFaultApi,
  stopAllApis,
  wsUrl,
} from './support.js';
import { TWENTY_SERIES } from '../twenty-series.js';

// The attack of a viewer account: five concurrent GET /api/history of 20 series over hours of
// stored raw rows at 5000 points. Before, on PGlite one such request froze the process for 18 s
// (127 ticks skipped) and five for 80 s; on PostgreSQL they drained the pool. Now the extras get
// 429, the stream keeps its rhythm, a login goes through and /api/health answers throughout.

const INTERVAL_MS = 500;
const SEEDED_HOST = 'seeded-host';
const LIVE_HOST = `attacked-${process.pid}`;
const SEEDED_HOURS = 3;
const VIEWER = { username: 'mallory', password: 'mallory-password' };
const JWT_SECRET = 'heavy-history-fault-secret-0123456789abcdef';
const SERIES = TWENTY_SERIES;

const cleanup: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  await stopAllApis();
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
});

/** Hours of one-second snapshots ending at `end`, the viewer and the admin, before the API starts. */
async function seed(db: Database, end: number): Promise<void> {
  const count = SEEDED_HOURS * 3600;
  const start = end - count * 1000;
  for (let first = 0; first < count; first += 1000) {
    const batch: Snapshot[] = [];
    for (let i = first; i < Math.min(first + 1000, count); i++) {
      const snapshot = makeExampleSnapshot({
        host: SEEDED_HOST,
        seq: i + 1,
        timestamp: new Date(start + i * 1000).toISOString(),
      });
      if (snapshot.cpu.available) snapshot.cpu.usagePercent = i % 100;
      batch.push(snapshot);
    }
    await writeSnapshots(db, batch);
  }
  const users = createUserStore(db);
  await users.create({
    username: VIEWER.username,
    passwordHash: await hashPassword(VIEWER.password),
    role: 'viewer',
  });
  // With a user present the API creates no admin: the watcher logs in as this one.
  await users.create({
    username: 'admin',
    passwordHash: await hashPassword(ADMIN_PASSWORD),
    role: 'admin',
  });
}

async function loginAs(baseUrl: string): Promise<{ status: number; token?: string }> {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(VIEWER),
  });
  if (res.status !== 200) return { status: res.status };
  return { status: 200, token: loginResponse.parse(await res.json()).token };
}

describeEachBackend('fault: five concurrent heavy history requests from one viewer', (backend) => {
  it('refuses the extras with 429 and keeps the stream, logins and health going', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'livestat-heavy-history-'));
    cleanup.push(() => rm(dataDir, { recursive: true, force: true }));
    const end = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const env: NodeJS.ProcessEnv = {
      DATA_DIR: dataDir,
      JWT_SECRET,
      METRICS_HOST_NAME: LIVE_HOST,
      SAMPLING_INTERVAL_SECONDS: String(INTERVAL_MS / 1000),
      // perf's child is not what this measures.
      COLLECTORS: 'cpu,memory,network,disk,bandwidth',
    };
    const seeding = Date.now();
    if (backend === 'pglite') {
      const db = await createPgliteDatabase({ dataDir: join(dataDir, 'pglite') });
      await migrate(db, silentLogger);
      await seed(db, end);
      await db.close();
    } else {
      const test = await createTestDatabase('postgres');
      cleanup.push(() => test.drop());
      await seed(test.db, end);
      env.DATABASE_URL = test.url;
    }
    const seededMs = Date.now() - seeding;

    const api = await startFaultApi(env);
    const viewer = await loginAs(api.url);
    expect(viewer.status).toBe(200);
    const adminToken = await login(api.url);

    const watcher = new WebSocket(wsUrl(api.url, adminToken), { perMessageDeflate: false });
    watcher.on('error', () => undefined);
    const arrivals = recordArrivals(watcher, LIVE_HOST);
    await new Promise<void>((resolve, reject) => {
      watcher.once('open', () => resolve());
      watcher.once('error', reject);
    });
    while (arrivals.length < 3) await sleep(50);

    // 20 series × 3 h at 5000 points: 5 s buckets of raw rows, just under the row cap.
    const query =
      SERIES.map((path) => `series=${path}`).join('&') +
      `&host=${SEEDED_HOST}&from=${end - SEEDED_HOURS * 3600_000}&to=${end}&points=5000`;
    const attackStarted = performance.now();
    const attack = Array.from({ length: 5 }, async () => {
      const res = await fetch(`${api.url}/api/history?${query}`, {
        headers: { authorization: `Bearer ${viewer.token}` },
      });
      const body = (await res.json()) as { error?: string; tier?: string };
      return {
        status: res.status,
        retryAfter: res.headers.get('retry-after'),
        body,
        ms: performance.now() - attackStarted,
      };
    });
    // While it runs: a login, and health every 250 ms.
    const healthAnswers: number[] = [];
    let attacking = true;
    const polling = (async () => {
      while (attacking) {
        const asked = performance.now();
        const { status } = await getHealth(api.url);
        healthAnswers.push(performance.now() - asked);
        expect([200, 503]).toContain(status);
        await sleep(250);
      }
    })();
    const duringAttack = await loginAs(api.url);
    const answers = await Promise.all(attack);
    const attackEnded = performance.now();
    attacking = false;
    await polling;
    // Two more ticks after it, so the window's end is covered.
    const seen = arrivals.length;
    while (arrivals.length < seen + 2) await sleep(50);
    const { body: health } = await getHealth(api.url);

    const during = arrivals.filter((a) => a.at >= attackStarted && a.at <= attackEnded);
    const window = arrivals.filter((a) => a.at >= attackStarted - 1000);
    const gaps = window.slice(1).map((a, i) => a.at - window[i]!.at);
    const maxGapMs = Math.max(...gaps);
    const statuses = answers.map((a) => a.status).sort();
    process.stderr.write(
      `[${backend}] seeded ${SEEDED_HOURS * 3600} snapshots in ${seededMs} ms; attack ` +
        `${Math.round(attackEnded - attackStarted)} ms, statuses ${statuses.join(',')} ` +
        `(answered at ${answers.map((a) => Math.round(a.ms)).join(', ')} ms); ` +
        `${during.length} snapshots streamed meanwhile, largest gap ${Math.round(maxGapMs)} ms; ` +
        `health answered ${healthAnswers.length}× (slowest ${Math.round(Math.max(...healthAnswers))} ms); ` +
        `skipped ticks ${health.sampler.skippedTicksTotal ?? 'n/a'}; login ${duringAttack.status}\n`,
    );

    // The fifth request is refused at once, with a hint; the others run (or time out, 503).
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(1);
    expect(refused[0]?.retryAfter).toBe('1');
    expect(refused[0]?.body.error).toMatch(/^too many history or resume requests at once/);
    for (const answer of answers.filter((a) => a.status !== 429)) {
      expect([200, 503]).toContain(answer.status);
      if (answer.status === 200) expect(answer.body.tier).toBe('raw');
    }
    // The stream kept its rhythm: no seq missing, no wait longer than 2.5 intervals.
    expect(missingSeqs(window)).toEqual([]);
    expect(maxGapMs).toBeLessThanOrEqual(INTERVAL_MS * 2.5);
    expect(duringAttack.status).toBe(200);
    expect(healthAnswers.length).toBeGreaterThan(0);

    watcher.close();
    await api.kill('SIGTERM');
    expect(await api.exited).toEqual({ code: 0, signal: null });
  });
});
