import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { healthResponse } from '@livestat/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from './process.js';

// A cold start as a deployment sees it: an orchestrator or a script waits for /api/health to say
// ok, then sends the first login. Health must not say ok while that login would still fail
// (migrations not run, the first admin not yet created).

const PASSWORD = 'first-login-admin-password';

describe('a cold start: /api/health says ok only once a login works', () => {
  let dataDir: string;
  let api: Awaited<ReturnType<typeof startApi>>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'livestat-first-login-'));
  });
  afterAll(async () => {
    api?.child.kill('SIGTERM');
    await api?.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('answers 503 "starting" until the admin exists, and the first login after ok succeeds', async () => {
    api = await startApi({
      DATA_DIR: dataDir,
      JWT_SECRET: 'first-login-test-secret-of-enough-length-0',
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: PASSWORD,
      METRICS_HOST_NAME: 'first-login',
    });
    const notReady: { status: number; reasons: string[] }[] = [];
    const giveUpAt = Date.now() + 60_000;
    for (;;) {
      const res = await fetch(`${api.url}/api/health`);
      const body = healthResponse.parse(await res.json());
      if (res.status === 200) {
        expect(body.status).toBe('ok');
        break;
      }
      notReady.push({ status: res.status, reasons: body.reasons ?? [] });
      if (Date.now() > giveUpAt) throw new Error(`never ready: ${JSON.stringify(notReady.at(-1))}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // At once, with no retry: what ok promised.
    const login = await fetch(`${api.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    // Every answer before ok was a 503 that said why.
    for (const answer of notReady) {
      expect(answer.status).toBe(503);
      expect(answer.reasons).toContain('starting: migrations/admin not ready');
    }
  }, 90_000);
});
