import { z } from 'zod/mini';
import { cgroupsMetrics, type CgroupsMetrics } from './cgroups.js';
import { collectorResult, count, hostName, isoTimestamp, percent, rate, text } from './common.js';
import { pressureMetrics, type PressureMetrics } from './pressure.js';
import { processesMetrics, type ProcessesMetrics } from './processes.js';

/**
 * The host collectors, in the order the dashboard shows them: the six of every snapshot, then
 * the sections added later, which a snapshot from an older agent may lack.
 */
export const COLLECTOR_NAMES = [
  'cpu',
  'memory',
  'network',
  'disk',
  'perf',
  'bandwidth',
  'processes',
  'pressure',
  'cgroups',
] as const;
export const collectorName = z.enum(COLLECTOR_NAMES);
export type CollectorName = z.infer<typeof collectorName>;

/** The CPU modes node_exporter counts, in the order `cpuCore.seconds` lists them. */
export const CPU_MODES = [
  'user',
  'nice',
  'system',
  'idle',
  'iowait',
  'irq',
  'softirq',
  'steal',
] as const;
export type CpuMode = (typeof CPU_MODES)[number];

/** A kernel counter since boot: it only grows (until a reboot), unlike the rates beside it. */
const seconds = z.number().check(z.nonnegative());

// The kernel's cumulative counters travel beside the rates so that /metrics can expose them
// as node_exporter does for every host it hears from. They are optional: a snapshot from an
// agent older than them still parses, and its host simply has no counters. They travel as
// arrays, which hold no history series (series.ts): history keeps the rates, and its rollups
// do not grow by the ~60 numbers a tick these add.

/** A kernel's `name value` pairs (meminfo, vmstat), in the kernel's order and naming. */
const namedCounts = z.array(z.tuple([text, count]));

export const cpuCore = z.object({
  id: count,
  usagePercent: percent,
  userPercent: percent,
  systemPercent: percent,
  iowaitPercent: percent,
  /** Seconds the core spent in each of {@link CPU_MODES} since boot, in that order. */
  seconds: z.optional(z.array(seconds).check(z.length(CPU_MODES.length))),
});
export type CpuCore = z.infer<typeof cpuCore>;

/** `/proc/stat` and `/proc/loadavg`. Percentages are shares of all CPU time in the interval. */
export const cpuMetrics = collectorResult({
  usagePercent: percent,
  userPercent: percent,
  nicePercent: percent,
  systemPercent: percent,
  iowaitPercent: percent,
  irqPercent: percent,
  softirqPercent: percent,
  stealPercent: percent,
  idlePercent: percent,
  coreCount: z.number().check(z.int(), z.positive()),
  cores: z.array(cpuCore),
  load1: z.number().check(z.nonnegative()),
  load5: z.number().check(z.nonnegative()),
  load15: z.number().check(z.nonnegative()),
  contextSwitchesPerSec: rate,
  interruptsPerSec: rate,
  processesRunning: count,
  processesBlocked: count,
  /**
   * From `/proc/stat`, in this order: context switches since boot (`ctxt`), interrupts
   * serviced since boot (`intr`), and when the host booted, Unix seconds (`btime`).
   */
  counters: z.optional(z.tuple([count, count, count])),
  /** The kernel's identity, as `uname(2)` gives it (node_exporter's `node_uname_info`). */
  uname: z.optional(
    z.object({
      sysname: text,
      release: text,
      version: text,
      machine: text,
      nodename: text,
      domainname: text,
    }),
  ),
});
export type CpuMetrics = z.infer<typeof cpuMetrics>;

/**
 * `/proc/meminfo`, in bytes. `usedBytes` is psutil's and `free`'s "used"
 * (total − free − buffers − cached, cached including SReclaimable); `usedPercent` is
 * psutil's percent, the share of memory that is not available.
 */
export const memoryMetrics = collectorResult({
  totalBytes: count,
  usedBytes: count,
  availableBytes: count,
  freeBytes: count,
  buffersBytes: count,
  cachedBytes: count,
  sharedBytes: count,
  swapTotalBytes: count,
  swapUsedBytes: count,
  swapFreeBytes: count,
  usedPercent: percent,
  swapUsedPercent: percent,
  /**
   * Every `/proc/meminfo` field by the kernel's name (`Active(anon)`): bytes for the fields the
   * kernel prints in kB, the plain number for the others (`HugePages_Total`).
   */
  meminfo: z.optional(namedCounts),
});
export type MemoryMetrics = z.infer<typeof memoryMetrics>;

