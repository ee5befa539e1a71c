import { statfsSync } from 'node:fs';
import { statfs as fsStatfs } from 'node:fs/promises';
import path from 'node:path';
import type { DiskDevice, DiskMetrics, FilesystemUsage, MountUsage } from '@livestat/contracts';
import { createSyncCounterPair } from './counter-pair.js';
import { readProcFile } from './procfs.js';
import { counterRate, percentOf, round } from './rates.js';
import { CollectorError, type Collector, type CollectorDeps } from './types.js';

/** The `/proc/diskstats` counters of one block device that the payload uses. */
export interface DiskCounters {
  readsCompleted: number;
  sectorsRead: number;
  writesCompleted: number;
  sectorsWritten: number;
  /** Milliseconds the device had I/O in flight (`io_ticks`). */
  ioTicksMs: number;
}

/** One reading of `/proc/diskstats`: counters by device name, in file order, partitions included. */
export type DiskstatsReading = Map<string, DiskCounters>;

/** One line of `/proc/self/mounts`, escapes decoded. */
export interface MountEntry {
  device: string;
  mountPoint: string;
  fsType: string;
}

/** `/proc/filesystems`: every registered fs type, and whether the kernel marks it `nodev`. */
export type FilesystemTypes = Map<string, { nodev: boolean }>;

/** What the collector needs from `statfs(2)`; `fs.promises.statfs` returns a superset. */
export interface StatfsResult {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  /** Inodes, and free inodes; absent from stand-ins that do not know them (read as 0). */
  files?: number;
  ffree?: number;
}

/** `statfs(2)` of a mount point; injectable so tests need no real mounts. */
export type Statfs = (mountPoint: string) => Promise<StatfsResult>;

export interface DiskCollectorOptions {
  /**
   * Defaults to `fs.statfsSync` for filesystems the kernel answers from memory, and
   * `fs.promises.statfs` with the timeout for FUSE ones, whose daemon can hang.
   */
  statfs?: Statfs;
  /** How long one filesystem's statfs may take before it is skipped this tick; default 1000. */
  statfsTimeoutMs?: number;
}

type DiskPayload = Extract<DiskMetrics, { available: true }>;

// diskstats counts sectors of 512 bytes whatever the device's real sector size.
const SECTOR_BYTES = 512;
// major minor name + 11 fields (kernels before 4.18); 4.18 adds 4 discard, 5.5 adds 2 flush fields.
const MIN_DISKSTATS_COLUMNS = 14;
const NUMBER = /^\d+$/;
// A well-formed line: major, minor, name and 11 counters (more may follow), capturing the ones
// used. Lines it does not match take the field-by-field path, which names what is wrong.
const DISKSTATS_LINE =
  /^\s*\d+\s+\d+\s+(\S+)\s+(\d+)\s+\d+\s+(\d+)\s+\d+\s+(\d+)\s+\d+\s+(\d+)\s+\d+\s+\d+\s+(\d+)\s+\d+(?:\s|$)/;

/**
 * Parses `/proc/diskstats` (14, 18 or 20 columns; more are ignored). Keeps every device,
 * partitions included: `wholeDevices` needs the full list to recognise them. Throws
 * `CollectorError` (`malformed`) on a short or non-numeric line.
 */
export function parseDiskstats(text: string): DiskstatsReading {
  const reading: DiskstatsReading = new Map();
  for (const [index, raw] of text.split('\n').entries()) {
    const line = DISKSTATS_LINE.exec(raw);
    if (line !== null) {
      reading.set(line[1] ?? '', {
        readsCompleted: Number(line[2]),
        sectorsRead: Number(line[3]),
        writesCompleted: Number(line[4]),
        sectorsWritten: Number(line[5]),
        ioTicksMs: Number(line[6]),
      });
      continue;
    }
    if (raw.trim() === '') continue;
    const fields = raw.trim().split(/\s+/);
    const where = `/proc/diskstats line ${index + 1}`;
    if (fields.length < MIN_DISKSTATS_COLUMNS) {
      throw new CollectorError(
        'malformed',
        `${where}: expected at least ${MIN_DISKSTATS_COLUMNS} columns, got ${fields.length}`,
      );
    }
    const numbers = [...fields.slice(0, 2), ...fields.slice(3, MIN_DISKSTATS_COLUMNS)];
    const bad = numbers.find((field) => !NUMBER.test(field));
    if (bad !== undefined) {
      throw new CollectorError('malformed', `${where}: "${bad}" is not a counter`);
    }
    const at = (i: number): number => Number(fields[i]);
    reading.set(fields[2] ?? '', {
      readsCompleted: at(3),
      sectorsRead: at(5),
      writesCompleted: at(7),
      sectorsWritten: at(9),
      ioTicksMs: at(12),
    });
  }
  return reading;
}

