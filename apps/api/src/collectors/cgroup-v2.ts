import path from 'node:path';
import { readCgroupFile } from './cgroup-files.js';
import { flatKey, memoryLimit, parseIoStat, psiSomeAvg10, singleValue } from './cgroup-parse.js';
import type { CgroupReading } from './cgroup-reading.js';

/** The PSI averages of a cgroup directory that has `*.pressure` files (v2, or hybrid's unified tree). */
export function readPsi(dir: string): Pick<CgroupReading, 'psiCpu' | 'psiMemory' | 'psiIo'> {
  const read = (file: string): number | null => {
    const text = readCgroupFile(path.join(dir, file));
    return text === null ? null : psiSomeAvg10(text);
  };
  return {
    psiCpu: read('cpu.pressure'),
    psiMemory: read('memory.pressure'),
    psiIo: read('io.pressure'),
  };
}

/**
 * Reads one cgroup v2 directory: `cpu.stat`, `memory.current`, `memory.max`, `memory.stat`
 * (anon, file), `io.stat` summed over devices, `pids.current` and the three `*.pressure`
 * files. A file a disabled controller does not provide reads as null.
 */
export function readCgroupV2(dir: string): CgroupReading {
  const file = (name: string): string | null => readCgroupFile(path.join(dir, name));
  const cpu = file('cpu.stat');
  const current = file('memory.current');
  const max = file('memory.max');
  const stat = file('memory.stat');
  const io = file('io.stat');
  const pids = file('pids.current');
  const ioTotals = io === null ? null : parseIoStat(io);
  return {
    cpuUs: cpu === null ? null : flatKey(cpu, 'usage_usec'),
    throttledUs: cpu === null ? null : flatKey(cpu, 'throttled_usec'),
    memoryBytes: current === null ? null : singleValue(current),
    memoryLimitBytes: max === null ? null : memoryLimit(max),
    memoryAnonBytes: stat === null ? null : flatKey(stat, 'anon'),
    memoryFileBytes: stat === null ? null : flatKey(stat, 'file'),
    ioReadBytes: ioTotals?.readBytes ?? null,
    ioWriteBytes: ioTotals?.writeBytes ?? null,
    ioReadOps: ioTotals?.readOps ?? null,
    ioWriteOps: ioTotals?.writeOps ?? null,
    pids: pids === null ? null : singleValue(pids),
    ...readPsi(dir),
  };
}
