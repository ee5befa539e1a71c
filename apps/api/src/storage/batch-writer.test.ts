import { appendFile } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  describeEachBackend,
  silentLogger,
  type TestDatabase,
} from '../../test/databases.js';
import { startTcpProxy } from '../../test/tcp-proxy.js';
import {
  backoffDelay,
  createBatchWriter,
  type BatchWriter,
  type BatchWriterOptions,
} from './batch-writer.js';
import { createPostgresDatabase, type Database } from './db.js';
import { createDiskSpaceWatch } from './disk-space.js';
import {
  prepareSnapshots,
  writePrepared,
  writeSnapshots,
  type PreparedSnapshots,
  type WriteResult,
} from './metrics-store.js';
import { STORED_SECTIONS } from './rollup.js';

const SECTIONS = STORED_SECTIONS.length;
const BASE_MS = Date.parse('2025-03-14T09:00:00.000Z');
const RETRY = { initialMs: 20, maxMs: 200 };
const MB = 1024 * 1024;

/**
 * A disk whose free space the test sets, watched the way production watches DATA_DIR (with a
 * 64 MB threshold, re-read on every look), and counting the writes that reach the database.
 */
function simulatedDisk(freeBytes: number) {
  const disk: { freeBytes: number } = { freeBytes };
  const watch = createDiskSpaceWatch({
    dir: '/data',
    minFreeBytes: 64 * MB,
    maxAgeMs: 0,
    statfs: async () => ({ bavail: disk.freeBytes, bsize: 1 }),
  });
  return Object.assign(disk, { watch });
}

/** Snapshot number `seq`, one second after number `seq - 1`. */
const snapshot = (seq: number): Snapshot =>
  makeExampleSnapshot({ seq, timestamp: new Date(BASE_MS + seq * 1000).toISOString() });

/** Polls until `check` holds; the deadline only turns a hang into a readable failure. */
async function waitFor(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A real pino logger whose lines land in an array. */
function captureLogs() {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  const count = (level: 'info' | 'warn' | 'error', msg: RegExp) =>
    lines.filter((l) => l.level === pino.levels.values[level] && msg.test(l.msg)).length;
  return { logger, lines, count };
}

describe('backoffDelay', () => {
  const retry = { initialMs: 100, maxMs: 1000 };

  it('doubles from initialMs, keeps at least half of each step, and stops at maxMs', () => {
    const low = [1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, retry, () => 0));
    const high = [1, 2, 3, 4, 5, 10].map((n) => backoffDelay(n, retry, () => 1));
    expect(low).toEqual([50, 100, 200, 400, 500, 500]);
    expect(high).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(10_000, retry, () => 1)).toBe(1000);
  });
});

describe('createBatchWriter, memory', () => {
  it('lets go of the snapshots it wrote rather than keeping hundreds of them', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const refs: WeakRef<Snapshot>[] = [];
    let stored = 0;
    const writer = createBatchWriter({
      write: async (batch) => {
        stored += batch.length;
      },
      batchSize: 10,
      flushIntervalMs: 60_000,
      maxBuffered: 10_000,
      retry: RETRY,
      logger: silentLogger,
    });
    for (let seq = 1; seq <= 500; seq++) {
      const s = snapshot(seq);
      refs.push(new WeakRef(s));
      writer.enqueue(s);
      if (seq % 10 === 0) await writer.flush();
    }
    await writer.close();
    expect(stored).toBe(500);
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    // What the writer may still hold: less than twice the compaction threshold and a batch.
    expect(refs.filter((ref) => ref.deref() !== undefined).length).toBeLessThan(100);
  });
});

