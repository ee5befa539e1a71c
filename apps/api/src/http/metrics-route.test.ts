import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServiceMetrics, type ServiceMetrics } from '../observability/metrics.js';
import { createMetricsRoute } from './metrics-route.js';

const TOKEN = 'scrape-token-0123456789abcdef';

interface Running {
  base: string;
  server: Server;
}

async function serve(metrics: ServiceMetrics, token?: string): Promise<Running> {
  const app = express();
  app.use(createMetricsRoute({ metrics, token }));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const stop = (running: Running) =>
  new Promise<void>((resolve) => {
    running.server.closeAllConnections();
    running.server.close(() => resolve());
  });

const SAMPLE =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (\S+)$/;

/**
 * Checks the Prometheus text format line by line (HELP, TYPE, samples whose family was
 * declared, numeric values) and returns the samples as `name{labels}` → value.
 */
function parseExposition(text: string): Map<string, number> {
  const families = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type =
      /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      families.set(type[1] as string, type[2] as string);
      continue;
    }
    if (line.startsWith('# HELP ')) continue;
    const sample = SAMPLE.exec(line);
    if (!sample) throw new Error(`not an exposition line: ${line}`);
    const [, name = '', labels = '', value = ''] = sample;
    const family = families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    if (!families.has(family)) throw new Error(`sample before its # TYPE: ${line}`);
    const number = Number(value.replace(/^\+Inf$/, 'Infinity'));
    // prom-client writes NaN as `Nan`; Prometheus (Go's ParseFloat) takes any case.
    if (Number.isNaN(number) && !/^nan$/i.test(value)) throw new Error(`bad value: ${line}`);
    samples.set(`${name}${labels}`, number);
  }
  return samples;
}

function withHosts(): ServiceMetrics {
  const metrics = createServiceMetrics({
    sockets: () => 3,
    writer: () => ({
      written: 120,
      dropped: 2,
      queued: 4,
      inFlight: 1,
      failures: 1,
      lastFlushAt: '2030-01-01T00:00:00.000Z',
    }),
  });
  metrics.observeSnapshot(makeExampleSnapshot({ timestamp: new Date().toISOString() }) as Snapshot);
  return metrics;
}

describe('GET /metrics without a token configured', () => {
  let running: Running;
  beforeAll(async () => {
    running = await serve(withHosts());
  });
  afterAll(() => stop(running));

  it('answers the Prometheus text format with the service, host and Node.js metrics', async () => {
    const res = await fetch(`${running.base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const samples = parseExposition(await res.text());

    expect(samples.get('livestat_websocket_connections')).toBe(3);
    expect(samples.get('livestat_snapshots_written_total')).toBe(120);
    expect(samples.get('livestat_snapshots_dropped_total')).toBe(2);
    expect(samples.get('livestat_batch_queue_depth')).toBe(5);
    expect(samples.get('livestat_batch_last_flush_timestamp_seconds')).toBe(1893456000);
    expect(samples.get('node_load1{instance="vm-web-01"}')).toBe(0.42);
    expect(samples.get('node_memory_MemTotal_bytes{instance="vm-web-01"}')).toBe(4122206208);
    expect(
      samples.get(
        'node_filesystem_avail_bytes{device="/dev/vda1",fstype="ext4",mountpoint="/",instance="vm-web-01"}',
      ),
    ).toBe(29814104064);
    expect(
      samples.get('livestat_collector_errors_total{instance="vm-web-01",collector="perf"}'),
    ).toBe(0);
    expect(samples.get('livestat_broadcast_duration_seconds_count')).toBe(0);
    expect(samples.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(samples.has('process_resident_memory_bytes')).toBe(true);
  });

  it('is open to a scraper that sends a token anyway', async () => {
    const res = await fetch(`${running.base}/metrics`, {
      headers: { authorization: 'Bearer whatever-it-is' },
    });
    expect(res.status).toBe(200);
  });
});

describe('GET /metrics with METRICS_TOKEN', () => {
  let running: Running;
  beforeAll(async () => {
    running = await serve(withHosts(), TOKEN);
  });
  afterAll(() => stop(running));

  const scrape = (authorization?: string) =>
    fetch(`${running.base}/metrics`, { headers: authorization ? { authorization } : {} });

  it('refuses a scrape without a token: 401 JSON {error}, with a Bearer challenge', async () => {
    const res = await scrape();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="livestat metrics"');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ error: 'metrics token required' });
  });

  it('refuses a wrong token, whatever its length, and other schemes', async () => {
    const wrong = [
      `Bearer ${TOKEN.slice(0, -1)}x`, // same length, last byte differs
      `Bearer ${TOKEN}x`,
      'Bearer short',
      `Basic ${Buffer.from(`prometheus:${TOKEN}`).toString('base64')}`,
      TOKEN,
    ];
    for (const authorization of wrong) {
      const res = await scrape(authorization);
      expect(res.status, authorization).toBe(401);
      const body = (await res.json()) as { error: string };
      expect(body.error).toMatch(/^(invalid metrics token|metrics token required)$/);
      expect(JSON.stringify(body)).not.toContain(TOKEN);
    }
    const wrongToken = await scrape(`Bearer ${TOKEN}x`);
    expect(await wrongToken.json()).toEqual({ error: 'invalid metrics token' });
  });

  it('answers the right token (scheme case-insensitive) with the exposition', async () => {
    for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`]) {
      const res = await scrape(authorization);
      expect(res.status).toBe(200);
      const samples = parseExposition(await res.text());
      expect(samples.get('node_load5{instance="vm-web-01"}')).toBe(0.35);
    }
  });
});
