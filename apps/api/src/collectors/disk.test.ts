import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { diskMetrics } from '@livestat/contracts';
import { describe, expect, it } from 'vitest';
import {
  computeDiskMetrics,
  createDiskCollector,
  filesystemUsage,
  isIgnoredDevice,
  isPartition,
  isRealFsType,
  isVirtualDevice,
  parseDiskstats,
  parseFilesystems,
  parseMounts,
  readDiskstats,
  readRealMounts,
  realFilesystemMounts,
  wholeDevices,
  type Statfs,
  type StatfsResult,
} from './disk.js';
import { CollectorError } from './types.js';

const fixtures = path.resolve(fileURLToPath(import.meta.url), '../../../test/fixtures/proc');
const debian = path.join(fixtures, 'debian12-vm-6.18');
const synthetic = path.join(fixtures, 'synthetic-64core-6.8');

/** A fake monotonic clock returning the given instants in turn. */
function clock(...instants: number[]): () => number {
  let i = 0;
  return () => instants[Math.min(i++, instants.length - 1)] ?? 0;
}

/** A stand-in for statfs(2): numbers by mount point, ENOENT for any other path. */
function fakeStatfs(table: Record<string, StatfsResult>, calls: string[] = []): Statfs {
  return (mountPoint) => {
    calls.push(mountPoint);
    const stats = table[mountPoint];
    if (stats === undefined) {
      return Promise.reject(Object.assign(new Error('ENOENT'), { code: 'ENOENT' }));
    }
    return Promise.resolve(stats);
  };
}

const GiB = 1024 ** 3;
/** `gib` GiB filesystem with 4 KiB blocks, `usedGib` used, `reservedGib` kept for root. */
function fsOf(gib: number, usedGib: number, reservedGib = 0): StatfsResult {
  const blocks = Math.round((gib * GiB) / 4096);
  const bfree = Math.round(((gib - usedGib) * GiB) / 4096);
  return { bsize: 4096, blocks, bfree, bavail: bfree - Math.round((reservedGib * GiB) / 4096) };
}

/** A diskstats line: major minor name, then the given counters. */
const row = (name: string, counters: (number | string)[]) =>
  `   8   0 ${name} ${counters.join(' ')}`;
// reads rmerged rsect rms writes wmerged wsect wms inflight io_ticks weighted
const eleven = (reads: number, rsect: number, writes: number, wsect: number, ticks: number) => [
  reads,
  0,
  rsect,
  0,
  writes,
  0,
  wsect,
  0,
  0,
  ticks,
  0,
];

describe('parseDiskstats', () => {
  it('reads the 14-, 18- and 20-column formats and ignores extra columns', () => {
    const reading = parseDiskstats(
      [
        row('sda', eleven(10, 80, 20, 160, 5)),
        row('sdb', [...eleven(1, 2, 3, 4, 6), 9, 9, 9, 9]),
        row('sdc', [...eleven(5, 6, 7, 8, 7), 9, 9, 9, 9, 9, 9]),
        row('sdd', [...eleven(1, 1, 1, 1, 8), 9, 9, 9, 9, 9, 9, 9, 9, 9]),
        '',
      ].join('\n'),
    );
    expect(reading.get('sda')).toEqual({
      readsCompleted: 10,
      sectorsRead: 80,
      writesCompleted: 20,
      sectorsWritten: 160,
      ioTicksMs: 5,
    });
    expect(reading.get('sdb')?.ioTicksMs).toBe(6);
    expect(reading.get('sdc')?.sectorsWritten).toBe(8);
    expect(reading.get('sdd')?.ioTicksMs).toBe(8);
  });

  it('accepts an empty file (a container with no block devices)', () => {
    expect(parseDiskstats('').size).toBe(0);
  });

  it('throws a CollectorError on a short or non-numeric line', () => {
    expect(() => parseDiskstats('   8 0 sda 1 2 3 4 5 6 7')).toThrow(
      /line 1: expected at least 14 columns, got 10/,
    );
    expect(() => parseDiskstats(row('sda', [1, 2, 'x', 4, 5, 6, 7, 8, 9, 10, 11]))).toThrow(
      /"x" is not a counter/,
    );
    expect(() => parseDiskstats(row('sda', eleven(1, 1, 1, 1, -1)))).toThrow(CollectorError);
  });
});

