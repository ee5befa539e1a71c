import { Writable } from 'node:stream';
import type { ErrorMessage, HostsMessage } from '@livestat/contracts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/databases.js';
import { openClient, startStreamHarness, type StreamHarness } from '../../test/stream-harness.js';
import { createLogger } from '../logger.js';

const isError = (m: { type: string }): m is ErrorMessage => m.type === 'error';
const isHosts = (m: { type: string }): m is HostsMessage => m.type === 'hosts';

let database: TestDatabase;
let h: StreamHarness;
const lines: { level: number; msg: string; host?: string }[] = [];

beforeAll(async () => {
  database = await createTestDatabase('pglite');
  const logger = createLogger(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
        callback();
      },
    }),
  );
  h = await startStreamHarness({
    database,
    logger,
    // The database is down for every socket's resume.
    resume: () =>
      Promise.reject(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      ),
  });
}, 60_000);
afterAll(async () => {
  await h?.close();
  await database?.drop();
});

it("logs a database outage that fails every socket's resume once, and answers each socket", async () => {
  const { token } = await h.login('resumer');
  const clients = await Promise.all(Array.from({ length: 5 }, () => openClient(h.url(token))));
  for (const [i, client] of clients.entries()) {
    await client.waitFor(isHosts, 'hosts');
    client.send({ type: 'resume', host: `host-${i}`, after: '2030-01-01T00:00:00.000Z' });
  }
  for (const client of clients) {
    expect((await client.waitFor(isError, 'error')).code).toBe('resume_failed');
  }
  const failed = lines.filter((line) => line.msg === 'resume: reading the database failed');
  expect(failed).toHaveLength(1);
  expect(failed[0]?.level).toBe(50);
  for (const client of clients) {
    client.ws.close();
    await client.closed;
  }
});
