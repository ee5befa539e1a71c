import { healthResponse } from '@livestat/contracts';
import { describe, expect, it } from 'vitest';
import { runTs, spawnTs } from './process.js';

describe('the API process', () => {
  it('starts, answers /api/health, and exits 0 on SIGTERM', async () => {
    const child = spawnTs('src/main.ts', [], {
      PORT: '0',
      METRICS_HOST_NAME: 'main-test',
      SAMPLING_INTERVAL_SECONDS: '0.2',
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line in:\n${stdout}`)), 20_000);
      child.stdout.on('data', () => {
        const match = /"url":"(http:\/\/[^"]+)"/.exec(stdout);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
    });
    try {
      // Let a few ticks happen so the health shows the sampler running.
      await new Promise((r) => setTimeout(r, 700));
      const res = await fetch(`${url}/api/health`);
      expect(res.status).toBe(200);
      const health = healthResponse.parse(await res.json());
      expect(health.host).toBe('main-test');
      expect(health.status).toBe('ok');
      expect(health.sampler.seq).toBeGreaterThanOrEqual(2);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stdout).toContain('shutdown complete');
  }, 40_000);

  it('refuses to start on a bad variable, naming it', async () => {
    const { code, stderr } = await runTs('src/main.ts', [], { SAMPLING_INTERVAL_SECONDS: 'often' });
    expect(code).toBe(1);
    expect(stderr).toContain('SAMPLING_INTERVAL_SECONDS must be a number');
  }, 30_000);
});
