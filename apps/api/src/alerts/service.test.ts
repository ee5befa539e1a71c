import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import type { PublicUser, Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import type { RequestHandler } from 'express';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  silentLogger,
  type TestDatabase,
} from '../../test/databases.js';
import { createApp } from '../http/app.js';
import { createLocalBus, type Bus } from '../stream/bus.js';
import { createChannelStore } from './channel-store.js';
import { createLocalFeed } from './feed.js';
import { createEvaluator, type AlertTransition } from './evaluator.js';
import { createOutboxSender } from './outbox.js';
import { seedFromRollups } from './rollup-seed.js';
import { alwaysLeader } from './leader.js';
import { createAlertsRouter } from './routes.js';
import { createAlerts, type Alerts } from './service.js';
import { startReceiver } from './test-receiver.js';

const USERS: Record<string, PublicUser> = {
  admin: { id: 1, username: 'root', role: 'admin' },
  viewer: { id: 2, username: 'guest', role: 'viewer' },
};
// Stands in for requireAuth: the user named by a header.
const asUser: RequestHandler = (req, _res, next) => {
  const user = USERS[String(req.headers['x-test-user'])];
  if (user) req.user = user;
  next();
};

function cpuSnapshot(host: string, at: number, cpu: number): Snapshot {
  const snapshot = makeExampleSnapshot({ host, timestamp: new Date(at).toISOString() });
  if (snapshot.cpu.available) snapshot.cpu.usagePercent = cpu;
  return snapshot;
}

