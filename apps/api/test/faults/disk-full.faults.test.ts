import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm, rmdir, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { producedSnapshots, runTs } from '../process.js';
import { openClient, type TestClient } from '../stream-harness.js';
import {
  getHealth,
  login,
  longestGapMs,
  missingSeqs,
  pollUntil,
  recordArrivals,
  sleep,
  startFaultApi,
  stopAllApis,
  wsUrl,
  type Arrival,
  type FaultApi,
} from './support.js';

// DATA_DIR on a 64 MB tmpfs of its own, which the test fills while the API runs (PGlite, the
// default). The threshold must stop writes before PGlite meets ENOSPC (where it used to hang
// at 100 % CPU, deaf to SIGTERM); meanwhile the stream goes on, health says `disk full`, and
// once the filler is deleted every buffered snapshot is stored. Mounting needs root (CAP_SYS_ADMIN):
// elsewhere the suite is skipped by name, and fails under REQUIRE_SERVICES=1. A file-size limit
// (RLIMIT_FSIZE) is no stand-in: statfs would still report free space, so it would test neither
// the threshold nor the pause.

const MB = 1024 * 1024;
const TMPFS_MB = 64;
const INTERVAL_MS = 200;
/** What the running API must keep free: a fresh PGlite leaves ~20 MB of the 64. */
const MIN_FREE_DISK_MB = 8;
/** What the filler leaves: below the threshold, yet room for a write already under way. */
const LEAVE_FREE_MB = 3;
/** A stall longer than this many intervals means the full disk reached the live stream. */
const MAX_STALL_INTERVALS = 5;
const FULL_FOR_MS = 10_000;
const host = (name: string) => `faults-disk-${name}-${process.pid}`;

