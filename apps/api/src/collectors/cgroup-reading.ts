/**
 * One reading of a cgroup's files: counters since the cgroup was created (CPU, throttling,
 * I/O) and gauges (memory, pids, PSI averages). Null where the layout or the enabled
 * controllers give no such file.
 */
export interface CgroupReading {
  /** CPU time used, µs (v2 `usage_usec`; v1 `cpuacct.usage` ns / 1000). */
  cpuUs: number | null;
  /** Time throttled by a quota, µs (v2 `throttled_usec`; v1 `throttled_time` ns / 1000). */
  throttledUs: number | null;
  memoryBytes: number | null;
  memoryLimitBytes: number | null;
  memoryAnonBytes: number | null;
  memoryFileBytes: number | null;
  ioReadBytes: number | null;
  ioWriteBytes: number | null;
  ioReadOps: number | null;
  ioWriteOps: number | null;
  pids: number | null;
  psiCpu: number | null;
  psiMemory: number | null;
  psiIo: number | null;
}