describe('device classification', () => {
  const names = new Set([
    'sda',
    'sda1',
    'vda',
    'vda2',
    'xvda',
    'xvda1',
    'hdb',
    'hdb3',
    'nvme0n1',
    'nvme0n1p1',
    'nvme0n10',
    'mmcblk0',
    'mmcblk0p2',
    'md0',
    'md0p1',
    'dm-1',
    'dm-10',
    'sdp',
    'sdp1',
  ]);

  it('recognises partitions by the kernel naming rule', () => {
    for (const part of [
      'sda1',
      'vda2',
      'xvda1',
      'hdb3',
      'nvme0n1p1',
      'mmcblk0p2',
      'md0p1',
      'sdp1',
    ]) {
      expect(isPartition(part, names), part).toBe(true);
    }
  });

  it('keeps whole devices whose names merely extend another name', () => {
    for (const whole of ['sda', 'nvme0n1', 'nvme0n10', 'dm-1', 'dm-10', 'mmcblk0', 'md0', 'sdp']) {
      expect(isPartition(whole, names), whole).toBe(false);
    }
    // without its disk in the file a name is not judged a partition
    expect(isPartition('sdz1', names)).toBe(false);
  });

  it('ignores loop, ram, floppy and optical devices but keeps zram', () => {
    for (const name of ['loop0', 'loop12', 'loop0p1', 'ram0', 'fd0', 'sr0']) {
      expect(isIgnoredDevice(name), name).toBe(true);
    }
    for (const name of ['zram0', 'sda', 'nvme0n1', 'dm-0', 'md127']) {
      expect(isIgnoredDevice(name), name).toBe(false);
    }
  });

  it('marks dm-* and md* virtual', () => {
    expect(isVirtualDevice('dm-3')).toBe(true);
    expect(isVirtualDevice('md127')).toBe(true);
    expect(isVirtualDevice('sda')).toBe(false);
    expect(isVirtualDevice('zram0')).toBe(false);
  });

  it('wholeDevices drops partitions and ignored devices', () => {
    const reading = parseDiskstats(
      ['sda', 'sda1', 'nvme0n1', 'nvme0n1p1', 'loop0', 'loop0p1', 'sr0', 'zram0', 'dm-1', 'dm-10']
        .map((name) => row(name, eleven(0, 0, 0, 0, 0)))
        .join('\n'),
    );
    expect([...wholeDevices(reading).keys()]).toEqual(['sda', 'nvme0n1', 'zram0', 'dm-1', 'dm-10']);
  });
});

describe('computeDiskMetrics', () => {
  it('gives bytes (512-byte sectors), ops and busy % over the real elapsed time', () => {
    const t0 = parseDiskstats(
      [
        row('sda', eleven(100, 1000, 50, 2000, 0)),
        row('sda1', eleven(100, 1000, 50, 2000, 0)),
        row('dm-0', eleven(0, 0, 0, 0, 0)),
      ].join('\n'),
    );
    const t1 = parseDiskstats(
      [
        row('sda', eleven(300, 5000, 150, 10000, 500)),
        row('sda1', eleven(300, 5000, 150, 10000, 500)),
        row('dm-0', eleven(200, 4000, 100, 8000, 1900)),
      ].join('\n'),
    );
    const payload = computeDiskMetrics(t0, t1, 2000, []);
    expect(diskMetrics.parse(payload)).toEqual(payload);
    expect(payload.devices).toMatchObject({
      sda: {
        readBytesPerSec: 1024000,
        writeBytesPerSec: 2048000,
        readOpsPerSec: 100,
        writeOpsPerSec: 50,
        busyPercent: 25,
        virtual: false,
      },
      'dm-0': {
        readBytesPerSec: 1024000,
        writeBytesPerSec: 2048000,
        readOpsPerSec: 100,
        writeOpsPerSec: 50,
        busyPercent: 95,
        virtual: true,
      },
    });
    // dm-0 is virtual: neither its bytes nor its busy % enter the totals
    expect(payload).toMatchObject({
      readBytesPerSec: 1024000,
      writeBytesPerSec: 2048000,
      readOpsPerSec: 100,
      writeOpsPerSec: 50,
      busyPercent: 25,
    });
  });

  it('clamps busy % to 100, reports 0 on a reset and for a new device', () => {
    const t0 = parseDiskstats(
      [row('sda', eleven(0, 0, 0, 0, 0)), row('sdb', eleven(9000, 9000, 9000, 9000, 9000))].join(
        '\n',
      ),
    );
    const t1 = parseDiskstats(
      [
        row('sda', eleven(10, 10, 0, 0, 1012)),
        row('sdb', eleven(5, 5, 5, 5, 5)),
        row('sdc', eleven(7, 7, 7, 7, 7)),
      ].join('\n'),
    );
    const payload = computeDiskMetrics(t0, t1, 1000, []);
    expect(diskMetrics.parse(payload)).toEqual(payload);
    expect(payload.devices.sda?.busyPercent).toBe(100);
    expect(payload.devices.sdb).toMatchObject({
      readBytesPerSec: 0,
      writeOpsPerSec: 0,
      busyPercent: 0,
    });
    expect(payload.devices.sdc).toMatchObject({ readBytesPerSec: 0, busyPercent: 0 });
    expect(payload.busyPercent).toBe(100);
    expect(payload.readOpsPerSec).toBe(10);
  });

  it('sorts filesystems by mount point', () => {
    const usage = (mountPoint: string) =>
      filesystemUsage({ device: mountPoint, mountPoint, fsType: 'ext4' }, fsOf(10, 5));
    const payload = computeDiskMetrics(new Map(), new Map(), 1000, [
      usage('/var'),
      usage('/'),
      usage('/boot/efi'),
      usage('/boot'),
    ]);
    expect(payload.filesystems.map((fs) => fs.mountPoint)).toEqual([
      '/',
      '/boot',
      '/boot/efi',
      '/var',
    ]);
  });
});