export const interfaceRates = z.object({
  rxBytesPerSec: rate,
  txBytesPerSec: rate,
  rxPacketsPerSec: rate,
  txPacketsPerSec: rate,
  rxErrorsPerSec: rate,
  txErrorsPerSec: rate,
  rxDropsPerSec: rate,
  txDropsPerSec: rate,
});
export type InterfaceRates = z.infer<typeof interfaceRates>;

/**
 * An interface's `/proc/net/dev` counters since boot, in this order: received bytes, packets,
 * errs, drop, then transmitted bytes, packets, errs, drop.
 */
export const interfaceCounters = z.tuple([count, count, count, count, count, count, count, count]);
export type InterfaceCounters = z.infer<typeof interfaceCounters>;

export const networkInterface = z.extend(interfaceRates, {
  /** Cumulative counters; absent from snapshots of older agents. */
  counters: z.optional(interfaceCounters),
  loopback: z.boolean(),
  /**
   * Virtual interfaces — loopback, bridges, bonds, VLANs, veth, tunnels — carry traffic that
   * a physical interface also counts, so totals leave them out. Loopback is always virtual.
   */
  virtual: z.boolean(),
});
export type NetworkInterface = z.infer<typeof networkInterface>;

/**
 * `/proc/net/dev`. Totals sum the physical interfaces only (neither loopback nor `virtual`), so
 * traffic seen at several layers (eth0 → bond0 → VLAN → bridge → veth) is counted once; every
 * interface, loopback and virtual ones included, is listed.
 */
export const networkMetrics = collectorResult({
  ...interfaceRates.shape,
  interfaces: z.record(text, networkInterface),
});
export type NetworkMetrics = z.infer<typeof networkMetrics>;

export const deviceRates = z.object({
  readBytesPerSec: rate,
  writeBytesPerSec: rate,
  readOpsPerSec: rate,
  writeOpsPerSec: rate,
  busyPercent: percent,
});
export type DeviceRates = z.infer<typeof deviceRates>;

/**
 * A device's `/proc/diskstats` counters since boot, in this order: reads completed, bytes
 * read, writes completed, bytes written, milliseconds with I/O in flight.
 */
export const deviceCounters = z.tuple([count, count, count, count, count]);
export type DeviceCounters = z.infer<typeof deviceCounters>;

/** A whole block device; `virtual` ones (device-mapper, md RAID) stack on others and stay out of totals. */
export const diskDevice = z.extend(deviceRates, {
  virtual: z.boolean(),
  /** Cumulative counters; absent from snapshots of older agents. */
  counters: z.optional(deviceCounters),
});
export type DiskDevice = z.infer<typeof diskDevice>;

export const filesystemUsage = z.object({
  mountPoint: text,
  device: text,
  fsType: text,
  totalBytes: count,
  usedBytes: count,
  availableBytes: count,
  /** As `df` computes it: used / (used + available to unprivileged users). */
  usedPercent: percent,
});
export type FilesystemUsage = z.infer<typeof filesystemUsage>;

/**
 * One mount point as node_exporter's filesystem collector lists it: mount point, device, fs
 * type, then `statfs` size, free and available bytes, inodes and free inodes.
 */
export const mountUsage = z.tuple([text, text, text, count, count, count, count, count]);
export type MountUsage = z.infer<typeof mountUsage>;

/**
 * `/proc/diskstats` (whole devices, no partitions) plus `statfs` of mounted real filesystems.
 * Totals sum the non-virtual devices; `busyPercent` is the busiest of them.
 */
export const diskMetrics = collectorResult({
  ...deviceRates.shape,
  devices: z.record(text, diskDevice),
  /** The real filesystems, one mount of each: what the dashboard shows. */
  filesystems: z.array(filesystemUsage),
  /** Every mount point, pseudo filesystems and bind mounts included, for `/metrics`. */
  mounts: z.optional(z.array(mountUsage)),
});
export type DiskMetrics = z.infer<typeof diskMetrics>;

const nullableRate = z.nullable(rate);

/**
 * A long-running `perf stat -x, -I <ms> -a`. Each counter is null when perf cannot count it
 * here; `hardwareUnavailableReason` says why hardware counters are missing (no PMU, as on
 * most VMs) while the software events still count.
 */
