import path from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../../api/test/tcp-proxy';
import { API_UNREACHABLE, SAVED_SESSION_INVALID } from '../src/stores/auth';
import { SHOTS, describeInBrowser, useBrowserSuite } from './harness';

// Sessions as a user lives them, against the real API with JWT_TTL=1m: the dashboard stays up
// for two token lifetimes and more, renewing its token by itself; its JWT never appears in a URL
// (socket tickets), the console or the API's log; and a login page that says what went wrong.

const TOKEN_LIFETIME_MS = 60_000;
const BADGE = '[data-testid="connection-badge"]';
const REASON = '#login-reason';

describeInBrowser('sessions in Chromium, against the real API with JWT_TTL=1m', () => {
  const suite = useBrowserSuite({ name: 'session', api: { env: { JWT_TTL: '1m' } } });
  let proxy: TcpProxy;
  let page: Page;
  let base = '';
  /** Every URL the page asked for: documents, fetches, sockets. */
  const urls: string[] = [];
  const consoleLines: string[] = [];
  /** Every token the page held, read from its storage. */
  const tokens = new Set<string>();

  async function storedToken(): Promise<string | null> {
    const raw = await page.evaluate(() => localStorage.getItem('livestat.session'));
    return raw === null ? null : (JSON.parse(raw) as { token: string }).token;
  }

  async function latestSeq(): Promise<number> {
    return page.evaluate(() => window.livestat.metrics.selectedSnapshot?.seq ?? 0);
  }

  async function logIn(): Promise<void> {
    await page.goto(`${base}/`);
    await page.waitForURL(/\/login/);
    await suite.logIn(page, base);
    await page.waitForFunction(
      (selector) => document.querySelector(selector)?.textContent?.trim() === 'Connected',
      BADGE,
      { timeout: 15_000 },
    );
  }

  beforeAll(async () => {
    proxy = await startTcpProxy({ targetHost: '127.0.0.1', targetPort: suite.api.port });
    suite.cleanup(() => proxy.close());
    base = `http://127.0.0.1:${proxy.port}`;
    page = await (
      await suite.browser.newContext({ viewport: { width: 1280, height: 900 } })
    ).newPage();
    page.on('request', (request) => urls.push(request.url()));
    page.on('websocket', (socket) => urls.push(socket.url()));
    page.on('console', (message) => consoleLines.push(message.text()));
    page.on('pageerror', (error) => consoleLines.push(error.message));
  }, 60_000);

  it('stays on the dashboard for two token lifetimes, streaming, its token in no URL', async () => {
    await logIn();
    const startedAt = Date.now();
    const sockets = () => urls.filter((url) => url.startsWith('ws'));
    expect(sockets()).toHaveLength(1);
    const seqs: [number, number][] = [];
    // Two lifetimes and a half: past the server's 60 s of leeway on the first token too.
    while (Date.now() - startedAt < 2.5 * TOKEN_LIFETIME_MS) {
      const token = await storedToken();
      expect(token, 'the session is still stored').not.toBeNull();
      tokens.add(token!);
      expect(new URL(page.url()).pathname).toBe('/');
      seqs.push([Date.now(), await latestSeq()]);
      // The session's lifetime is the scenario: the page is looked at every 5 s while it runs.
      await page.waitForTimeout(5000);
    }
    await page.screenshot({ path: path.join(SHOTS, 'session-1m-token-after-2.5-min.png') });

    expect(await page.textContent(BADGE)).toBe('Connected');
    expect(await page.locator('text=Authentication failed').count()).toBe(0);
    expect(await page.locator('text=Session expired').count()).toBe(0);
    // Renewed every ~34 s (three quarters of its 45 usable seconds), each a new token.
    expect(tokens.size).toBeGreaterThanOrEqual(4);
    // Snapshots still arrive: the newest is newer than the one seen 10 s before.
    const [lastAt, lastSeq] = seqs.at(-1)!;
    const earlier = seqs.findLast(([at]) => at <= lastAt - 10_000)!;
    expect(lastSeq).toBeGreaterThan(earlier[1]);
    expect(await latestSeq()).toBeGreaterThan(lastSeq);
    // One socket all along, renewed over its own frames; opened with a ticket, not the token.
    expect(sockets()).toHaveLength(1);
    expect(sockets()[0]).toMatch(/\/api\/ws\/metrics\?ticket=[\w-]+$/);

    for (const token of tokens) {
      expect(urls.filter((url) => url.includes(token))).toEqual([]);
      expect(consoleLines.filter((line) => line.includes(token))).toEqual([]);
      expect(suite.api.output()).not.toContain(token);
    }
    expect(urls.filter((url) => /[?&]token=/.test(url))).toEqual([]);
  }, 240_000);

  it('says a corrupted saved session was invalid, rather than failing vaguely', async () => {
    await page.evaluate(() => {
      const session = JSON.parse(localStorage.getItem('livestat.session')!) as { token: string };
      // One character of the signature changed: still a JWT in shape, no longer ours.
      const last = session.token.at(-1) === 'A' ? 'B' : 'A';
      session.token = `${session.token.slice(0, -1)}${last}`;
      localStorage.setItem('livestat.session', JSON.stringify(session));
    });
    await page.reload();
    await page.waitForURL(/\/login/);
    await page.waitForFunction(
      ([selector, text]) => document.querySelector(selector!)?.textContent?.trim() === text,
      [REASON, SAVED_SESSION_INVALID],
      { timeout: 10_000 },
    );
    expect(await storedToken()).toBeNull();

    // Storage that is not even a session says the same, at once.
    await page.evaluate(() => localStorage.setItem('livestat.session', '{"token":'));
    await page.reload();
    await page.waitForURL(/\/login/);
    expect((await page.textContent(REASON))?.trim()).toBe(SAVED_SESSION_INVALID);
  }, 60_000);

  it('says it cannot reach the livestat API when the API is away', async () => {
    await proxy.down('refuse');
    try {
      await page.fill('#login-username', 'admin');
      await page.fill('#login-password', suite.password);
      await page.click('button[type=submit]');
      await page.waitForFunction(
        ([selector, text]) => document.querySelector(selector!)?.textContent?.trim() === text,
        [REASON, API_UNREACHABLE],
        { timeout: 15_000 },
      );
      await page.screenshot({ path: path.join(SHOTS, 'session-login-api-unreachable.png') });
    } finally {
      await proxy.up();
    }
  }, 60_000);
});
