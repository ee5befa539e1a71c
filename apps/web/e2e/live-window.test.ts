import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import {
  flattenSeries,
  serverMessage,
  type SeriesSection,
  type Snapshot,
} from '@livestat/contracts';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { WebSocket } from 'ws';
import { chartedNames, chartedPaths } from '../src/features/live/panels/charted';
import { SHOTS, collectErrors, itInBrowser, useBrowserSuite, type ApiProcess } from './harness';

const INTERVAL_MS = 500;
/** How long after the API starts the page opens: the window must already hold all of it. */
const OPEN_AFTER_MS = 30_000;

/** Every snapshot the API holds for `host` since it started, as its socket's `resume` sends them. */
async function streamedSnapshots(api: ApiProcess, token: string, host: string, upTo: number) {
  const ws = new WebSocket(`ws://127.0.0.1:${api.port}/api/ws/metrics?token=${token}`);
  const snapshots: Snapshot[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      ws.on('error', reject);
      // The latest snapshot and the host list come first; the resume is asked after them.
      let resumed = false;
      ws.on('message', (data: Buffer) => {
        const message = serverMessage.parse(JSON.parse(data.toString()));
        if (message.type === 'hosts' && !resumed) {
          resumed = true;
          ws.send(JSON.stringify({ type: 'resume', host, after: new Date(0).toISOString() }));
        }
        if (!resumed || message.type !== 'snapshot' || message.host !== host) return;
        snapshots.push(message);
        if (Date.parse(message.timestamp) >= upTo) resolve();
      });
    });
  } finally {
    ws.close();
  }
  // Live snapshots may come before the resume's: keep each time once, in order.
  const byTime = new Map(snapshots.map((s) => [Date.parse(s.timestamp), s]));
  return [...byTime.entries()].sort(([a], [b]) => a - b).map(([, s]) => s);
}

/** Busy-loops `count` child processes for `ms`: a CPU spike the page has not seen yet. */
function cpuSpike(count: number, ms: number): Promise<void> {
  const loop = `const end = Date.now() + ${ms}; while (Date.now() < end) {}`;
  const children = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', loop], { stdio: 'ignore' }),
  );
  return Promise.all(
    children.map((child) => new Promise<void>((resolve) => child.on('close', () => resolve()))),
  ).then(() => undefined);
}

// The API starts in the test: how long it ran before the page opened is the scenario.
const suite = useBrowserSuite({ name: 'live-window' });

itInBrowser(
  'opened 30 s after the API started, the live window holds every snapshot since, spike included',
  async () => {
    const api = await suite.startApi({
      // The batch writer's default rhythm: a flush every ten snapshots, not every second.
      env: { SAMPLING_INTERVAL_SECONDS: String(INTERVAL_MS / 1000), FLUSH_INTERVAL_SECONDS: '30' },
    });
    const startedAt = Date.now();
    // A spike well before the page opens, one core left for the sampler. The waits are the
    // scenario: the page opens OPEN_AFTER_MS after start, whatever the API is doing.
    await new Promise((resolve) => setTimeout(resolve, OPEN_AFTER_MS - 12_000));
    const spikeFrom = Date.now();
    await cpuSpike(Math.max(1, os.cpus().length - 1), 2500);
    const spikeTo = Date.now();
    await new Promise((resolve) => setTimeout(resolve, startedAt + OPEN_AFTER_MS - Date.now()));

    const page: Page = await (
      await suite.browser.newContext({ viewport: { width: 1440, height: 1000 } })
    ).newPage();
    const errors: string[] = [];
    collectErrors(page, errors);
    await suite.logIn(page);
    // Filled: the window reaches back to the first snapshots, the resume has ended.
    await page.waitForFunction(
      (from) => {
        const { metrics } = window.livestat;
        const first = metrics.series.get('cpu.usagePercent')?.firstTime;
        return (
          metrics.connectionState === 'connected' && !metrics.backfilling && (first ?? from) < from
        );
      },
      startedAt + 5000,
      { timeout: 20_000, polling: 100 },
    );
    const openedAt = Date.now();

    // What the page holds, per series path: the times and values of its live window.
    const held = await page.evaluate(() => {
      const { metrics } = window.livestat;
      const out: Record<string, [number, number][]> = {};
      for (const name of metrics.series.paths()) out[name] = metrics.series.get(name)!.toPoints();
      return { host: metrics.selectedHost!, series: out };
    });
    const newest = Math.max(...held.series['cpu.usagePercent']!.map(([t]) => t));

    // What the API streamed, straight from its socket.
    const token = await page.evaluate(
      () =>
        (JSON.parse(localStorage.getItem('livestat.session') ?? '{}') as { token: string }).token,
    );
    const streamed = await streamedSnapshots(api, token, held.host, newest);
    const truth = streamed.filter((s) => Date.parse(s.timestamp) <= newest);
    expect(truth.length).toBeGreaterThan((OPEN_AFTER_MS / INTERVAL_MS) * 0.8);

    // Every line a panel charts holds every snapshot the API streamed before the page opened.
    const charted = chartedPaths(chartedNames(truth.at(-1)));
    const holes: string[] = [];
    for (const name of charted) {
      const times = new Set((held.series[name] ?? []).map(([t]) => t));
      const expected = truth.filter((s) => valueAt(s, name) !== undefined);
      const missing = expected.filter((s) => !times.has(Date.parse(s.timestamp)));
      if (missing.length > 0) holes.push(`${name}: ${missing.length} of ${expected.length}`);
    }
    expect(holes).toEqual([]);
    // No series has a hole longer than 1.5 intervals, but where the sampler itself skipped one.
    const serverGaps = gaps(truth.map((s) => Date.parse(s.timestamp)));
    for (const name of charted) {
      const points = held.series[name] ?? [];
      const pageGaps = gaps(points.map(([t]) => t)).filter(
        ([from, to]) => !serverGaps.some(([a, b]) => a === from && b === to),
      );
      expect(pageGaps, name).toEqual([]);
    }

    // The spike keeps its peak: the page's values are the streamed ones, not an average.
    const during = truth.filter((s) => {
      const t = Date.parse(s.timestamp);
      return t >= spikeFrom && t <= spikeTo + INTERVAL_MS;
    });
    const peak = during.reduce((best, s) => (usage(s) > usage(best) ? s : best), during[0]!);
    expect(usage(peak)).toBeGreaterThan(40);
    const onPage = new Map(held.series['cpu.usagePercent']!);
    expect(onPage.get(Date.parse(peak.timestamp))).toBe(usage(peak));
    expect(Math.max(...onPage.values())).toBe(Math.max(...truth.map(usage)));
    expect(openedAt - startedAt).toBeGreaterThanOrEqual(OPEN_AFTER_MS);

    await page.screenshot({ path: path.join(SHOTS, 'live-window-after-30s.png'), fullPage: true });
    expect(errors).toEqual([]);
  },
  120_000,
);

const usage = (s: Snapshot) => (s.cpu.available ? s.cpu.usagePercent : Number.NaN);

function valueAt(snapshot: Snapshot, name: string): number | undefined {
  const section = name.slice(0, name.indexOf('.')) as SeriesSection;
  return flattenSeries(section, snapshot[section]).get(name);
}

/** Consecutive times more than 1.5 intervals apart. */
function gaps(times: number[]): [number, number][] {
  const sorted = [...times].sort((a, b) => a - b);
  const out: [number, number][] = [];
  for (let i = 1; i < sorted.length; i += 1) {
    if (sorted[i]! - sorted[i - 1]! > 1.5 * INTERVAL_MS) out.push([sorted[i - 1]!, sorted[i]!]);
  }
  return out;
}