describeEachBackend('alerts end to end: rules, transitions, outbox, webhook', (backend) => {
  let test: TestDatabase;
  let bus: Bus;
  let alerts: Alerts;
  let server: Server;
  let base = '';
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const delivery = {
    publicUrl: 'https://livestat.example.com',
    telegramApiUrl: 'http://127.0.0.1:1',
    timeoutMs: 2000,
  };

  function start(): Alerts {
    return createAlerts({
      db: test.db,
      bus,
      feed: createLocalFeed(),
      leadership: alwaysLeader(),
      logger: silentLogger,
      delivery,
      // Short delays, so an outage of a second or two is retried within the test. No poll
      // within a test's time: what the evaluator queues wakes the sender, and retries are
      // looked at when they fall due.
      outbox: { retryBaseMs: 100, retryMaxMs: 400, ratePerMinute: 100, pollMs: 3_600_000 },
    });
  }

  /** A sender of its own beside `alerts`, as another replica's would be. */
  function sender(ratePerMinute: number, pollMs: number) {
    return createOutboxSender({
      db: test.db,
      channels: createChannelStore(test.db),
      logger: silentLogger,
      context: delivery,
      retryBaseMs: 100,
      retryMaxMs: 400,
      ratePerMinute,
      pollMs,
    });
  }

  /** A transition stored, its outbox rows queued, with no sender told. */
  async function queueFiring(host: string, value: number) {
    const rule = (await alerts.rules.get(ruleId))!;
    await alerts.states.record({
      rule,
      host,
      series: 'cpu.usagePercent',
      transition: { from: 'ok', to: 'firing', at: Date.now(), value },
      status: { state: 'firing', since: Date.now(), firingSince: Date.now(), value },
    });
  }

  async function call(method: string, path: string, user: string, body?: unknown) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { 'x-test-user': user, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      text,
      json:
        text && response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null,
    };
  }

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    bus = createLocalBus();
    receiver = await startReceiver();
    alerts = start();
    await alerts.start();
    const app = createApp({
      logger: silentLogger,
      health: () => {
        throw new Error('not used');
      },
      routers: [createAlertsRouter({ alerts, delivery, guards: [asUser] })],
    });
    server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(async () => {
    await alerts.stop();
    server.close();
    await receiver.close();
    await bus.close();
    await test.drop();
  });

  let channelId = '';
  let ruleId = '';

  it('starts with the quiet defaults, the host-down rule built in and undeletable', async () => {
    const { json } = await call('GET', '/api/alerts/rules', 'viewer');
    const names = json.rules.map((r: { name: string }) => r.name);
    expect(names).toEqual([
      'Host down',
      'Filesystem almost full',
      'Memory almost exhausted',
      'CPU saturated',
      'Memory pressure',
    ]);
    expect(
      json.rules.every((r: { description: string }) => /^Fires when .*\.$/.test(r.description)),
    ).toBe(true);
    const down = json.rules[0];
    expect(down.builtin).toBe('host_down');
    const refused = await call('DELETE', `/api/alerts/rules/${down.id}`, 'admin');
    expect(refused.status).toBe(400);
  });

  it('lets admins change and viewers only read, naming the bad field', async () => {
    const rule = {
      name: 'Busy',
      series: 'cpu.usagePercent',
      comparison: '>=',
      threshold: 90,
      forSeconds: 0,
      severity: 'critical',
    };
    expect((await call('POST', '/api/alerts/rules', 'viewer', rule)).status).toBe(403);
    const bad = await call('POST', '/api/alerts/rules', 'admin', { ...rule, threshold: 'lots' });
    expect(bad).toMatchObject({ status: 400, json: { error: 'threshold: must be a number' } });
    const created = await call('POST', '/api/alerts/rules', 'admin', rule);
    expect(created.status).toBe(201);
    ruleId = created.json.rule.id;

    const channel = {
      kind: 'webhook',
      name: 'ops hook',
      config: { url: `${receiver.url}/hook?key=s3cret-path`, secret: 'hmac-key' },
    };
    expect((await call('POST', '/api/alerts/channels', 'viewer', channel)).status).toBe(403);
    const made = await call('POST', '/api/alerts/channels', 'admin', channel);
    expect(made.status).toBe(201);
    channelId = made.json.channel.id;
    // Secrets never come back: redacted for admins, no config at all for viewers.
    expect(made.json.channel.config).toEqual({ url: '•••', secret: '•••' });
    expect(made.text).not.toContain('s3cret-path');
    expect(made.text).not.toContain('hmac-key');
    const seen = await call('GET', '/api/alerts/channels', 'viewer');
    expect(seen.json.channels[0].config).toBeNull();
    // Sending the redacted form back keeps the stored secret.
    const renamed = await call('PUT', `/api/alerts/channels/${channelId}`, 'admin', {
      ...channel,
      name: 'ops',
      config: { url: '•••', secret: '•••' },
    });
    expect(renamed.status).toBe(200);
  });

  it('delivers firing and resolved to the webhook, signed, with a dedupe id', async () => {
    alerts.changed();
    await vi.waitFor(async () =>
      expect((await alerts.rules.list()).some((r) => r.id === ruleId)).toBe(true),
    );
    // The leader re-reads the rules on `changed`; give that a moment by publishing until it fires.
    await vi.waitFor(
      async () => {
        bus.publish(cpuSnapshot('web-1', Date.now(), 99));
        const { active } = (await call('GET', '/api/alerts', 'viewer')).json;
        expect(active.filter((a: { ruleId: string }) => a.ruleId === ruleId)).toMatchObject([
          { ruleId, host: 'web-1', state: 'firing', severity: 'critical', value: 99 },
        ]);
      },
      { timeout: 15_000, interval: 100 },
    );
    bus.publish(cpuSnapshot('web-1', Date.now() + 1000, 10));
    await vi.waitFor(() => expect(receiver.received.length).toBe(2), { timeout: 15_000 });
    for (const request of receiver.received) {
      expect(request.path).toBe('/hook?key=s3cret-path');
      const expected = `sha256=${createHmac('sha256', 'hmac-key').update(request.body).digest('hex')}`;
      expect(request.headers['x-livestat-signature']).toBe(expected);
      expect(request.headers['x-livestat-delivery']).toBe(JSON.parse(request.body).id);
    }
    const bodies = receiver.received.map((r) => JSON.parse(r.body));
    expect(bodies.map((b) => b.event.to)).toEqual(['firing', 'resolved']);
    expect(bodies[0].title).toBe('[FIRING] Busy on web-1');
    expect(bodies[0].link).toMatch(
      /^https:\/\/livestat\.example\.com\/history\?host=web-1&series=cpu\.usagePercent&from=/,
    );
    expect(new Set(bodies.map((b) => b.id)).size).toBe(2);

    const history = await call('GET', `/api/alerts/history?ruleId=${ruleId}&format=csv`, 'viewer');
    expect(history.text.split('\n').slice(0, 3)).toEqual([
      'at,host,ruleId,ruleName,series,from,to,value,severity',
      expect.stringMatching(
        new RegExp(`,web-1,${ruleId},Busy,cpu.usagePercent,ok,firing,99,critical$`),
      ),
      expect.stringMatching(
        new RegExp(`,web-1,${ruleId},Busy,cpu.usagePercent,firing,resolved,10,critical$`),
      ),
    ]);
    expect((await call('GET', '/api/alerts/history?limit=0', 'viewer')).json).toEqual({
      error: 'limit: must be at least 1',
    });
  });

  it('holds notifications through a receiver outage and delivers each once when it is back', async () => {
    receiver.received.length = 0;
    receiver.setDown(true);
    bus.publish(cpuSnapshot('web-2', Date.now(), 99));
    bus.publish(cpuSnapshot('web-2', Date.now() + 1000, 5));
    await vi.waitFor(
      async () => {
        const rows = await test.db.query<{ attempts: number }>(
          `SELECT attempts FROM notification_outbox WHERE delivered_at IS NULL`,
        );
        expect(rows.length).toBe(2);
        expect(rows.every((row) => row.attempts >= 2)).toBe(true);
      },
      { timeout: 15_000, interval: 100 },
    );
    receiver.setDown(false);
    await vi.waitFor(() => expect(receiver.received.length).toBe(2), { timeout: 15_000 });
    const ids = receiver.received.map((r) => r.headers['x-livestat-delivery']);
    expect(new Set(ids).size).toBe(2);
    // Marked delivered once the receiver's answer is back.
    await vi.waitFor(async () => {
      const pending = await test.db.query(
        `SELECT 1 FROM notification_outbox WHERE delivered_at IS NULL`,
      );
      expect(pending).toEqual([]);
    });
  });

  it('records silenced transitions without notifying', async () => {
    receiver.received.length = 0;
    const until = new Date(Date.now() + 3_600_000).toISOString();
    expect((await call('POST', '/api/alerts/silences', 'admin', { until })).json).toEqual({
      error: 'ruleId: a rule or a host (or both) must be set',
    });
    const made = await call('POST', '/api/alerts/silences', 'admin', {
      host: 'web-3',
      until,
      reason: 'maintenance',
    });
    expect(made.status).toBe(201);
    expect(made.json.silence.createdBy).toBe('root');
    bus.publish(cpuSnapshot('web-3', Date.now(), 99));
    await vi.waitFor(async () => {
      const { json } = await call('GET', '/api/alerts', 'viewer');
      const mine = json.active.filter((a: { ruleId: string }) => a.ruleId === ruleId);
      expect(mine).toMatchObject([{ host: 'web-3', state: 'firing', silenced: true }]);
    });
    const events = await call('GET', `/api/alerts/history?host=web-3&ruleId=${ruleId}`, 'viewer');
    expect(events.json.events.map((e: { to: string }) => e.to)).toEqual(['firing']);
    const queued = await test.db.query(
      `SELECT 1 FROM notification_outbox WHERE delivered_at IS NULL`,
    );
    expect(queued).toEqual([]);
    expect(receiver.received).toEqual([]);
  });

  it('after a restart, resumes the states and delivers what was left in the outbox exactly once', async () => {
    receiver.received.length = 0;
    await alerts.stop();
    // Transitions stored while no sender runs: the outbox holds them over the restart.
    const rule = (await alerts.rules.get(ruleId))!;
    for (const host of ['web-4', 'web-5']) {
      await alerts.states.record({
        rule,
        host,
        series: 'cpu.usagePercent',
        transition: { from: 'ok', to: 'firing', at: Date.now(), value: 97 },
        status: { state: 'firing', since: Date.now(), firingSince: Date.now(), value: 97 },
      });
    }
    const left = await test.db.query<{ id: string }>(
      `SELECT id::text AS id FROM notification_outbox WHERE delivered_at IS NULL`,
    );
    expect(left.length).toBe(2);

    alerts = start();
    await alerts.start();
    await vi.waitFor(() => expect(receiver.received.length).toBe(2), { timeout: 15_000 });
    // A while longer: nothing arrives twice.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const ids = receiver.received.map((r) => r.headers['x-livestat-delivery']).sort();
    expect(ids).toEqual(left.map((row) => row.id).sort());
    // The firing states came back: a busy web-4 does not fire again, a calm one resolves.
    bus.publish(cpuSnapshot('web-4', Date.now(), 99));
    bus.publish(cpuSnapshot('web-5', Date.now(), 3));
    await vi.waitFor(async () => {
      const { json } = await call(
        'GET',
        `/api/alerts/history?host=web-5&ruleId=${ruleId}`,
        'viewer',
      );
      expect(json.events.map((e: { to: string }) => e.to)).toEqual(['resolved', 'firing']);
    });
    const web4 = await call('GET', `/api/alerts/history?host=web-4&ruleId=${ruleId}`, 'viewer');
    expect(web4.json.events.map((e: { to: string }) => e.to)).toEqual(['firing']);
    // web-5's resolved is notified too, once.
    await vi.waitFor(() => expect(receiver.received.length).toBe(3), { timeout: 15_000 });
  });

  it('sends a test through a channel on demand, reporting a failure without its URL', async () => {
    receiver.received.length = 0;
    const ok = await call('POST', `/api/alerts/channels/${channelId}/test`, 'admin');
    expect(ok.json).toEqual({ delivered: true });
    expect(receiver.received).toHaveLength(1);
    expect((await call('POST', `/api/alerts/channels/${channelId}/test`, 'viewer')).status).toBe(
      403,
    );
    const dead = {
      kind: 'slack',
      name: 'gone',
      config: { url: 'http://127.0.0.1:1/services/secret-token' },
    };
    const made = await call('POST', '/api/alerts/channels', 'admin', dead);
    const failed = await call('POST', `/api/alerts/channels/${made.json.channel.id}/test`, 'admin');
    expect(failed.json.delivered).toBe(false);
    expect(failed.json.error).not.toContain('secret-token');
    await call('DELETE', `/api/alerts/channels/${made.json.channel.id}`, 'admin');
  });

  it('holds what a channel may not send this minute in the outbox, dropping nothing', async () => {
    await alerts.stop();
    receiver.received.length = 0;
    for (let i = 0; i < 5; i++) await queueFiring(`burst-${i}`, 99);
    // Deliveries of the earlier tests fall in the same minute: count from a fresh channel.
    await test.db.query(
      `UPDATE notification_outbox SET delivered_at = now() - interval '2 minutes' WHERE delivered_at IS NOT NULL`,
    );
    const limited = sender(2, 50);
    limited.start();
    await vi.waitFor(() => expect(receiver.received.length).toBe(2), { timeout: 15_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await limited.stop();
    expect(receiver.received.length).toBe(2);
    const held = await test.db.query<{ later: boolean }>(
      `SELECT next_attempt_at > now() + interval '30 seconds' AS later FROM notification_outbox WHERE delivered_at IS NULL`,
    );
    expect(held).toEqual([{ later: true }, { later: true }, { later: true }]);
    alerts = start();
    await alerts.start();
  });

  it('finds rows another process queued: at their time, else at the next poll', async () => {
    await alerts.stop();
    receiver.received.length = 0;
    await test.db.query(
      `UPDATE notification_outbox SET delivered_at = now() WHERE delivered_at IS NULL`,
    );
    const queue = (host: string) => queueFiring(host, 98);
    const delivered = (host: string) =>
      receiver.received.filter((r) => r.body.includes(`"${host}"`)).length;

    // A row due in 1.5 s, left by a process that stopped: no poll within the test, yet it is
    // delivered once it falls due, not before.
    await queue('later-1');
    await test.db.query(
      `UPDATE notification_outbox SET next_attempt_at = now() + interval '1500 milliseconds'
       WHERE delivered_at IS NULL`,
    );
    const patient = sender(100, 3_600_000);
    patient.start();
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(delivered('later-1')).toBe(0);
    await vi.waitFor(() => expect(delivered('later-1')).toBe(1), { timeout: 15_000 });
    // Its pass over (marked delivered, the outbox looked at again), the sender waits for its poll.
    await vi.waitFor(async () => {
      const pending = await test.db.query(
        `SELECT 1 FROM notification_outbox WHERE delivered_at IS NULL`,
      );
      expect(pending).toEqual([]);
    });
    await new Promise((resolve) => setTimeout(resolve, 300));

    // A row queued by another process while this sender waits: nothing wakes it, the poll finds it.
    await queue('elsewhere-1');
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(delivered('elsewhere-1')).toBe(0);
    await patient.stop();
    const polling = sender(100, 300);
    polling.start(); // its first pass looks at once
    await vi.waitFor(() => expect(delivered('elsewhere-1')).toBe(1), { timeout: 15_000 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await queue('elsewhere-2');
    await vi.waitFor(() => expect(delivered('elsewhere-2')).toBe(1), { timeout: 15_000 });
    await polling.stop();
    expect(receiver.received.length).toBe(3);
    alerts = start();
    await alerts.start();
  });

  it('fills a long rule’s window from the 1-minute rollups, so it can fire at once', async () => {
    const now = Date.now();
    const minute = Math.floor(now / 60_000) * 60_000;
    // Six stored minutes of /data at 96 % (60 samples each), and a shorter /boot at 20 %.
    for (let m = 1; m <= 6; m++) {
      for (const [series, value] of [
        ['disk.filesystems./data.usedPercent', 96],
        ['disk.filesystems./boot.usedPercent', 20],
      ] as const) {
        await test.db.query(
          `INSERT INTO metrics_rollup_1m (host, series, bucket, samples, sum, min, max)
           VALUES ('seeded', $1, $2, 60, $3, $4, $4)`,
          [series, new Date(minute - m * 60_000), 60 * value, value],
        );
      }
    }
    const rule = (await alerts.rules.list()).find((r) => r.name === 'Filesystem almost full')!;
    const transitions: AlertTransition[] = [];
    const evaluator = createEvaluator({ onTransition: (t) => transitions.push(t) });
    evaluator.setRules([rule]);
    expect(await seedFromRollups(test.db, evaluator, [rule], now)).toBe(10);
    const snapshot = makeExampleSnapshot({
      host: 'seeded',
      timestamp: new Date(now).toISOString(),
    });
    if (snapshot.disk.available) {
      const root = snapshot.disk.filesystems[0]!;
      snapshot.disk.filesystems = [
        { ...root, mountPoint: '/data', usedPercent: 96 },
        { ...root, mountPoint: '/boot', usedPercent: 20 },
      ];
    }
    evaluator.observe(snapshot);
    expect(transitions.map((t) => `${t.series} ${t.transition.from}→${t.transition.to}`)).toEqual([
      'disk.filesystems./data.usedPercent ok→firing',
    ]);
  });
});
