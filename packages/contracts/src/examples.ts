import type { Snapshot } from './snapshot.js';

/**
 * A complete, valid snapshot of a small VM, for tests of every package: 2 cores, `eth0` and
 * `lo`, one `vda` disk with an ext4 root, no PMU (hardware perf counters null and listed as
 * unsupported, software events counting) and no DRAM bandwidth source.
 * The numbers agree with each other the way the collectors compute them (memory used is
 * total − free − buffers − cached, network totals leave out `lo`, and so on).
 * Never mutate it; take a copy with {@link makeExampleSnapshot}.
 */
export const exampleSnapshot = {
  type: 'snapshot',
  host: 'vm-web-01',
  seq: 42,
  timestamp: '2025-03-14T09:26:53.589Z',
  intervalMs: 1000,
  cpu: {
    available: true,
    usagePercent: 12.5,
    userPercent: 8,
    nicePercent: 0,
    systemPercent: 3.5,
    iowaitPercent: 0.5,
    irqPercent: 0,
    softirqPercent: 0.5,
    stealPercent: 0.5,
    idlePercent: 87,
    coreCount: 2,
    cores: [
      { id: 0, usagePercent: 15, userPercent: 10, systemPercent: 4, iowaitPercent: 1 },
      { id: 1, usagePercent: 10, userPercent: 6, systemPercent: 3, iowaitPercent: 0 },
    ],
    load1: 0.42,
    load5: 0.35,
    load15: 0.3,
    contextSwitchesPerSec: 1843.6,
    interruptsPerSec: 1021.3,
    processesRunning: 2,
    processesBlocked: 0,
  },
  memory: {
    available: true,
    totalBytes: 4122206208,
    usedBytes: 1250713600,
    availableBytes: 2665738240,
    freeBytes: 1210548224,
    buffersBytes: 98566144,
    cachedBytes: 1562378240,
    sharedBytes: 3145728,
    swapTotalBytes: 2147479552,
    swapUsedBytes: 0,
    swapFreeBytes: 2147479552,
    usedPercent: 35.33,
    swapUsedPercent: 0,
  },
  network: {
    available: true,
    rxBytesPerSec: 15234.5,
    txBytesPerSec: 4821,
    rxPacketsPerSec: 42,
    txPacketsPerSec: 31,
    rxErrorsPerSec: 0,
    txErrorsPerSec: 0,
    rxDropsPerSec: 0,
    txDropsPerSec: 0,
    interfaces: {
      eth0: {
        loopback: false,
        virtual: false,
        rxBytesPerSec: 15234.5,
        txBytesPerSec: 4821,
        rxPacketsPerSec: 42,
        txPacketsPerSec: 31,
        rxErrorsPerSec: 0,
        txErrorsPerSec: 0,
        rxDropsPerSec: 0,
        txDropsPerSec: 0,
      },
      lo: {
        loopback: true,
        virtual: true,
        rxBytesPerSec: 1280,
        txBytesPerSec: 1280,
        rxPacketsPerSec: 8,
        txPacketsPerSec: 8,
        rxErrorsPerSec: 0,
        txErrorsPerSec: 0,
        rxDropsPerSec: 0,
        txDropsPerSec: 0,
      },
    },
  },
  disk: {
    available: true,
    readBytesPerSec: 0,
    writeBytesPerSec: 98304,
    readOpsPerSec: 0,
    writeOpsPerSec: 6,
    busyPercent: 1.2,
    devices: {
      vda: {
        virtual: false,
        readBytesPerSec: 0,
        writeBytesPerSec: 98304,
        readOpsPerSec: 0,
        writeOpsPerSec: 6,
        busyPercent: 1.2,
      },
    },
    filesystems: [
      {
        mountPoint: '/',
        device: '/dev/vda1',
        fsType: 'ext4',
        totalBytes: 41555521536,
        usedBytes: 9663676416,
        availableBytes: 29814104064,
        usedPercent: 24.48,
      },
    ],
  },
  perf: {
    available: true,
    hardwareAvailable: false,
    hardwareUnavailableReason: 'no hardware PMU (virtual machine): hardware events <not supported>',
    cyclesPerSec: null,
    instructionsPerSec: null,
    ipc: null,
    cacheReferencesPerSec: null,
    cacheMissesPerSec: null,
    cacheMissPercent: null,
    branchMissesPerSec: null,
    contextSwitchesPerSec: 1790,
    cpuMigrationsPerSec: 12,
    pageFaultsPerSec: 350,
    unsupportedEvents: [
      'cycles',
      'instructions',
      'cache-references',
      'cache-misses',
      'branch-misses',
    ],
    perfIntervalMs: 1000,
  },
  bandwidth: {
    available: true,
    pageInBytesPerSec: 0,
    pageOutBytesPerSec: 49152,
    swapInPagesPerSec: 0,
    swapOutPagesPerSec: 0,
    swapInBytesPerSec: 0,
    swapOutBytesPerSec: 0,
    pageFaultsPerSec: 412,
    majorFaultsPerSec: 0,
    dram: null,
    dramUnavailableReason: 'no resctrl mbm_total_bytes and no uncore_imc PMU',
  },
  processes: {
    available: true,
    total: 118,
    running: 2,
    blocked: 0,
    zombie: 0,
    threads: 241,
    ioUnavailableReason: null,
    top: [
      {
        pid: 1423,
        user: 'www-data',
        name: 'nginx',
        cpuPercent: 6.5,
        rssBytes: 12582912,
        ioBytesPerSec: 0,
      },
      {
        pid: 987,
        user: 'postgres',
        name: 'postgres',
        cpuPercent: 3,
        rssBytes: 157286400,
        ioBytesPerSec: 98304,
      },
      {
        pid: 2210,
        user: 'livestat',
        name: 'node',
        cpuPercent: 0.8,
        rssBytes: 78643200,
        ioBytesPerSec: 0,
      },
      {
        pid: 1,
        user: 'root',
        name: 'systemd',
        cpuPercent: 0,
        rssBytes: 13631488,
        ioBytesPerSec: 0,
      },
      {
        pid: 512,
        user: 'root',
        name: 'systemd-journal',
        cpuPercent: 0.2,
        rssBytes: 33554432,
        ioBytesPerSec: 4096,
      },
      {
        pid: 640,
        user: 'root',
        name: 'containerd',
        cpuPercent: 0.1,
        rssBytes: 52428800,
        ioBytesPerSec: 0,
      },
    ],
    topByCpu: [1423, 987, 2210, 512, 640],
    topByMemory: [987, 2210, 640, 512, 1],
    topByIo: [987, 512, 1423, 2210, 1],
  },
  agent: {
    cpuPercent: 0.8,
    rssBytes: 78643200,
    heapUsedBytes: 23068672,
    collectDurationMs: 3.4,
    collectors: {
      cpu: { durationMs: 0.4, ok: true },
      memory: { durationMs: 0.2, ok: true },
      network: { durationMs: 0.3, ok: true },
      disk: { durationMs: 1.9, ok: true },
      perf: { durationMs: 0.1, ok: true },
      bandwidth: { durationMs: 0.5, ok: true },
      processes: { durationMs: 2.1, ok: true },
    },
  },
} satisfies Snapshot;

/** The type of {@link exampleSnapshot}: every collector narrowed to its `available: true` form. */
export type ExampleSnapshot = typeof exampleSnapshot;

/**
 * A fresh deep copy of {@link exampleSnapshot} that the caller may change, with the identifying
 * fields replaced where given (another host, a later `seq` and `timestamp`).
 */
export function makeExampleSnapshot(
  overrides: Partial<Pick<Snapshot, 'host' | 'seq' | 'timestamp' | 'intervalMs'>> = {},
): ExampleSnapshot {
  const copy = JSON.parse(JSON.stringify(exampleSnapshot)) as ExampleSnapshot;
  return Object.assign(copy, overrides);
}
