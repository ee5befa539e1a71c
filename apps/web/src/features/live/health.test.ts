import type { HealthResponse } from '@livestat/contracts';
import { describe, expect, it, vi } from 'vitest';
import { HEALTH_URL, checkHealth } from './health';

const healthy: HealthResponse = {
  status: 'ok',
  version: '0.1.0',
  host: 'box-1',
  uptimeSeconds: 7500,
  database: 'up',
  redis: 'not_configured',
  websocketConnections: 2,
  sampler: { seq: 42, lastSnapshotAt: '2025-01-01T00:00:00.000Z' },
};

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json' },
  });

describe('checkHealth', () => {
  it('returns the validated body of a healthy API', async () => {
    const fetch = vi.fn(async () => json(healthy));
    const result = await checkHealth({ fetch });
    expect(result).toEqual({ kind: 'ok', health: healthy });
    expect(fetch).toHaveBeenCalledWith(HEALTH_URL, expect.objectContaining({ cache: 'no-store' }));
  });

  it('treats a 503 with a valid degraded body as data, not an outage', async () => {
    const degraded = { ...healthy, status: 'degraded', database: 'down' } as const;
    const result = await checkHealth({ fetch: async () => json(degraded, 503) });
    expect(result).toEqual({ kind: 'ok', health: degraded });
  });

  it('reports a proxy error status without a health body as unreachable', async () => {
    const result = await checkHealth({ fetch: async () => new Response('', { status: 500 }) });
    expect(result).toEqual({ kind: 'unreachable', reason: 'HTTP 500' });
  });

  it('reports a network failure as unreachable with its message', async () => {
    const result = await checkHealth({
      fetch: async () => {
        throw new TypeError('fetch failed');
      },
    });
    expect(result).toEqual({ kind: 'unreachable', reason: 'fetch failed' });
  });

  it('reports a 200 that is not a health body as invalid, naming the field', async () => {
    const result = await checkHealth({
      fetch: async () => json({ ...healthy, uptimeSeconds: -1 }),
    });
    expect(result).toEqual({
      kind: 'invalid',
      reason: 'unexpected health answer at uptimeSeconds',
    });
    const html = await checkHealth({ fetch: async () => new Response('<!doctype html>') });
    expect(html).toEqual({ kind: 'invalid', reason: 'unexpected health answer' });
  });

  it('gives up after the timeout', async () => {
    const hang = (_url: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () =>
          reject(new DOMException('aborted', 'AbortError')),
        );
      });
    const result = await checkHealth({ fetch: hang, timeoutMs: 10 });
    expect(result).toEqual({ kind: 'unreachable', reason: 'no answer within 10 ms' });
  });

  it('passes the caller abort through to the request', async () => {
    const owner = new AbortController();
    let seen: AbortSignal | undefined;
    const pending = checkHealth({
      signal: owner.signal,
      fetch: (_url, init) =>
        new Promise<Response>((_resolve, reject) => {
          seen = init?.signal ?? undefined;
          seen?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        }),
    });
    owner.abort();
    expect(await pending).toEqual({ kind: 'unreachable', reason: 'request aborted' });
    expect(seen?.aborted).toBe(true);
  });
});
