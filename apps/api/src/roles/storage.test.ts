import type { Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  silentLogger,
  type TestDatabase,
} from '../../test/databases.js';
import { loadConfig } from '../config.js';
import { toBusMessage } from '../stream/bus.js';
import { asStored, readSnapshots } from '../storage/metrics-store.js';
import { startStorage } from './storage.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const START = Date.UTC(2026, 11, 6, 11, 0, 0);
const snapshotAt = (i: number): Snapshot =>
  makeExampleSnapshot({
    host: 'vm-queued',
    seq: i + 1,
    timestamp: new Date(START + i * 1000).toISOString(),
  });

describeEachBackend('the storage role', (backend) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(backend);
  });
  afterAll(() => test.drop());

  it('queues what its writes take from each snapshot, not the snapshot, and stores it all', async () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      BATCH_SIZE: '10',
      FLUSH_INTERVAL_SECONDS: '60',
      MIN_FREE_DISK_MB: '0',
    });
    const storage = startStorage(
      { db: test.db, releaseDataDir: async () => {}, opened: Promise.resolve() },
      config,
      silentLogger,
    );
    await storage.prepared;
    // Published as the bus publishes them, then queued; nothing else holds them.
    const refs = (() =>
      Array.from({ length: 5 }, (_, i) => {
        const snapshot = snapshotAt(i);
        toBusMessage(snapshot);
        storage.writer.enqueue(snapshot);
        return [new WeakRef(snapshot), new WeakRef(snapshot.memory), new WeakRef(snapshot.disk)];
      }))();
    // A WeakRef's target lives to the end of the job that made it.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    expect(storage.writer.stats().queued).toBe(5);
    expect(refs.flat().map((ref) => ref.deref())).toEqual(Array(15).fill(undefined));
    await storage.writer.flush();
    expect(storage.writer.stats()).toMatchObject({ queued: 0, written: 5 });
    expect(await readSnapshots(test.db, 'vm-queued', new Date(0).toISOString(), 10)).toEqual(
      Array.from({ length: 5 }, (_, i) => asStored(snapshotAt(i))),
    );
    expect(await storage.writer.close()).toEqual({ written: 5, lost: 0 });
  });
});
