import type { HostsMessage, Snapshot } from '@livestat/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createTestDatabase, type TestDatabase } from '../../test/databases.js';
import {
  DEFAULT_DEADLINE_MS,
  openClient,
  snapshotOf,
  startStreamHarness,
} from '../../test/stream-harness.js';

const isHosts = (m: { type: string }): m is HostsMessage => m.type === 'hosts';

/** A snapshot of ~50 KB (many interfaces), so the slow client's buffers fill in fewer rounds. */
function bigSnapshot(seq: number): Snapshot {
  const snapshot = snapshotOf('bp', seq);
  if (snapshot.network.available) {
    const eth0 = snapshot.network.interfaces.eth0;
    for (let i = 0; i < 200 && eth0; i++) snapshot.network.interfaces[`veth${i}`] = { ...eth0 };
  }
  return snapshot;
}

/**
 * A `ws` client that keeps only the seq of each snapshot (read from the head of the frame):
 * fifty of them receive hundreds of MB in this test, in the same process as the server.
 */
function seqRecorder(url: string, onSeq: () => void) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const seqs: number[] = [];
  ws.on('error', () => undefined);
  ws.on('message', (data: Buffer) => {
    const match = /^\{"type":"snapshot","host":"bp","seq":(\d+),/.exec(
      data.subarray(0, 64).toString(),
    );
    if (!match) return;
    seqs.push(Number(match[1]));
    onSeq();
  });
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, seqs, opened };
}

describe('stream server: backpressure', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('pglite');
  }, 60_000);
  afterAll(() => database.drop());

  it('closes a client that stops reading with 1013 while 50 others receive every snapshot', async () => {
    const h = await startStreamHarness({
      database,
      maxBufferedBytes: 64 * 1024,
      // Long enough that the slow client, once it reads again, gets the close frame itself.
      closeGraceMs: 60_000,
    });
    try {
      const { token } = await h.login('many');
      // Resolved each time every fast client has the latest published seq.
      let published = 0;
      let roundDone: () => void = () => undefined;
      const fast = Array.from({ length: 50 }, () =>
        seqRecorder(h.url(token), () => {
          if (fast.every((c) => c.seqs.length === published)) roundDone();
        }),
      );
      await Promise.all(fast.map((c) => c.opened));
      const slow = await openClient(h.url(token));
      await slow.waitFor(isHosts, 'hosts');
      slow.ws.pause();

      async function publishRound(): Promise<void> {
        let timer: NodeJS.Timeout | undefined;
        const round = new Promise<void>((resolve, reject) => {
          roundDone = resolve;
          timer = setTimeout(
            () => reject(new Error(`round ${published} not received by every fast client`)),
            DEFAULT_DEADLINE_MS,
          );
        });
        published += 1;
        h.bus.publish(bigSnapshot(published));
        await round.finally(() => clearTimeout(timer));
      }

      // Until the slow client's buffers (the kernel's, then the server's) pass the limit.
      while (h.stream.connections() === 51) {
        if (published > 2000) throw new Error('the slow client was never closed');
        await publishRound();
      }
      const closedAt = published;
      for (let i = 0; i < 5; i++) await publishRound();

      expect(h.stream.connections()).toBe(50);
      expect(closedAt).toBeGreaterThan(1);
      const expected = Array.from({ length: published }, (_, i) => i + 1);
      for (const client of fast) expect(client.seqs).toEqual(expected);

      slow.ws.resume();
      expect(await slow.closed).toEqual({ code: 1013, reason: 'client too slow' });
      // It got a prefix of the stream, in order, and nothing after the close.
      const got = slow.snapshots('bp').map((s) => s.seq);
      expect(got).toEqual(expected.slice(0, got.length));
      expect(got.length).toBeLessThan(closedAt);
      for (const client of fast) client.ws.close();
    } finally {
      await h.close();
    }
  });
});
