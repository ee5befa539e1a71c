import pg from 'pg';
import type { Snapshot } from '@livestat/contracts';
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createSamplingPipeline } from '../../src/sampling-pipeline.js';
import { createBatchWriter } from '../../src/storage/batch-writer.js';
import { writeSnapshots } from '../../src/storage/metrics-store.js';
import { createTestDatabase, describeEachBackend, silentLogger } from '../databases.js';
import {
  openClient,
  startStreamHarness,
  waitUntil,
  type StreamHarness,
} from '../stream-harness.js';

// The database held busy for 20 s — PGlite's one connection by a statement that runs that long,
// PostgreSQL's snapshot table by an exclusive lock — while the real collectors sample every
// 0.5 s and a real socket client watches: every snapshot of that time must stream on schedule,
// none may be skipped, and once the database is free every one of them must be stored.

const INTERVAL_MS = 500;
const HOLD_SECONDS = 20;
const HOST = 'busy-host';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step().catch(() => undefined);
  cleanup = [];
});

describeEachBackend('streaming while the database is busy for 20 s', (backend) => {
  it('streams every snapshot on schedule and stores each once the database is free', async () => {
    const database = await createTestDatabase(backend);
    cleanup.push(() => database.drop());
    const harness: StreamHarness = await startStreamHarness({ database });
    cleanup.push(() => harness.close());

    const config = loadConfig({
      METRICS_HOST_NAME: HOST,
      SAMPLING_INTERVAL_SECONDS: String(INTERVAL_MS / 1000),
      // perf's child is not what this measures; the five file collectors read the real /proc.
      COLLECTORS: 'cpu,memory,network,disk,bandwidth',
    });
    const { sampler, aggregator } = createSamplingPipeline(config, silentLogger);
    const writer = createBatchWriter({
      write: (batch) => writeSnapshots(database.db, batch),
      batchSize: 2,
      flushIntervalMs: 1000,
      maxBuffered: 10_000,
      logger: silentLogger,
    });
    sampler.subscribe((snapshot) => {
      harness.bus.publish(snapshot);
      writer.enqueue(snapshot);
    });
    cleanup.push(async () => {
      await sampler.stop();
      await aggregator.stop();
    });

    const { token } = await harness.login('watcher');
    const client = await openClient(harness.url(token));
    const arrivals: { seq: number; at: number }[] = [];
    client.ws.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as Snapshot;
      if (message.type === 'snapshot' && message.host === HOST) {
        arrivals.push({ seq: message.seq, at: performance.now() });
      }
    });

    await sampler.start();
    await waitUntil(() => writer.stats().written >= 2, 'the first write');

    // Hold the database for 20 s.
    let hold: Promise<unknown>;
    let admin: pg.Client | undefined;
    if (backend === 'pglite') {
      hold = database.db.query(`SELECT pg_sleep(${HOLD_SECONDS})`, [], { timeoutMs: 120_000 });
    } else {
      admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      await admin.query('BEGIN');
      await admin.query('LOCK TABLE metrics_snapshots IN ACCESS EXCLUSIVE MODE');
      hold = admin.query(`SELECT pg_sleep(${HOLD_SECONDS})`).then(() => admin!.query('COMMIT'));
    }
    const holdStarted = performance.now();
    const writtenAtHold = writer.stats().written;
    const firstDuringHold = arrivals.length;
    await hold;
    const holdEnded = performance.now();
    await admin?.end();
    // While held, nothing could be stored: the writer was really waiting on the database.
    expect(writer.stats().written).toBe(writtenAtHold);

    const during = arrivals.filter((a) => a.at >= holdStarted && a.at <= holdEnded);
    await waitUntil(() => arrivals.length >= firstDuringHold + during.length + 2, 'two more');
    await sampler.stop();
    const { lost } = await writer.close({ timeoutMs: 60_000 });

    const gaps = during.slice(1).map((a, i) => a.at - during[i]!.at);
    const maxGapMs = Math.max(...gaps);
    process.stderr.write(
      `[${backend}] held ${Math.round(holdEnded - holdStarted)} ms: ${during.length} snapshots streamed, ` +
        `largest gap ${Math.round(maxGapMs)} ms, skipped ticks ${sampler.stats().skippedTicks}\n`,
    );
    // On schedule: one per interval all through the hold, never a stall of several intervals.
    expect(during.length).toBeGreaterThanOrEqual((HOLD_SECONDS * 1000) / INTERVAL_MS - 2);
    expect(maxGapMs).toBeLessThan(INTERVAL_MS * 3);
    expect(sampler.stats().skippedTicks).toBe(0);
    // No gap in seq over the whole run, as the client saw it.
    const seqs = arrivals.map((a) => a.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => seqs[0]! + k));

    // Every snapshot produced is stored, exactly once.
    expect(lost).toBe(0);
    const [row] = await database.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM metrics_snapshots WHERE host = $1 AND metric_type = 'cpu'`,
      [HOST],
    );
    expect(row?.n).toBe(sampler.stats().seq);
    client.ws.close();
  });
});
