import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { SHOTS, collectErrors, describeInBrowser, useBrowserSuite } from './harness';

const SESSION_KEY = 'livestat.session';
const SCHEMES = ['light', 'dark'] as const;

describeInBrowser('the first minutes after a first start, in Chromium', () => {
  // The API starts below, once the build and the browser are there: its start is the scenario's.
  const suite = useBrowserSuite({ name: 'first-start' });
  let startedAt = 0;
  /** The stored session after one login, handed to every context after it. */
  let session = '';
  const errors: string[] = [];

  async function open(width: number, scheme: 'light' | 'dark'): Promise<BrowserContext> {
    const context = await suite.browser.newContext({
      viewport: { width, height: width < 500 ? 812 : 900 },
      deviceScaleFactor: width < 500 ? 2 : 1,
      colorScheme: scheme,
    });
    await context.addInitScript(
      ([key, value]) => localStorage.setItem(key!, value!),
      [SESSION_KEY, session],
    );
    return context;
  }

  const watch = (page: Page) => collectErrors(page, errors);

  /** The dashboard with every panel showing a figure. */
  async function dashboard(page: Page): Promise<void> {
    await page.goto(`${suite.api.url}/`);
    await page.waitForFunction(
      () =>
        document.querySelectorAll('[data-panel] .chart canvas').length === 6 &&
        [...document.querySelectorAll('[data-panel="disk"] [data-value]')].some(
          (el) => (el.textContent ?? '').trim() !== '—',
        ),
      undefined,
      { timeout: 15_000 },
    );
    // Two more ticks land, so the charts have drawn at their laid-out size.
    for (let i = 0; i < 2; i += 1) {
      const before = await page.textContent('.tagline');
      await page.waitForFunction(
        (text) => document.querySelector('.tagline')?.textContent !== text,
        before,
      );
    }
    // A chart off screen is not redrawn until it scrolls into view: bring each one in once,
    // so a full-page screenshot shows every chart as a user scrolling down sees it.
    for (const panel of await page.locator('[data-panel]').all()) {
      await panel.scrollIntoViewIfNeeded();
      await page.evaluate(
        () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))),
      );
    }
    await page.evaluate(() => window.scrollTo(0, 0));
  }

  /** The History view with its charts drawn. */
  async function history(page: Page): Promise<void> {
    await page.goto(`${suite.api.url}/history`);
    await page.waitForSelector('[data-testid="collecting-since"]', { timeout: 15_000 });
    await page.locator('[data-view="history"] .history-chart canvas').first().waitFor();
  }

  beforeAll(async () => {
    startedAt = Date.now();
    await suite.startApi();
    const context = await suite.browser.newContext();
    const page = await context.newPage();
    watch(page);
    await suite.logIn(page);
    session = await page.evaluate((key) => localStorage.getItem(key) ?? '', SESSION_KEY);
    await context.close();
  }, 180_000);

  it('History says since when it collects, and draws the few buckets it has', async () => {
    const context = await open(1440, 'light');
    const page = await context.newPage();
    watch(page);
    try {
      await history(page);
      const text = (await page.textContent('[data-testid="collecting-since"]'))!.trim();
      const match = /^Collecting since (\d{2}):(\d{2})/.exec(text);
      expect(match, text).not.toBeNull();
      // The minute the API started, on the page's clock (the browser runs in this machine's zone).
      const start = new Date(startedAt);
      const minutes = Number(match![1]) * 60 + Number(match![2]);
      const expected = start.getHours() * 60 + start.getMinutes();
      const apart = Math.abs(minutes - expected);
      // Either side of midnight counts as a minute apart too.
      expect(Math.min(apart, 24 * 60 - apart)).toBeLessThanOrEqual(1);
      // Every chart of a series this machine has draws something: no "No data" over it.
      const empty = await page.locator('.history-chart .no-data').count();
      expect(empty).toBe(0);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('leaves out of the default charts the series this machine cannot measure, saying why', async () => {
    const context = await open(1440, 'light');
    const page = await context.newPage();
    try {
      await history(page);
      const latest = await page.evaluate(async (key) => {
        const { token } = JSON.parse(localStorage.getItem(key) ?? '{}') as { token: string };
        const res = await fetch('/api/snapshots/latest', {
          headers: { authorization: `Bearer ${token}` },
        });
        return (await res.json()) as {
          snapshots: { perf: { available: boolean; hardwareAvailable?: boolean } }[];
        };
      }, SESSION_KEY);
      const perf = latest.snapshots[0]!.perf;
      const ipc = page.locator('input[data-group="ipc"]');
      if (perf.available && perf.hardwareAvailable) {
        expect(await ipc.isChecked()).toBe(true);
      } else {
        // No PMU here (most VMs and containers): IPC is offered, unchecked, with the reason.
        expect(await ipc.isChecked()).toBe(false);
        const why = await page.textContent('[data-unavailable~="ipc"]');
        expect(why?.trim()).toMatch(/\S/);
        expect(await page.locator('.history-chart[data-group="ipc"]').count()).toBe(0);
      }
    } finally {
      await context.close();
    }
  }, 60_000);

  it('fills the wide screen with no large empty card, and takes the screenshots', async () => {
    for (const scheme of SCHEMES) {
      const context = await open(1440, scheme);
      const page = await context.newPage();
      watch(page);
      try {
        await dashboard(page);
        await page.screenshot({
          path: path.join(SHOTS, `first-start-dashboard-1440-${scheme}.png`),
          fullPage: true,
        });
        // In a row of cards no card is mostly empty: its content reaches near its bottom.
        const slack = await page.evaluate(() =>
          [...document.querySelectorAll<HTMLElement>('[data-panel]')].map((panel) => {
            const box = panel.getBoundingClientRect();
            const bottom = Math.max(
              ...[...panel.children].map((child) => child.getBoundingClientRect().bottom),
            );
            return { panel: panel.dataset.panel, empty: Math.round(box.bottom - bottom) };
          }),
        );
        for (const { panel, empty } of slack) {
          expect(empty, `${panel} card: ${empty} px empty at its bottom`).toBeLessThan(120);
        }
        await history(page);
        await page.screenshot({
          path: path.join(SHOTS, `first-start-history-1440-${scheme}.png`),
          fullPage: true,
        });
      } finally {
        await context.close();
      }
    }
  }, 90_000);

  it('fits 375 px: tables scroll inside their card, with a cue, and the page does not', async () => {
    for (const scheme of SCHEMES) {
      const context = await open(375, scheme);
      const page = await context.newPage();
      watch(page);
      try {
        await dashboard(page);
        await page.screenshot({
          path: path.join(SHOTS, `first-start-dashboard-375-${scheme}.png`),
          fullPage: true,
        });
        const layout = await page.evaluate(() => ({
          page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
          tables: [...document.querySelectorAll<HTMLElement>('.table-wrap')].map((wrap) => ({
            overflow: getComputedStyle(wrap).overflowX,
            // The edge shadows: covers that scroll with the table over shadows that do not.
            cue: getComputedStyle(wrap).backgroundAttachment,
          })),
        }));
        expect(layout.page).toBeLessThanOrEqual(0);
        expect(layout.tables.length).toBeGreaterThan(0);
        for (const table of layout.tables) {
          expect(table.overflow).toBe('auto');
          expect(table.cue).toBe('local, local, scroll, scroll');
        }
        await history(page);
        const sideways = await page.evaluate(
          () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
        );
        expect(sideways).toBeLessThanOrEqual(0);
        await page.screenshot({
          path: path.join(SHOTS, `first-start-history-375-${scheme}.png`),
          fullPage: true,
        });
      } finally {
        await context.close();
      }
    }
  }, 90_000);

  it('logged no console errors', () => {
    expect(errors).toEqual([]);
  });
});
