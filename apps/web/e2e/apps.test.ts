import { createSocket } from 'node:dgram';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { SHOTS, collectErrors, itInBrowser, useBrowserSuite } from './harness';

// An application sends StatsD to the running API over a real UDP socket; the Applications view
// fills (a timer as its p50–p99 band, a service over its series cap saying so), a metric pinned
// there shows on the live dashboard, and an admin makes and revokes an ingest token in Settings.

const STATSD_PORT = 20_000 + Math.floor(Math.random() * 20_000);
/** Low enough that the `flood` service below goes over it; `shop` stays under. */
const MAX_SERIES = 5;
const FLOOD_USERS = 8;

const suite = useBrowserSuite({
  name: 'apps',
  api: { env: { STATSD_PORT: String(STATSD_PORT), APP_MAX_SERIES: String(MAX_SERIES) } },
});
const udp = createSocket('udp4');
let sender: NodeJS.Timeout | undefined;
suite.cleanup(() => {
  clearInterval(sender);
  udp.close();
});

/**
 * Sends, every 200 ms: a gauge, a tagged counter, ten timings of a checkout spread the way
 * latencies are (most near the median, a long tail), and a counter per user of a `flood`
 * service that has more users than its series cap allows.
 */
function startSending(): void {
  let depth = 10;
  sender = setInterval(() => {
    depth = (depth + 7) % 60;
    const median = 20 + depth / 3;
    const timings = [0.6, 0.7, 0.8, 0.9, 1, 1, 1.1, 1.3, 1.8, 3 + 4 * Math.random()].map(
      (f) => `checkout.time:${(median * f).toFixed(1)}|ms|#service:shop`,
    );
    const flood = Array.from(
      { length: FLOOD_USERS },
      (_, i) => `hits:1|c|#service:flood,user:u${i + 1}`,
    );
    const lines = [
      `queue.depth:${depth}|g|#service:shop`,
      'orders:3|c|#service:shop,region:eu',
      ...timings,
      ...flood,
    ];
    udp.send(lines.join('\n'), STATSD_PORT, '127.0.0.1');
  }, 200);
}

/** Waits for two more app messages, so the charts have drawn what they hold at their size. */
async function twoMoreTicks(page: Page): Promise<void> {
  for (let i = 0; i < 2; i += 1) {
    const before = await page.evaluate(() => window.livestat.metrics.version);
    await page.waitForFunction((v) => window.livestat.metrics.version > v, before);
  }
}

itInBrowser(
  'StatsD fills the Applications view, a pinned metric shows on Live, a token is shown once',
  async () => {
    startSending();
    const context = await suite.browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    const errors: string[] = [];
    collectErrors(page, errors);
    await suite.logIn(page);
    // The one-minute window: the seconds this test sends fill the charts' width.
    await page.click('[data-window="1"]');

    await page.click('nav >> text=Applications');
    const shop = page.locator('[data-service="shop"]');
    const depthCard = shop.locator('[data-app-metric="queue.depth"]');
    const timerCard = shop.locator('[data-app-metric="checkout.time"]');
    await depthCard.waitFor({ timeout: 60_000 });
    await timerCard.waitFor();
    await expect
      .poll(() => depthCard.locator('[data-testid="app-headline"]').textContent(), {
        timeout: 30_000,
      })
      .toMatch(/\d/);
    expect(await timerCard.locator('.kind').textContent()).toBe('timer · ms');

    // The service over its cap says so and why; the one under it says nothing.
    const notice = page.locator('[data-service="flood"] [data-testid="service-limit"]');
    await expect
      .poll(() => notice.textContent(), { timeout: 30_000 })
      .toMatch(/^at the 5-series cap \(APP_MAX_SERIES\): \d+ new series refused$/);
    expect(await page.locator('[data-service="flood"] [data-app-metric]').count()).toBe(MAX_SERIES);
    expect(await shop.locator('[data-testid="service-limit"]').count()).toBe(0);

    // Search narrows to the matching metric.
    await page.fill('input[type=search]', 'region=eu');
    await expect.poll(() => page.locator('[data-app-metric]').count()).toBe(1);
    await page.fill('input[type=search]', 'shop');
    await expect.poll(() => page.locator('[data-app-metric]').count()).toBe(3);

    // The timer's tooltip: its three percentiles and how many samples the interval had, once
    // the band has twenty seconds to show.
    await page.waitForFunction(
      (series) => (window.livestat.metrics.series.get(series)?.length ?? 0) >= 20,
      'app.shop.checkout.time.p99',
      { timeout: 60_000, polling: 500 },
    );
    const plot = timerCard.locator('.plot');
    const box = (await plot.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.8, box.y + box.height * 0.5);
    const tooltip = timerCard.locator('[data-testid="chart-tooltip"]');
    await tooltip.waitFor();
    const rows = await tooltip.locator('.tt-row').allInnerTexts();
    expect(rows.map((row) => row.split(/\s+/)[0])).toEqual(['p50', 'p90', 'p99', 'samples']);
    // Ten timings every 200 ms: about 50 in a one-second interval.
    const samples = Number(rows[3]!.split(/\s+/)[1]);
    expect(samples).toBeGreaterThan(20);
    await timerCard.screenshot({ path: path.join(SHOTS, 'apps-timer-1440-light.png') });
    await page.mouse.move(0, 0);

    await page.fill('input[type=search]', '');
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await twoMoreTicks(page);
      await page.screenshot({ path: path.join(SHOTS, `apps-1440-${scheme}.png`), fullPage: true });
    }
    await timerCard.screenshot({ path: path.join(SHOTS, 'apps-timer-1440-dark.png') });
    await page.emulateMedia({ colorScheme: 'light' });

    await depthCard.locator('button.pin').click();
    expect(await depthCard.locator('button.pin').getAttribute('aria-pressed')).toBe('true');
    await page.click('nav >> text=Live');
    const pinned = page.locator('.panels [data-app-metric="queue.depth"]');
    await pinned.waitFor({ timeout: 30_000 });
    await twoMoreTicks(page);
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

    const phone = await suite.browser.newContext({
      viewport: { width: 375, height: 812 },
      deviceScaleFactor: 2,
      storageState: await context.storageState(),
    });
    const small = await phone.newPage();
    collectErrors(small, errors);
    // The page never scrolls sideways on a phone; wide tables scroll in their own box.
    const overflow = () =>
      small.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
    await small.goto(`${suite.api.url}/apps`);
    await small.locator('[data-app-metric="queue.depth"]').first().waitFor({ timeout: 30_000 });
    for (const scheme of ['light', 'dark'] as const) {
      await small.emulateMedia({ colorScheme: scheme });
      await twoMoreTicks(small);
      await small.screenshot({ path: path.join(SHOTS, `apps-375-${scheme}.png`), fullPage: true });
      expect(await overflow(), scheme).toBeLessThanOrEqual(0);
    }
    await small.goto(`${suite.api.url}/settings`);
    await small.locator('[data-testid="users-table"]').waitFor();
    await small.screenshot({ path: path.join(SHOTS, 'settings-375.png'), fullPage: true });
    expect(await overflow()).toBeLessThanOrEqual(0);
    expect(errors).toEqual([]);
  },
  240_000,
);
