import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { healthResponse, type HealthResponse } from '@livestat/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from './process.js';

async function health(url: string): Promise<{ status: number; body: HealthResponse }> {
  const res = await fetch(`${url}/api/health`);
  return { status: res.status, body: healthResponse.parse(await res.json()) };
}

/** `pid` and every process below it: tsx runs the API in a node process of its own. */
function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map(Number);
  } catch {
    // ps exits 1 when there are none.
  }
  return [pid, ...children.flatMap(processTree)];
}

function signalTree(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  for (const member of processTree(pid)) process.kill(member, signal);
}

/** The value of an unlabelled sample in Prometheus text. */
function sample(text: string, name: string): number {
  const match = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!match?.[1]) throw new Error(`no ${name} in /metrics`);
  return Number(match[1]);
}

// A process frozen for a while (SIGSTOP: what a swap storm, a stopped VM or a blocking query
// on the main thread look like from inside) must come back saying so, not "ok".
describe('the API process reports its own stalls in /api/health and /metrics', () => {
  let dataDir: string;
  let api: Awaited<ReturnType<typeof startApi>>;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'livestat-health-'));
    api = await startApi({ DATA_DIR: dataDir, METRICS_HOST_NAME: 'health-process' });
  }, 60_000);
  afterAll(async () => {
    signalTree(api?.child.pid, 'SIGCONT');
    api?.child.kill('SIGTERM');
    await api?.exited;
    await rm(dataDir, { recursive: true, force: true });
  });

  it('reports the figures, then turns degraded with reasons after a 2.5 s freeze', async () => {
    await expect.poll(async () => (await health(api.url)).body.sampler.seq).toBeGreaterThan(2);
    const before = (await health(api.url)).body;
    expect(before.sampler.skippedTicksLastMinute).toEqual(expect.any(Number));
    expect(before.sampler.skippedTicksTotal).toEqual(expect.any(Number));
    expect(before.eventLoop).toEqual({ lagMs: expect.any(Number), maxLagMs: expect.any(Number) });
    expect(before.reasons).toEqual(expect.any(Array));

    signalTree(api.child.pid, 'SIGSTOP');
    // The freeze is the scenario: 2.5 s stopped, a dozen ticks missed.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    signalTree(api.child.pid, 'SIGCONT');
    // The sampler counts the slots it missed once its next tick ends (0.2 s interval).
    await expect
      .poll(async () => (await health(api.url)).body.sampler.skippedTicksTotal ?? 0, {
        timeout: 10_000,
      })
      .toBeGreaterThanOrEqual(5);

    const { status, body } = await health(api.url);
    expect(status).toBe(503);
    expect(body.status).toBe('degraded');
    expect(body.sampler.skippedTicksLastMinute).toBeGreaterThanOrEqual(5);
    expect(body.eventLoop?.maxLagMs).toBeGreaterThanOrEqual(2000);
    expect(body.reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^sampler skipped \d+ ticks in the last minute/),
        expect.stringMatching(/^event loop stalled for \d+\.\d s in the last minute$/),
      ]),
    );

    const metrics = await (await fetch(`${api.url}/metrics`)).text();
    expect(sample(metrics, 'livestat_event_loop_max_lag_seconds')).toBeGreaterThanOrEqual(2);
    expect(sample(metrics, 'livestat_sampler_skipped_ticks_last_minute')).toBeGreaterThanOrEqual(5);
    expect(sample(metrics, 'livestat_sampler_skipped_ticks_total')).toBe(
      body.sampler.skippedTicksTotal,
    );
  }, 60_000);
});
