import type { CgroupFileTier } from './cgroup-files.js';
import { flatKey, memoryLimit, parseIoStat, psiSomeAvg10, singleValue } from './cgroup-parse.js';
import type { CgroupReading } from './cgroup-reading.js';

/** Reads file `name` of a cgroup directory (null when missing), saying how often it is read. */
export type ReadCgroupFile = (dir: string, name: string, tier: CgroupFileTier) => string | null;

/** The PSI averages of a cgroup directory that has `*.pressure` files (v2, or hybrid's unified tree). */
export function readPsi(
  dir: string,
  read: ReadCgroupFile,
): Pick<CgroupReading, 'psiCpu' | 'psiMemory' | 'psiIo'> {
  const psi = (file: string): number | null => {
    const text = read(dir, file, 'psi');
    return text === null ? null : psiSomeAvg10(text);
  };
  return {
    psiCpu: psi('cpu.pressure'),
    psiMemory: psi('memory.pressure'),
    psiIo: psi('io.pressure'),
  };
}

/** The files of one v2 cgroup read every tick: `cpu.stat` (usage, throttling) and `memory.current`. */
export function readCgroupV2Tick(dir: string, read: ReadCgroupFile): Partial<CgroupReading> {
  const cpu = read(dir, 'cpu.stat', 'tick');
  const current = read(dir, 'memory.current', 'tick');
  return {
    cpuUs: cpu === null ? null : flatKey(cpu, 'usage_usec'),
    throttledUs: cpu === null ? null : flatKey(cpu, 'throttled_usec'),
    memoryBytes: current === null ? null : singleValue(current),
  };
}

/**
 * The slow-moving files of one v2 cgroup: `memory.max`, `memory.stat` (anon, file), `io.stat`
 * summed over devices, `pids.current` and the three `*.pressure` files. A file a disabled
 * controller does not provide reads as null.
 */
export function readCgroupV2Slow(dir: string, read: ReadCgroupFile): Partial<CgroupReading> {
  const file = (name: string): string | null => read(dir, name, 'slow');
  const max = file('memory.max');
  const stat = file('memory.stat');
  const io = file('io.stat');
  const pids = file('pids.current');
  const ioTotals = io === null ? null : parseIoStat(io);
  return {
    memoryLimitBytes: max === null ? null : memoryLimit(max),
    memoryAnonBytes: stat === null ? null : flatKey(stat, 'anon'),
    memoryFileBytes: stat === null ? null : flatKey(stat, 'file'),
    ioReadBytes: ioTotals?.readBytes ?? null,
    ioWriteBytes: ioTotals?.writeBytes ?? null,
    ioReadOps: ioTotals?.readOps ?? null,
    ioWriteOps: ioTotals?.writeOps ?? null,
    pids: pids === null ? null : singleValue(pids),
    ...readPsi(dir, read),
  };
}
