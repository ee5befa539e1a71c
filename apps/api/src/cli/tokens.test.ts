import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createTestDatabase, describePostgres, type TestDatabase } from '../../test/databases.js';
import { runTs } from '../../test/process.js';
import { CHECK_CACHE_MS, createTokenStore } from '../tokens/token-store.js';

const CLI = 'src/cli/tokens.ts';
const SLOW = 60_000;

describePostgres('npm run tokens', () => {
  let test: TestDatabase;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    test = await createTestDatabase('postgres');
    env = { DATABASE_URL: test.url, LOG_LEVEL: 'warn' };
  }, SLOW);
  afterAll(() => test.drop());

  it(
    'creates a token printed once on stdout, lists it by prefix, and revokes it',
    async () => {
      const created = await runTs(CLI, ['create', '--scope', 'ingest', 'queue worker'], env);
      expect(created.code).toBe(0);
      const token = created.stdout.trim();
      expect(token).toMatch(/^lsk_[\w-]{43}$/);
      expect(created.stderr).toMatch(/created ingest token "queue worker" \(id \d+\)/);
      expect(created.stderr).not.toContain(token);

      const store = createTokenStore(test.db);
      const check = await store.check(token, 'ingest');
      expect(check.ok).toBe(true);
      const id = check.ok ? check.info.id : 0;

      const list = await runTs(CLI, ['list'], env);
      expect(list.code).toBe(0);
      const [header, row] = list.stdout.trimEnd().split('\n');
      expect(header).toMatch(/^ID\s+NAME\s+SCOPE\s+PREFIX\s+CREATED\s+LAST USED\s+REVOKED$/);
      expect(row).toContain(`${token.slice(0, 8)}…`);
      expect(row).toContain('queue worker');
      expect(list.stdout).not.toContain(token.slice(8));

      const revoked = await runTs(CLI, ['revoke', String(id)], env);
      expect(revoked).toMatchObject({ code: 0, stdout: `revoked token ${id} "queue worker"\n` });
      // A fresh reader sees the revoke at once; one that accepted the token moments ago may keep
      // it for CHECK_CACHE_MS (a revoke from another process), never longer.
      expect(await createTokenStore(test.db).check(token, 'ingest')).toEqual({
        ok: false,
        reason: 'revoked',
      });
      await vi.waitFor(
        async () =>
          expect(await store.check(token, 'ingest')).toEqual({ ok: false, reason: 'revoked' }),
        { timeout: CHECK_CACHE_MS * 3, interval: 100 },
      );
    },
    SLOW,
  );

  it(
    'explains bad usage with exit code 2 and an unknown id with 1',
    async () => {
      const scope = await runTs(CLI, ['create', '--scope', 'admin', 'x'], env);
      expect(scope.code).toBe(2);
      expect(scope.stderr).toContain('--scope must be ingest');
      const missing = await runTs(CLI, ['revoke', '999999'], env);
      expect(missing).toMatchObject({ code: 1, stderr: 'tokens: no token 999999\n' });
    },
    SLOW,
  );
});
