import {
  CGROUPS_SNAPSHOT_TOP,
  type CgroupRow,
  type CgroupsMetrics,
  type CgroupsTable,
} from '@livestat/contracts';
import { discoverCgroups, type CgroupIdentity } from './cgroup-discovery.js';
import { CgroupGoneError } from './cgroup-files.js';
import { parseCgroupMounts, V1_CONTROLLERS, type CgroupMounts } from './cgroup-mounts.js';
import type { CgroupReading } from './cgroup-reading.js';
import { readCgroupV1 } from './cgroup-v1.js';
import { readCgroupV2 } from './cgroup-v2.js';
import type { ContainerNames } from './container-names.js';
import { readProcFile } from './procfs.js';
import { counterRate, round } from './rates.js';
import type { Collector, CollectorDeps } from './types.js';

/** The `available: true` shape of the cgroups payload. */
export type CgroupsSample = Extract<CgroupsMetrics, { available: true }>;

/** Default of `CGROUPS_MAX`: how many cgroups one walk may take. */
export const DEFAULT_CGROUPS_MAX = 500;
/** How often the directory tree is walked again; files are read every tick. */
export const DEFAULT_WALK_INTERVAL_MS = 10_000;

export interface CgroupsCollectorOptions {
  /** At most this many cgroups are measured; `truncated` says when the walk found more. */
  max?: number;
  walkIntervalMs?: number;
  /** Container names, images and health from the Docker/Podman API; none → short ids. */
  names?: ContainerNames;
}

/** The cgroups collector, with the full table of its last tick for sockets that watch it. */
export interface CgroupsCollector extends Collector<'cgroups'> {
  /** Every cgroup of the last tick, CPU-heaviest first; null before a tick or when unavailable. */
  table(): CgroupsTable | null;
}

/** Roots to walk and read: the cgroup2 tree on v2, each controller's tree on v1 and hybrid. */
function walkRoots(mounts: CgroupMounts): string[] {
  if (mounts.layout === 'v2') return mounts.unified === null ? [] : [mounts.unified];
  const roots = V1_CONTROLLERS.map((controller) => mounts.v1[controller]);
  return [...new Set(roots.filter((root): root is string => root !== undefined))];
}

function readOne(mounts: CgroupMounts, id: string): CgroupReading {
  if (mounts.layout === 'v2') return readCgroupV2(`${mounts.unified}/${id}`);
  return readCgroupV1(mounts.v1, mounts.unified, id);
}

/** A reading with no file at all: the cgroup went away between the walk and this tick. */
function vanished(reading: CgroupReading): boolean {
  return reading.cpuUs === null && reading.memoryBytes === null && reading.pids === null;
}

interface Previous {
  reading: CgroupReading;
  at: number;
}

/**
 * Turns two readings `elapsedMs` apart into a row. Counters that went backwards — a container
 * restarted under the same id, so its cgroup was created anew — read 0 for the interval, and
 * the next interval measures from the new value.
 */
export function computeCgroupRow(
  identity: CgroupIdentity,
  previous: CgroupReading | null,
  current: CgroupReading,
  elapsedMs: number,
): CgroupRow {
  const perSec = (field: keyof CgroupReading): number | null => {
    const now = current[field];
    if (now === null) return null;
    const before = previous?.[field] ?? null;
    return before === null ? 0 : counterRate(before, now, elapsedMs);
  };
  const cpuUsPerSec = perSec('cpuUs');
  const throttledUsPerSec = perSec('throttledUs');
  const io = (field: keyof CgroupReading): number | null => {
    const value = perSec(field);
    return value === null ? null : round(value, 2);
  };
  const whole = (value: number | null): number | null =>
    value === null ? null : Math.max(0, Math.round(value));
  return {
    id: identity.id,
    name: identity.name,
    kind: identity.kind,
    runtime: identity.runtime,
    containerId: identity.containerId,
    image: null,
    state: null,
    health: null,
    restartCount: null,
    // µs of CPU per second / 10 000 µs = % of one core.
    cpuPercent: round((cpuUsPerSec ?? 0) / 10_000, 2),
    throttledMsPerSec: throttledUsPerSec === null ? null : round(throttledUsPerSec / 1000, 2),
    memoryBytes: whole(current.memoryBytes) ?? 0,
    memoryLimitBytes: whole(current.memoryLimitBytes),
    memoryAnonBytes: whole(current.memoryAnonBytes),
    memoryFileBytes: whole(current.memoryFileBytes),
    ioReadBytesPerSec: io('ioReadBytes'),
    ioWriteBytesPerSec: io('ioWriteBytes'),
    ioReadOpsPerSec: io('ioReadOps'),
    ioWriteOpsPerSec: io('ioWriteOps'),
    pids: whole(current.pids),
    pressure: { cpu: current.psiCpu, memory: current.psiMemory, io: current.psiIo },
  };
}