/**
 * Devices left out entirely, in the spirit of node_exporter's default ignore list: loop
 * devices (images, snaps), RAM disks, floppies and optical drives. `zram` is kept: it is
 * where swap often lives.
 */
export function isIgnoredDevice(name: string): boolean {
  return /^(loop|ram|fd|sr)\d/.test(name);
}

/** device-mapper and md RAID devices stack on physical ones, so totals leave them out. */
export function isVirtualDevice(name: string): boolean {
  return name.startsWith('dm-') || name.startsWith('md');
}

/**
 * Whether `name` is a partition of another device in `names`. We read only the proc root,
 * so we use the kernel's own naming rule (`disk_name()`): a disk whose name ends in a digit
 * gets `p<n>` partitions (nvme0n1p1, mmcblk0p2, md0p1), any other gets `<n>` (sda1, vda2,
 * xvda1). Requiring the non-digit ending for the second form keeps dm-10 from looking like
 * a partition of dm-1, and nvme0n10 of nvme0n1.
 */
export function isPartition(name: string, names: ReadonlySet<string>): boolean {
  const numbered = /^(.*\D)\d+$/.exec(name)?.[1];
  if (numbered !== undefined && names.has(numbered)) return true;
  const pNumbered = /^(.*\d)p\d+$/.exec(name)?.[1];
  return pNumbered !== undefined && names.has(pNumbered);
}

/** The whole, not ignored devices of a reading: partitions dropped so nothing counts twice. */
export function wholeDevices(reading: DiskstatsReading): DiskstatsReading {
  const names = new Set(reading.keys());
  const whole: DiskstatsReading = new Map();
  for (const [name, counters] of reading) {
    if (!isIgnoredDevice(name) && !isPartition(name, names)) whole.set(name, counters);
  }
  return whole;
}

function deviceRates(
  prev: DiskCounters | undefined,
  cur: DiskCounters,
  elapsedMs: number,
): Omit<DiskDevice, 'virtual'> {
  // A device that just appeared has no baseline: 0 this tick, measured from the next.
  if (prev === undefined) {
    return {
      readBytesPerSec: 0,
      writeBytesPerSec: 0,
      readOpsPerSec: 0,
      writeOpsPerSec: 0,
      busyPercent: 0,
    };
  }
  const rate = (key: keyof DiskCounters): number => counterRate(prev[key], cur[key], elapsedMs);
  const busyMs = Math.max(0, cur.ioTicksMs - prev.ioTicksMs);
  return {
    readBytesPerSec: rate('sectorsRead') * SECTOR_BYTES,
    writeBytesPerSec: rate('sectorsWritten') * SECTOR_BYTES,
    readOpsPerSec: rate('readsCompleted'),
    writeOpsPerSec: rate('writesCompleted'),
    // io_ticks can run a jiffy ahead of our clock; percentOf clamps to 100.
    busyPercent: percentOf(busyMs, elapsedMs),
  };
}

/**
 * Turns two diskstats readings `elapsedMs` apart, plus this tick's filesystem usage (and,
 * for `/metrics`, every mount point's), into the disk payload. Lists the whole devices of the current reading; a new one reports 0, a
 * reset counter 0. Totals sum the non-virtual devices; total `busyPercent` is the busiest one.
 * Filesystems are sorted by mount point.
 */
