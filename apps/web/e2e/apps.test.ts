import { createSocket } from 'node:dgram';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { browserAvailable, buildSpa, launchBrowser, startApi, type ApiProcess } from './harness';

// An application sends StatsD to the running API over a real UDP socket; the Applications view
// fills, a metric pinned there shows on the live dashboard, and an admin makes and revokes an
// ingest token in Settings.

const SHOTS = fileURLToPath(new URL('../test-results/', import.meta.url));
const JWT_SECRET = 'apps-browser-tests-secret-0123456789abcdef012345';
const PASSWORD = 'apps-browser-password';
const STATSD_PORT = 20_000 + Math.floor(Math.random() * 20_000);

const run = browserAvailable() ? it : it.skip;

let spa: Awaited<ReturnType<typeof buildSpa>> | undefined;
let dataDir = '';
let api: ApiProcess | undefined;
let browser: Browser | undefined;
let sender: NodeJS.Timeout | undefined;
const udp = createSocket('udp4');

beforeAll(async () => {
  if (!browserAvailable()) return;
  await mkdir(SHOTS, { recursive: true });
  spa = await buildSpa();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'livestat-apps-'));
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  clearInterval(sender);
  udp.close();
  await browser?.close();
  await api?.stop();
  await spa?.remove();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

async function logIn(page: Page): Promise<void> {
  // The admin exists once migrations ran: retry the form until it lets us in.
  for (let attempt = 0; ; attempt++) {
    await page.goto(`${api!.url}/login`);
    await page.fill('#login-username', 'admin');
    await page.fill('#login-password', PASSWORD);
    await page.click('button[type=submit]');
    try {
      await page.waitForURL((url) => url.pathname === '/', { timeout: 5000 });
      return;
    } catch (error) {
      if (attempt > 10) throw error;
    }
  }
}

run(
  'StatsD fills the Applications view, a pinned metric shows on Live, a token is shown once',
  async () => {
    api = await startApi({
      dataDir,
      webDistDir: spa!.dir,
      jwtSecret: JWT_SECRET,
      adminPassword: PASSWORD,
      env: { STATSD_PORT: String(STATSD_PORT) },
    });
    let depth = 10;
    sender = setInterval(() => {
      depth = (depth + 7) % 60;
      const lines = [
        `queue.depth:${depth}|g|#service:shop`,
        'orders:3|c|#service:shop,region:eu',
        `checkout.time:${20 + depth}|ms|#service:shop`,
      ].join('\n');
      udp.send(lines, STATSD_PORT, '127.0.0.1');
    }, 200);

    const context = await browser!.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await logIn(page);

    await page.click('nav >> text=Applications');
    const depthCard = page.locator('[data-service="shop"] [data-app-metric="queue.depth"]');
    await depthCard.waitFor({ timeout: 60_000 });
    await page.locator('[data-service="shop"] [data-app-metric="checkout.time"]').waitFor();
    await expect
      .poll(() => depthCard.locator('[data-testid="app-headline"]').textContent(), {
        timeout: 30_000,
      })
      .toMatch(/\d/);
    // Search narrows to the matching metric.
    await page.fill('input[type=search]', 'region=eu');
    await expect.poll(() => page.locator('[data-app-metric]').count()).toBe(1);
    await page.fill('input[type=search]', '');
    await page.waitForTimeout(2000);
    await page.screenshot({ path: path.join(SHOTS, 'apps-1440.png'), fullPage: true });

    await depthCard.locator('button.pin').click();
    expect(await depthCard.locator('button.pin').getAttribute('aria-pressed')).toBe('true');
    await page.click('nav >> text=Live');
    const pinned = page.locator('.panels [data-app-metric="queue.depth"]');
    await pinned.waitFor({ timeout: 30_000 });
    await page.waitForTimeout(2000);
    await page.screenshot({ path: path.join(SHOTS, 'apps-pinned-live-1440.png'), fullPage: true });
    // Remembered: a reload keeps it.
    await page.reload();
    await pinned.waitFor({ timeout: 30_000 });

    await page.click('nav >> text=Settings');
    await page.fill('.settings-card >> input[placeholder="queue-worker"]', 'browser-test');
    await page.click('text=Create ingest token');
    const value = page.locator('[data-testid="token-value"]');
    await value.waitFor();
    expect(await value.textContent()).toMatch(/^lsk_[A-Za-z0-9_-]{43}$/);
    await page.screenshot({ path: path.join(SHOTS, 'settings-token-1440.png'), fullPage: true });
    await page.click('text=Done');
    expect(await value.count()).toBe(0);
    const row = page.locator('tr[data-token="browser-test"]');
    await row.locator('button', { hasText: 'Revoke' }).click();
    await page
      .locator('[aria-label="Confirm the revocation"] button', { hasText: 'Revoke' })
      .click();
    await expect.poll(() => row.textContent()).toContain('revoked');

    const phone = await browser!.newContext({
      viewport: { width: 375, height: 812 },
      storageState: await context.storageState(),
    });
    const small = await phone.newPage();
    await small.goto(`${api.url}/apps`);
    await small.locator('[data-app-metric="queue.depth"]').first().waitFor({ timeout: 30_000 });
    await small.waitForTimeout(2000);
    await small.screenshot({ path: path.join(SHOTS, 'apps-375.png'), fullPage: true });
    await small.goto(`${api.url}/settings`);
    await small.locator('[data-testid="users-table"]').waitFor();
    await small.screenshot({ path: path.join(SHOTS, 'settings-375.png'), fullPage: true });
    const overflow = await small.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    // The page never scrolls sideways on a phone; wide tables scroll in their own box.
    expect(overflow).toBeLessThanOrEqual(0);
    expect(errors).toEqual([]);
  },
  240_000,
);
