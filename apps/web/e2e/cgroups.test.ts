import path from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, expect, it } from 'vitest';
import { SHOTS, collectErrors, describeInBrowser, useBrowserSuite } from './harness';

const PANEL = '[data-panel="cgroups"]';

describeInBrowser(
  'Containers & services and pressure in Chromium, from the real collectors',
  () => {
    const suite = useBrowserSuite({ name: 'cgroups', api: {} });
    let page: Page;
    const errors: string[] = [];

    /** The rows the table shows, and the cgroups the page's latest snapshot carries, at once. */
    function shownAndCarried(): Promise<{ shown: string[]; carried: string[]; total: number }> {
      return page.evaluate(() => {
        const snapshot = window.livestat.metrics.selectedSnapshot as unknown as {
          cgroups: { total: number; groups: Record<string, unknown> };
        };
        return {
          shown: [...document.querySelectorAll('[data-panel="cgroups"] tbody tr')].map(
            (row) => row.getAttribute('data-cgroup') ?? '',
          ),
          carried: Object.keys(snapshot.cgroups.groups),
          total: snapshot.cgroups.total,
        };
      });
    }

    beforeAll(async () => {
      page = await (
        await suite.browser.newContext({ viewport: { width: 1280, height: 900 } })
      ).newPage();
      collectErrors(page, errors);
      await suite.logIn(page);
    }, 60_000);

    it('shows the pressure line on the CPU panel', async () => {
      const line = page.locator('[data-panel="cpu"] [data-testid="pressure-line"]');
      await line.waitFor({ timeout: 10_000 });
      expect(await line.isVisible()).toBe(true);
      expect((await line.locator('.value').textContent())?.trim()).toMatch(
        /^some \d+\.\d\d \/ \d+\.\d\d %( · full \d+\.\d\d \/ \d+\.\d\d %)?$/,
      );
      expect(await line.locator('abbr').getAttribute('title')).toContain('waiting for a CPU');
    }, 30_000);

    it("lists this machine's cgroups from the snapshot, busiest first", async () => {
      await page.locator(`${PANEL} tbody tr`).first().waitFor({ timeout: 10_000 });
      const { shown, carried, total } = await shownAndCarried();
      expect(shown.length).toBe(Math.min(10, carried.length));
      for (const name of shown) expect(carried).toContain(name);
      // Whatever this machine runs in its cgroups (its own sandbox's, at least), it is listed.
      expect(carried.length).toBeGreaterThan(0);
      expect(await page.textContent(`${PANEL} [data-testid="cgroups-total"]`)).toContain(
        `${total} found`,
      );
      const cpu = await page.$$eval(`${PANEL} tbody td[data-col="cpu"]`, (cells) =>
        cells.map((cell) => Number.parseFloat(cell.textContent ?? '')),
      );
      expect(cpu).toEqual([...cpu].sort((a, b) => b - a));
      await page.locator(PANEL).screenshot({ path: path.join(SHOTS, 'cgroups-panel-1280.png') });
    }, 30_000);

    it("opens a cgroup's live chart and its last week in History", async () => {
      const { shown } = await shownAndCarried();
      const name = shown[0]!;
      await page.click(`${PANEL} tbody tr[data-cgroup="${name}"] .row-name`);
      const detail = page.locator(`${PANEL} [data-testid="cgroup-detail"]`);
      expect(await detail.getAttribute('data-cgroup')).toBe(name);
      await detail.locator('.chart canvas').waitFor({ timeout: 10_000 });
      // The live window holds the cgroup's series: the chart has a line to draw.
      await page.waitForFunction(
        (path) => (window.livestat.metrics.series.get(path)?.length ?? 0) >= 2,
        `cgroups.groups.${name}.cpuPercent`,
        { timeout: 10_000, polling: 100 },
      );
      await page.screenshot({ path: path.join(SHOTS, 'cgroups-detail-1280.png'), fullPage: true });
      // The dashboard with the panel and a cgroup's charts open logs nothing amiss.
      expect(errors).toEqual([]);

      const history = page.waitForRequest((request) => request.url().includes('/api/history'));
      await detail.locator('[data-testid="cgroup-history-link"]').click();
      await page.waitForURL((url) => url.pathname === '/history');
      const asked = new URL((await history).url()).searchParams;
      expect(asked.getAll('series')).toEqual([
        `cgroups.groups.${name}.cpuPercent`,
        `cgroups.groups.${name}.memoryBytes`,
      ]);
      const days = (Number(asked.get('to')) - Number(asked.get('from'))) / 86_400_000;
      expect(days).toBeCloseTo(7, 5);
      expect(await page.getAttribute('[data-preset="7d"]', 'aria-pressed')).toBe('true');
      await page.locator('[data-view="history"] .history-chart').nth(1).waitFor();
    }, 60_000);

    it('fits 375 px, light and dark', async () => {
      const phone = await suite.browser.newPage({ viewport: { width: 375, height: 812 } });
      const raw = await page.evaluate(() => localStorage.getItem('livestat.session') ?? '');
      await phone.addInitScript((value) => localStorage.setItem('livestat.session', value), raw);
      for (const scheme of ['light', 'dark'] as const) {
        await phone.emulateMedia({ colorScheme: scheme });
        await phone.goto(`${suite.api.url}/`);
        await phone.locator(`${PANEL} tbody tr`).first().waitFor({ timeout: 10_000 });
        await phone.locator(`${PANEL} tbody tr .row-name`).first().click();
        await phone.locator(`${PANEL} [data-testid="cgroup-detail"] .chart canvas`).waitFor();
        const widths = await phone.evaluate(() => ({
          scroll: document.documentElement.scrollWidth,
          client: document.documentElement.clientWidth,
        }));
        expect(widths.scroll, scheme).toBeLessThanOrEqual(widths.client);
        await phone
          .locator(PANEL)
          .screenshot({ path: path.join(SHOTS, `cgroups-375-${scheme}.png`) });
        await phone
          .locator('[data-panel="cpu"]')
          .screenshot({ path: path.join(SHOTS, `pressure-cpu-375-${scheme}.png`) });
      }
      await phone.close();
    }, 90_000);
  },
);