export function computeDiskMetrics(
  previous: DiskstatsReading,
  current: DiskstatsReading,
  elapsedMs: number,
  filesystems: readonly FilesystemUsage[],
  mounts: readonly MountUsage[] | null = null,
): DiskPayload {
  const totals = { readBytesPerSec: 0, writeBytesPerSec: 0, readOpsPerSec: 0, writeOpsPerSec: 0 };
  let busiest = 0;
  const devices: Record<string, DiskDevice> = {};
  for (const [name, counters] of wholeDevices(current)) {
    const rates = deviceRates(previous.get(name), counters, elapsedMs);
    const virtual = isVirtualDevice(name);
    if (!virtual) {
      totals.readBytesPerSec += rates.readBytesPerSec;
      totals.writeBytesPerSec += rates.writeBytesPerSec;
      totals.readOpsPerSec += rates.readOpsPerSec;
      totals.writeOpsPerSec += rates.writeOpsPerSec;
      busiest = Math.max(busiest, rates.busyPercent);
    }
    devices[name] = {
      counters: [
        counters.readsCompleted,
        counters.sectorsRead * SECTOR_BYTES,
        counters.writesCompleted,
        counters.sectorsWritten * SECTOR_BYTES,
        counters.ioTicksMs,
      ],
      readBytesPerSec: round(rates.readBytesPerSec, 2),
      writeBytesPerSec: round(rates.writeBytesPerSec, 2),
      readOpsPerSec: round(rates.readOpsPerSec, 2),
      writeOpsPerSec: round(rates.writeOpsPerSec, 2),
      busyPercent: round(rates.busyPercent, 2),
      virtual,
    };
  }
  return {
    available: true,
    readBytesPerSec: round(totals.readBytesPerSec, 2),
    writeBytesPerSec: round(totals.writeBytesPerSec, 2),
    readOpsPerSec: round(totals.readOpsPerSec, 2),
    writeOpsPerSec: round(totals.writeOpsPerSec, 2),
    busyPercent: round(busiest, 2),
    devices,
    filesystems: [...filesystems].sort((a, b) =>
      a.mountPoint < b.mountPoint ? -1 : a.mountPoint > b.mountPoint ? 1 : 0,
    ),
    ...(mounts === null ? {} : { mounts: [...mounts] }),
  };
}

// node_exporter's default --collector.filesystem.mount-points-exclude and fs-types-exclude:
// the mount points its filesystem collector leaves out, so /metrics lists the same ones.
const EXCLUDED_MOUNT_POINT =
  /^\/(dev|proc|run\/credentials\/.+|sys|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+)($|\/)/;
const EXCLUDED_FS_TYPE =
  /^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$/;

/**
 * The mount points node_exporter's filesystem collector would list, with its default
 * exclusions; a mount point mounted over keeps only its top mount, the one statfs sees.
 */
export function exportedMounts(mounts: readonly MountEntry[]): MountEntry[] {
  const byPoint = new Map<string, MountEntry>();
  for (const mount of mounts) {
    if (EXCLUDED_MOUNT_POINT.test(mount.mountPoint) || EXCLUDED_FS_TYPE.test(mount.fsType)) {
      continue;
    }
    byPoint.delete(mount.mountPoint);
    byPoint.set(mount.mountPoint, mount);
  }
  return [...byPoint.values()];
}

/** A mount point's statfs as the snapshot's compact `mounts` row. */
export function mountUsage(mount: MountEntry, stats: StatfsResult): MountUsage {
  const bytes = (blocks: number): number => Math.max(0, blocks * stats.bsize);
  return [
    mount.mountPoint,
    mount.device,
    mount.fsType,
    bytes(stats.blocks),
    bytes(stats.bfree),
    bytes(stats.bavail),
    Math.max(0, stats.files ?? 0),
    Math.max(0, stats.ffree ?? 0),
  ];
}

// The kernel escapes space, tab, newline and backslash in mounts as 3-digit octal.
function decodeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}

/**
 * Parses `/proc/self/mounts` (fstab format), decoding `\040`-style escapes. Throws
 * `CollectorError` (`malformed`) on a line with fewer than 3 fields.
 */
export function parseMounts(text: string): MountEntry[] {
  const mounts: MountEntry[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    if (raw.trim() === '') continue;
    const [device, mountPoint, fsType] = raw.trim().split(/\s+/);
    if (device === undefined || mountPoint === undefined || fsType === undefined) {
      throw new CollectorError(
        'malformed',
        `/proc/self/mounts line ${index + 1}: expected "device mountpoint type ...", got "${raw.trim()}"`,
      );
    }
    mounts.push({
      device: decodeMountField(device),
      mountPoint: decodeMountField(mountPoint),
      fsType: decodeMountField(fsType),
    });
  }
  return mounts;
}