export const perfMetrics = collectorResult({
  hardwareAvailable: z.boolean(),
  hardwareUnavailableReason: z.nullable(text),
  cyclesPerSec: nullableRate,
  instructionsPerSec: nullableRate,
  ipc: z.nullable(z.number().check(z.nonnegative())),
  cacheReferencesPerSec: nullableRate,
  cacheMissesPerSec: nullableRate,
  cacheMissPercent: z.nullable(percent),
  branchMissesPerSec: nullableRate,
  contextSwitchesPerSec: nullableRate,
  cpuMigrationsPerSec: nullableRate,
  pageFaultsPerSec: nullableRate,
  /** Events perf reported as `<not supported>` or `<not counted>`. */
  unsupportedEvents: z.array(text),
  /** perf's own interval, in ms, that the rates cover. */
  perfIntervalMs: z.number().check(z.positive()),
});
export type PerfMetrics = z.infer<typeof perfMetrics>;

export const dramSource = z.enum(['resctrl', 'uncore_imc']);
export type DramSource = z.infer<typeof dramSource>;

/** True DRAM traffic where the machine exposes it; resctrl gives only a total. */
export const dramBandwidth = z.object({
  source: dramSource,
  readBytesPerSec: nullableRate,
  writeBytesPerSec: nullableRate,
  totalBytesPerSec: rate,
});
export type DramBandwidth = z.infer<typeof dramBandwidth>;

/** Paging and swap traffic from `/proc/vmstat`, plus DRAM bandwidth where available. */
export const bandwidthMetrics = collectorResult({
  pageInBytesPerSec: rate,
  pageOutBytesPerSec: rate,
  swapInPagesPerSec: rate,
  swapOutPagesPerSec: rate,
  swapInBytesPerSec: rate,
  swapOutBytesPerSec: rate,
  pageFaultsPerSec: rate,
  majorFaultsPerSec: rate,
  dram: z.nullable(dramBandwidth),
  dramUnavailableReason: z.nullable(text),
  /**
   * The `/proc/vmstat` counters node_exporter exports by default (`pgpgin`, `pgpgout`,
   * `pswpin`, `pswpout`, `pgfault`, `pgmajfault`, `oom_kill`…), by the kernel's name.
   */
  vmstat: z.optional(namedCounts),
});
export type BandwidthMetrics = z.infer<typeof bandwidthMetrics>;

export const collectorTiming = z.object({
  durationMs: z.number().check(z.nonnegative()),
  ok: z.boolean(),
});
export type CollectorTiming = z.infer<typeof collectorTiming>;

/** The sampler's own cost: a monitor shows what it spends. */
export const agentMetrics = z.object({
  cpuPercent: z.number().check(z.nonnegative()),
  rssBytes: count,
  heapUsedBytes: count,
  collectDurationMs: z.number().check(z.nonnegative()),
  collectors: z.partialRecord(collectorName, collectorTiming),
});
export type AgentMetrics = z.infer<typeof agentMetrics>;

/** One snapshot per host per tick. `(host, timestamp)` identifies it across restarts. */
export const snapshot = z.object({
  type: z.literal('snapshot'),
  host: hostName,
  /** Rises by one per snapshot of a sampling process, from 1; a jump means a gap. */
  seq: z.number().check(z.int(), z.positive()),
  timestamp: isoTimestamp,
  intervalMs: z.number().check(z.int(), z.positive()),
  cpu: cpuMetrics,
  memory: memoryMetrics,
  network: networkMetrics,
  disk: diskMetrics,
  perf: perfMetrics,
  bandwidth: bandwidthMetrics,
  // Sections added after the first six are optional: an older agent's snapshot still parses.
  processes: z.optional(processesMetrics),
  pressure: z.optional(pressureMetrics),
  cgroups: z.optional(cgroupsMetrics),
  agent: agentMetrics,
});
export type Snapshot = z.infer<typeof snapshot>;

/** The part of a snapshot each collector fills, keyed by collector name. */
export interface CollectorPayloads {
  cpu: CpuMetrics;
  memory: MemoryMetrics;
  network: NetworkMetrics;
  disk: DiskMetrics;
  perf: PerfMetrics;
  bandwidth: BandwidthMetrics;
  processes: ProcessesMetrics;
  pressure: PressureMetrics;
  cgroups: CgroupsMetrics;
}
