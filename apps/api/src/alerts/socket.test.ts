import {
  serverMessage,
  type AlertMessage,
  type AlertsMessage,
  type ServerMessage,
} from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../test/databases.js';
import { openClient, startStreamHarness, type StreamHarness } from '../../test/stream-harness.js';
import { registerAlertMetrics } from '../observability/alert-metrics.js';
import { createLocalFeed } from './feed.js';
import { alwaysLeader } from './leader.js';
import { createAlerts, type Alerts } from './service.js';

const isAlerts = (m: ServerMessage): m is AlertsMessage => m.type === 'alerts';
const isAlert = (m: ServerMessage): m is AlertMessage => m.type === 'alert';

describe('alert transitions on the socket and in /metrics', () => {
  let harness: StreamHarness;
  let alerts: Alerts;
  const registry = new Registry();

  beforeAll(async () => {
    let greeting = () => JSON.stringify({ type: 'alerts', active: [] });
    harness = await startStreamHarness({ greeting: () => greeting() });
    alerts = createAlerts({
      db: harness.database.db,
      bus: harness.bus,
      feed: createLocalFeed(),
      leadership: alwaysLeader(),
      logger: silentLogger,
      delivery: { publicUrl: undefined, telegramApiUrl: 'http://127.0.0.1:1', timeoutMs: 1000 },
      outbox: { retryBaseMs: 100, retryMaxMs: 400, ratePerMinute: 20, pollMs: 50 },
    });
    greeting = () => JSON.stringify({ type: 'alerts', active: alerts.active() });
    alerts.onMessage((text) => harness.stream.sendToAll(text));
    registerAlertMetrics(registry, () => alerts.active());
    await alerts.start();
  }, 60_000);
  afterAll(async () => {
    await alerts.stop();
    await harness.close();
  });

  it('greets each socket with the active list, then pushes every transition to every socket', async () => {
    const { token } = await harness.login('watcher');
    const all = await openClient(harness.url(token));
    const elsewhere = await openClient(harness.url(token));
    // Subscribed to another host: alerts still reach it.
    elsewhere.send({ type: 'subscribe', hosts: ['some-other-host'] });
    const greeted = await all.waitFor(isAlerts, 'the alerts greeting');
    expect(greeted.active.filter((a) => a.state === 'firing')).toEqual([]);

    const rule = await alerts.rules.create({
      name: 'Busy',
      description: 'Fires when the CPU is busy.',
      series: 'cpu.usagePercent',
      hosts: [],
      comparison: '>=',
      threshold: 90,
      recoveryThreshold: null,
      forSeconds: 0,
      severity: 'critical',
      enabled: true,
    });
    alerts.changed();
    const busy = (at: number) => {
      const snapshot = makeExampleSnapshot({
        host: 'web-1',
        timestamp: new Date(at).toISOString(),
      });
      if (snapshot.cpu.available) snapshot.cpu.usagePercent = 99;
      harness.bus.publish(snapshot);
    };
    const fired = (m: ServerMessage): m is AlertMessage => isAlert(m) && m.event.ruleId === rule.id;
    // The leader re-reads its rules on `changed`; publish until the transition comes.
    const publisher = setInterval(() => busy(Date.now()), 50);
    try {
      const [onAll, onElsewhere] = await Promise.all([
        all.waitFor(fired, 'the alert on the first socket'),
        elsewhere.waitFor(fired, 'the alert on the socket subscribed elsewhere'),
      ]);
      expect(serverMessage.parse(onAll)).toEqual(onAll);
      expect(onAll.event).toMatchObject({ host: 'web-1', from: 'ok', to: 'firing', value: 99 });
      expect(onAll.active).toContainEqual(
        expect.objectContaining({ ruleId: rule.id, host: 'web-1', state: 'firing' }),
      );
      expect(onElsewhere.event.id).toBe(onAll.event.id);
    } finally {
      clearInterval(publisher);
    }

    const late = await openClient(harness.url(token));
    const greeting = await late.waitFor(isAlerts, 'the greeting of a socket opened later');
    expect(greeting.active).toContainEqual(
      expect.objectContaining({ ruleId: rule.id, state: 'firing' }),
    );

    const exposition = await registry.metrics();
    expect(exposition).toContain(
      'livestat_alerts_firing{rule="Busy",host="web-1",severity="critical"} 1',
    );
    for (const client of [all, elsewhere, late]) client.ws.close();
  });
});