describe('mounts and filesystems', () => {
  it('decodes octal escapes in mount fields', () => {
    const mounts = parseMounts(
      '/dev/sdb1 /mnt/my\\040disk ext4 rw 0 0\n/dev/sdc1 /mnt/tab\\011and\\134slash\\012nl xfs rw 0 0\n',
    );
    expect(mounts).toEqual([
      { device: '/dev/sdb1', mountPoint: '/mnt/my disk', fsType: 'ext4' },
      { device: '/dev/sdc1', mountPoint: '/mnt/tab\tand\\slash\nnl', fsType: 'xfs' },
    ]);
  });

  it('throws a CollectorError on a mounts line without a type', () => {
    expect(() => parseMounts('/dev/sda1 /boot\n')).toThrow(
      /line 1: expected "device mountpoint type/,
    );
  });

  it('parses /proc/filesystems and judges real types', () => {
    const types = parseFilesystems(
      'nodev\tsysfs\nnodev\ttmpfs\n\text4\n\tfuseblk\nnodev\tfuse\nnodev\tzfs\n',
    );
    expect(types.get('ext4')).toEqual({ nodev: false });
    expect(types.get('tmpfs')).toEqual({ nodev: true });
    expect(isRealFsType('ext4', types)).toBe(true);
    expect(isRealFsType('fuseblk', types)).toBe(true);
    expect(isRealFsType('zfs', types)).toBe(true);
    expect(isRealFsType('tmpfs', types)).toBe(false);
    expect(isRealFsType('fuse.sshfs', types)).toBe(false);
    expect(isRealFsType('unknownfs', types)).toBe(false);
  });

  it('keeps the first mount of each device and drops virtual filesystems', () => {
    const types = parseFilesystems('nodev\ttmpfs\n\text4\n');
    const mounts = parseMounts(
      'tmpfs /run tmpfs rw 0 0\n/dev/sda2 /boot ext4 rw 0 0\n/dev/sda2 /bind ext4 rw 0 0\n/dev/sda3 /home ext4 rw 0 0\n',
    );
    expect(realFilesystemMounts(mounts, types).map((m) => m.mountPoint)).toEqual([
      '/boot',
      '/home',
    ]);
  });

  it('computes usage as df does', () => {
    const usage = filesystemUsage(
      { device: '/dev/sda1', mountPoint: '/', fsType: 'ext4' },
      fsOf(100, 50, 5),
    );
    expect(usage).toEqual({
      mountPoint: '/',
      device: '/dev/sda1',
      fsType: 'ext4',
      totalBytes: 100 * GiB,
      usedBytes: 50 * GiB,
      availableBytes: 45 * GiB,
      usedPercent: 52.63,
    });
  });
});

