import type { ErrorMessage, HostsMessage, Snapshot } from '@livestat/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/databases.js';
import {
  openClient,
  snapshotOf,
  startStreamHarness,
  waitUntil,
  type TestClient,
} from '../../test/stream-harness.js';
import { readSnapshots, writeSnapshots } from '../storage/metrics-store.js';
import { createWorkLimiter } from '../storage/work-limiter.js';
import { createLatestCache } from './latest-cache.js';
import { limitResumeSource, RESUME_PAGE_SIZE, type ResumeSource } from './resume.js';

const isSnapshot = (m: { type: string }): m is Snapshot => m.type === 'snapshot';
const isHosts = (m: { type: string }): m is HostsMessage => m.type === 'hosts';
const isError = (m: { type: string }): m is ErrorMessage => m.type === 'error';

const T0 = Date.parse('2030-03-01T00:00:00.000Z');
/** Snapshot `seq` of `host`, one second apart: the same seq is always the same snapshot. */
const tick = (host: string, seq: number) =>
  snapshotOf(host, seq, new Date(T0 + seq * 1000).toISOString());

/** The seqs of the host's snapshots received after the initial latest + hosts messages. */
function resumed(client: TestClient, host: string): number[] {
  const start = client.messages.findIndex(isHosts) + 1;
  return client.messages
    .slice(start)
    .filter((m): m is Snapshot => isSnapshot(m) && m.host === host)
    .map((s) => s.seq);
}

async function waitForSeqs(client: TestClient, host: string, count: number): Promise<number[]> {
  await client.until(
    () => resumed(client, host).length >= count,
    `${count} snapshots of ${host} after connect`,
  );
  return resumed(client, host);
}

