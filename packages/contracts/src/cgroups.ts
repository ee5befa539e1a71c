import { z } from 'zod/mini';
import { collectorResult, count, hostName, isoTimestamp, percent, rate, text } from './common.js';

/** How a host mounts its cgroups: unified v2, legacy v1, or v1 controllers beside a v2 mount. */
export const CGROUP_LAYOUTS = ['v2', 'v1', 'hybrid'] as const;
export const cgroupLayout = z.enum(CGROUP_LAYOUTS);
export type CgroupLayout = z.infer<typeof cgroupLayout>;

/** What a cgroup stands for. */
export const CGROUP_KINDS = [
  'container',
  'service',
  'session',
  'machine',
  'slice',
  'other',
] as const;
export const cgroupKind = z.enum(CGROUP_KINDS);
export type CgroupKind = z.infer<typeof cgroupKind>;

/** Who created a cgroup, as far as its path tells. */
export const CGROUP_RUNTIMES = ['docker', 'podman', 'containerd', 'kubernetes', 'systemd'] as const;
export const cgroupRuntime = z.enum(CGROUP_RUNTIMES);
export type CgroupRuntime = z.infer<typeof cgroupRuntime>;

/** How many cgroups the snapshot carries by CPU and, separately, by memory (their union). */
export const CGROUPS_SNAPSHOT_TOP = 20;

/** One cgroup worth showing: a container, a systemd service, a session, a VM. */
export const cgroupRow = z.object({
  /** Path relative to the hierarchy root: `system.slice/nginx.service`, `docker/<64 hex>`. */
  id: text.check(z.minLength(1)),
  /** Display name: the unit name, the container's name, or its 12-character short id. */
  name: text.check(z.minLength(1)),
  kind: cgroupKind,
  runtime: z.nullable(cgroupRuntime),
  /** The full container id, for containers. */
  containerId: z.nullable(text),
  /** Image, state, health and restart count come from the Docker/Podman API; null without it. */
  image: z.nullable(text),
  state: z.nullable(text),
  health: z.nullable(text),
  restartCount: z.nullable(count),
  /** CPU used in the interval; 100 = one core, like top. */
  cpuPercent: rate,
  /** Time its tasks were throttled by a CPU quota, ms per second; null where not readable. */
  throttledMsPerSec: z.nullable(rate),
  memoryBytes: count,
  /** The memory limit; null when there is none. */
  memoryLimitBytes: z.nullable(count),
  memoryAnonBytes: z.nullable(count),
  memoryFileBytes: z.nullable(count),
  ioReadBytesPerSec: z.nullable(rate),
  ioWriteBytesPerSec: z.nullable(rate),
  ioReadOpsPerSec: z.nullable(rate),
  ioWriteOpsPerSec: z.nullable(rate),
  pids: z.nullable(count),
  /** `some avg10` of the cgroup's own PSI files, %; null on v1, which has none. */
  pressure: z.object({
    cpu: z.nullable(percent),
    memory: z.nullable(percent),
    io: z.nullable(percent),
  }),
});
export type CgroupRow = z.infer<typeof cgroupRow>;

/**
 * A cgroup as the snapshot carries it, kept small because every tick stores it: a row without
 * the fields that have no value (null → left out; `pressure` left out when it has none), and
 * without its path, container id, image and restart count, which are in the watched full table
 * (`watch_cgroups`); a container's path alone is 70–180 characters. Health and state stay: the
 * collapsed panel shows them. The entry's key in `groups` is its name, or its path when two
 * cgroups share a name. Null is still accepted where a field may be left out, and the left-out
 * fields are ignored, so snapshots of older agents and stored ones still parse.
 */
export const cgroupEntry = z.object({
  name: cgroupRow.shape.name,
  kind: cgroupKind,
  runtime: z.nullish(cgroupRuntime),
  state: z.nullish(text),
  health: z.nullish(text),
  cpuPercent: rate,
  throttledMsPerSec: z.nullish(rate),
  memoryBytes: count,
  memoryLimitBytes: z.nullish(count),
  memoryAnonBytes: z.nullish(count),
  memoryFileBytes: z.nullish(count),
  ioReadBytesPerSec: z.nullish(rate),
  ioWriteBytesPerSec: z.nullish(rate),
  ioReadOpsPerSec: z.nullish(rate),
  ioWriteOpsPerSec: z.nullish(rate),
  pids: z.nullish(count),
  pressure: z.nullish(
    z.object({ cpu: z.nullish(percent), memory: z.nullish(percent), io: z.nullish(percent) }),
  ),
});
export type CgroupEntry = z.infer<typeof cgroupEntry>;

/** The snapshot's entry of a full row: what {@link cgroupEntry} keeps, nulls left out. */
export function toCgroupEntry(row: CgroupRow): CgroupEntry {
  const entry: Record<string, unknown> = {};
  for (const key of Object.keys(cgroupEntry.shape) as (keyof CgroupEntry)[]) {
    if (key === 'pressure') continue;
    const value = row[key];
    if (value !== null) entry[key] = value;
  }
  const pressure: Record<string, number> = {};
  for (const key of ['cpu', 'memory', 'io'] as const) {
    const value = row.pressure[key];
    if (value !== null) pressure[key] = value;
  }
  if (Object.keys(pressure).length > 0) entry.pressure = pressure;
  return entry as CgroupEntry;
}