/** Mounts a tmpfs of `sizeMb` at `dir`; false (and why, on the console) when not allowed. */
function mountTmpfs(dir: string, sizeMb: number): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0700`, 'tmpfs', dir], {
      stdio: 'pipe',
    });
    return true;
  } catch (err) {
    console.warn(
      `[faults] SKIPPED 'fault: the disk under DATA_DIR fills up': cannot mount a tmpfs ` +
        `(${String((err as { stderr?: Buffer }).stderr ?? err).trim()}); run as root`,
    );
    return false;
  }
}

const mountDir = await mkdtemp(join(tmpdir(), 'livestat-disk-full-'));
const mounted = mountTmpfs(mountDir, TMPFS_MB);
if (!mounted) {
  await rmdir(mountDir);
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error('REQUIRE_SERVICES=1 but the disk-full fault test cannot mount a tmpfs');
  }
}

/** Fills the tmpfs until `leaveMb` remain free; returns the filler's path. */
async function fill(leaveMb: number): Promise<string> {
  const path = join(mountDir, 'filler');
  const { bavail, bsize } = await statfs(mountDir);
  let remaining = Number(bavail) * Number(bsize) - leaveMb * MB;
  const chunk = Buffer.alloc(MB, 0xa5);
  const file = await open(path, 'a');
  try {
    while (remaining > 0) {
      const { bytesWritten } = await file.write(chunk, 0, Math.min(chunk.length, remaining));
      remaining -= bytesWritten;
    }
  } finally {
    await file.close();
  }
  return path;
}

const freeMb = async () => {
  const { bavail, bsize } = await statfs(mountDir);
  return Math.round((Number(bavail) * Number(bsize)) / MB);
};

/** `livestat_snapshots_written_total` from the API's /metrics. */
async function writtenTotal(api: FaultApi): Promise<number> {
  const text = await (await fetch(`${api.url}/metrics`)).text();
  const match = /^livestat_snapshots_written_total (\d+)/m.exec(text);
  if (!match?.[1]) throw new Error('no livestat_snapshots_written_total in /metrics');
  return Number(match[1]);
}

/** What the embedded database under `dataDir` holds for `host`; opened once the API is gone. */
async function storedInDataDir(dataDir: string, name: string) {
  const db = await PGlite.create(join(dataDir, 'pglite'));
  try {
    const { rows } = await db.query<{ snapshots: number; duplicates: number; maxSeq: number }>(
      `SELECT count(DISTINCT ts)::int AS snapshots, max(seq)::int AS "maxSeq",
         (SELECT count(*)::int FROM (SELECT 1 FROM metrics_snapshots WHERE host = $1
            GROUP BY metric_type, ts HAVING count(*) > 1) d) AS duplicates
       FROM metrics_snapshots WHERE host = $1`,
      [name],
    );
    return rows[0];
  } finally {
    await db.close();
  }
}

describe.skipIf(!mounted)(
  'fault: the disk under DATA_DIR fills up (PGlite on a 64 MB tmpfs)',
  () => {
    const dataDir = join(mountDir, 'data');
    const clients: TestClient[] = [];
    beforeAll(async () => {
      expect(await freeMb()).toBeGreaterThan(TMPFS_MB - 2);
    });
    afterAll(async () => {
      for (const client of clients) client.ws.terminate();
      await stopAllApis();
      await rm(join(mountDir, 'filler'), { force: true });
      execFileSync('umount', [mountDir]);
      await rmdir(mountDir);
    });

    it('a first start on a disk smaller than MIN_FREE_DISK_MB exits 1 with one clear line', async () => {
      const small = join(mountDir, 'too-small');
      const result = await runTs('src/main.ts', [], {
        PORT: '0',
        DATA_DIR: small,
        ADMIN_PASSWORD: 'faults-test-password',
      });
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^livestat: cannot start: DATA_DIR ${small} has (6[0-4]|5\\d) MB free; the embedded ` +
            'database needs at least MIN_FREE_DISK_MB=256 MB',
        ),
      );
      expect(result.stderr).not.toMatch(/\n\s+at /);
      // Nothing was created: the disk is as empty as before.
      expect(await freeMb()).toBeGreaterThan(TMPFS_MB - 2);
    });

    it('fills while running: the stream goes on, health says disk full, and every snapshot is stored once space returns', async () => {
      const name = host('fill');
      const api = await startFaultApi({
        DATA_DIR: dataDir,
        METRICS_HOST_NAME: name,
        SAMPLING_INTERVAL_SECONDS: String(INTERVAL_MS / 1000),
        MIN_FREE_DISK_MB: String(MIN_FREE_DISK_MB),
        BATCH_SIZE: '5',
        FLUSH_INTERVAL_SECONDS: '1',
      });
      const client = await openClient(wsUrl(api.url, await login(api.url)));
      clients.push(client);
      const arrivals: Arrival[] = recordArrivals(client.ws, name);
      await pollUntil(async () => (await writtenTotal(api)) >= 10, 'the first writes', 30_000);
      const before = await getHealth(api.url);
      expect(before.body).toMatchObject({ storage: 'ok' });
      const freeBefore = await freeMb();

      const filledAt = performance.now();
      const filler = await fill(LEAVE_FREE_MB);
      const full = await pollUntil(
        async () => {
          const health = await getHealth(api.url);
          return health.body.storage === 'disk full' && health;
        },
        'health to say disk full',
        20_000,
        200,
      );
      const noticedMs = performance.now() - filledAt;
      expect(full.status).toBe(503);
      expect(full.body.status).toBe('degraded');
      expect(full.body.reasons?.some((r) => /^disk full: history paused/.test(r))).toBe(true);
      const writtenWhenPaused = await writtenTotal(api);

      // How long the disk stays full is the scenario: the stream must go on throughout.
      await sleep(FULL_FOR_MS);
      // Not a single write attempted while the disk stayed full, and the buffer holds the rest.
      expect(await writtenTotal(api)).toBe(writtenWhenPaused);
      const stillFull = await getHealth(api.url);
      expect(stillFull.body).toMatchObject({ storage: 'disk full', database: 'up' });
      expect(stillFull.body.bufferedSnapshots).toBeGreaterThanOrEqual(
        FULL_FOR_MS / INTERVAL_MS / 2,
      );
      const pausedLines = api.logs('disk full:');
      expect(pausedLines).toHaveLength(1);
      expect(String(pausedLines[0]?.msg)).toMatch(
        new RegExp(
          `^disk full: \\d+ MB free on the database's disk, below MIN_FREE_DISK_MB=${MIN_FREE_DISK_MB}; ` +
            'writes paused; \\d+ snapshots buffered',
        ),
      );

      const freedAt = performance.now();
      await rm(filler);
      const stall = longestGapMs(arrivals, filledAt, freedAt);
      const during = arrivals.filter((a) => a.at >= filledAt && a.at <= freedAt).length;
      const seqAtFree = arrivals.at(-1)?.seq ?? 0;
      await pollUntil(
        async () => (await getHealth(api.url)).body.storage === 'ok',
        'health to say storage ok again',
        20_000,
        200,
      );
      await pollUntil(
        async () => (await writtenTotal(api)) >= seqAtFree,
        `the ${seqAtFree} snapshots produced by then to be stored`,
        30_000,
      );
      const drainedMs = performance.now() - freedAt;
      expect(api.logs('disk space available again')).toHaveLength(1);
      expect(api.logs('disk full:')).toHaveLength(1);

      await api.kill('SIGTERM');
      expect(await api.exited, api.stderr()).toEqual({ code: 0, signal: null });
      const produced = producedSnapshots(api.output());
      const stored = await storedInDataDir(dataDir, name);
      console.log(
        `[faults] disk full: ${freeBefore} MB free before, filled to ${LEAVE_FREE_MB} MB; health ` +
          `said disk full after ${Math.round(noticedMs)} ms; ${during} snapshots streamed in ` +
          `${Math.round((freedAt - filledAt) / 1000)} s of full disk, longest stall ` +
          `${Math.round(stall)} ms; ${seqAtFree} produced by the time space returned, stored within ` +
          `${Math.round(drainedMs)} ms; produced ${produced}, stored ${stored?.snapshots}, ` +
          `duplicates ${stored?.duplicates}`,
      );

      // The live stream never noticed the disk.
      expect(stall).toBeLessThanOrEqual(MAX_STALL_INTERVALS * INTERVAL_MS);
      expect(missingSeqs(arrivals)).toEqual([]);
      // Every snapshot produced, stored exactly once.
      expect(stored).toEqual({ snapshots: produced, duplicates: 0, maxSeq: produced });
    });

    it('SIGTERM while the disk is still full: exits within a bounded time, naming the snapshots lost', async () => {
      const name = host('sigterm');
      // The same DATA_DIR: the database exists, so a start on a low disk is allowed.
      const api = await startFaultApi({
        DATA_DIR: dataDir,
        METRICS_HOST_NAME: name,
        SAMPLING_INTERVAL_SECONDS: String(INTERVAL_MS / 1000),
        MIN_FREE_DISK_MB: String(MIN_FREE_DISK_MB),
        BATCH_SIZE: '5',
        FLUSH_INTERVAL_SECONDS: '1',
      });
      const client = await openClient(wsUrl(api.url, await login(api.url)));
      clients.push(client);
      await fill(LEAVE_FREE_MB);
      await pollUntil(
        async () => (await getHealth(api.url)).body.storage === 'disk full',
        'health to say disk full',
        20_000,
        200,
      );
      // Ten more snapshots produced on the full disk: unwritten when the signal comes.
      const seen = client.snapshots(name).length;
      await client.until(() => client.snapshots(name).length >= seen + 10, 'ten more snapshots');

      const signalledAt = performance.now();
      await api.kill('SIGTERM');
      const exit = await Promise.race([api.exited, sleep(40_000).then(() => 'still running')]);
      const exitMs = performance.now() - signalledAt;
      expect(exit, `${api.output()}${api.stderr()}`).toEqual({ code: 1, signal: null });
      expect(await client.closed).toMatchObject({ code: 1001 });
      const unwritten = api.logs('writer closed with snapshots unwritten');
      expect(unwritten).toHaveLength(1);
      expect(unwritten[0]).toMatchObject({ storage: 'disk full' });
      const lost = Number(unwritten[0]?.lost);
      expect(lost).toBeGreaterThan(0);
      const failedStep = api.logs('shutdown step failed')[0] as { err?: { message?: string } };
      expect(failedStep?.err?.message).toBe(`${lost} snapshots could not be written (disk full)`);
      console.log(
        `[faults] SIGTERM on a full disk: exited ${String((exit as { code: number }).code)} after ` +
          `${Math.round(exitMs)} ms, ${lost} snapshots named lost`,
      );
    });
  },
);
