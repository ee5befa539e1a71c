import { statfsSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkRoomForNewDatabase,
  createDiskSpaceWatch,
  DiskTooSmallError,
  isDiskFullError,
  judgeFreeSpace,
  RESUME_MARGIN,
  type Statfs,
} from './disk-space.js';

const MB = 1024 * 1024;

/** A filesystem whose free space the test sets, counting how often it is asked. */
function fakeDisk(freeBytes: number) {
  const disk: { freeBytes: number; calls: number } = { freeBytes, calls: 0 };
  const statfs: Statfs = async () => {
    disk.calls += 1;
    return { bavail: disk.freeBytes / 4096, bsize: 4096 };
  };
  return Object.assign(disk, { statfs });
}

describe('judgeFreeSpace', () => {
  it('computes free space as bavail × bsize and is low below the threshold', () => {
    expect(judgeFreeSpace({ bavail: 100, bsize: 4096 }, 0)).toEqual({
      freeBytes: 409_600,
      low: false,
    });
    expect(judgeFreeSpace({ bavail: 255n, bsize: BigInt(MB) }, 256 * MB).low).toBe(true);
    expect(judgeFreeSpace({ bavail: 256, bsize: MB }, 256 * MB).low).toBe(false);
  });

  it('once low, stays low until free space is back above the threshold plus a margin', () => {
    const threshold = 100 * MB;
    const resumeAt = threshold * (1 + RESUME_MARGIN);
    expect(judgeFreeSpace({ bavail: 110, bsize: MB }, threshold, true).low).toBe(true);
    expect(judgeFreeSpace({ bavail: resumeAt / MB - 1, bsize: MB }, threshold, true).low).toBe(
      true,
    );
    expect(judgeFreeSpace({ bavail: resumeAt / MB, bsize: MB }, threshold, true).low).toBe(false);
  });

  it('never says low when the threshold is 0 (MIN_FREE_DISK_MB=0), even on a full disk', () => {
    expect(judgeFreeSpace({ bavail: 0, bsize: 4096 }, 0, true)).toEqual({
      freeBytes: 0,
      low: false,
    });
  });
});

describe('createDiskSpaceWatch', () => {
  it('reads the real filesystem: what statfs says for the directory', async () => {
    const watch = createDiskSpaceWatch({ dir: tmpdir(), minFreeBytes: 1 });
    const reading = await watch.read();
    const stats = statfsSync(tmpdir());
    // Other processes write meanwhile: within a few megabytes of a second look.
    expect(Math.abs(reading.freeBytes - stats.bavail * stats.bsize)).toBeLessThan(64 * MB);
    expect(reading.low).toBe(stats.bavail * stats.bsize < 1);
    expect(watch.last()).toEqual(reading);
  });

  it('asks the kernel at most once per maxAgeMs, concurrent callers sharing one look', async () => {
    const disk = fakeDisk(500 * MB);
    let clock = 0;
    const watch = createDiskSpaceWatch({
      dir: '/data',
      minFreeBytes: 256 * MB,
      maxAgeMs: 2000,
      statfs: disk.statfs,
      now: () => clock,
    });
    expect(watch.last()).toBeNull();
    const [a, b] = await Promise.all([watch.read(), watch.read()]);
    expect(a).toEqual({ freeBytes: 500 * MB, low: false });
    expect(b).toBe(a);
    expect(disk.calls).toBe(1);

    disk.freeBytes = 100 * MB;
    clock = 1999;
    expect((await watch.read()).low).toBe(false);
    expect(disk.calls).toBe(1);
    clock = 2000;
    expect(await watch.read()).toEqual({ freeBytes: 100 * MB, low: true });
    expect(disk.calls).toBe(2);

    // Low carries over: just above the threshold is not yet enough to resume.
    disk.freeBytes = 300 * MB;
    clock = 4000;
    expect((await watch.read()).low).toBe(true);
    disk.freeBytes = 400 * MB;
    clock = 6000;
    expect((await watch.read()).low).toBe(false);
  });

  it('rejects when statfs fails and keeps the last reading', async () => {
    const watch = createDiskSpaceWatch({
      dir: join(tmpdir(), `livestat-missing-${process.pid}`, 'deeper'),
      minFreeBytes: MB,
      maxAgeMs: 0,
    });
    await expect(watch.read()).rejects.toMatchObject({ code: 'ENOENT' });
    expect(watch.last()).toBeNull();
  });
});

