import { formatByteRate, formatBytes, formatPercent, formatRate } from '../../../lib/format';
import { fig, pair } from './panel-state';
import type { ChartView, DiskData, Figure } from './panel-state';

export function diskFigures(disk: DiskData | undefined): Figure[] {
  return [
    fig('readBytesPerSec', 'Read', formatByteRate(disk?.readBytesPerSec)),
    fig('writeBytesPerSec', 'Write', formatByteRate(disk?.writeBytesPerSec)),
    fig('readOpsPerSec', 'Read ops', formatRate(disk?.readOpsPerSec)),
    fig('writeOpsPerSec', 'Write ops', formatRate(disk?.writeOpsPerSec)),
    fig('busyPercent', 'Busy', formatPercent(disk?.busyPercent), 'The busiest device'),
  ];
}

/** One block device in the per-device table. */
export interface DeviceRow {
  name: string;
  virtual: boolean;
  read: string;
  write: string;
  /** Read · write operations per second: `0 · 6.00`. */
  ops: string;
  busy: string;
}

/** Every whole device, real ones (those the totals count) first, then by name. */
export function deviceRows(disk: DiskData | undefined): DeviceRow[] {
  if (disk === undefined) return [];
  return Object.entries(disk.devices)
    .map(([name, d]) => ({
      name,
      virtual: d.virtual,
      read: formatByteRate(d.readBytesPerSec),
      write: formatByteRate(d.writeBytesPerSec),
      ops: pair(d.readOpsPerSec, d.writeOpsPerSec),
      busy: formatPercent(d.busyPercent),
    }))
    .sort((a, b) => Number(a.virtual) - Number(b.virtual) || a.name.localeCompare(b.name));
}

/** How full a filesystem is, as a tone: warn from 80 %, bad from 90 %. */
export function usageTone(percent: number): 'ok' | 'warn' | 'bad' {
  return percent >= 90 ? 'bad' : percent >= 80 ? 'warn' : 'ok';
}

/** One mounted filesystem in the usage list. */
export interface FilesystemRow {
  mountPoint: string;
  device: string;
  fsType: string;
  /** `9.00 GiB / 38.7 GiB` */
  usage: string;
  percent: number;
  percentText: string;
  tone: 'ok' | 'warn' | 'bad';
  /**
   * Space kept back for root (ext4 reserves 5 % by default), why used + free falls short of
   * the size: `1.94 GiB`; null when there is none worth a mention (under 0.5 % of the size).
   */
  reserved: string | null;
}

/** Blocks the filesystem holds back from unprivileged users: size − used − available. */
function reservedText(fs: { totalBytes: number; usedBytes: number; availableBytes: number }) {
  const reserved = fs.totalBytes - fs.usedBytes - fs.availableBytes;
  return reserved > 0.005 * fs.totalBytes ? formatBytes(reserved) : null;
}

export function filesystemRows(disk: DiskData | undefined): FilesystemRow[] {
  if (disk === undefined) return [];
  return [...disk.filesystems]
    .sort((a, b) => a.mountPoint.localeCompare(b.mountPoint))
    .map((fs) => ({
      mountPoint: fs.mountPoint,
      device: fs.device,
      fsType: fs.fsType,
      usage: `${formatBytes(fs.usedBytes)} / ${formatBytes(fs.totalBytes)}`,
      percent: Math.min(100, Math.max(0, fs.usedPercent)),
      percentText: formatPercent(fs.usedPercent, 0),
      tone: usageTone(fs.usedPercent),
      reserved: reservedText(fs),
    }));
}

/** Disk's charts, of the totals (`device` null) or of one device. */
export function diskViews(device: string | null): ChartView[] {
  const p = device === null ? 'disk.' : `disk.devices.${device}.`;
  return [
    {
      id: 'bytes',
      label: 'Throughput',
      unit: 'byteRate',
      lines: [
        { path: `${p}readBytesPerSec`, label: 'Read' },
        { path: `${p}writeBytesPerSec`, label: 'Write' },
      ],
    },
    {
      id: 'ops',
      label: 'IOPS',
      unit: 'rate',
      lines: [
        { path: `${p}readOpsPerSec`, label: 'Read ops' },
        { path: `${p}writeOpsPerSec`, label: 'Write ops' },
      ],
    },
    {
      id: 'busy',
      label: 'Busy',
      unit: 'percent',
      yMax: 100,
      lines: [{ path: `${p}busyPercent`, label: 'Busy' }],
    },
  ];
}