/** Parses `/proc/filesystems`: `[nodev]<tab>type` per line. */
export function parseFilesystems(text: string): FilesystemTypes {
  const types: FilesystemTypes = new Map();
  for (const raw of text.split('\n')) {
    const fields = raw.trim().split(/\s+/);
    const nodev = fields[0] === 'nodev';
    const type = nodev ? fields[1] : fields[0];
    if (type !== undefined && type !== '') types.set(type, { nodev });
  }
  return types;
}

// ZFS registers without FS_REQUIRES_DEV, so the kernel lists it `nodev`, yet its datasets
// hold real data on real disks.
const DISK_BACKED_NODEV = new Set(['zfs']);

/** Whether a fs type stores data on a block device: registered and not `nodev` (or ZFS). */
export function isRealFsType(fsType: string, types: FilesystemTypes): boolean {
  if (DISK_BACKED_NODEV.has(fsType)) return true;
  // Unregistered types (e.g. fuse.sshfs, a fuse subtype) are judged by their base type.
  const entry = types.get(fsType) ?? types.get(fsType.split('.')[0] ?? '');
  return entry !== undefined && !entry.nodev;
}

/**
 * The mounts of real filesystems, without bind duplicates: the first mount of each device
 * is kept, later ones (bind mounts, container views) are the same filesystem again.
 */
export function realFilesystemMounts(
  mounts: readonly MountEntry[],
  types: FilesystemTypes,
): MountEntry[] {
  const seen = new Set<string>();
  const real: MountEntry[] = [];
  for (const mount of mounts) {
    if (!isRealFsType(mount.fsType, types) || seen.has(mount.device)) continue;
    seen.add(mount.device);
    real.push(mount);
  }
  return real;
}

/** A mount's usage from its statfs, computed as `df` does. */
export function filesystemUsage(mount: MountEntry, stats: StatfsResult): FilesystemUsage {
  const totalBytes = Math.max(0, stats.blocks * stats.bsize);
  const usedBytes = Math.max(0, (stats.blocks - stats.bfree) * stats.bsize);
  const availableBytes = Math.max(0, stats.bavail * stats.bsize);
  return {
    mountPoint: mount.mountPoint,
    device: mount.device,
    fsType: mount.fsType,
    totalBytes,
    usedBytes,
    availableBytes,
    usedPercent: round(percentOf(usedBytes, usedBytes + availableBytes), 2),
  };
}

/** Reads and parses `<procRoot>/diskstats`; throws `CollectorError` if missing or bad. */
export function readDiskstats(procRoot: string): DiskstatsReading {
  return parseDiskstats(readProcFile(procRoot, 'diskstats'));
}

/**
 * The host's mount table: `<procRoot>/1/mounts` when readable, else `<procRoot>/self/mounts`.
 * Ours is the container's when we run in one; PID 1's is the host's whenever the host's PIDs
 * are visible (`pid: host`), and our own init's otherwise (node_exporter reads it too).
 */
export function readMountTable(procRoot: string): string {
  try {
    return readProcFile(procRoot, '1/mounts');
  } catch {
    return readProcFile(procRoot, 'self/mounts');
  }
}

/** Reads the mount table and `<procRoot>/filesystems`; returns the real mounts. */
export function readRealMounts(procRoot: string): MountEntry[] {
  return realMountsOf(readMountTable(procRoot), procRoot);
}

function realMountsOf(mountsText: string, procRoot: string): MountEntry[] {
  const types = parseFilesystems(readProcFile(procRoot, 'filesystems'));
  return realFilesystemMounts(parseMounts(mountsText), types);
}

// A FUSE daemon or a network server that stops answering hangs statfs; other filesystems
// answer from memory.
function mayHang(mount: MountEntry): boolean {
  return /^(fuse|nfs|cifs|smb|9p|ceph|glusterfs|afs|lustre|davfs)/.test(mount.fsType);
}