describe('checkRoomForNewDatabase', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'livestat-disk-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('refuses a first start on a disk with less free space than required, in one clear line', async () => {
    const dataDir = join(root, 'new-data');
    const attempt = checkRoomForNewDatabase({
      dir: join(dataDir, 'pglite'),
      dataDir,
      minFreeBytes: 256 * MB,
      statfs: fakeDisk(12 * MB).statfs,
    });
    await expect(attempt).rejects.toBeInstanceOf(DiskTooSmallError);
    const err = (await attempt.catch((e: unknown) => e)) as DiskTooSmallError;
    expect(err.message).toMatch(
      new RegExp(`^DATA_DIR ${dataDir} has 12 MB free; .*at least MIN_FREE_DISK_MB=256 MB`),
    );
    expect(err.message).not.toContain('\n');
    expect(err).toMatchObject({ freeBytes: 12 * MB, minFreeBytes: 256 * MB });
  });

  it('measures the nearest directory that exists when DATA_DIR is yet to be created', async () => {
    const dataDir = join(root, 'a', 'b', 'c');
    const real = statfsSync(root);
    const free = real.bavail * real.bsize;
    // More than this filesystem has: refused, with its real free space in the message.
    await expect(
      checkRoomForNewDatabase({
        dir: join(dataDir, 'pglite'),
        dataDir,
        minFreeBytes: free + 1024 * MB,
      }),
    ).rejects.toThrow(/^DATA_DIR .*\/a\/b\/c has \d+ MB free/);
    await expect(
      checkRoomForNewDatabase({ dir: join(dataDir, 'pglite'), dataDir, minFreeBytes: MB }),
    ).resolves.toBeUndefined();
  });

  it('opens an existing database whatever the free space, and skips the check when disabled', async () => {
    const dir = join(root, 'existing', 'pglite');
    await mkdir(dir, { recursive: true });
    const tiny = fakeDisk(MB);
    // Only our lock file: still a first start.
    await writeFile(join(dir, 'livestat.pid'), '1\n');
    await expect(
      checkRoomForNewDatabase({ dir, dataDir: root, minFreeBytes: 256 * MB, statfs: tiny.statfs }),
    ).rejects.toBeInstanceOf(DiskTooSmallError);
    await writeFile(join(dir, 'PG_VERSION'), '17\n');
    await expect(
      checkRoomForNewDatabase({ dir, dataDir: root, minFreeBytes: 256 * MB, statfs: tiny.statfs }),
    ).resolves.toBeUndefined();
    await expect(
      checkRoomForNewDatabase({
        dir: join(root, 'fresh'),
        dataDir: root,
        minFreeBytes: 0,
        statfs: tiny.statfs,
      }),
    ).resolves.toBeUndefined();
  });
});

describe('isDiskFullError', () => {
  it("recognises the kernel's ENOSPC, PostgreSQL's disk_full and PGlite's message", () => {
    // /dev/full answers every write with a real ENOSPC.
    let enospc: unknown;
    try {
      writeFileSync('/dev/full', 'x');
    } catch (err) {
      enospc = err;
    }
    expect(enospc).toMatchObject({ code: 'ENOSPC' });
    expect(isDiskFullError(enospc)).toBe(true);

    const postgres = new pg.DatabaseError(
      'could not extend file "base/16384/16385": No space left on device',
      0,
      'error',
    );
    postgres.code = '53100';
    expect(isDiskFullError(postgres)).toBe(true);
    const codeOnly = new pg.DatabaseError('could not write to file', 0, 'error');
    codeOnly.code = '53100';
    expect(isDiskFullError(codeOnly)).toBe(true);
    // What PGlite threw on a full tmpfs, as it reaches us without its code.
    expect(
      isDiskFullError(
        new Error('could not write to file "pg_wal/xlogtemp.42": No space left on device'),
      ),
    ).toBe(true);
    expect(isDiskFullError(new Error('write failed', { cause: enospc }))).toBe(true);
  });

  it('leaves other failures to the ordinary outage handling', () => {
    const tooMany = new pg.DatabaseError('sorry, too many clients already', 0, 'error');
    tooMany.code = '53300';
    expect(isDiskFullError(tooMany)).toBe(false);
    expect(isDiskFullError(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toBe(
      false,
    );
    expect(isDiskFullError(new Error('relation "metrics_snapshots" does not exist'))).toBe(false);
    expect(isDiskFullError('database not ready')).toBe(false);
    expect(isDiskFullError(null)).toBe(false);
  });
});