/**
 * A snapshot entry (under `key` in `groups`) as a full row again, for code that shows either:
 * the key stands for the path, and what the entry leaves out reads as null (path, image and
 * restart count come with the watched table).
 */
export function fromCgroupEntry(key: string, entry: CgroupEntry): CgroupRow {
  return {
    id: key,
    name: entry.name,
    kind: entry.kind,
    runtime: entry.runtime ?? null,
    containerId: null,
    image: null,
    state: entry.state ?? null,
    health: entry.health ?? null,
    restartCount: null,
    cpuPercent: entry.cpuPercent,
    throttledMsPerSec: entry.throttledMsPerSec ?? null,
    memoryBytes: entry.memoryBytes,
    memoryLimitBytes: entry.memoryLimitBytes ?? null,
    memoryAnonBytes: entry.memoryAnonBytes ?? null,
    memoryFileBytes: entry.memoryFileBytes ?? null,
    ioReadBytesPerSec: entry.ioReadBytesPerSec ?? null,
    ioWriteBytesPerSec: entry.ioWriteBytesPerSec ?? null,
    ioReadOpsPerSec: entry.ioReadOpsPerSec ?? null,
    ioWriteOpsPerSec: entry.ioWriteOpsPerSec ?? null,
    pids: entry.pids ?? null,
    pressure: {
      cpu: entry.pressure?.cpu ?? null,
      memory: entry.pressure?.memory ?? null,
      io: entry.pressure?.io ?? null,
    },
  };
}

/** The summary fields the `cgroups` section and the watched full table share. */
const cgroupsSummary = {
  layout: cgroupLayout,
  /** Cgroups found worth showing (after the `CGROUPS_MAX` cap). */
  total: count,
  /** True when `CGROUPS_MAX` cut the directory walk: some cgroups are not measured. */
  truncated: z.boolean(),
  /**
   * CPU and memory usage are read every tick; the slow-moving fields (memory limit, anon and
   * file, I/O, pids, PSI, and v1's throttling) every this many ticks, each cgroup on its own
   * turn. Their rates span the real time between two reads of the file. Absent from agents
   * older than it, which read every file every tick.
   */
  slowEveryTicks: z.optional(count.check(z.minimum(1))),
  /**
   * A cgroup whose CPU and memory usage did not move between two reads is read again every
   * this many ticks (each on its own turn) instead of every tick, until it moves: in between it
   * shows 0 % CPU and its memory at that read, and CPU it then used shows as the average over
   * the real time since. So a cgroup that wakes up shows within this many ticks. While it
   * stays idle its slow files are PSI alone on two turns of three (limit, memory breakdown, I/O
   * and pids change with its own CPU use). Absent from agents older than it, which read every
   * cgroup every tick.
   */
  idleEveryTicks: z.optional(count.check(z.minimum(1))),
  /** Why container names, images and health are missing (no Docker/Podman API), said once. */
  namesUnavailableReason: z.nullable(text),
};

/**
 * Containers, services, sessions and VMs read from cgroupfs. The snapshot carries only the
 * top {@link CGROUPS_SNAPSHOT_TOP} by CPU and by memory, keyed by display name; the full list
 * goes to sockets that watch it (`watch_cgroups`).
 */
export const cgroupsMetrics = collectorResult({
  ...cgroupsSummary,
  groups: z.record(text.check(z.minLength(1)), cgroupEntry),
});
export type CgroupsMetrics = z.infer<typeof cgroupsMetrics>;

/** The fields of the server's `cgroups` message beside host and timestamp: every cgroup. */
export const cgroupsTable = z.object({
  ...cgroupsSummary,
  groups: z.array(cgroupRow),
});
export type CgroupsTable = z.infer<typeof cgroupsTable>;

/** Client → server: send me every cgroup of `host` each tick (the full table), until unwatched. */
export const watchCgroupsMessage = z.object({ type: z.literal('watch_cgroups'), host: hostName });
export type WatchCgroupsMessage = z.infer<typeof watchCgroupsMessage>;

/** Client → server: stop the full table of `host`, or of every host when omitted. */
export const unwatchCgroupsMessage = z.object({
  type: z.literal('unwatch_cgroups'),
  host: z.optional(hostName),
});
export type UnwatchCgroupsMessage = z.infer<typeof unwatchCgroupsMessage>;

/** Server → client, each tick for each watched host: every cgroup, at the snapshot's timestamp. */
export const cgroupsMessage = z.object({
  type: z.literal('cgroups'),
  host: hostName,
  timestamp: isoTimestamp,
  ...cgroupsTable.shape,
});
export type CgroupsMessage = z.infer<typeof cgroupsMessage>;
