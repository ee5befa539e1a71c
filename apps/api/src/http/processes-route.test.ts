import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { processesTopResponse, type HealthResponse } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  silentLogger,
  type TestDatabase,
} from '../../test/databases.js';
import { writeSnapshots } from '../storage/metrics-store.js';
import { createApp } from './app.js';
import { createProcessesRouter } from './processes-route.js';

const health = { status: 'ok' } as HealthResponse;
const NOW = Date.now();

describeEachBackend('GET /api/processes/top', (backend) => {
  let test: TestDatabase;
  let base: string;
  let close: () => Promise<void>;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
    // Ten snapshots of the example host in the last minute: its top lists become ticks.
    await writeSnapshots(
      test.db,
      Array.from({ length: 10 }, (_, i) =>
        makeExampleSnapshot({
          seq: i + 1,
          timestamp: new Date(NOW - 30_000 + i * 1000).toISOString(),
        }),
      ),
    );
    const app = createApp({
      logger: silentLogger,
      health: () => health,
      routers: [
        createProcessesRouter({
          db: test.db,
          timeoutMs: 10_000,
          processRetentionMs: 48 * 3_600_000,
        }),
      ],
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/processes/top`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  }, 60_000);
  afterAll(async () => {
    await close();
    await test.drop();
  });

  it('answers who used the most memory in the last minute, from the per-tick rows', async () => {
    const res = await fetch(
      `${base}?host=vm-web-01&from=${NOW - 60_000}&to=${NOW}&by=memory&limit=2`,
    );
    expect(res.status).toBe(200);
    const answer = processesTopResponse.parse(await res.json());
    expect(answer.tier).toBe('raw');
    // postgres (157 MB) then node (78 MB), as the example's top lists say, seen ten seconds each.
    expect(answer.processes.map((p) => [p.name, p.peakRssBytes])).toEqual([
      ['postgres', 157286400],
      ['node', 78643200],
    ]);
    expect(answer.processes[0]!.cpuSeconds).toBeCloseTo(10 * 0.03, 5);
  });

  it.each([
    ['no host', `from=${NOW - 60_000}&to=${NOW}`, 'host: required'],
    ['an unknown measure', `host=a&from=${NOW - 60_000}&to=${NOW}&by=name`, 'by:'],
    ['a limit over 50', `host=a&from=${NOW - 60_000}&to=${NOW}&limit=51`, 'limit:'],
    ['from after to', `host=a&from=${NOW}&to=${NOW - 60_000}`, 'from:'],
    ['a limit of 1e9', `host=a&from=${NOW - 60_000}&to=${NOW}&limit=1e9`, 'limit:'],
    ['a measure x', `host=a&from=${NOW - 60_000}&to=${NOW}&by=x`, 'by:'],
    ['a from that is no time', `host=a&from=abc&to=${NOW}`, 'from:'],
    ['a range of decades', `host=a&from=0&to=${NOW}`, 'from:'],
    ['a range of 32 days', `host=a&from=${NOW - 32 * 86_400_000}&to=${NOW}`, 'from:'],
  ])('answers 400 naming the parameter for %s', async (_label, query, named) => {
    const res = await fetch(`${base}?${query}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toContain(named);
  });
  it('answers a flood of one client with 429s, and every request of it either way', async () => {
    const url = `${base}?host=vm-web-01&from=${NOW - 30 * 86_400_000}&to=${NOW}&by=io`;
    const statuses = await Promise.all(
      Array.from({ length: 12 }, async () => (await fetch(url)).status),
    );
    // Two run, two wait (the work limiter's defaults); any more at once are told to come back.
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(4);
    expect(statuses.every((s) => s === 200 || s === 429)).toBe(true);
  });

  // PGlite ends a statement whose caller went away by restarting its thread on the same data
  // directory; the tests' PGlite lives in memory, which a restart empties, so only PostgreSQL.
  it.skipIf(backend === 'pglite')(
    'survives requests aborted mid-way, and answers the next',
    async () => {
      const url = `${base}?host=vm-web-01&from=${NOW - 60_000}&to=${NOW}&by=cpu`;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          const aborter = new AbortController();
          const pending = fetch(url, { signal: aborter.signal }).catch(() => null);
          aborter.abort();
          await pending;
        }),
      );
      // Their work is cancelled and given back: the next request is answered, at worst after
      // the Retry-After of a 429 or two while the cancellations land.
      let res = await fetch(url);
      for (let i = 0; i < 20 && res.status === 429; i++) {
        await new Promise((resolve) =>
          setTimeout(resolve, 1000 * Number(res.headers.get('retry-after'))),
        );
        res = await fetch(url);
      }
      expect(res.status).toBe(200);
      expect(processesTopResponse.parse(await res.json()).tier).toBe('raw');
    },
  );
});
