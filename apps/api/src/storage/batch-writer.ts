import type { Snapshot } from '@livestat/contracts';
import type { Logger } from '../logger.js';
import { formatMb, isDiskFullError, type DiskSpaceWatch } from './disk-space.js';

/**
 * The writer queues `Item`s: snapshots, or in production what a write takes from each
 * (`QueuedSnapshot`), so that the snapshots themselves are not held until their flush.
 */
export interface BatchWriterOptions<Prepared = never, Item = Snapshot> {
  /**
   * Stores one batch; throws on failure. In production: (batch) => writeQueued(db, batch).
   * With `prepare`, `prepared` is that batch's preparation when it was made ahead.
   */
  write: (
    batch: readonly Item[],
    prepared?: Prepared,
    afterPrevious?: () => Promise<void>,
  ) => Promise<unknown>;
  /**
   * The part of a write that needs no database (serialization), for a backlog: while a full
   * batch is being written and another full one waits, that next one is prepared meanwhile
   * and handed to its `write`. In production: `prepareQueued`.
   */
  prepare?: (batch: readonly Item[]) => Promise<Prepared>;
  /**
   * For a backlog on a database with several connections (PostgreSQL, never PGlite): while a
   * write is under way and a full batch waits, that batch's write starts at once, beside it,
   * given `afterPrevious`. Such a write may do what commits nothing meanwhile (look up its
   * keys, COPY its rows) but must await `afterPrevious()` before anything else and its COMMIT,
   * and fail if that rejects (the previous batch was not stored): batches still commit one
   * after the other, in order, and a failed one is retried with every batch after it.
   */
  overlap?: boolean;
  /** Flush when this many are queued. */
  batchSize: number;
  /** ...or when the oldest queued one has waited this long. */
  flushIntervalMs: number;
  /** Hold at most this many (queued + being written); beyond, drop the oldest and count it. */
  maxBuffered: number;
  /** Most snapshots per write (one transaction); default 1000, never more than maxBuffered. */
  maxBatch?: number;
  /** Capped exponential backoff between failed writes; default 500 ms doubling up to 30 s. */
  retry?: { initialMs?: number; maxMs?: number };
  /**
   * Free space on the database's own disk (the embedded database under DATA_DIR): while it is
   * low no write is even attempted, since PGlite on a full disk hangs instead of failing.
   */
  diskSpace?: Pick<DiskSpaceWatch, 'read' | 'minFreeBytes'>;
  /** How often to look at the disk again while writes are paused for space; default 2 s. */
  diskRecheckMs?: number;
  logger: Logger;
}

/** `disk full`: writes paused for lack of space (below the free-space threshold, or ENOSPC). */
export type StorageState = 'ok' | 'disk full';

export interface BatchWriterStats {
  /** Waiting, not being written. */
  queued: number;
  /** In the write under way. */
  inFlight: number;
  /** Stored, over the writer's life. */
  written: number;
  /** Dropped because the buffer was full. */
  dropped: number;
  /** Offered after close() and ignored. */
  ignoredAfterClose: number;
  /** Failed writes, over the writer's life. */
  failures: number;
  /** Failed writes since the last success: > 0 means the database is unreachable now. */
  consecutiveFailures: number;
  lastError: string | null;
  /** ISO time of the last successful write. */
  lastFlushAt: string | null;
  /** `disk full` from the moment writes pause for space until a write succeeds again. */
  storage: StorageState;
  /** Free bytes on the database's disk at the last look; null without a `diskSpace` watch. */
  diskFreeBytes: number | null;
}

export interface BatchWriter<Item = Snapshot> {
  /** Queues one snapshot. Synchronous, never throws, never waits on the database. */
  enqueue(snapshot: Item): void;
  /**
   * Writes what is queued now, skipping any backoff wait. Resolves once those snapshots are
   * stored, or after the first write that fails (the writer keeps retrying on its own).
   */
  flush(): Promise<void>;
  /**
   * Stops the timers, then writes what remains, retrying with backoff until the buffer is
   * empty or `timeoutMs` (default 10 s) has passed. `written` counts the writer's whole life;
   * `lost` is what was still unwritten when it gave up (logged). Later enqueues are ignored.
   */
  close(options?: { timeoutMs?: number }): Promise<{ written: number; lost: number }>;
  stats(): BatchWriterStats;
}

