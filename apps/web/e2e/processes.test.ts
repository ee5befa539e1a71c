import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { symlink } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { SHOTS, collectErrors, itInBrowser, useBrowserSuite } from './harness';

/** How long the spike burns a core: several samples, a clear bump on the CPU chart. */
const SPIKE_MS = 8000;

const suite = useBrowserSuite({ name: 'processes', api: {} });
let spike: ChildProcess | undefined;
suite.cleanup(() => spike?.kill('SIGKILL'));

/**
 * Starts a process that burns one core for {@link SPIKE_MS} under a name nothing else has: Node
 * run through a link named `livestat-<6 hex>` (15 characters, all of `comm`), since the kernel
 * names a process after the file it executed.
 */
async function startSpike(): Promise<{ name: string; done: Promise<void> }> {
  const name = `livestat-${randomBytes(3).toString('hex')}`;
  const link = path.join(suite.dataDir, name);
  await symlink(process.execPath, link);
  const loop = `const end = Date.now() + ${SPIKE_MS}; while (Date.now() < end) {}`;
  spike = spawn(link, ['-e', loop], { stdio: 'ignore' });
  const done = new Promise<void>((resolve) => spike!.on('close', () => resolve()));
  return { name, done };
}

itInBrowser(
  'finds a CPU spike live in the Processes panel, then by brushing it in History',
  async () => {
    const context = await suite.browser.newContext({
      viewport: { width: 1280, height: 900 },
      locale: 'en-US',
    });
    const page = await context.newPage();
    const errors: string[] = [];
    collectErrors(page, errors);
    await suite.logIn(page);
    const panel = page.locator('[data-panel="processes"]');
    await panel.locator('tr.process').first().waitFor({ timeout: 15_000 });

    const { name, done } = await startSpike();
    const started = Date.now();
    // Live: the filter finds it among every process, burning CPU (how much of a core depends on
    // what else this machine runs).
    await panel.locator('input[name="process-filter"]').fill(name);
    const row = panel.locator('tr.process', { hasText: name });
    await row.waitFor({ timeout: 10_000 });
    await expect
      .poll(async () => parseFloat((await row.locator('[data-cell="cpu"]').textContent()) ?? ''), {
        timeout: 10_000,
      })
      .toBeGreaterThan(0);
    expect(await row.getAttribute('title')).toContain(name);
    await panel.screenshot({ path: path.join(SHOTS, 'processes-live-1280.png') });

    await done;
    // A few more samples after it ended, so the spike is whole in storage.
    await page.waitForTimeout(3000);
    const ended = Date.now();

    // History: the last hour, drawn from where the data starts (the API started a minute ago),
    // and a drag across the spike, placed by its times on the chart's time axis.
    await page.click('a[href="/history"]');
    const chart = page.locator('.history-chart[data-group="cpu"] .plot');
    await chart.locator('canvas').first().waitFor({ timeout: 15_000 });
    await page.waitForFunction(
      () => / – .* · /.test(document.querySelector('.history .status')?.textContent ?? ''),
      undefined,
      { timeout: 15_000 },
    );
    // The range the charts show, as the status line says it (in the page's own locale).
    const shown = await page.evaluate(() => {
      const text = document.querySelector('.history .status')?.textContent ?? '';
      const [from = '', rest = ''] = text.trim().split(' – ');
      return { from: Date.parse(from), to: Date.parse(rest.split(' · ')[0] ?? '') };
    });
    expect(shown.to).toBeGreaterThan(shown.from);
    await chart.scrollIntoViewIfNeeded();
    await page.waitForTimeout(500);
    const box = (await chart.boundingBox())!;
    // The plot area: the y labels on the left, half a time label of room on the right.
    const grid = { left: box.x + 40, right: box.x + box.width - 20 };
    const xOf = (time: number) =>
      grid.left + ((time - shown.from) / (shown.to - shown.from)) * (grid.right - grid.left);
    const y = box.y + box.height / 2;
    await page.mouse.move(Math.max(grid.left, xOf(started) - 6), y);
    await page.mouse.down();
    await page.mouse.move(Math.min(grid.right, xOf(ended) + 6), y, { steps: 8 });
    await page.mouse.up();

    const top = page.getByTestId('top-processes');
    try {
      await top.locator('li', { hasText: name }).waitFor({ timeout: 15_000 });
    } catch (error) {
      await page.screenshot({ path: path.join(SHOTS, 'processes-history-failed.png') });
      const seen = await top.textContent().catch(() => null);
      throw new Error(`${name} not in the top processes (saw: ${seen})`, { cause: error });
    }
    const names = await top.locator('li .name').allTextContents();
    expect(names).toContain(name);
    // Long command lines are cut, never widening the page.
    const sideways = () =>
      page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
    expect(await sideways()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'processes-history-1280.png'), fullPage: true });

    // A phone: the same panel, its columns folded, the command line a tap away.
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${suite.api.url}/`);
    await panel.locator('tr.process').first().waitFor({ timeout: 15_000 });
    await panel.locator('tr.process').first().click();
    await panel.locator('tr.details').first().waitFor();
    expect(await panel.locator('th.col-pid').isVisible()).toBe(false);
    await panel.screenshot({ path: path.join(SHOTS, 'processes-live-375.png') });
    expect(await sideways()).toBe(0);

    expect(errors).toEqual([]);
    await context.close();
  },
  120_000,
);