describe('readers and createDiskCollector', () => {
  it('reads the real debian12 capture (dd wrote 200 MiB)', async () => {
    // 8 loop devices, vda and zram0, 20 columns each
    expect((await readDiskstats(path.join(debian, 't1'))).size).toBe(10);
    const deps = {
      procRoot: path.join(debian, 't0'),
      sysRoot: '/nonexistent',
      now: clock(0, 1000),
    };
    const collector = createDiskCollector(deps, { statfs: fakeStatfs({ '/': fsOf(40, 10) }) });
    await collector.prime?.();
    deps.procRoot = path.join(debian, 't1');
    const payload = await collector.collect();
    expect(diskMetrics.parse(payload)).toEqual(payload);
    if (!payload.available) throw new Error('expected an available payload');
    expect(Object.keys(payload.devices)).toEqual(['vda', 'zram0']);
    expect(payload.devices.vda).toMatchObject({
      readBytesPerSec: 21816 * 512,
      writeBytesPerSec: 409608 * 512,
      readOpsPerSec: 193,
      writeOpsPerSec: 201,
      busyPercent: 13.6,
      virtual: false,
    });
    expect(payload.writeBytesPerSec).toBe(209_719_296);
    expect(payload.busyPercent).toBe(13.6);
    expect(payload.filesystems).toEqual([
      {
        mountPoint: '/',
        device: '/dev/vda',
        fsType: 'ext4',
        totalBytes: 40 * GiB,
        usedBytes: 10 * GiB,
        availableBytes: 30 * GiB,
        usedPercent: 25,
      },
    ]);
  });

  it('finds the real filesystems of the synthetic tree', async () => {
    const mounts = await readRealMounts(path.join(synthetic, 't0'));
    expect(mounts.map((m) => `${m.device} ${m.mountPoint} ${m.fsType}`)).toEqual([
      '/dev/mapper/vg0-root / xfs',
      '/dev/sda2 /boot ext4',
      '/dev/sda1 /boot/efi vfat',
      '/dev/mapper/vg0-var /var xfs',
      '/dev/md0p1 /srv/raid ext4',
      '/dev/nvme1n1p1 /data/scratch xfs',
      '/dev/nvme2n1p1 /srv/team share ext4',
      '/dev/sdb1 /mnt/usb backup fuseblk',
      'tank/data /tank/data zfs',
      '/dev/zram0 /var/cache/zram ext4',
    ]);
  });

  it('collects the synthetic many-disk tree between t0 and t1 with a fake clock', async () => {
    const table: Record<string, StatfsResult> = {
      '/': fsOf(100, 40),
      '/boot': fsOf(1, 0.25, 0.05),
      '/boot/efi': fsOf(0.5, 0.01),
      '/var': fsOf(400, 300),
      '/srv/raid': fsOf(7000, 3500, 350),
      '/data/scratch': fsOf(3500, 100),
      '/srv/team share': fsOf(3500, 3500, 175),
      '/tank/data': fsOf(20000, 5000),
      '/var/cache/zram': fsOf(16, 1),
      // '/mnt/usb backup' is missing: its statfs fails and it is skipped
    };
    const deps = {
      procRoot: path.join(synthetic, 't0'),
      sysRoot: '/nonexistent',
      now: clock(0, 1000),
    };
    const collector = createDiskCollector(deps, { statfs: fakeStatfs(table) });
    await collector.prime?.();
    deps.procRoot = path.join(synthetic, 't1');
    const payload = await collector.collect();
    expect(diskMetrics.parse(payload)).toEqual(payload);
    if (!payload.available) throw new Error('expected an available payload');

    const names = Object.keys(payload.devices);
    expect(names).toHaveLength(32); // 24 NVMe namespaces, sda, sdb, md0, dm-0..3, zram0
    expect(names.filter((n) => n.startsWith('nvme'))).toHaveLength(24);
    expect(names).toEqual(expect.arrayContaining(['nvme0n10', 'nvme10n1', 'sda', 'sdb', 'zram0']));
    expect(names.some((n) => /p\d+$|^sd[a-z]\d|^loop|^sr/.test(n))).toBe(false);

    expect(payload.devices.nvme0n1?.busyPercent).toBe(100);
    expect(payload.devices.nvme0n3).toMatchObject({
      readBytesPerSec: 1089360 * 512,
      writeBytesPerSec: 3400680 * 512,
      readOpsPerSec: 17170,
      writeOpsPerSec: 34085,
      busyPercent: 79.9,
      virtual: false,
    });
    expect(payload.devices.sdb).toMatchObject({
      readBytesPerSec: 0,
      readOpsPerSec: 0,
      busyPercent: 0,
    });
    expect(payload.devices.md0).toMatchObject({ readBytesPerSec: 640000 * 512, virtual: true });
    expect(payload.devices['dm-1']).toMatchObject({
      writeOpsPerSec: 9000,
      busyPercent: 60,
      virtual: true,
    });
    expect(payload.devices.zram0).toMatchObject({ writeBytesPerSec: 4000 * 512, virtual: false });

    // Sums over sda, zram0 and the 24 namespaces (awk over the fixture); sdb's reset adds 0.
    expect(payload.readBytesPerSec).toBe(5_813_133_312);
    expect(payload.writeBytesPerSec).toBe(18_144_432_128);
    expect(payload.readOpsPerSec).toBe(179_142);
    expect(payload.writeOpsPerSec).toBe(355_733);
    expect(payload.busyPercent).toBe(100);

    expect(payload.filesystems.map((fs) => fs.mountPoint)).toEqual([
      '/',
      '/boot',
      '/boot/efi',
      '/data/scratch',
      '/srv/raid',
      '/srv/team share',
      '/tank/data',
      '/var',
      '/var/cache/zram',
    ]);
    expect(payload.filesystems.find((fs) => fs.mountPoint === '/srv/team share')).toEqual({
      mountPoint: '/srv/team share',
      device: '/dev/nvme2n1p1',
      fsType: 'ext4',
      totalBytes: 3500 * GiB,
      usedBytes: 3500 * GiB,
      availableBytes: 0,
      usedPercent: 100,
    });
    expect(payload.filesystems.find((fs) => fs.mountPoint === '/boot')?.usedPercent).toBe(26.32);
  });

  it('skips a hung statfs after the timeout and does not pile up calls on it', async () => {
    const calls: string[] = [];
    const statfs: Statfs = (mountPoint) => {
      calls.push(mountPoint);
      if (mountPoint === '/') return new Promise<never>(() => {});
      return Promise.reject(Object.assign(new Error('EACCES'), { code: 'EACCES' }));
    };
    const collector = createDiskCollector(
      { procRoot: path.join(debian, 't0'), sysRoot: '/nonexistent', now: clock(0, 1000, 2000) },
      { statfs, statfsTimeoutMs: 5 },
    );
    const first = await collector.collect();
    expect(diskMetrics.parse(first)).toEqual(first);
    if (!first.available) throw new Error('expected an available payload');
    expect(first.filesystems).toEqual([]);
    const second = await collector.collect();
    if (!second.available) throw new Error('expected an available payload');
    expect(second.filesystems).toEqual([]);
    // the first call on '/' never settled, so the second tick did not issue another
    expect(calls.filter((call) => call === '/')).toEqual(['/']);
  });

  it('retries a filesystem whose statfs failed once it has settled', async () => {
    let failures = 1;
    const calls: string[] = [];
    const statfs: Statfs = (mountPoint) => {
      calls.push(mountPoint);
      if (failures-- > 0) return Promise.reject(new Error('ESTALE'));
      return Promise.resolve(fsOf(40, 20));
    };
    const collector = createDiskCollector(
      { procRoot: path.join(debian, 't0'), sysRoot: '/nonexistent', now: clock(0, 1000, 2000) },
      { statfs },
    );
    await collector.prime?.();
    const first = await collector.collect();
    const second = await collector.collect();
    if (!first.available || !second.available) throw new Error('expected available payloads');
    expect(first.filesystems).toEqual([]);
    expect(second.filesystems.map((fs) => fs.usedPercent)).toEqual([50]);
    expect(calls.filter((call) => call === '/')).toEqual(['/', '/']);
  });

  it('primes on a first collect() without prime() and reports 0 rates', async () => {
    const collector = createDiskCollector(
      { procRoot: path.join(debian, 't1'), sysRoot: '/nonexistent', now: clock(0, 1000) },
      { statfs: fakeStatfs({ '/': fsOf(40, 10) }) },
    );
    const first = await collector.collect();
    expect(diskMetrics.parse(first)).toEqual(first);
    if (!first.available) throw new Error('expected an available payload');
    expect(first.devices.vda).toMatchObject({ readBytesPerSec: 0, busyPercent: 0 });
    expect(first.writeBytesPerSec).toBe(0);
    expect(first.filesystems).toHaveLength(1);
  });

  it('uses the real statfs by default (the fixture mounts /, which every host has)', async () => {
    const collector = createDiskCollector({
      procRoot: path.join(debian, 't0'),
      sysRoot: '/nonexistent',
      now: clock(0, 1000),
    });
    const payload = await collector.collect();
    expect(diskMetrics.parse(payload)).toEqual(payload);
    if (!payload.available) throw new Error('expected an available payload');
    const [root] = payload.filesystems;
    expect(root?.mountPoint).toBe('/');
    expect(root?.totalBytes).toBeGreaterThan(0);
    expect((root?.usedBytes ?? 0) + (root?.availableBytes ?? 0)).toBeLessThanOrEqual(
      root?.totalBytes ?? 0,
    );
  });

  it('throws a CollectorError naming the file when diskstats is missing', async () => {
    const collector = createDiskCollector({
      procRoot: path.join(fixtures, 'does-not-exist'),
      sysRoot: '/nonexistent',
      now: clock(0),
    });
    await expect(collector.collect()).rejects.toThrow(/cannot read .*diskstats: not found/);
  });
});
