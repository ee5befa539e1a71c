import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../../api/test/tcp-proxy';
import { SHOTS, collectErrors, describeInBrowser, signToken, useBrowserSuite } from './harness';

const PANELS = ['cpu', 'memory', 'network', 'disk', 'perf', 'bandwidth'];
const INTERVAL_MS = 1000;

/** Waits until the element's trimmed text matches; the error names what was last seen. */
async function waitForText(
  target: Page,
  selector: string,
  pattern: RegExp,
  timeout: number,
): Promise<void> {
  try {
    await target.waitForFunction(
      ({ selector, source, flags }) =>
        new RegExp(source, flags).test(document.querySelector(selector)?.textContent?.trim() ?? ''),
      { selector, source: pattern.source, flags: pattern.flags },
      { timeout, polling: 100 },
    );
  } catch (error) {
    const seen = await target.textContent(selector).catch(() => null);
    throw new Error(`${selector} never matched ${pattern} (last: ${JSON.stringify(seen)})`, {
      cause: error,
    });
  }
}

describeInBrowser('the dashboard in Chromium, against the real API', () => {
  const suite = useBrowserSuite({ name: 'dashboard', api: {} });
  let proxy: TcpProxy;
  let context: BrowserContext;
  let page: Page;
  /** The page's origin: through a proxy the tests can take away without stopping the API. */
  let base = '';
  /** Console errors and page errors outside the deliberate outages. */
  const errors: string[] = [];
  let expectingNetworkErrors = false;

  // While the tests hold the server away the browser reports the refused socket and fetches
  // itself: those are the outage, not a defect.
  const watchConsole = (target: Page) =>
    collectErrors(target, errors, () => expectingNetworkErrors);

  const BADGE = '[data-testid="connection-badge"]';

  /** The selected host's live points of one series, from the page's own store. */
  function livePoints(series: string): Promise<[number, number][]> {
    return page.evaluate(
      (name) => window.livestat.metrics.series.get(name)?.toPoints() ?? [],
      series,
    );
  }

  /**
   * Holes the chart would show from `from` on: consecutive points more than 2.5 intervals
   * apart, where the live chart breaks its line (a late tick is not a hole).
   */
  function gapsSince(points: [number, number][], from: number): [number, number][] {
    const times = points.map(([t]) => t).filter((t) => t >= from);
    const gaps: [number, number][] = [];
    for (let i = 1; i < times.length; i += 1) {
      if (times[i]! - times[i - 1]! > 2.5 * INTERVAL_MS) gaps.push([times[i - 1]!, times[i]!]);
    }
    return gaps;
  }

  /**
   * Waits until the page's live window holds a point of `series` newer than `after` (epoch ms):
   * the stream delivers again, and what a reconnect's resume fills has arrived before it.
   */
  async function waitForPointAfter(series: string, after: number, timeout = 15_000) {
    await page.waitForFunction(
      ({ name, after }) =>
        (window.livestat.metrics.series.get(name)?.toPoints().at(-1)?.[0] ?? 0) > after,
      { name: series, after },
      { timeout, polling: 100 },
    );
  }

  /** Waits until every panel shows a measured figure, not a dash. */
  async function waitForFigures(target: Page, timeout: number) {
    await target.waitForFunction(
      (names) =>
        names.every((name) =>
          [...document.querySelectorAll(`[data-panel="${name}"] [data-value]`)].some(
            (el) => (el.textContent ?? '').trim() !== '' && el.textContent?.trim() !== '—',
          ),
        ),
      PANELS,
      { timeout },
    );
  }

  async function session(): Promise<string> {
    return page.evaluate(() => localStorage.getItem('livestat.session') ?? '');
  }

  beforeAll(async () => {
    proxy = await startTcpProxy({ targetHost: '127.0.0.1', targetPort: suite.api.port });
    suite.cleanup(() => proxy.close());
    base = `http://127.0.0.1:${proxy.port}`;
    context = await suite.browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    watchConsole(page);
  }, 60_000);

  it('sends a visitor to the login page, logs in, and fills six panels within 3 s', async () => {
    await page.goto(`${base}/`);
    await page.waitForURL(/\/login/);
    await page.fill('#login-username', 'admin');
    await page.fill('#login-password', suite.password);
    await page.click('button[type=submit]');
    await page.waitForURL((url) => url.pathname === '/');
    await waitForFigures(page, 3000);
    expect(await page.textContent(BADGE)).toBe('Connected');
    for (const name of PANELS) {
      expect(await page.locator(`[data-panel="${name}"] .chart canvas`).count(), name).toBe(1);
    }
  }, 30_000);

  it('shows why the perf panel has no hardware counters, as the server says', async () => {
    const latest = await page.evaluate(
      async (raw) => {
        const { token } = JSON.parse(raw) as { token: string };
        const res = await fetch('/api/snapshots/latest', {
          headers: { authorization: `Bearer ${token}` },
        });
        return (await res.json()) as {
          snapshots: {
            perf: { hardwareAvailable?: boolean; hardwareUnavailableReason?: string };
          }[];
        };
      },
      await session(),
    );
    const perf = latest.snapshots[0]!.perf;
    if (perf.hardwareAvailable === false) {
      expect(await page.textContent('[data-testid="perf-hw-unavailable"]')).toBe(
        `Hardware performance counters unavailable — ${perf.hardwareUnavailableReason}`,
      );
    } else {
      // A machine with a PMU: the IPC figure instead of the notice.
      expect(await page.getByTestId('perf-hw-unavailable').count()).toBe(0);
    }
  });

  it('keeps the chart whole across a lost connection: countdown, then Connected, no gap', async () => {
    // A few seconds of live data before the outage, so the chart has a line to keep whole.
    await page.waitForFunction(
      (spanMs) => {
        const points = window.livestat.metrics.series.get('cpu.usagePercent')?.toPoints() ?? [];
        return points.length > 0 && points[0]![0] <= Date.now() - spanMs;
      },
      3000,
      { timeout: 15_000, polling: 100 },
    );
    const before = Date.now();
    expectingNetworkErrors = true;
    await proxy.down('refuse');
    await waitForText(page, BADGE, /^Reconnecting in \d+ s — attempt \d+\/10$/, 10_000);
    // The last data stays on screen, marked stale.
    await page.waitForSelector('.panels.stale', { timeout: 5000 });
    // The outage is the scenario: five seconds of samples the page never saw live.
    await page.waitForTimeout(5000);
    await proxy.up();
    await waitForText(page, BADGE, /^Connected$/, 40_000);
    const connectedAt = Date.now();
    expectingNetworkErrors = false;
    await waitForPointAfter('cpu.usagePercent', connectedAt + INTERVAL_MS);
    const points = await livePoints('cpu.usagePercent');
    // resume filled the outage: one point a second from before it until now.
    expect(points.at(-1)![0]).toBeGreaterThan(Date.now() - 3000);
    expect(gapsSince(points, before - 2000)).toEqual([]);
  }, 90_000);

  it('reconnects by itself when the API is stopped and started again', async () => {
    const port = suite.api.port;
    expectingNetworkErrors = true;
    const stoppedAt = Date.now();
    expect(await suite.api.stop()).toBe(0);
    await waitForText(page, BADGE, /^Reconnecting in \d+ s — attempt \d+\/10$/, 10_000);
    await suite.startApi({ port });
    const restartedAt = Date.now();
    await waitForText(page, BADGE, /^Connected$/, 45_000);
    const connectedAt = Date.now();
    expectingNetworkErrors = false;
    await waitForPointAfter('cpu.usagePercent', connectedAt + INTERVAL_MS);
    const points = await livePoints('cpu.usagePercent');
    // Data from before the stop is still on screen, new data arrives, and the only hole is
    // the time no API was sampling.
    expect(points.some(([t]) => t < stoppedAt - 2000)).toBe(true);
    expect(points.at(-1)![0]).toBeGreaterThan(Date.now() - 3000);
    const outside = gapsSince(points, stoppedAt - 60_000)
      .filter(
        ([from, to]) => from < stoppedAt - 3 * INTERVAL_MS || to > restartedAt + 3 * INTERVAL_MS,
      )
      .map(([from, to]) => `${new Date(from).toISOString()} → ${new Date(to).toISOString()}`);
    expect(
      outside,
      `stopped ${new Date(stoppedAt).toISOString()}, restarted ${new Date(restartedAt).toISOString()}`,
    ).toEqual([]);
  }, 150_000);

  it('opens the history view and downloads what it shows as CSV', async () => {
    await page.getByRole('link', { name: 'History' }).click();
    await page.waitForURL(/\/history/);
    await page.locator('[data-view="history"] .chart canvas').first().waitFor({ timeout: 10_000 });
    await page.click('[data-preset="1h"]');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.click('[data-action="csv"]'),
    ]);
    const file = await download.path();
    const { readFile } = await import('node:fs/promises');
    const csv = await readFile(file, 'utf8');
    expect(csv.split(/\r?\n/)[0]).toMatch(/^time,/);
    expect(csv.split(/\r?\n/).filter(Boolean).length).toBeGreaterThan(1);
    await page.getByRole('link', { name: 'Live' }).click();
    await page.waitForURL((url) => url.pathname === '/');
  }, 60_000);

  it('fits 375 px with no sideways scroll, in light and dark', async () => {
    const narrow = await suite.browser.newContext({
      viewport: { width: 375, height: 812 },
      deviceScaleFactor: 2,
    });
    const raw = await session();
    await narrow.addInitScript((value) => localStorage.setItem('livestat.session', value), raw);
    const phone = await narrow.newPage();
    watchConsole(phone);
    try {
      for (const scheme of ['light', 'dark'] as const) {
        await phone.emulateMedia({ colorScheme: scheme });
        await phone.goto(`${base}/`);
        await phone.locator('[data-panel="cpu"] .chart canvas').waitFor();
        await waitForFigures(phone, 10_000);
        // The live window filled from the server's ring: the charts have their lines.
        await phone.waitForFunction(
          () => {
            const { metrics } = window.livestat;
            return (
              !metrics.backfilling && (metrics.series.get('cpu.usagePercent')?.length ?? 0) >= 10
            );
          },
          undefined,
          { timeout: 15_000, polling: 100 },
        );
        const widths = await phone.evaluate(() => ({
          scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth,
        }));
        expect(widths.scroll, scheme).toBeLessThanOrEqual(widths.client);
        await phone.screenshot({
          path: path.join(SHOTS, `dashboard-375-${scheme}.png`),
          fullPage: true,
        });
      }
      const background = await phone.evaluate(
        () => getComputedStyle(document.body).backgroundColor,
      );
      expect(background).toBe('rgb(15, 20, 27)');
      // The toggle's choice wins over the system's dark scheme, and is kept.
      await phone.click('[data-theme-choice="light"]');
      const forced = () => phone.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(await forced()).toBe('rgb(245, 247, 250)');
      await phone.reload();
      expect(await forced()).toBe('rgb(245, 247, 250)');
      await phone.click('[data-theme-choice="system"]');
      expect(await forced()).toBe('rgb(15, 20, 27)');
      await phone.goto(`${base}/history`);
      await phone.locator('[data-view="history"] .chart').first().waitFor();
      const history = await phone.evaluate(
        () => document.documentElement.scrollWidth <= document.documentElement.clientWidth,
      );
      expect(history).toBe(true);
    } finally {
      await narrow.close();
    }
  }, 60_000);

  it('sends a bad or an expired token back to the login page with the reason', async () => {
    const user = { id: 1, username: 'admin', role: 'admin' };
    const now = Math.floor(Date.now() / 1000);
    const cases = [
      {
        token: signToken(
          { sub: '1', username: 'admin', role: 'admin', iat: now, exp: now + 3600 },
          'x'.repeat(40),
        ),
        // A kept session the server no longer honours says so, not a bare "failed".
        reason: 'Your saved session was invalid; please log in again',
      },
      {
        token: signToken(
          { sub: '1', username: 'admin', role: 'admin', iat: now - 7200, exp: now - 600 },
          suite.jwtSecret,
        ),
        reason: 'Session expired',
      },
    ];
    for (const { token, reason } of cases) {
      const fresh = await suite.browser.newContext();
      // The stored session claims an hour left: only the server can tell it is no good.
      const stored = JSON.stringify({
        token,
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        user,
      });
      await fresh.addInitScript((value) => {
        if (!sessionStorage.getItem('seeded')) {
          sessionStorage.setItem('seeded', '1');
          localStorage.setItem('livestat.session', value);
        }
      }, stored);
      const tab = await fresh.newPage();
      try {
        await tab.goto(`${base}/`);
        await tab.waitForURL(/\/login/, { timeout: 10_000 });
        await waitForText(tab, '#login-reason', new RegExp(`^${reason}$`), 10_000);
        expect(await tab.evaluate(() => localStorage.getItem('livestat.session'))).toBeNull();
      } finally {
        await fresh.close();
      }
    }
  }, 60_000);

  it('logged no console errors outside the deliberate outages', () => {
    expect(errors).toEqual([]);
  });
});