/** Entries behind the deque's head before it is compacted (see `shift`). */
const COMPACT_AFTER = 32;

interface EntryOf<Item> {
  snapshot: Item;
  /** performance.now() when queued: the age timer's reference. */
  at: number;
  /** Enqueue order, so flush() knows which snapshots were queued before it was called. */
  seq: number;
}

/**
 * The delay before retry number `attempt` (1-based): capped exponential with "equal jitter" —
 * half the step fixed, half random — so retries never bunch at ~0 ms yet do not march in
 * lockstep with other processes retrying against the same database.
 */
export function backoffDelay(
  attempt: number,
  retry: { initialMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const step = Math.min(retry.maxMs, retry.initialMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(step / 2 + random() * (step / 2));
}

// Error messages only: a driver error object can carry its connection parameters, and a
// message may quote a URL with credentials.
const describeError = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).replace(
    /[a-z][a-z0-9+.-]*:\/\/\S+/gi,
    '[url]',
  );

/**
 * The batch writer: queues snapshots and stores them in batches — when `batchSize`
 * are queued or the oldest has waited `flushIntervalMs` — one write at a time. A failed batch
 * stays at the head, in order, and is retried with capped backoff while new snapshots keep
 * queuing; past `maxBuffered` the oldest snapshot not being written is dropped and counted.
 * Retrying a batch whose COMMIT was lost is safe because the store is idempotent.
 *
 * A full disk (the `diskSpace` watch below its threshold, or a write failing with ENOSPC or
 * SQLSTATE 53100) is an outage of its own: writes pause, snapshots keep buffering within
 * `maxBuffered`, one line says so, and writing resumes by itself once space returns.
 */
export function createBatchWriter<Prepared = never, Item = Snapshot>(
  options: BatchWriterOptions<Prepared, Item>,
): BatchWriter<Item> {
  type Entry = EntryOf<Item>;
  const { write, batchSize, flushIntervalMs, maxBuffered, logger } = options;
  for (const [name, value] of Object.entries({ batchSize, flushIntervalMs, maxBuffered })) {
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`${name} must be a positive integer`);
  }
  const maxBatch = Math.max(1, Math.min(options.maxBatch ?? 1000, maxBuffered));
  const retry = {
    initialMs: options.retry?.initialMs ?? 500,
    maxMs: options.retry?.maxMs ?? 30_000,
  };

  // A deque: entries[head..] are queued; drops and batches taken for writing advance `head`.
  let entries: Entry[] = [];
  let head = 0;
  // Everything taken for writing and not yet stored, oldest first: the entries of every write
  // in `writes` (one, or two with `overlap`).
  let inFlight: Entry[] = [];
  const writes: { run: Promise<boolean> }[] = [];
  // The first error of writes that failed while a later one was still under way: the retry
  // waits until the last one has settled, then takes them all back.
  let chainError: unknown = null;
  // The next batch, prepared while the one in flight is written: valid while that batch
  // still starts with `first` and is `count` long (entries only ever leave from the head).
  let ahead: { first: Entry; count: number; prepared: Promise<Prepared | undefined> } | null = null;
  // The latest write under way (it is stored only if every write before it was), or null.
  let writing: Promise<boolean> | null = null;
  let nextSeq = 0;
  let ageTimer: NodeJS.Timeout | null = null;
  let ageTimerFor: Entry | null = null;
  let retryTimer: NodeJS.Timeout | null = null;
  let closed = false;
  let closing: Promise<{ written: number; lost: number }> | null = null;
  const stats = {
    written: 0,
    dropped: 0,
    ignoredAfterClose: 0,
    failures: 0,
    consecutiveFailures: 0,
    lastError: null as string | null,
    lastFlushAt: null as string | null,
  };
  let outageStartedAt = 0;
  let dropsThisEpisode = 0;
  // Whether the current run of failures was announced as a database outage (a disk-full
  // episode has its own line), so recovery says which one ended.
  let outageWarned = false;
  const { diskSpace } = options;
  const diskRecheckMs = options.diskRecheckMs ?? 2000;
  let diskFullSince: number | null = null;
  let diskFreeBytes: number | null = null;

  const queued = () => entries.length - head;

  function shift(count: number): void {
    head += count;
    // Compact now and then rather than shifting on every removal: once more than half the
    // array is behind `head` (amortized O(1) an entry), and from a few dozen entries on. The
    // entries behind `head` keep their snapshots alive (objects, JSON, raw texts: ~25 KB
    // each): compacting only past 1024 held up to 17 minutes of written snapshots, ~20 MB
    // more heap at 1 Hz (bench/RESULTS.md, bench/footprint).
    if (head >= COMPACT_AFTER && head * 2 > entries.length) {
      entries = entries.slice(head);
      head = 0;
    }
  }

  function clearAgeTimer(): void {
    if (ageTimer) clearTimeout(ageTimer);
    ageTimer = null;
    ageTimerFor = null;
  }

  function clearRetryTimer(): void {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
  }

  /** Starts a write when one is due, else arms the age timer for the oldest queued snapshot. */
  function schedule(): void {
    if (retryTimer) return;
    // A full batch waiting beside one write starts beside it, closing or not (close() drains
    // by awaiting `writing`, whichever write that is by then).
    if (writing) {
      if (canOverlap()) writeBatch();
      return;
    }
    if (closed) return;
    const oldest = entries[head];
    if (!oldest) return clearAgeTimer();
    const wait = oldest.at + flushIntervalMs - performance.now();
    if (queued() >= batchSize || wait <= 0) {
      clearAgeTimer();
      void writeHead();
      return;
    }
    if (ageTimerFor === oldest) return;
    clearAgeTimer();
    ageTimerFor = oldest;
    ageTimer = setTimeout(() => {
      ageTimer = null;
      ageTimerFor = null;
      schedule();
    }, wait);
    ageTimer.unref();
  }

  /**
   * Writes up to maxBatch from the head; resolves true when stored. Never rejects. With a
   * `diskSpace` watch it looks at the disk first and, while space is low, writes nothing.
   */
  function writeHead(): Promise<boolean> {
    clearRetryTimer();
    const run = diskSpace ? writeIfRoom() : writeBatch();
    // writeBatch sets `writing` to the latest of the writes it started; the disk check that
    // comes first holds the place meanwhile.
    if (writes.length === 0) writing = run;
    return run;
  }

  /** Whether a full batch may start beside the write under way (`overlap`). */
  const canOverlap = () =>
    options.overlap === true && writes.length === 1 && chainError === null && queued() >= maxBatch;

  const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

  async function writeIfRoom(): Promise<boolean> {
    let reading;
    try {
      reading = await diskSpace?.read();
    } catch (err) {
      // A disk we cannot even stat will fail the write too, with a better error: try it.
      logger.debug({ err: describeError(err) }, 'free-space check failed');
    }
    if (reading) diskFreeBytes = reading.freeBytes;
    if (reading?.low) {
      writing = null;
      pauseForDisk(
        `${formatMb(reading.freeBytes)} free on the database's disk, below ` +
          `MIN_FREE_DISK_MB=${Math.round((diskSpace?.minFreeBytes ?? 0) / 2 ** 20)}`,
        diskRecheckMs,
      );
      return false;
    }
    return writeBatch();
  }

  function writeBatch(): Promise<boolean> {
    const count = Math.min(queued(), maxBatch);
    const taken = entries.slice(head, head + count);
    inFlight = inFlight.concat(taken);
    shift(count);
    const batch = taken.map((entry) => entry.snapshot);
    const mine =
      ahead !== null && ahead.first === taken[0] && ahead.count === count ? ahead.prepared : null;
    ahead = null;
    const { prepare } = options;
    if (prepare && queued() >= maxBatch) {
      const next = entries.slice(head, head + maxBatch).map((entry) => entry.snapshot);
      ahead = {
        first: entries[head]!,
        count: maxBatch,
        // Started on a later turn, once this write has sent its first statement, and after
        // this batch's own preparation (two at once would only slow the one needed first). A
        // failed preparation is only a missed head start: the write then prepares its batch.
        prepared: (mine ?? Promise.resolve())
          .then(nextTurn)
          .then(() => prepare(next))
          .catch(() => undefined),
      };
    }
    const previous = writes.at(-1);
    const afterPrevious = previous
      ? () =>
          previous.run.then((stored) => {
            if (!stored) throw new Error('the previous batch was not stored');
          })
      : undefined;
    // In `writes` before the write starts: one that throws at once settles after this.
    const slot = { run: Promise.resolve(false) };
    writes.push(slot);
    const run = (async () => {
      let error: unknown = null;
      try {
        const prepared = mine ? await mine : undefined;
        if (afterPrevious) await write(batch, prepared, afterPrevious);
        else await (prepared === undefined ? write(batch) : write(batch, prepared));
      } catch (err) {
        error = err ?? new Error('write failed');
      }
      // Settled in order: the previous write's outcome is known (and booked) first.
      const previousStored = previous ? await previous.run : true;
      writes.shift();
      const last = writes.length === 0;
      if (last) writing = null;
      if (error === null && previousStored) {
        succeeded(batch.length);
        // A backlog drains at once in full batches; otherwise the age timer takes over.
        schedule();
        return true;
      }
      chainError ??= error;
      // Every batch from the first failed one on goes back to the head together, once the
      // last of them has settled (none of them committed after a failed one).
      if (last) {
        const first = chainError ?? new Error('a batch before this one was not stored');
        chainError = null;
        failed(first);
      }
      return false;
    })();
    slot.run = run;
    writing = run;
    if (canOverlap()) writeBatch();
    return run;
  }

  /** Enters (or stays in) a disk-full episode, logged once, and looks again after `retryMs`. */
  function pauseForDisk(reason: string, retryMs: number): void {
    if (diskFullSince === null) {
      diskFullSince = performance.now();
      // Once per episode: the buffer, not the log, absorbs a disk that stays full for hours.
      logger.error(
        { reason, queued: queued(), maxBuffered },
        `disk full: ${reason}; writes paused; ${queued()} snapshots buffered ` +
          `(at most ${maxBuffered}, then the oldest are dropped). Streaming goes on; writes ` +
          'resume by themselves once space is freed',
      );
    }
    if (closed) return;
    clearAgeTimer();
    clearRetryTimer();
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if (!closed && !writing && queued() > 0) void writeHead();
    }, retryMs);
    retryTimer.unref();
  }

  function succeeded(count: number): void {
    inFlight = inFlight.slice(count);
    stats.written += count;
    stats.lastFlushAt = new Date().toISOString();
    if (diskFullSince !== null) {
      logger.info(
        {
          pausedMs: Math.round(performance.now() - diskFullSince),
          written: count,
          queued: queued(),
          diskFreeBytes,
        },
        `disk space available again; writes resumed (${count + queued()} buffered snapshots ` +
          'being stored)',
      );
      diskFullSince = null;
    } else if (outageWarned) {
      logger.info(
        {
          attempts: stats.consecutiveFailures + 1,
          downMs: Math.round(performance.now() - outageStartedAt),
          written: count,
          queued: queued(),
        },
        'database writes recovered',
      );
    }
    outageWarned = false;
    stats.consecutiveFailures = 0;
    // Hysteresis, so a buffer hovering at its bound logs one episode, not one per write.
    if (dropsThisEpisode > 0 && queued() * 2 <= maxBuffered) endDropEpisode();
  }

  function failed(err: unknown): void {
    // The batch goes back to the head, in order, ahead of anything queued meanwhile.
    entries = inFlight.concat(entries.slice(head));
    head = 0;
    inFlight = [];
    stats.failures += 1;
    stats.consecutiveFailures += 1;
    stats.lastError = describeError(err);
    if (stats.consecutiveFailures === 1) outageStartedAt = performance.now();
    if (isDiskFullError(err)) {
      pauseForDisk(
        `the database reported: ${stats.lastError}`,
        backoffDelay(stats.consecutiveFailures, retry),
      );
      return;
    }
    if (!outageWarned && diskFullSince === null) {
      outageWarned = true;
      // Once per outage: a database down for an hour must not log 7,000 lines.
      logger.warn(
        { err: stats.lastError, queued: queued() },
        'database write failed; keeping the batch and retrying with backoff',
      );
    }
    if (closed) return;
    clearAgeTimer();
    retryTimer = setTimeout(
      () => {
        retryTimer = null;
        if (!closed && !writing && queued() > 0) void writeHead();
      },
      backoffDelay(stats.consecutiveFailures, retry),
    );
    retryTimer.unref();
  }

  function endDropEpisode(): void {
    logger.warn(
      { dropped: dropsThisEpisode, droppedTotal: stats.dropped },
      'snapshots dropped while the write buffer was full',
    );
    dropsThisEpisode = 0;
  }

  function drop(): void {
    stats.dropped += 1;
    if (dropsThisEpisode === 0) {
      logger.warn(
        { maxBuffered, lastError: stats.lastError },
        'write buffer full; dropping the oldest snapshots until the database catches up',
      );
    }
    dropsThisEpisode += 1;
  }

  function enqueue(snapshot: Item): void {
    if (closed) {
      if (stats.ignoredAfterClose === 0) logger.warn('snapshot offered after close; ignored');
      stats.ignoredAfterClose += 1;
      return;
    }
    if (queued() + inFlight.length >= maxBuffered) {
      drop();
      // Everything held is being written: the newcomer is the oldest one that is not.
      if (queued() === 0) return;
      shift(1);
    }
    entries.push({ snapshot, at: performance.now(), seq: nextSeq++ });
    schedule();
  }

  async function flush(): Promise<void> {
    const last = nextSeq - 1;
    for (;;) {
      if (writing) {
        if (!(await writing)) return;
        continue;
      }
      const oldest = entries[head];
      if (!oldest || oldest.seq > last) return;
      clearAgeTimer();
      if (!(await writeHead())) return;
    }
  }

  async function drainForClose(timeoutMs: number): Promise<{ written: number; lost: number }> {
    clearAgeTimer();
    clearRetryTimer();
    let deadline: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      deadline = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    let attempt = 0;
    while (writing || queued() > 0) {
      const result = await Promise.race([writing ?? writeHead(), timedOut]);
      if (result === 'timeout') break;
      if (result) continue;
      attempt += 1;
      let pause: NodeJS.Timeout | undefined;
      const paused = new Promise<'retry'>((resolve) => {
        pause = setTimeout(() => resolve('retry'), backoffDelay(attempt, retry));
      });
      const waited = await Promise.race([paused, timedOut]);
      clearTimeout(pause);
      if (waited === 'timeout') break;
    }
    clearTimeout(deadline);
    if (dropsThisEpisode > 0) endDropEpisode();
    // A write still under way at the deadline may yet land; it is counted as lost here.
    const lost = queued() + inFlight.length;
    if (lost > 0) {
      logger.error(
        {
          lost,
          written: stats.written,
          timeoutMs,
          lastError: stats.lastError,
          storage: diskFullSince === null ? 'ok' : 'disk full',
        },
        'writer closed with snapshots unwritten',
      );
    } else {
      logger.info({ written: stats.written }, 'writer flushed and closed');
    }
    return { written: stats.written, lost };
  }

  return {
    enqueue,
    flush,
    close(closeOptions = {}) {
      closed = true;
      closing ??= drainForClose(closeOptions.timeoutMs ?? 10_000);
      return closing;
    },
    stats: () => ({
      ...stats,
      queued: queued(),
      inFlight: inFlight.length,
      storage: diskFullSince === null ? 'ok' : 'disk full',
      diskFreeBytes,
    }),
  };
}