/**
 * The snapshot's compact form: the top {@link CGROUPS_SNAPSHOT_TOP} by CPU and the top by
 * memory, keyed by display name (a name shared by two cgroups falls back to the path).
 */
export function compactGroups(rows: readonly CgroupRow[]): Record<string, CgroupRow> {
  const byCpu = [...rows].sort((a, b) => b.cpuPercent - a.cpuPercent || a.id.localeCompare(b.id));
  const byMemory = [...rows].sort(
    (a, b) => b.memoryBytes - a.memoryBytes || a.id.localeCompare(b.id),
  );
  const picked = new Set([
    ...byCpu.slice(0, CGROUPS_SNAPSHOT_TOP),
    ...byMemory.slice(0, CGROUPS_SNAPSHOT_TOP),
  ]);
  const groups: Record<string, CgroupRow> = {};
  for (const row of byCpu) {
    if (!picked.has(row)) continue;
    groups[row.name in groups ? row.id : row.name] = row;
  }
  return groups;
}

/**
 * The cgroups collector: finds the cgroup mounts in `PROC_ROOT/self/mountinfo`, walks the
 * trees every `walkIntervalMs` for containers, services, sessions and VMs (at most `max`), and
 * reads their files every tick. A cgroup that vanishes is dropped, not an error.
 */
export function createCgroupsCollector(
  deps: CollectorDeps,
  options: CgroupsCollectorOptions = {},
): CgroupsCollector {
  const max = options.max ?? DEFAULT_CGROUPS_MAX;
  const walkIntervalMs = options.walkIntervalMs ?? DEFAULT_WALK_INTERVAL_MS;
  let mounts: CgroupMounts | null = null;
  let groups: CgroupIdentity[] = [];
  let truncated = false;
  let walkedAt = -Infinity;
  let previous = new Map<string, Previous>();
  let last: CgroupsTable | null = null;

  function walk(): void {
    mounts = parseCgroupMounts(readProcFile(deps.procRoot, 'self/mountinfo'), deps.sysRoot);
    const found = discoverCgroups(walkRoots(mounts), max);
    groups = found.groups;
    truncated = found.truncated;
    walkedAt = deps.now();
  }

  function sample(): CgroupsSample {
    if (mounts === null || deps.now() - walkedAt >= walkIntervalMs) walk();
    const layout = mounts!;
    const at = deps.now();
    const next = new Map<string, Previous>();
    const rows: CgroupRow[] = [];
    const gone = new Set<string>();
    for (const identity of groups) {
      let reading: CgroupReading;
      try {
        reading = readOne(layout, identity.id);
      } catch (err) {
        if (err instanceof CgroupGoneError) {
          gone.add(identity.id);
          continue;
        }
        throw err;
      }
      if (vanished(reading)) {
        gone.add(identity.id);
        continue;
      }
      const before = previous.get(identity.id);
      const row = computeCgroupRow(
        identity,
        before?.reading ?? null,
        reading,
        before === undefined ? 0 : at - before.at,
      );
      const info =
        identity.containerId === null ? undefined : options.names?.lookup(identity.containerId);
      rows.push(info === undefined ? row : { ...row, ...info });
      next.set(identity.id, { reading, at });
    }
    if (gone.size > 0) groups = groups.filter((identity) => !gone.has(identity.id));
    previous = next;
    rows.sort((a, b) => b.cpuPercent - a.cpuPercent || a.id.localeCompare(b.id));
    const summary = {
      layout: layout.layout,
      total: rows.length,
      truncated,
      namesUnavailableReason:
        options.names === undefined ? 'no Docker/Podman API configured' : options.names.reason(),
    };
    last = { ...summary, groups: rows };
    return { available: true, ...summary, groups: compactGroups(rows) };
  }

  return {
    name: 'cgroups',
    async prime() {
      sample();
    },
    async collect() {
      try {
        return sample();
      } catch (err) {
        last = null;
        throw err;
      }
    },
    table: () => last,
    async stop() {
      options.names?.stop();
    },
  };
}
