import {
  NO_VALUE,
  formatByteRate,
  formatBytes,
  formatDecimal,
  formatPercent,
} from '../../lib/format';
import { usageTone } from '../live/panels/disk';
import type { CgroupRow } from '@livestat/contracts';

/** How full a cgroup's memory is against its limit, for the bar. */
export interface MemoryBar {
  /** 0–100, clamped: a cgroup briefly above its limit shows a full bar. */
  percent: number;
  tone: 'ok' | 'warn' | 'bad';
}

/**
 * The memory bar of a row: used against the limit; null when there is no limit (nothing to
 * be full of) or the limit is not a positive number.
 */
export function memoryBar(
  row: Pick<CgroupRow, 'memoryBytes' | 'memoryLimitBytes'>,
): MemoryBar | null {
  const limit = row.memoryLimitBytes;
  if (limit === null || !(limit > 0)) return null;
  const percent = Math.min(100, Math.max(0, (row.memoryBytes / limit) * 100));
  return { percent, tone: usageTone(percent) };
}

/** One row of the table as text, plus its bar. */
export interface CgroupCells {
  /** `container · docker`, `service · systemd`, `slice`. */
  kind: string;
  cpu: string;
  /** `120 MiB / 512 MiB`, or `120 MiB` without a limit. */
  memory: string;
  memoryBar: MemoryBar | null;
  /** `1.20 MiB/s · 0 B/s` (read · write). */
  io: string;
  /** `some avg10` of cpu · memory · io: `0.12 · 0.00 · 3.40 %`; `—` on v1. */
  pressure: string;
  /** Docker's health, else its state (`running`), else `—`. */
  health: string;
  pids: string;
}

/** A row's cells, as the table shows them. */
export function cgroupCells(row: CgroupRow): CgroupCells {
  const { cpu, memory, io } = row.pressure;
  const pressure =
    cpu === null && memory === null && io === null
      ? NO_VALUE
      : `${[cpu, memory, io].map((value) => formatDecimal(value)).join(' · ')} %`;
  const used = formatBytes(row.memoryBytes);
  return {
    kind: row.runtime === null ? row.kind : `${row.kind} · ${row.runtime}`,
    cpu: formatPercent(row.cpuPercent),
    memory: row.memoryLimitBytes === null ? used : `${used} / ${formatBytes(row.memoryLimitBytes)}`,
    memoryBar: memoryBar(row),
    io:
      row.ioReadBytesPerSec === null && row.ioWriteBytesPerSec === null
        ? NO_VALUE
        : `${formatByteRate(row.ioReadBytesPerSec)} · ${formatByteRate(row.ioWriteBytesPerSec)}`,
    pressure,
    health: row.health ?? row.state ?? NO_VALUE,
    pids: row.pids === null ? NO_VALUE : String(row.pids),
  };
}
