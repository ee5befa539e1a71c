import {
  CGROUPS_SNAPSHOT_TOP,
  toCgroupEntry,
  type CgroupEntry,
  type CgroupRow,
} from '@livestat/contracts';
import type { CgroupReading } from './cgroup-reading.js';
import { counterRate, round } from './rates.js';

// From readings to rows, and from rows to the snapshot's compact form: the pure half of the
// cgroups collector.

/** A reading of some of a cgroup's files: the per-tick ones, or the slow-moving ones. */
export type PartialReading = Partial<CgroupReading>;

/** The measured fields of a row: everything but who the cgroup is. */
export type Measured = Omit<
  CgroupRow,
  'id' | 'name' | 'kind' | 'runtime' | 'containerId' | 'image' | 'state' | 'health' | 'restartCount'
>;

/**
 * Turns two readings of the same files `elapsedMs` apart into the row fields they give; only
 * the fields of the files `current` read. Counters that went backwards — a container
 * restarted under the same id, so its cgroup was created anew — read 0 for the interval, and
 * the next interval measures from the new value.
 */
export function measuredFields(
  previous: PartialReading | null,
  current: PartialReading,
  elapsedMs: number,
): Partial<Measured> {
  const perSec = (field: keyof CgroupReading): number | null => {
    const now = current[field] ?? null;
    if (now === null) return null;
    const before = previous?.[field] ?? null;
    return before === null ? 0 : counterRate(before, now, elapsedMs);
  };
  const io = (field: keyof CgroupReading): number | null => {
    const value = perSec(field);
    return value === null ? null : round(value, 2);
  };
  const whole = (value: number | null | undefined): number | null =>
    value === null || value === undefined ? null : Math.max(0, Math.round(value));
  const out: Partial<Measured> = {};
  // µs of CPU per second / 10 000 µs = % of one core.
  if ('cpuUs' in current) out.cpuPercent = round((perSec('cpuUs') ?? 0) / 10_000, 2);
  if ('throttledUs' in current) {
    const throttled = perSec('throttledUs');
    out.throttledMsPerSec = throttled === null ? null : round(throttled / 1000, 2);
  }
  if ('memoryBytes' in current) out.memoryBytes = whole(current.memoryBytes) ?? 0;
  if ('memoryLimitBytes' in current) out.memoryLimitBytes = whole(current.memoryLimitBytes);
  if ('memoryAnonBytes' in current) out.memoryAnonBytes = whole(current.memoryAnonBytes);
  if ('memoryFileBytes' in current) out.memoryFileBytes = whole(current.memoryFileBytes);
  if ('ioReadBytes' in current) {
    out.ioReadBytesPerSec = io('ioReadBytes');
    out.ioWriteBytesPerSec = io('ioWriteBytes');
    out.ioReadOpsPerSec = io('ioReadOps');
    out.ioWriteOpsPerSec = io('ioWriteOps');
  }
  if ('pids' in current) out.pids = whole(current.pids);
  if ('psiCpu' in current) {
    out.pressure = {
      cpu: current.psiCpu ?? null,
      memory: current.psiMemory ?? null,
      io: current.psiIo ?? null,
    };
  }
  return out;
}

/** Heavier memory first, then by path. */
const byMemoryThenId = (a: CgroupRow, b: CgroupRow): number =>
  b.memoryBytes - a.memoryBytes || a.id.localeCompare(b.id);

/** The `count` rows with the most memory, heaviest first: a selection, not a sort of them all. */
function topByMemory(rows: readonly CgroupRow[], count: number): CgroupRow[] {
  const top: CgroupRow[] = [];
  for (const row of rows) {
    if (top.length === count && byMemoryThenId(row, top[count - 1]!) >= 0) continue;
    let at = Math.min(top.length, count - 1);
    while (at > 0 && byMemoryThenId(row, top[at - 1]!) < 0) at -= 1;
    top.splice(at, 0, row);
    if (top.length > count) top.pop();
  }
  return top;
}

/**
 * The snapshot's compact form of `rows`, which come in the table's order (CPU-heaviest
 * first, then by path): the top {@link CGROUPS_SNAPSHOT_TOP} by CPU and the top by memory,
 * keyed by display name (a name shared by two cgroups falls back to the path), each as a
 * small entry (`cgroupEntry`: nulls, container id, image and restart count left out).
 */
export function compactGroups(rows: readonly CgroupRow[]): Record<string, CgroupEntry> {
  const picked = new Set(topByMemory(rows, CGROUPS_SNAPSHOT_TOP));
  const groups: Record<string, CgroupEntry> = {};
  rows.forEach((row, rank) => {
    if (rank >= CGROUPS_SNAPSHOT_TOP && !picked.has(row)) return;
    groups[row.name in groups ? row.id : row.name] = toCgroupEntry(row);
  });
  return groups;
}
