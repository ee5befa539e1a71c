import { z } from 'zod';
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
  id: text.min(1),
  /** Display name: the unit name, the container's name, or its 12-character short id. */
  name: text.min(1),
  kind: cgroupKind,
  runtime: cgroupRuntime.nullable(),
  /** The full container id, for containers. */
  containerId: text.nullable(),
  /** Image, state, health and restart count come from the Docker/Podman API; null without it. */
  image: text.nullable(),
  state: text.nullable(),
  health: text.nullable(),
  restartCount: count.nullable(),
  /** CPU used in the interval; 100 = one core, like top. */
  cpuPercent: rate,
  /** Time its tasks were throttled by a CPU quota, ms per second; null where not readable. */
  throttledMsPerSec: rate.nullable(),
  memoryBytes: count,
  /** The memory limit; null when there is none. */
  memoryLimitBytes: count.nullable(),
  memoryAnonBytes: count.nullable(),
  memoryFileBytes: count.nullable(),
  ioReadBytesPerSec: rate.nullable(),
  ioWriteBytesPerSec: rate.nullable(),
  ioReadOpsPerSec: rate.nullable(),
  ioWriteOpsPerSec: rate.nullable(),
  pids: count.nullable(),
  /** `some avg10` of the cgroup's own PSI files, %; null on v1, which has none. */
  pressure: z.object({
    cpu: percent.nullable(),
    memory: percent.nullable(),
    io: percent.nullable(),
  }),
});
export type CgroupRow = z.infer<typeof cgroupRow>;

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
   * turn. Their rates span the real time between two reads of the file.
   */
  slowEveryTicks: count.min(1),
  /** Why container names, images and health are missing (no Docker/Podman API), said once. */
  namesUnavailableReason: text.nullable(),
};

/**
 * Containers, services, sessions and VMs read from cgroupfs. The snapshot carries only the
 * top {@link CGROUPS_SNAPSHOT_TOP} by CPU and by memory, keyed by display name; the full list
 * goes to sockets that watch it (`watch_cgroups`).
 */
export const cgroupsMetrics = collectorResult({
  ...cgroupsSummary,
  groups: z.record(text.min(1), cgroupRow),
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
  host: hostName.optional(),
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
