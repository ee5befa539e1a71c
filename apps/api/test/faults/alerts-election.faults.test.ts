import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startReceiver } from '../../src/alerts/test-receiver.js';
import { createTestDatabase, describePostgres, type TestDatabase } from '../databases.js';
import { deleteKeys, describeRedis, TEST_REDIS_URL } from '../redis.js';
import { pollUntil, startFaultApi, stopAllApis, type FaultApi } from './support.js';

// Exactly one evaluator per deployment: two real API processes share one Redis and one
// PostgreSQL; only the lease holder evaluates and sends. SIGKILL the leader: the other takes
// the lease over, fires host down for the dead one's host, and nothing reaches the receiver
// twice (counted by dedupe id, and by rule, host and transition).

const LEADER_LINE = 'this replica is the alert evaluator';

describeRedis('alert evaluator election', () => {
  describePostgres('two API processes on one Redis and one PostgreSQL', () => {
    let test: TestDatabase;
    let receiver: Awaited<ReturnType<typeof startReceiver>>;
    const prefix = `livestat-test:${process.pid}-${randomBytes(4).toString('hex')}:`;

    beforeAll(async () => {
      test = await createTestDatabase('postgres');
      receiver = await startReceiver();
      // The deployment's rules, made before either replica starts: host down after 2 s of
      // silence, and a rule that fires on every host's first snapshot.
      await test.db.query(`INSERT INTO alert_settings (key) VALUES ('defaults_seeded')`);
      await test.db.query(
        `INSERT INTO alert_rules (id, name, series, comparison, threshold, for_seconds, severity, builtin)
         VALUES ($1, 'Host down', '', '>=', 0, 2, 'critical', 'host_down'),
                ($2, 'Any CPU', 'cpu.usagePercent', '>=', 0, 0, 'info', NULL)`,
        [randomUUID(), randomUUID()],
      );
      await test.db.query(
        `INSERT INTO alert_channels (id, name, kind, config) VALUES ($1, 'hook', 'webhook', $2)`,
        [randomUUID(), JSON.stringify({ url: `${receiver.url}/hook` })],
      );
    }, 60_000);
    afterAll(async () => {
      await stopAllApis();
      await receiver.close();
      await test.drop();
      await deleteKeys(prefix);
    });

    const env = (name: string) => ({
      DATABASE_URL: test.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      METRICS_HOST_NAME: `elect-${name}`,
      JWT_SECRET: 'alerts-election-test-secret-of-enough-length',
      SAMPLING_INTERVAL_SECONDS: '0.5',
      ALERTS_LEASE_SECONDS: '3',
      ALERTS_RETRY_BASE_SECONDS: '0.2',
      ALERTS_RETRY_MAX_SECONDS: '1',
    });

    /** What the receiver got, as `rule host from→to`, and every dedupe id. */
    const delivered = () =>
      receiver.received.map((r) => {
        const body = JSON.parse(r.body) as {
          event: { ruleName: string; host: string; from: string; to: string };
        };
        return {
          id: String(r.headers['x-livestat-delivery']),
          what: `${body.event.ruleName} ${body.event.host} ${body.event.from}→${body.event.to}`,
        };
      });

    it('elects one, and after the leader is killed the other fires without repeating anything', async () => {
      const apis: FaultApi[] = await Promise.all([
        startFaultApi(env('a')),
        startFaultApi(env('b')),
      ]);
      await pollUntil(
        async () => delivered().length >= 2,
        'both hosts’ first CPU alert delivered',
        60_000,
      );
      const leaders = apis.filter((api) => api.output().includes(LEADER_LINE));
      expect(leaders).toHaveLength(1);
      const leader = leaders[0]!;
      const survivor = apis.find((api) => api !== leader)!;
      const deadHost = leader === apis[0] ? 'elect-a' : 'elect-b';

      const killedAt = Date.now();
      await leader.kill('SIGKILL');
      await survivor.waitForOutput(LEADER_LINE, 30_000);
      await pollUntil(
        async () => delivered().some((d) => d.what === `Host down ${deadHost} ok→firing`),
        'host down for the killed leader’s host',
        30_000,
      );
      process.stdout.write(
        `alerts election: host down of the killed leader delivered ${Date.now() - killedAt} ms after SIGKILL\n`,
      );
      // A while longer, for any duplicate to show.
      await new Promise((resolve) => setTimeout(resolve, 2000));

      const all = delivered();
      expect(new Set(all.map((d) => d.id)).size).toBe(all.length);
      expect(all.map((d) => d.what).sort()).toEqual(
        [
          'Any CPU elect-a ok→firing',
          'Any CPU elect-b ok→firing',
          `Host down ${deadHost} ok→firing`,
        ].sort(),
      );
    });
  });
});