describeEachBackend('createBatchWriter', (backend) => {
  let test: TestDatabase;
  let db: Database;
  const writers: BatchWriter[] = [];

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    db = test.db;
  });
  afterAll(() => test.drop());
  afterEach(async () => {
    await Promise.all(writers.splice(0).map((w) => w.close({ timeoutMs: 2000 })));
    await db.exec('ALTER TABLE IF EXISTS metrics_snapshots_x RENAME TO metrics_snapshots');
    await db.exec(
      'TRUNCATE metrics_snapshots, metrics_rollup_1m, metrics_rollup_1h, hosts RESTART IDENTITY',
    );
  });

  function writer(options: Partial<BatchWriterOptions>): BatchWriter {
    const created = createBatchWriter({
      write: (batch) => writeSnapshots(db, batch),
      batchSize: 10,
      flushIntervalMs: 60_000,
      maxBuffered: 1000,
      retry: RETRY,
      logger: silentLogger,
      ...options,
    });
    writers.push(created);
    return created;
  }

  const rows = async () =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM metrics_snapshots'))[0]?.n;
  /** The stored snapshot numbers (from the cpu rows), in insertion order. */
  const storedSeqs = async () =>
    (
      await db.query<{ ms: number }>(
        `SELECT (extract(epoch FROM ts) * 1000)::float8 AS ms FROM metrics_snapshots
         WHERE metric_type = 'cpu' ORDER BY id`,
      )
    ).map((row) => (row.ms - BASE_MS) / 1000);
  // Makes every write fail with a real database error, then puts the table back.
  const breakTable = () => db.exec('ALTER TABLE metrics_snapshots RENAME TO metrics_snapshots_x');
  const repairTable = () => db.exec('ALTER TABLE metrics_snapshots_x RENAME TO metrics_snapshots');

  it('flushes when batchSize snapshots are queued, not before', async () => {
    const w = writer({ batchSize: 10 });
    for (let seq = 0; seq < 9; seq++) w.enqueue(snapshot(seq));
    expect(w.stats()).toMatchObject({ queued: 9, inFlight: 0, written: 0 });
    expect(await rows()).toBe(0);

    w.enqueue(snapshot(9));
    expect(w.stats()).toMatchObject({ queued: 0, inFlight: 10 });
    await waitFor('10 written', () => w.stats().written === 10);
    expect(await rows()).toBe(10 * SECTIONS);
    expect(w.stats().lastFlushAt).not.toBeNull();
  });

  it('flushes a partial batch once its oldest snapshot has waited flushIntervalMs', async () => {
    const w = writer({ batchSize: 10, flushIntervalMs: 200 });
    for (let seq = 0; seq < 3; seq++) w.enqueue(snapshot(seq));
    expect(w.stats()).toMatchObject({ queued: 3, inFlight: 0 });
    await waitFor('3 written', () => w.stats().written === 3);
    expect(await rows()).toBe(3 * SECTIONS);
    expect(await storedSeqs()).toEqual([0, 1, 2]);
  });

  it('on close, stores what remains and ignores later snapshots', async () => {
    const logs = captureLogs();
    const w = writer({ batchSize: 10, logger: logs.logger });
    for (let seq = 0; seq < 7; seq++) w.enqueue(snapshot(seq));
    expect(await rows()).toBe(0);

    expect(await w.close()).toEqual({ written: 7, lost: 0 });
    expect(await rows()).toBe(7 * SECTIONS);
    w.enqueue(snapshot(7));
    w.enqueue(snapshot(8));
    expect(w.stats()).toMatchObject({ queued: 0, ignoredAfterClose: 2 });
    expect(logs.count('warn', /after close/)).toBe(1);
    expect(await rows()).toBe(7 * SECTIONS);
  });

  it('on close, gives up after timeoutMs and reports what was lost', async () => {
    const logs = captureLogs();
    const w = writer({ batchSize: 10, logger: logs.logger });
    for (let seq = 0; seq < 3; seq++) w.enqueue(snapshot(seq));
    await breakTable();
    expect(await w.close({ timeoutMs: 100 })).toEqual({ written: 0, lost: 3 });
    expect(w.stats().failures).toBeGreaterThan(0);
    expect(logs.lines.filter((l) => /unwritten/.test(l.msg))).toMatchObject([{ lost: 3 }]);
    // A retry still under way at the deadline fails on the broken table; repaired before it
    // got there, it would store the batch (late) into the next test's table.
    await waitFor('the last write to settle', () => w.stats().inFlight === 0);
    await repairTable();
    expect(await rows()).toBe(0);
  });

  it('holds at most maxBuffered while the database fails, dropping the oldest', async () => {
    const logs = captureLogs();
    // A long first backoff, so nothing is being written while the buffer overflows.
    const w = writer({
      batchSize: 10,
      maxBuffered: 20,
      retry: { initialMs: 60_000 },
      logger: logs.logger,
    });
    await breakTable();
    for (let seq = 0; seq < 10; seq++) w.enqueue(snapshot(seq));
    await waitFor('the first write to fail', () => w.stats().failures === 1);
    expect(w.stats()).toMatchObject({ queued: 10, inFlight: 0 });
    expect(w.stats().lastError).toMatch(/metrics_snapshots/);

    for (let seq = 10; seq < 50; seq++) w.enqueue(snapshot(seq));
    expect(w.stats()).toMatchObject({ queued: 20, inFlight: 0, dropped: 30 });

    await repairTable();
    await w.flush();
    expect(w.stats()).toMatchObject({ queued: 0, written: 20, dropped: 30 });
    expect(await storedSeqs()).toEqual(Array.from({ length: 20 }, (_, i) => 30 + i));
    expect(logs.count('warn', /write buffer full/)).toBe(1);
    const summary = logs.lines.filter((l) => /dropped while the write buffer/.test(l.msg));
    expect(summary).toMatchObject([{ dropped: 30 }]);
  });

  it('retries a failed batch at the head, in order, and recovers on its own', async () => {
    const logs = captureLogs();
    const w = writer({ batchSize: 5, logger: logs.logger });
    await breakTable();
    for (let seq = 0; seq < 5; seq++) w.enqueue(snapshot(seq));
    await waitFor('two failed attempts', () => w.stats().failures >= 2);
    for (let seq = 5; seq < 8; seq++) w.enqueue(snapshot(seq));

    await repairTable();
    await waitFor('all 8 written', () => w.stats().written === 8);
    expect(await storedSeqs()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(w.stats()).toMatchObject({ consecutiveFailures: 0, lastError: expect.any(String) });
    // One warning for the outage however many attempts failed, one line on recovery.
    expect(logs.count('warn', /database write failed/)).toBe(1);
    const recovered = logs.lines.filter((l) => /recovered/.test(l.msg));
    expect(recovered).toHaveLength(1);
    expect(recovered[0]?.attempts).toBe(w.stats().failures + 1);
  });

  it('drains a backlog larger than maxBatch in several writes, in order', async () => {
    const batches: number[][] = [];
    const w = writer({
      batchSize: 5,
      maxBatch: 8,
      write: (batch) => {
        batches.push(batch.map((s) => s.seq));
        return writeSnapshots(db, batch);
      },
    });
    for (let seq = 0; seq < 25; seq++) w.enqueue(snapshot(seq));
    await w.flush();
    expect(batches.map((b) => b.length)).toEqual([5, 8, 8, 4]);
    const all = Array.from({ length: 25 }, (_, i) => i);
    expect(batches.flat()).toEqual(all);
    expect(await storedSeqs()).toEqual(all);
  });

  /** A backlog's writer: batches of 5 by size, at most 8 a write, the next one prepared ahead. */
  const BACKLOG = {
    batchSize: 5,
    maxBatch: 8,
    flushIntervalMs: 60_000,
    maxBuffered: 1000,
    retry: RETRY,
    logger: silentLogger,
    prepare: (batch: readonly Snapshot[]) => prepareSnapshots(batch),
  };

  it('prepares the next batch of a backlog during a write, and stores each batch once, in order, across a failure', async () => {
    const writes: { seqs: number[]; prepared: boolean }[] = [];
    let failOnce = true;
    const w = createBatchWriter<PreparedSnapshots>({
      ...BACKLOG,
      write: async (batch, prepared) => {
        writes.push({ seqs: batch.map((s) => s.seq), prepared: prepared !== undefined });
        // The third batch fails once: it is retried whole, whatever was prepared meanwhile.
        if (writes.length === 3 && failOnce) {
          failOnce = false;
          throw new Error('connection reset');
        }
        return prepared ? writePrepared(db, prepared) : writeSnapshots(db, batch);
      },
    });
    writers.push(w);
    for (let seq = 0; seq < 37; seq++) w.enqueue(snapshot(seq));
    await waitFor('the backlog to be stored', async () => (await rows()) === 37 * SECTIONS);
    const all = Array.from({ length: 37 }, (_, i) => i);
    expect(await storedSeqs()).toEqual(all);
    // 5 (batchSize reached), then 8s from the backlog; the failed 8 again; the rest.
    expect(writes.map((x) => x.seqs.length)).toEqual([5, 8, 8, 8, 8, 8]);
    expect(writes[3]!.seqs).toEqual(writes[2]!.seqs);
    // A full batch waiting behind a write comes prepared; the retried one is prepared afresh.
    expect(writes.map((x) => x.prepared)).toEqual([false, false, true, false, true, true]);
  });

  it('pauses writes while the disk is low, keeps buffering, and resumes by itself', async () => {
    const logs = captureLogs();
    const disk = simulatedDisk(10 * MB);
    let attempts = 0;
    const w = writer({
      batchSize: 10,
      maxBuffered: 30,
      diskSpace: disk.watch,
      diskRecheckMs: 10,
      logger: logs.logger,
      write: (batch) => {
        attempts += 1;
        return writeSnapshots(db, batch);
      },
    });
    for (let seq = 0; seq < 10; seq++) w.enqueue(snapshot(seq));
    await waitFor('the pause', () => w.stats().storage === 'disk full');
    for (let seq = 10; seq < 40; seq++) w.enqueue(snapshot(seq));
    // Several looks at the disk later, still nothing attempted and one line said.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(attempts).toBe(0);
    expect(await rows()).toBe(0);
    expect(w.stats()).toMatchObject({
      storage: 'disk full',
      diskFreeBytes: 10 * MB,
      queued: 30,
      dropped: 10,
      failures: 0,
    });
    const paused = logs.lines.filter((l) => /^disk full/.test(l.msg));
    expect(paused).toHaveLength(1);
    expect(paused[0]).toMatchObject({ level: pino.levels.values.error, queued: 10 });
    expect(paused[0]?.msg).toMatch(
      /^disk full: 10 MB free on the database's disk, below MIN_FREE_DISK_MB=64; writes paused; 10 snapshots buffered/,
    );
    // flush() does not wait out a full disk.
    await w.flush();
    expect(await rows()).toBe(0);

    disk.freeBytes = 500 * MB;
    await waitFor('the buffer stored', () => w.stats().written === 30);
    expect(await storedSeqs()).toEqual(Array.from({ length: 30 }, (_, i) => 10 + i));
    expect(w.stats()).toMatchObject({ storage: 'ok', queued: 0, diskFreeBytes: 500 * MB });
    expect(logs.lines.filter((l) => /^disk full/.test(l.msg))).toHaveLength(1);
    const resumed = logs.lines.filter((l) => /disk space available again/.test(l.msg));
    expect(resumed).toHaveLength(1);
    expect(resumed[0]?.msg).toMatch(/writes resumed \(30 buffered snapshots being stored\)/);
    expect(logs.count('warn', /database write failed/)).toBe(0);
  });

  it('treats a write failing with ENOSPC as a full disk, retrying until space returns', async () => {
    const logs = captureLogs();
    let full = true;
    const w = writer({
      batchSize: 5,
      logger: logs.logger,
      write: async (batch) => {
        // A real ENOSPC from the kernel: /dev/full refuses every write.
        if (full) await appendFile('/dev/full', JSON.stringify(batch));
        return writeSnapshots(db, batch);
      },
    });
    for (let seq = 0; seq < 5; seq++) w.enqueue(snapshot(seq));
    await waitFor('two failed attempts', () => w.stats().failures >= 2);
    expect(w.stats()).toMatchObject({ storage: 'disk full', queued: 5, written: 0 });
    expect(w.stats().lastError).toMatch(/ENOSPC/);
    for (let seq = 5; seq < 8; seq++) w.enqueue(snapshot(seq));

    full = false;
    await waitFor('all 8 written', () => w.stats().written === 8);
    expect(await storedSeqs()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(w.stats()).toMatchObject({ storage: 'ok', consecutiveFailures: 0 });
    const paused = logs.lines.filter((l) => /^disk full/.test(l.msg));
    expect(paused).toHaveLength(1);
    expect(paused[0]?.msg).toMatch(/^disk full: the database reported: ENOSPC.*writes paused/);
    expect(logs.count('info', /disk space available again/)).toBe(1);
    // A full disk is not reported as the database being down as well.
    expect(logs.count('warn', /database write failed/)).toBe(0);
    expect(logs.count('info', /database writes recovered/)).toBe(0);
  });

  it('on close with the disk still full, gives up after timeoutMs naming what was lost', async () => {
    const logs = captureLogs();
    const disk = simulatedDisk(MB);
    const w = writer({
      batchSize: 10,
      diskSpace: disk.watch,
      diskRecheckMs: 10,
      logger: logs.logger,
    });
    for (let seq = 0; seq < 4; seq++) w.enqueue(snapshot(seq));
    expect(await w.close({ timeoutMs: 100 })).toEqual({ written: 0, lost: 4 });
    expect(logs.lines.filter((l) => /unwritten/.test(l.msg))).toMatchObject([
      { lost: 4, storage: 'disk full' },
    ]);
    expect(await rows()).toBe(0);
  });

  if (backend === 'postgres') {
    /**
     * A writer of real batches with `overlap`, as livestat runs on PostgreSQL, logging each
     * write: its snapshot numbers, whether it overlapped the one before, and when it settled.
     * `beforeCommit(index)` may throw, as the write stands between its COPY and its rollups.
     */
    function overlapping(options: { beforeCommit?: (index: number) => void } = {}) {
      const log: { seqs: number[]; overlapped: boolean; settled?: number }[] = [];
      let settled = 0;
      const w = createBatchWriter<PreparedSnapshots>({
        ...BACKLOG,
        overlap: true,
        write: async (batch, prepared, afterPrevious) => {
          const entry: (typeof log)[number] = {
            seqs: batch.map((s) => s.seq),
            overlapped: afterPrevious !== undefined,
          };
          const index = log.push(entry) - 1;
          const after = async () => {
            await afterPrevious?.();
            options.beforeCommit?.(index);
          };
          try {
            return await (prepared
              ? writePrepared(db, prepared, { afterPrevious: after })
              : writeSnapshots(db, batch, undefined, { afterPrevious: after }));
          } finally {
            entry.settled = settled++;
          }
        },
      });
      writers.push(w);
      return { w, log };
    }
    /**
     * That `n` distinct snapshots are stored, each once: its rows, its process tick, and its
     * values in the rollups (the samples of one series over all buckets, in both tiers).
     */
    const expectStoredOnce = async (n: number) => {
      const [counts] = await db.query<{ total: number; distinct_ts: number }>(
        'SELECT count(*)::int AS total, count(DISTINCT ts)::int AS distinct_ts FROM metrics_snapshots',
      );
      const samples = [];
      for (const table of ['metrics_rollup_1m', 'metrics_rollup_1h']) {
        const [rollup] = await db.query<{ samples: number }>(
          `SELECT sum(samples)::int AS samples FROM ${table} WHERE series = 'cpu.usagePercent'`,
        );
        samples.push(rollup?.samples);
      }
      const [ticks] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM process_ticks');
      expect({ ...counts, samples, ticks: ticks?.n }).toEqual({
        total: n * SECTIONS,
        distinct_ts: n,
        samples: [n, n],
        ticks: n,
      });
    };
    const clearProcessTables = () =>
      db.exec('TRUNCATE process_ticks, process_rollup_1m, process_rollup_1h, process_rollup_1d');

    it("overlaps a backlog's writes on two connections, yet commits them in order, each once", async () => {
      await clearProcessTables();
      const { w, log } = overlapping();
      for (let seq = 0; seq < 37; seq++) w.enqueue(snapshot(seq));
      await w.flush();
      const all = Array.from({ length: 37 }, (_, i) => i);
      expect(log.flatMap((x) => x.seqs)).toEqual(all);
      // 5 (batchSize reached) alone; the backlog's full batches each beside the one before.
      expect(log.map((x) => x.seqs.length)).toEqual([5, 8, 8, 8, 8]);
      expect(log.map((x) => x.overlapped)).toEqual([false, true, true, true, true]);
      expect(log.map((x) => x.settled)).toEqual([0, 1, 2, 3, 4]);
      expect(w.stats()).toMatchObject({ written: 37, inFlight: 0, queued: 0, failures: 0 });
      await expectStoredOnce(37);
    });

    it('retries a failed overlapped batch together with the one that waited on it, each stored once', async () => {
      await clearProcessTables();
      let failOnce = true;
      const { w, log } = overlapping({
        // The third write fails after its COPY, while the fourth has COPYed beside it.
        beforeCommit: (index) => {
          if (index === 2 && failOnce) {
            failOnce = false;
            throw new Error('connection reset');
          }
        },
      });
      for (let seq = 0; seq < 37; seq++) w.enqueue(snapshot(seq));
      await waitFor('the backlog to be stored', () => w.stats().written === 37);
      expect(log.map((x) => x.seqs.length)).toEqual([5, 8, 8, 8, 8, 8, 8]);
      // The failed batch and the one beside it go again, in order; then the rest.
      expect(log[4]!.seqs).toEqual(log[2]!.seqs);
      expect(log[5]!.seqs).toEqual(log[3]!.seqs);
      expect(log.flatMap((x, i) => (i === 2 || i === 3 ? [] : x.seqs))).toEqual(
        Array.from({ length: 37 }, (_, i) => i),
      );
      // One failure for the pair: the batch beside the failed one was never going to commit.
      expect(w.stats()).toMatchObject({ failures: 1, consecutiveFailures: 0, inFlight: 0 });
      await expectStoredOnce(37);
    });

    it('stores a snapshot in two overlapping batches once, its rollups counted once', async () => {
      await clearProcessTables();
      const { w, log } = overlapping();
      // 0–4 alone; then 5–12 and 9–16 (9–12 in both) side by side; then 17–24.
      const seqs = [
        ...Array.from({ length: 13 }, (_, i) => i),
        ...Array.from({ length: 16 }, (_, i) => 9 + i),
      ];
      for (const seq of seqs) w.enqueue(snapshot(seq));
      await waitFor('the backlog to be stored', () => w.stats().written === seqs.length);
      expect(log[2]).toMatchObject({ seqs: [9, 10, 11, 12, 13, 14, 15, 16], overlapped: true });
      // The second of the two waited on the first's keys and failed on them; it wrote again at
      // once, found them stored and skipped them: no failed write.
      expect(w.stats().failures).toBe(0);
      await expectStoredOnce(25);
    });

    it('stores every snapshot exactly once across an outage and lost COMMIT acks', async () => {
      const target = new URL(test.url ?? '');
      const proxy = await startTcpProxy({
        targetHost: target.hostname,
        targetPort: Number(target.port || 5432),
      });
      const proxied = createPostgresDatabase({
        connectionString: proxy.url(target.toString()),
        logger: silentLogger,
        connectionTimeoutMs: 300,
        max: 2,
      });
      const logs = captureLogs();
      const results: WriteResult[] = [];
      const w = writer({
        batchSize: 5,
        flushIntervalMs: 100,
        maxBuffered: 10_000,
        write: async (batch) => {
          results.push(await writeSnapshots(proxied, batch));
        },
        logger: logs.logger,
      });
      // CommandComplete for COMMIT: the server has committed; the client must not hear it.
      const commitAck = Buffer.from('C\0\0\0\x0bCOMMIT\0', 'latin1');
      let enqueued = 0;
      const ticker = setInterval(() => w.enqueue(snapshot(enqueued++)), 20);
      const enqueuedBy = (n: number) => waitFor(`${n} enqueued`, () => enqueued >= n);
      try {
        await waitFor('healthy writes', () => w.stats().written >= 20);
        const beforeCut = w.stats().failures;
        await proxy.cutReplyContaining(commitAck);
        await waitFor('recovery from a lost ack', () => {
          const { failures, consecutiveFailures } = w.stats();
          return failures > beforeCut && consecutiveFailures === 0;
        });

        await proxy.down();
        const failuresBefore = w.stats().failures;
        await enqueuedBy(enqueued + 25);
        await waitFor('failures while down', () => w.stats().failures >= failuresBefore + 2);
        await proxy.down('blackhole');
        await enqueuedBy(enqueued + 25);
        await waitFor('timeouts while blackholed', () => w.stats().failures >= failuresBefore + 4);

        const cut = proxy.cutReplyContaining(commitAck);
        await proxy.up();
        await cut;
        const backlogEnd = enqueued;
        await waitFor('the backlog stored', () => {
          const { written, consecutiveFailures } = w.stats();
          return written >= backlogEnd && consecutiveFailures === 0;
        });
        await enqueuedBy(enqueued + 10);
      } finally {
        clearInterval(ticker);
      }
      const result = await w.close();
      await proxied.close();
      await proxy.close();

      const n = enqueued;
      expect(result).toEqual({ written: n, lost: 0 });
      const [counts] = await db.query<{ total: number; distinct_ts: number; dup_keys: number }>(`
        SELECT count(*)::int AS total, count(DISTINCT ts)::int AS distinct_ts,
          (SELECT count(*)::int FROM (SELECT 1 FROM metrics_snapshots
             GROUP BY host, metric_type, ts HAVING count(*) > 1) d) AS dup_keys
        FROM metrics_snapshots`);
      expect(counts).toEqual({ total: n * SECTIONS, distinct_ts: n, dup_keys: 0 });
      for (const table of ['metrics_rollup_1m', 'metrics_rollup_1h']) {
        const [rollup] = await db.query<{ samples: number }>(
          `SELECT sum(samples)::int AS samples FROM ${table} WHERE series = 'cpu.usagePercent'`,
        );
        expect(rollup?.samples).toBe(n);
      }
      const stats = w.stats();
      expect(stats).toMatchObject({ dropped: 0, written: n, consecutiveFailures: 0 });
      expect(stats.failures).toBeGreaterThanOrEqual(6);
      // Each cut COMMIT had landed: its retry found those rows stored and skipped them.
      expect(results.filter((r) => r.inserted < r.rows).length).toBeGreaterThanOrEqual(2);
      // Quiet while an outage lasts: one warning per outage, each followed by a recovery line.
      const outages = logs.count('warn', /database write failed/);
      expect(outages).toBeGreaterThanOrEqual(2);
      expect(outages).toBeLessThan(stats.failures);
      expect(logs.count('info', /recovered/)).toBe(outages);
      expect(JSON.stringify(logs.lines)).not.toContain(target.toString());
    });
  }
});
