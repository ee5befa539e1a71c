import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { AlertRule } from '@livestat/contracts';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { SHOTS, collectErrors, itInBrowser, useBrowserSuite } from './harness';

const RULE_NAME = 'CPU busy (browser test)';

/** Children that keep `count` cores busy until killed: the load the rule must notice. */
function busyChildren(count: number): ChildProcess[] {
  return Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  );
}

// The API starts in the test, after the suite's build and browser.
const suite = useBrowserSuite({ name: 'alerts' });
let busy: ChildProcess[] = [];
suite.cleanup(() => {
  for (const child of busy) child.kill('SIGKILL');
});

/** Resolves once the bell says at least one alert fires, with the count and colour it shows. */
async function firingBell(page: Page): Promise<{ count: number; severity: string }> {
  const bell = page.locator('[data-testid="alert-bell"]');
  await page.waitForFunction(
    () =>
      Number(document.querySelector('[data-testid="alert-bell"]')?.getAttribute('data-count')) > 0,
    undefined,
    { timeout: 60_000, polling: 200 },
  );
  return {
    count: Number(await bell.getAttribute('data-count')),
    severity: (await bell.getAttribute('data-severity')) ?? '',
  };
}

itInBrowser(
  'a busy CPU fires a rule: the bell counts it, Firing lists it, the CPU chart marks it',
  async () => {
    const api = await suite.startApi();
    const token = suite.adminToken;

    // The rule, made through the API as an admin would: CPU above 1 % for 2 s, critical.
    const created = await fetch(`${api.url}/api/alerts/rules`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        name: RULE_NAME,
        description: 'The CPU is busier than 1 % for two seconds.',
        series: 'cpu.usagePercent',
        hosts: [],
        comparison: '>',
        threshold: 1,
        forSeconds: 2,
        severity: 'critical',
        enabled: true,
      }),
    });
    expect(created.status).toBe(201);
    const { rule } = (await created.json()) as { rule: AlertRule };

    const page = await (
      await suite.browser.newContext({ viewport: { width: 1280, height: 900 } })
    ).newPage();
    const errors: string[] = [];
    collectErrors(page, errors);
    await suite.logIn(page);
    // One core left for the API and the browser.
    busy = busyChildren(Math.max(1, os.cpus().length - 1));

    const bell = await firingBell(page).catch(async (error: unknown) => {
      // What the API says, to tell a rule that never fired from a page that never heard.
      const active = await fetch(`${api.url}/api/alerts`, {
        headers: { authorization: `Bearer ${token}` },
      }).then((r) => r.text());
      throw new Error(`${String(error)}\nGET /api/alerts: ${active}\n${api.output().slice(-3000)}`);
    });
    expect(bell).toEqual({ count: 1, severity: 'critical' });
    expect(await page.getAttribute('[data-testid="alert-bell"]', 'aria-label')).toBe(
      '1 alert firing',
    );

    // The CPU chart marks the period, still open: one area on the chart of cpu.usagePercent.
    const cpuPlot = page.locator('[data-panel="cpu"] .plot');
    await page.waitForFunction(
      () =>
        Number(
          document.querySelector('[data-panel="cpu"] .plot')?.getAttribute('data-alert-areas'),
        ) >= 1,
      undefined,
      { timeout: 15_000, polling: 200 },
    );
    expect(await cpuPlot.getAttribute('aria-label')).toMatch(/1 alert period marked$/);
    // A chart of other series carries none.
    expect(await page.getAttribute('[data-panel="memory"] .plot', 'data-alert-areas')).toBe('0');
    // The 1-minute window, and a few more ticks, so the picture shows the area's width.
    await page.click('button:text-is("1 min")');
    await page.waitForTimeout(5000);
    await page.screenshot({ path: path.join(SHOTS, 'alerts-dashboard-1280.png') });

    // The bell leads to the Firing list, which names the rule and the host.
    await page.click('[data-testid="alert-bell"]');
    await page.waitForURL((url) => url.pathname === '/alerts');
    const row = page.locator(`[data-testid="firing-list"] tr[data-rule="${RULE_NAME}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-state')).toBe('firing');
    expect(await row.locator('td').nth(0).innerText()).toContain(RULE_NAME);
    expect(await row.locator('td').nth(3).innerText()).toMatch(/%\s*\/\s*1\.0 %/);
    // An admin may silence it.
    expect(await row.locator('[data-action="silence"]').count()).toBe(1);
    await page.screenshot({ path: path.join(SHOTS, 'alerts-firing-1280.png'), fullPage: true });

    // Rules: the rule with its sentence, editable by the admin.
    await page.click('[data-tab="rules"]');
    const ruleItem = page.locator(`[data-rule="${RULE_NAME}"]`);
    await ruleItem.waitFor();
    expect(await ruleItem.locator('.description').innerText()).toBe(
      'The CPU is busier than 1 % for two seconds.',
    );

    // At 375 px: the bell still shows its count, and nothing overflows the page.
    const phone = await (
      await suite.browser.newContext({
        viewport: { width: 375, height: 812 },
        deviceScaleFactor: 2,
      })
    ).newPage();
    collectErrors(phone, errors);
    await suite.logIn(phone);
    expect((await firingBell(phone)).count).toBe(1);
    expect(await phone.locator('[data-testid="alert-bell"]').isVisible()).toBe(true);
    await phone.waitForFunction(
      () =>
        Number(
          document.querySelector('[data-panel="cpu"] .plot')?.getAttribute('data-alert-areas'),
        ) >= 1,
      undefined,
      { timeout: 15_000, polling: 200 },
    );
    await phone.click('button:text-is("1 min")');
    await phone.waitForTimeout(3000);
    await phone.screenshot({ path: path.join(SHOTS, 'alerts-dashboard-375.png') });
    await phone.click('[data-testid="alert-bell"]');
    await phone.locator(`[data-testid="firing-list"] tr[data-rule="${RULE_NAME}"]`).waitFor();
    await phone.screenshot({ path: path.join(SHOTS, 'alerts-firing-375.png'), fullPage: true });
    // Nothing wider than the screen (a wide table scrolls in its own box); what sticks out, if
    // anything, named by tag and class.
    const layout = await phone.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
      out: [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .filter((el) => !el.closest('.table-wrap') || getComputedStyle(el).position === 'absolute')
        .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`),
    }));
    expect(layout.out).toEqual([]);
    expect(layout.scroll).toBeLessThanOrEqual(layout.client);

    // History lists the rule's way into firing.
    await page.click('[data-tab="history"]');
    const firedRow = page.locator('[data-testid="alert-history"] tr[data-to="firing"]').first();
    await firedRow.waitFor();
    expect(await firedRow.innerText()).toContain(RULE_NAME);

    // History marks the period on its CPU chart too.
    await page.click('a:text-is("History")');
    await page.waitForFunction(
      () =>
        Number(
          document
            .querySelector('.history-chart[data-group="cpu"]')
            ?.getAttribute('data-alert-areas'),
        ) >= 1,
      undefined,
      { timeout: 15_000, polling: 200 },
    );
    expect(await page.getAttribute('.history-chart[data-group="memory"]', 'data-alert-areas')).toBe(
      '0',
    );
    await page.screenshot({ path: path.join(SHOTS, 'alerts-history-1280.png') });

    for (const child of busy) child.kill('SIGKILL');
    busy = [];
    expect(rule.builtin).toBeNull();
    expect(errors).toEqual([]);
  },
  240_000,
);