/**
 * The disk collector: whole-device rates from `/proc/diskstats` over the real time between
 * two reads, plus usage of the real filesystems. A statfs that fails or outlasts
 * `statfsTimeoutMs` skips that filesystem this tick. A `collect()` without `prime()` primes
 * and reports 0 rates.
 */
export function createDiskCollector(
  deps: CollectorDeps,
  options: DiskCollectorOptions = {},
): Collector<'disk'> {
  const injected = options.statfs;
  const statfs: Statfs = injected ?? ((mountPoint) => fsStatfs(mountPoint));
  const timeoutMs = options.statfsTimeoutMs ?? 1000;
  // A statfs on a hung mount (dead NFS server, stuck FUSE daemon) never returns and pins a
  // libuv threadpool thread. Issuing another each tick would exhaust the pool and stall all
  // file I/O, /proc reads included, so a mount point stays skipped while its call is out.
  const inFlight = new Set<string>();
  const diskstats = createSyncCounterPair(() => readDiskstats(deps.procRoot), deps.now);
  // The host's mount points are measured where the host's root is mounted (node_exporter's
  // --path.rootfs): in a container, /home is the container's, ROOTFS/home the host's.
  const rootFs = deps.rootFs ?? '/';
  const under = (mountPoint: string): string =>
    rootFs === '/' ? mountPoint : path.join(rootFs, mountPoint);
  // The mount table rarely changes: parse it, and read /proc/filesystems, only when it does.
  let mountsSeen: {
    procRoot: string;
    text: string;
    real: MountEntry[];
    exported: MountEntry[];
  } | null = null;

  function mountsNow(): { real: MountEntry[]; exported: MountEntry[] } {
    const text = readMountTable(deps.procRoot);
    if (mountsSeen?.procRoot !== deps.procRoot || mountsSeen.text !== text) {
      mountsSeen = {
        procRoot: deps.procRoot,
        text,
        real: realMountsOf(text, deps.procRoot),
        exported: exportedMounts(parseMounts(text)),
      };
    }
    return mountsSeen;
  }

  function statNow(mount: MountEntry): StatfsResult | null {
    try {
      return statfsSync(under(mount.mountPoint));
    } catch {
      return null; // EACCES, ENOENT, ESTALE: skipped this tick, as in statOf
    }
  }

  async function statOf(mount: MountEntry): Promise<StatfsResult | null> {
    const { mountPoint } = mount;
    if (inFlight.has(mountPoint)) return null;
    inFlight.add(mountPoint);
    const call = Promise.resolve().then(() => statfs(under(mountPoint)));
    const settle = (): void => {
      inFlight.delete(mountPoint);
    };
    // Also handles the rejection of a call that settles after its timeout.
    call.then(settle, settle);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), timeoutMs);
    });
    try {
      return await Promise.race([call, expired]);
    } catch {
      // EACCES, ENOENT, ESTALE: the mount is not measurable now; the others still are.
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    name: 'disk',
    async prime() {
      diskstats.prime();
    },
    async collect() {
      // Diskstats first and timed on its own, so slow statfs calls never skew the rates.
      const { previous, current, elapsedMs } = diskstats.next();
      const { real, exported } = mountsNow();
      // One statfs per mount point serves both lists (a real filesystem is usually exported).
      const stats = new Map<string, StatfsResult | null>();
      const pending: Promise<void>[] = [];
      for (const mount of [...real, ...exported]) {
        if (stats.has(mount.mountPoint)) continue;
        if (injected === undefined && !mayHang(mount)) {
          stats.set(mount.mountPoint, statNow(mount));
        } else {
          stats.set(mount.mountPoint, null);
          pending.push(statOf(mount).then((result) => void stats.set(mount.mountPoint, result)));
        }
      }
      if (pending.length > 0) await Promise.all(pending);
      const filesystems: FilesystemUsage[] = [];
      for (const mount of real) {
        const result = stats.get(mount.mountPoint);
        if (result) filesystems.push(filesystemUsage(mount, result));
      }
      const mounts: MountUsage[] = [];
      for (const mount of exported) {
        const result = stats.get(mount.mountPoint);
        if (result) mounts.push(mountUsage(mount, result));
      }
      return computeDiskMetrics(previous, current, elapsedMs, filesystems, mounts);
    },
  };
}
