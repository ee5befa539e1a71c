import type { CgroupRow } from '@livestat/contracts';

/**
 * A cgroup row for tests: a systemd service with nothing but its name, CPU and memory, unless
 * `fields` says otherwise.
 */
export function cgroupRow(name: string, fields: Partial<CgroupRow> = {}): CgroupRow {
  return {
    id: `system.slice/${name}`,
    name,
    kind: 'service',
    runtime: 'systemd',
    containerId: null,
    image: null,
    state: null,
    health: null,
    restartCount: null,
    cpuPercent: 0,
    throttledMsPerSec: null,
    memoryBytes: 0,
    memoryLimitBytes: null,
    memoryAnonBytes: null,
    memoryFileBytes: null,
    ioReadBytesPerSec: null,
    ioWriteBytesPerSec: null,
    ioReadOpsPerSec: null,
    ioWriteOpsPerSec: null,
    pids: null,
    pressure: { cpu: null, memory: null, io: null },
    ...fields,
  };
}
