import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serverMessage, type CgroupsMessage, type ServerMessage } from '@livestat/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manyCgroups, writeV2Host } from '../../test/cgroup-tree.js';
import { createTestDatabase, silentLogger, type TestDatabase } from '../../test/databases.js';
import { openClient, startStreamHarness, waitUntil } from '../../test/stream-harness.js';
import { createCgroupsCollector } from '../collectors/cgroups.js';
import { cgroupWatchKind } from './cgroup-watch.js';
import { processWatchKind } from './process-watch.js';
import { createWatchHub } from './watches.js';

const TIMESTAMP = '2030-01-01T00:00:01.000Z';
const isCgroups = (m: ServerMessage): m is CgroupsMessage => m.type === 'cgroups';

let database: TestDatabase;
let dir: string;
beforeAll(async () => {
  database = await createTestDatabase('pglite');
  dir = mkdtempSync(path.join(os.tmpdir(), 'livestat-cgroup-watch-'));
}, 60_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await database.drop();
});

describe('watch_cgroups over a real socket', () => {
  it('sends every cgroup of the watched host, beyond the snapshot’s top 40, until unwatched', async () => {
    const collector = createCgroupsCollector({
      ...writeV2Host(dir, manyCgroups(60)),
      now: () => 0,
    });
    const snapshotSection = await collector.collect();
    const table = collector.table()!;
    const watches = createWatchHub({
      kinds: [processWatchKind, cgroupWatchKind],
      logger: silentLogger,
    });
    const harness = await startStreamHarness({ database, watches });
    try {
      const { token } = await harness.login('cgroup-watcher');
      const client = await openClient(harness.url(token));
      client.send({ type: 'watch_cgroups', host: 'h1' });
      await waitUntil(() => watches.wanted('cgroups', 'h1'), 'the watch registered');
      watches.publish({ kind: 'cgroups', host: 'h2', timestamp: TIMESTAMP, table });
      watches.publish({ kind: 'cgroups', host: 'h1', timestamp: TIMESTAMP, table });
      const message = await client.waitFor(isCgroups, 'the cgroups of h1');
      expect(serverMessage.parse(message)).toEqual(message);
      expect(message).toMatchObject({ host: 'h1', timestamp: TIMESTAMP, layout: 'v2', total: 61 });
      expect(message.groups).toHaveLength(61);
      // The snapshot keeps the top 20 by CPU ∪ the top 20 by memory: at most 40.
      if (!snapshotSection.available) throw new Error(snapshotSection.error);
      expect(Object.keys(snapshotSection.groups).length).toBeLessThanOrEqual(40);

      client.send({ type: 'unwatch_cgroups' });
      await waitUntil(() => !watches.wanted('cgroups', 'h1'), 'the watch released');
      watches.publish({ kind: 'cgroups', host: 'h1', timestamp: TIMESTAMP, table });
      client.send({ type: 'ping', id: 'after' });
      await client.waitFor((m) => m.type === 'pong' && m.id === 'after', 'pong');
      expect(client.messages.filter(isCgroups)).toHaveLength(1);
    } finally {
      await harness.close();
    }
  });
});
