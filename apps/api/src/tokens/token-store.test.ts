import { createHash } from 'node:crypto';
import { API_TOKEN_PATTERN } from '@livestat/contracts';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  type TestDatabase,
} from '../../test/databases.js';
import { createTokenStore, LAST_USED_RESOLUTION_MS, type TokenStore } from './token-store.js';

describeEachBackend('token store', (backend) => {
  let test: TestDatabase;
  let clock = Date.parse('2026-12-04T21:00:00.000Z');
  let tokens: TokenStore;

  beforeAll(async () => {
    test = await createTestDatabase(backend);
  }, 60_000);
  afterAll(() => test.drop());
  beforeEach(async () => {
    await test.db.exec('DELETE FROM api_tokens');
    tokens = createTokenStore(test.db, { now: () => clock });
  });

  /** Waits until the background last-use write has landed. */
  async function lastUsed(id: number): Promise<string | null> {
    for (let i = 0; i < 50; i += 1) {
      const info = await tokens.find(id);
      if (info?.lastUsedAt) return info.lastUsedAt;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return null;
  }

  it('creates a token shown once and keeps only its SHA-256', async () => {
    const { token, info } = await tokens.create({
      name: 'worker',
      scope: 'ingest',
      createdBy: 'admin',
    });
    expect(token).toMatch(API_TOKEN_PATTERN);
    expect(info).toMatchObject({
      name: 'worker',
      scope: 'ingest',
      prefix: token.slice(0, 8),
      createdBy: 'admin',
      lastUsedAt: null,
      revokedAt: null,
    });
    const rows = await test.db.query<Record<string, unknown>>('SELECT * FROM api_tokens');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    // The secret appears in no column.
    expect(JSON.stringify(rows)).not.toContain(token.slice(8));
  });

  it('honours a live token for its scope and records the use at most once a minute', async () => {
    const { token, info } = await tokens.create({ name: 'w', scope: 'ingest', createdBy: null });
    expect(await tokens.check(token, 'ingest')).toEqual({ ok: true, info });
    const first = await lastUsed(info.id);
    expect(first).toBe(new Date(clock).toISOString());

    clock += LAST_USED_RESOLUTION_MS / 2;
    await tokens.check(token, 'ingest');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await tokens.find(info.id))?.lastUsedAt).toBe(first);

    clock += LAST_USED_RESOLUTION_MS;
    await tokens.check(token, 'ingest');
    for (let i = 0; i < 50 && (await lastUsed(info.id)) === first; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await lastUsed(info.id)).toBe(new Date(clock).toISOString());
  });

  it('refuses unknown, malformed and revoked tokens', async () => {
    const { token, info } = await tokens.create({ name: 'w', scope: 'ingest', createdBy: null });
    const other = `lsk_${'A'.repeat(43)}`;
    expect(await tokens.check(other, 'ingest')).toEqual({ ok: false, reason: 'unknown' });
    expect(await tokens.check('Bearer nonsense', 'ingest')).toEqual({
      ok: false,
      reason: 'unknown',
    });

    const revoked = await tokens.revoke(info.id);
    expect(revoked?.revokedAt).not.toBeNull();
    expect(await tokens.check(token, 'ingest')).toEqual({ ok: false, reason: 'revoked' });
    // Revoking again keeps the first time; an unknown id is null.
    expect((await tokens.revoke(info.id))?.revokedAt).toBe(revoked?.revokedAt);
    expect(await tokens.revoke(info.id + 1000)).toBeNull();
  });

  it('lists every token newest first, never with its secret', async () => {
    const a = await tokens.create({ name: 'a', scope: 'ingest', createdBy: null });
    const b = await tokens.create({ name: 'b', scope: 'ingest', createdBy: 'root' });
    await tokens.revoke(a.info.id);
    const list = await tokens.list();
    expect(list.map((t) => [t.name, t.revokedAt !== null])).toEqual([
      ['b', false],
      ['a', true],
    ]);
    expect(JSON.stringify(list)).not.toContain(a.token);
    expect(JSON.stringify(list)).not.toContain(b.token);
  });
});