const range = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('stream server: resume', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('pglite');
  }, 60_000);
  afterAll(() => database.drop());

  it('serves 80 resumes from 1970 a page at a time: every snapshot, in order, never more than a page read', async () => {
    // 1–120 stored (more than a page), 121–125 only in memory.
    await writeSnapshots(
      database.db,
      range(1, 120).map((seq) => tick('paged', seq)),
    );
    const reads: number[] = [];
    let reading = 0;
    let mostAtOnce = 0;
    const counted: ResumeSource = async (host, after, limit, options) => {
      reads.push(limit);
      reading += 1;
      mostAtOnce = Math.max(mostAtOnce, reading);
      try {
        return await readSnapshots(database.db, host, after, limit, { signal: options?.signal });
      } finally {
        reading -= 1;
      }
    };
    const h = await startStreamHarness({
      database,
      resume: limitResumeSource(counted, createWorkLimiter()),
    });
    try {
      const { token } = await h.login('paula');
      for (const seq of range(121, 125)) h.bus.publish(tick('paged', seq));
      const client = await openClient(h.url(token));
      await client.waitFor(isHosts, 'hosts');
      // One after another (a socket takes at most 8 requests in flight); each gets 1–125 again.
      const resumes = 80;
      for (let k = 1; k <= resumes; k++) {
        client.send({ type: 'resume', host: 'paged', after: new Date(0).toISOString() });
        await waitForSeqs(client, 'paged', k * 125);
      }
      const seqs = resumed(client, 'paged');
      expect(seqs).toHaveLength(resumes * 125);
      for (let k = 0; k < resumes; k++) {
        expect(seqs.slice(k * 125, (k + 1) * 125)).toEqual(range(1, 125));
      }
      // Two pages each (100, then the 20 left), one read at a time, none larger than a page.
      expect(reads).toHaveLength(resumes * 2);
      expect(Math.max(...reads)).toBe(RESUME_PAGE_SIZE);
      expect(mostAtOnce).toBe(1);
      expect(client.messages.filter(isError)).toEqual([]);
    } finally {
      await h.close();
    }
  }, 120_000);

  it("answers busy when the user's history and resume work is at its limit", async () => {
    const limiter = createWorkLimiter({ maxConcurrent: 1, maxQueued: 0 });
    const h = await startStreamHarness({
      database,
      resume: limitResumeSource(
        (host, after, limit, options) =>
          readSnapshots(database.db, host, after, limit, { signal: options?.signal }),
        limiter,
      ),
    });
    try {
      const { user, token } = await h.login('quinn');
      await writeSnapshots(
        database.db,
        range(1, 3).map((seq) => tick('limited', seq)),
      );
      h.bus.publish(tick('limited', 4));
      const client = await openClient(h.url(token));
      await client.waitFor(isHosts, 'hosts');
      // A history request of the same user holds the one slot.
      let finish: () => void = () => undefined;
      const history = limiter.run(
        `user:${user.id}`,
        () => new Promise<void>((resolve) => (finish = resolve)),
      );
      client.send({ type: 'resume', host: 'limited', after: tick('limited', 1).timestamp });
      const error = await client.waitFor(isError, 'the busy error');
      expect(error.code).toBe('busy');
      expect(error.error).toMatch(/^too many history or resume requests at once/);
      finish();
      await history;
      client.send({ type: 'resume', host: 'limited', after: tick('limited', 1).timestamp });
      expect(await waitForSeqs(client, 'limited', 3)).toEqual([2, 3, 4]);
    } finally {
      await h.close();
    }
  });

  it("cancels a resume's database read when its socket closes", async () => {
    let signal: AbortSignal | undefined;
    const h = await startStreamHarness({
      database,
      resume: (_host, _after, _limit, options) =>
        new Promise((_resolve, reject) => {
          signal = options?.signal;
          signal?.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    });
    try {
      const { token } = await h.login('rosa');
      h.bus.publish(tick('slow', 10));
      const client = await openClient(h.url(token));
      await client.waitFor(isHosts, 'hosts');
      client.send({ type: 'resume', host: 'slow', after: tick('slow', 1).timestamp });
      await waitUntil(() => signal, 'the page read');
      expect(signal?.aborted).toBe(false);
      client.ws.close();
      await waitUntil(() => signal?.aborted, 'the read aborted');
    } finally {
      await h.close();
    }
  });

  it('sends exactly the snapshots after the given one, from memory, in order', async () => {
    const h = await startStreamHarness({ database });
    try {
      const { token } = await h.login('rita');
      for (const seq of range(1, 10)) h.bus.publish(tick('ring', seq));
      const client = await openClient(h.url(token));
      await client.waitFor(isHosts, 'hosts');
      expect(client.snapshots('ring').map((s) => s.seq)).toEqual([10]);
      client.send({ type: 'resume', host: 'ring', after: tick('ring', 3).timestamp });
      expect(await waitForSeqs(client, 'ring', 7)).toEqual(range(4, 10));
      h.bus.publish(tick('ring', 11));
      expect(await waitForSeqs(client, 'ring', 8)).toEqual(range(4, 11));
    } finally {
      await h.close();
    }
  });

  it('reads the database for what memory no longer holds, then the ring for the rest', async () => {
    const h = await startStreamHarness({ database });
    try {
      const { token } = await h.login('sam');
      // 1–10 were stored before this process started; 11–15 are only in memory (not flushed).
      await writeSnapshots(
        database.db,
        range(1, 10).map((seq) => tick('db', seq)),
      );
      for (const seq of range(11, 15)) h.bus.publish(tick('db', seq));
      const client = await openClient(h.url(token));
      await client.waitFor(isHosts, 'hosts');
      client.send({ type: 'resume', host: 'db', after: tick('db', 3).timestamp });
      expect(await waitForSeqs(client, 'db', 12)).toEqual(range(4, 15));
    } finally {
      await h.close();
    }
  });

  it('caps one resume at resumeLimit, oldest first', async () => {
    const h = await startStreamHarness({ database, resumeLimit: 5 });
    try {
      const { token } = await h.login('tess');
      for (const seq of range(1, 20)) h.bus.publish(tick('cap', seq));
      const client = await openClient(h.url(token));
      await client.waitFor(isHosts, 'hosts');
      client.send({ type: 'resume', host: 'cap', after: tick('cap', 2).timestamp });
      client.send({ type: 'request_snapshot' });
      // The request after the resume marks its end: exactly five came before it.
      expect(await waitForSeqs(client, 'cap', 6)).toEqual([3, 4, 5, 6, 7, 20]);
    } finally {
      await h.close();
    }
  });

  it('answers resume_failed when the database cannot be read, and keeps serving', async () => {
    const h = await startStreamHarness({
      database,
      resume: () => Promise.reject(new Error('database is down')),
    });
    try {
      const { token } = await h.login('uma');
      h.bus.publish(tick('gone', 50));
      const client = await openClient(h.url(token));
      await client.waitFor(isHosts, 'hosts');
      client.send({ type: 'resume', host: 'gone', after: tick('gone', 1).timestamp });
      const error = await client.waitFor(isError, 'the error');
      expect(error.code).toBe('resume_failed');
      h.bus.publish(tick('gone', 51));
      await client.waitFor((m) => isSnapshot(m) && m.seq === 51, 'the next snapshot');
    } finally {
      await h.close();
    }
  });

  it('paces a large resume by the socket buffer, holding live snapshots until it is done', async () => {
    // 3599 snapshots of ~3 KB (11 MB) through a 64 KB limit: sent all at once they would sit
    // in the socket's buffer (past what the kernel takes), and the next live snapshot would
    // find it over the limit and close the socket 1013.
    const h = await startStreamHarness({
      database,
      maxBufferedBytes: 64 * 1024,
      cache: createLatestCache({ maxPerHost: 5000, windowMs: 2 * 3600_000 }),
    });
    try {
      const { token } = await h.login('vera');
      for (const seq of range(1, 3600)) h.bus.publish(tick('bulk', seq));
      const client = await openClient(h.url(token));
      await client.waitFor(isHosts, 'hosts');
      client.send({ type: 'resume', host: 'bulk', after: tick('bulk', 1).timestamp });
      // The server sends until its buffer is half full before yielding, so by the time the
      // first resumed snapshot is read here, it is waiting for the socket to drain.
      await client.waitFor((m) => isSnapshot(m) && m.seq === 2, 'the first resumed snapshot');
      client.ws.pause();
      h.bus.publish(tick('bulk', 3601));
      client.ws.resume();
      expect(await waitForSeqs(client, 'bulk', 3600)).toEqual(range(2, 3601));
      expect(h.stream.connections()).toBe(1);
    } finally {
      await h.close();
    }
  });
});
