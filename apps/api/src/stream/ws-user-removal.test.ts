import type { PongMessage } from '@livestat/contracts';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  type TestDatabase,
} from '../../test/databases.js';
import { openClient, startStreamHarness, type StreamHarness } from '../../test/stream-harness.js';

const isPong = (m: { type: string }): m is PongMessage => m.type === 'pong';

describeEachBackend('stream server: a deleted user', (backend) => {
  let database: TestDatabase;
  let h: StreamHarness;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    // Re-checked every 200 ms here; 30 s by default.
    h = await startStreamHarness({ database, userRecheckIntervalMs: 200 });
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await database?.drop();
  });

  it('loses every socket at once, with 1008 user removed, when removed through the store', async () => {
    const { token } = await h.login('leaving');
    const { token: stayer } = await h.login('staying');
    const first = await openClient(h.url(token));
    const second = await openClient(h.url(token));
    const other = await openClient(h.url(stayer));

    expect(await h.users.remove('leaving')).toBe(true);
    expect(await first.closed).toEqual({ code: 1008, reason: 'user removed' });
    expect(await second.closed).toEqual({ code: 1008, reason: 'user removed' });

    other.send({ type: 'ping', id: 'still-here' });
    expect((await other.waitFor(isPong, 'pong')).id).toBe('still-here');
    expect(h.stream.connections()).toBe(1);
    other.ws.close();
    await other.closed;
  });

  it('loses its sockets within the re-check period when another process deletes it', async () => {
    const { user, token } = await h.login('removed-elsewhere');
    const { token: stayer } = await h.login('staying-too');
    const client = await openClient(h.url(token));
    const other = await openClient(h.url(stayer));

    // As `npm run users -- remove` does, from a process whose store this server never hears.
    await database.db.query('DELETE FROM users WHERE id = $1', [user.id]);
    expect(await client.closed).toEqual({ code: 1008, reason: 'user removed' });

    other.send({ type: 'ping', id: 'still-here' });
    expect((await other.waitFor(isPong, 'pong')).id).toBe('still-here');
    other.ws.close();
    await other.closed;
  });
});
