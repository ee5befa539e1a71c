import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OTLPMetricExporter as JsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import {
  appsResponse,
  historyResponse,
  loginResponse,
  type AppMessage,
  type AppMetric,
  type Snapshot,
} from '@livestat/contracts';
import StatsD from 'hot-shots';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { encodeOtlpRequest } from '../src/ingest/otlp-codec.js';
import { createTestDatabase, describePostgres, type TestDatabase } from './databases.js';
import { runTs, startApi } from './process.js';
import { openClient, type TestClient } from './stream-harness.js';

// Real clients nobody here wrote — hot-shots over UDP, the OpenTelemetry JS SDK over OTLP/HTTP
// with both exporters — against a running livestat; what they sent is read back on the socket.
// PostgreSQL so the tokens CLI can revoke while the API runs (the embedded database is locked).

const PASSWORD = 'app-ingest-test-password';
const HOST = `app-ingest-test-${process.pid}`;
const INTERVAL_MS = 500;
const MAX_SERIES = 40;
const SLOW = 90_000;

describePostgres('applications pushing metrics to a running livestat', () => {
  let test: TestDatabase;
  let dataDir: string;
  let api: Awaited<ReturnType<typeof startApi>>;
  let statsdPort: number;
  let token: string;
  let client: TestClient;
  let jwt: string;
  const env = () => ({ DATABASE_URL: test.url, DATA_DIR: dataDir, LOG_LEVEL: 'warn' });

  beforeAll(async () => {
    test = await createTestDatabase('postgres');
    dataDir = await mkdtemp(join(tmpdir(), 'livestat-app-ingest-'));
    const created = await runTs(
      'src/cli/tokens.ts',
      ['create', '--scope', 'ingest', 'router'],
      env(),
    );
    expect(created.code).toBe(0);
    token = created.stdout.trim();
    api = await startApi({
      ...env(),
      LOG_LEVEL: 'info',
      ADMIN_PASSWORD: PASSWORD,
      METRICS_HOST_NAME: HOST,
      ALERTS: 'on',
      SAMPLING_INTERVAL_SECONDS: String(INTERVAL_MS / 1000),
      APP_MAX_SERIES: String(MAX_SERIES),
    });
    const deadline = Date.now() + 60_000;
    while (!api.output().includes('log in at') || !/"statsdPort":\d+/.test(api.output())) {
      if (Date.now() > deadline) throw new Error(`API not ready:\n${api.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    statsdPort = Number(/"statsdPort":(\d+)/.exec(api.output())![1]);
    const res = await fetch(`${api.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: PASSWORD }),
    });
    jwt = loginResponse.parse(await res.json()).token;
    client = await openClient(
      `${api.url.replace('http', 'ws')}/api/ws/metrics?token=${encodeURIComponent(jwt)}`,
    );
  }, SLOW);

  afterAll(async () => {
    client?.ws.close();
    api?.child.kill('SIGTERM');
    await api?.exited;
    await rm(dataDir, { recursive: true, force: true });
    await test?.drop();
  }, SLOW);

  /** The first `app` message (from now on) holding `service`'s `key`. */
  async function metricOf(service: string, key: string): Promise<AppMetric> {
    const message = (await client.waitFor(
      (m) => m.type === 'app' && m.host === HOST && m.services[service]?.metrics[key] !== undefined,
      `${service} ${key}`,
    )) as AppMessage;
    return message.services[service]!.metrics[key]!;
  }

  const startedAt = Date.now();
  /** The non-empty bucket averages of `series` from /api/history, once all have some. */
  async function historyOf(series: string[]): Promise<Record<string, (number | null)[]>> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const query = new URLSearchParams({
        host: HOST,
        from: String(startedAt - 60_000),
        to: String(Date.now() + 1000),
        points: '5000',
      });
      for (const path of series) query.append('series', path);
      const res = await fetch(`${api.url}/api/history?${query}`, {
        headers: { authorization: `Bearer ${jwt}` },
      });
      expect(res.status).toBe(200);
      const body = historyResponse.parse(await res.json());
      const values = Object.fromEntries(
        series.map((path) => [
          path,
          (body.series[path] ?? []).map((p) => p[1]).filter((v) => v !== null),
        ]),
      );
      if (Object.values(values).every((v) => v.length > 0)) return values;
      if (Date.now() > deadline) throw new Error(`not stored: ${JSON.stringify(body.series)}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async function apps() {
    const res = await fetch(`${api.url}/api/apps`, { headers: { authorization: `Bearer ${jwt}` } });
    expect(res.status).toBe(200);
    return appsResponse.parse(await res.json()).services;
  }

  it(
    'hot-shots: counters, gauges, timers, histograms and sets arrive as sent',
    async () => {
      const statsd = new StatsD({
        host: '127.0.0.1',
        port: statsdPort,
        prefix: 'worker.',
        // One datagram for the lot, so they land in one interval.
        maxBufferSize: 8000,
        bufferFlushInterval: 20,
        errorHandler: (err) => {
          throw err;
        },
      });
      statsd.gauge('queue.depth', 17);
      statsd.increment('messages', 30);
      for (const ms of [10, 20, 30]) statsd.timing('batch.duration', ms);
      statsd.histogram('batch.size', 5, { queue: 'emails' });
      statsd.set('users', 'alice');
      statsd.set('users', 'bob');
      statsd.set('users', 'alice');
      await new Promise<void>((resolve) => statsd.close(() => resolve()));

      expect(await metricOf('worker', 'queue.depth')).toEqual({
        name: 'queue.depth',
        kind: 'gauge',
        tags: {},
        value: 17,
      });
      const [messages, duration, size, users] = await Promise.all([
        metricOf('worker', 'messages'),
        metricOf('worker', 'batch.duration'),
        metricOf('worker', 'batch.size;queue=emails'),
        metricOf('worker', 'users'),
      ]);
      expect(messages).toEqual({
        name: 'messages',
        kind: 'counter',
        tags: {},
        count: 30,
        rate: 30 / (INTERVAL_MS / 1000),
      });
      expect(duration).toMatchObject({
        kind: 'timer',
        count: 3,
        sum: 60,
        min: 10,
        max: 30,
        p50: 20,
      });
      expect(size).toMatchObject({
        kind: 'histogram',
        tags: { queue: 'emails' },
        count: 1,
        sum: 5,
      });
      expect(users).toMatchObject({ kind: 'set', unique: 2 });
      // Stored and queried like the host's series: /api/history returns what was sent.
      const series = [
        'app.worker.queue.depth.value',
        'app.worker.messages.count',
        'app.worker.batch.duration.p50',
      ];
      const stored = await historyOf(series);
      expect(stored['app.worker.queue.depth.value']).toEqual([17]);
      expect(stored['app.worker.messages.count']).toEqual([30]);
      expect(stored['app.worker.batch.duration.p50']).toEqual([20]);
      // And in Prometheus' exposition, one gauge per field.
      const exposition = await (await fetch(`${api.url}/metrics`)).text();
      expect(exposition).toContain(
        `livestat_app_value{instance="${HOST}",service="worker",metric="queue.depth",field="value"} 17`,
      );
      expect(exposition).toContain(
        `livestat_app_value{instance="${HOST}",service="worker",metric="messages",field="count"} 30`,
      );
      const worker = (await apps()).find((s) => s.name === 'worker');
      expect(worker?.metrics.map((m) => m.key)).toEqual([
        'batch.duration',
        'batch.size;queue=emails',
        'messages',
        'queue.depth',
        'users',
      ]);
    },
    SLOW,
  );

  it.each([
    ['http/json', JsonExporter, 'router-json'],
    ['http/protobuf', ProtoExporter, 'router-proto'],
  ])(
    'the OpenTelemetry SDK exports over %s with an ingest token',
    async (_label, Exporter, service) => {
      const reader = new PeriodicExportingMetricReader({
        exporter: new Exporter({
          url: `${api.url}/v1/metrics`,
          headers: { Authorization: `Bearer ${token}` },
        }),
        exportIntervalMillis: 60_000,
      });
      const provider = new MeterProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        readers: [reader],
      });
      const meter = provider.getMeter('test');
      const calls = meter.createCounter('calls');
      const cost = meter.createHistogram('cost', {
        advice: { explicitBucketBoundaries: [1, 2, 5] },
      });
      const depth = meter.createGauge('queue.depth');
      calls.add(3, { provider: 'openai' });
      calls.add(2, { provider: 'openai' });
      for (const usd of [0.5, 1.5, 4]) cost.record(usd);
      depth.record(9);
      await reader.forceFlush();
      expect(await metricOf(service, 'calls;provider=openai')).toMatchObject({
        kind: 'counter',
        count: 5,
      });
      expect(await metricOf(service, 'cost')).toMatchObject({
        kind: 'histogram',
        count: 3,
        sum: 6,
        min: 0.5,
        max: 4,
      });
      expect(await metricOf(service, 'queue.depth')).toMatchObject({ kind: 'gauge', value: 9 });
      // The cumulative counter again: only what was added since counts.
      calls.add(4, { provider: 'openai' });
      await reader.forceFlush();
      await client.waitFor(
        (m) =>
          m.type === 'app' && m.services[service]?.metrics['calls;provider=openai']?.count === 4,
        'the next delta',
      );
      await provider.shutdown();
    },
    SLOW,
  );

  it(
    'refuses missing, unknown and revoked tokens, wrong types and garbage; never logs the token',
    async () => {
      const body = encodeOtlpRequest({ resourceMetrics: [] });
      const post = (headers: Record<string, string>, data: Uint8Array | string = body) =>
        fetch(`${api.url}/v1/metrics`, { method: 'POST', headers, body: data });
      const proto = { 'content-type': 'application/x-protobuf' };
      expect((await post(proto)).status).toBe(401);
      expect((await post({ ...proto, authorization: `Bearer lsk_${'x'.repeat(43)}` })).status).toBe(
        401,
      );
      const auth = { authorization: `Bearer ${token}` };
      expect((await post({ ...auth, 'content-type': 'text/plain' })).status).toBe(415);
      const garbage = await post({ ...auth, ...proto }, new Uint8Array([0x0a, 0xff, 0xff]));
      expect(garbage.status).toBe(400);
      expect((await post({ ...auth, ...proto })).status).toBe(200);

      const list = await runTs('src/cli/tokens.ts', ['list'], env());
      const id = /^(\d+)\s+router\s/m.exec(list.stdout)?.[1];
      expect(list.stdout).toMatch(/router\s+ingest\s+lsk_\S+…\s+\S+\s+\d{4}-/);
      expect((await runTs('src/cli/tokens.ts', ['revoke', id!], env())).code).toBe(0);
      // Revoked by another process: refused within the store's one-second check cache.
      let revoked = await post({ ...auth, ...proto });
      for (let i = 0; i < 40 && revoked.status === 200; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        revoked = await post({ ...auth, ...proto });
      }
      expect(revoked.status).toBe(401);
      expect(await revoked.json()).toEqual({ error: 'API token revoked' });
      expect(api.output()).not.toContain(token);
      expect(api.output()).not.toContain(token.slice(8));
    },
    SLOW,
  );

  it(
    'caps series per service and says so in GET /api/apps',
    async () => {
      const socket = dgram.createSocket('udp4');
      const lines = Array.from({ length: MAX_SERIES + 10 }, (_, i) => `capped.m${i}:1|c`);
      await new Promise<void>((resolve, reject) =>
        socket.send(lines.join('\n'), statsdPort, '127.0.0.1', (err) =>
          err ? reject(err) : resolve(),
        ),
      );
      socket.close();
      await client.waitFor((m) => m.type === 'app' && m.services.capped !== undefined, 'capped');
      const capped = (await apps()).find((s) => s.name === 'capped');
      expect(capped?.limits).toEqual({
        series: MAX_SERIES,
        maxSeries: MAX_SERIES,
        refusedSeries: 10,
        overLimit: true,
        reason: `max series ${MAX_SERIES} reached`,
      });
      expect(capped?.rejected).toEqual({ max_series: 10 });
    },
    SLOW,
  );

  it(
    'keeps the host stream in rhythm through a flood of bad packets',
    async () => {
      const first = client.snapshots(HOST).length;
      const socket = dgram.createSocket('udp4');
      const junk = Buffer.from(Array.from({ length: 50 }, (_, i) => `junk${i}`).join('\n'));
      let sent = 0;
      const until = Date.now() + 3 * INTERVAL_MS * 2;
      while (Date.now() < until) {
        for (let i = 0; i < 200; i += 1) socket.send(junk, statsdPort, '127.0.0.1');
        sent += 200;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await client.until(
        () => client.snapshots(HOST).length >= first + 6,
        'snapshots after the flood',
      );
      socket.close();
      const during: Snapshot[] = client.snapshots(HOST).slice(first);
      // No snapshot lost: seq rises by one. The schedule holds: tick n stays at start + n × the
      // interval (one tick's timer may fire late, the next comes on time), so the span of the
      // snapshots is their count's worth of intervals, within one.
      expect(during.map((s) => s.seq - during[0]!.seq)).toEqual(during.map((_, i) => i));
      const span = Date.parse(during.at(-1)!.timestamp) - Date.parse(during[0]!.timestamp);
      expect(Math.abs(span - (during.length - 1) * INTERVAL_MS)).toBeLessThan(INTERVAL_MS);
      expect(during.every((s) => s.intervalMs === INTERVAL_MS)).toBe(true);
      // Every junk line that was read was counted, and the process is still answering.
      const unknown = (await apps()).find((s) => s.name === 'unknown');
      expect(unknown?.rejected.bad_line).toBeGreaterThan(0);
      expect(
        (unknown?.rejected.bad_line ?? 0) + 50 * (unknown?.rejected.queue_full ?? 0),
      ).toBeLessThanOrEqual(sent * 50);
    },
    SLOW,
  );

  it(
    'alert rules on application series: validated, fired and resolved by a StatsD gauge',
    async () => {
      const rules = (body: unknown) =>
        fetch(`${api.url}/api/alerts/rules`, {
          method: 'POST',
          headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      const rule = {
        name: 'Jobs backed up',
        series: 'app.*.jobs.depth.value',
        comparison: '>',
        threshold: 100,
        forSeconds: 0,
        severity: 'warning',
      };
      const refused = await rules({ ...rule, series: 'app.*.jobs.depth.average' });
      expect(refused.status).toBe(400);
      expect(await refused.text()).toContain('series');
      expect((await rules(rule)).status).toBe(201);

      const statsd = new StatsD({ host: '127.0.0.1', port: statsdPort, prefix: 'mailer.' });
      /** Sends `depth` every interval until the alert of the mailer's gauge reaches `to`. */
      async function gaugeUntil(depth: number, to: 'firing' | 'resolved') {
        let done = false;
        const event = client
          .waitFor(
            (m) =>
              m.type === 'alert' &&
              m.event.series === 'app.mailer.jobs.depth.value' &&
              m.event.host === HOST &&
              m.event.to === to,
            `mailer jobs ${to}`,
          )
          .finally(() => (done = true));
        while (!done) {
          statsd.gauge('jobs.depth', depth);
          await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS / 2));
        }
        return event;
      }
      const fired = await gaugeUntil(150, 'firing');
      expect(fired).toMatchObject({ event: { ruleName: 'Jobs backed up', value: 150 } });
      const resolved = await gaugeUntil(5, 'resolved');
      expect(resolved).toMatchObject({ event: { from: 'firing', value: 5 } });
      await new Promise<void>((resolve) => statsd.close(() => resolve()));
    },
    SLOW,
  );
});
