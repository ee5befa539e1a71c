import type { CgroupRow, CgroupsMetrics, CgroupsTable } from '@livestat/contracts';
import { discoverCgroups, type CgroupIdentity } from './cgroup-discovery.js';
import {
  CgroupGoneError,
  createCgroupFileReader,
  isCgroupfs,
  type CgroupFileReader,
} from './cgroup-files.js';
import { parseCgroupMounts, V1_CONTROLLERS, type CgroupMounts } from './cgroup-mounts.js';
import {
  compactGroups,
  measuredFields,
  type Measured,
  type PartialReading,
} from './cgroup-rows.js';
import { readCgroupV1Slow, readCgroupV1Tick } from './cgroup-v1.js';
import { readCgroupV2Slow, readCgroupV2Tick, type ReadCgroupFile } from './cgroup-v2.js';
import type { ContainerNames } from './container-names.js';
import { keptStatFdBudget } from './process-table.js';
import { readProcFile } from './procfs.js';
import { counterRate, round } from './rates.js';
import type { Collector, CollectorDeps } from './types.js';

/** The `available: true` shape of the cgroups payload. */
export type CgroupsSample = Extract<CgroupsMetrics, { available: true }>;

/** Default of `CGROUPS_MAX`: how many cgroups one walk may take. */
export const DEFAULT_CGROUPS_MAX = 500;
/** How often the directory tree is walked again. */
export const DEFAULT_WALK_INTERVAL_MS = 10_000;
/**
 * Every how many ticks a cgroup's slow-moving files are read (memory limit, `memory.stat`,
 * I/O, pids, PSI — whose averages are 10 s ones anyway); CPU and memory usage every tick.
 */
export const DEFAULT_SLOW_EVERY_TICKS = 10;

export interface CgroupsCollectorOptions {
  /** At most this many cgroups are measured; `truncated` says when the walk found more. */
  max?: number;
  walkIntervalMs?: number;
  /** Every how many ticks the slow-moving files are read; 1 reads every file every tick. */
  slowEveryTicks?: number;
  /** Keep descriptors open between ticks; by default only on cgroupfs (not on fixture files). */
  keepDescriptors?: boolean;
  /** Container names, images and health from the Docker/Podman API; none → short ids. */
  names?: ContainerNames;
}

/** The cgroups collector, with the full table of its last tick for sockets that watch it. */
export interface CgroupsCollector extends Collector<'cgroups'> {
  /** Every cgroup of the last tick, CPU-heaviest first; null before a tick or when unavailable. */
  table(): CgroupsTable | null;
  /** How many cgroupfs descriptors are open between ticks. */
  keptDescriptors(): number;
}

/** Roots to walk and read: the cgroup2 tree on v2, each controller's tree on v1 and hybrid. */
function walkRoots(mounts: CgroupMounts): string[] {
  if (mounts.layout === 'v2') return mounts.unified === null ? [] : [mounts.unified];
  const roots = V1_CONTROLLERS.map((controller) => mounts.v1[controller]);
  return [...new Set(roots.filter((root): root is string => root !== undefined))];
}

/** Files read every tick per cgroup: CPU usage and memory usage (v2 and v1 alike). */
const TICK_FILES = 2;

/** The row fields of the slow-moving files, shown between two reads of them. */
type SlowFields = Omit<Measured, 'cpuPercent' | 'memoryBytes'>;

const NO_SLOW_FIELDS: SlowFields = {
  throttledMsPerSec: null,
  memoryLimitBytes: null,
  memoryAnonBytes: null,
  memoryFileBytes: null,
  ioReadBytesPerSec: null,
  ioWriteBytesPerSec: null,
  ioReadOpsPerSec: null,
  ioWriteOpsPerSec: null,
  pids: null,
  pressure: { cpu: null, memory: null, io: null },
};

/** What the collector holds of one cgroup between ticks. */
interface GroupState {
  /** Which tick of every `slowEveryTicks` reads its slow-moving files: the work is staggered. */
  slot: number;
  tick: PartialReading;
  tickAt: number;
  slow: PartialReading;
  slowAt: number;
  /** The row fields of the last read of the slow files, shown until the next one. */
  slowFields: SlowFields;
}

/**
 * The cgroups collector: finds the cgroup mounts in `PROC_ROOT/self/mountinfo`, walks the
 * trees every `walkIntervalMs` for containers, services, sessions and VMs (at most `max`),
 * reads their CPU and memory usage every tick and their slow-moving files (memory limit and
 * breakdown, I/O, pids, PSI) every `slowEveryTicks` ticks, a share of the cgroups each tick.
 * On cgroupfs the descriptors stay open between ticks (a bounded number). A cgroup that
 * vanishes is dropped, not an error.
 */
export function createCgroupsCollector(
  deps: CollectorDeps,
  options: CgroupsCollectorOptions = {},
): CgroupsCollector {
  const max = options.max ?? DEFAULT_CGROUPS_MAX;
  const walkIntervalMs = options.walkIntervalMs ?? DEFAULT_WALK_INTERVAL_MS;
  const slowEvery = Math.max(1, Math.floor(options.slowEveryTicks ?? DEFAULT_SLOW_EVERY_TICKS));
  let mounts: CgroupMounts | null = null;
  let groups: CgroupIdentity[] = [];
  let truncated = false;
  let walkedAt = -Infinity;
  let reader: CgroupFileReader | null = null;
  const states = new Map<string, GroupState>();
  let tickNo = 0;
  let nextSlot = 0;
  let last: CgroupsTable | null = null;

  function walk(): void {
    mounts = parseCgroupMounts(readProcFile(deps.procRoot, 'self/mountinfo'), deps.sysRoot);
    const roots = walkRoots(mounts);
    const found = discoverCgroups(roots, max);
    // In path order, which the table's order falls back on among equal CPU.
    groups = found.groups.sort((a, b) => a.id.localeCompare(b.id));
    truncated = found.truncated;
    walkedAt = deps.now();
    if (reader === null) {
      const keep = options.keepDescriptors ?? (roots[0] !== undefined && isCgroupfs(roots[0]));
      // As many as the process table may keep (a quarter of the soft open-files limit, at
      // most 4096): together at most half, so sockets and connections never run short.
      reader = createCgroupFileReader(keep ? keptStatFdBudget() : 0);
    }
    const ids = new Set(groups.map((identity) => identity.id));
    reader.retain(ids);
    reader.reserve(groups.length * TICK_FILES);
    for (const id of [...states.keys()]) if (!ids.has(id)) states.delete(id);
  }

  function readTick(layout: CgroupMounts, id: string, read: ReadCgroupFile): PartialReading {
    if (layout.layout === 'v2') return readCgroupV2Tick(`${layout.unified}/${id}`, read);
    return readCgroupV1Tick({ roots: layout.v1, unified: layout.unified, id }, read);
  }

  function readSlow(layout: CgroupMounts, id: string, read: ReadCgroupFile): PartialReading {
    if (layout.layout === 'v2') return readCgroupV2Slow(`${layout.unified}/${id}`, read);
    return readCgroupV1Slow({ roots: layout.v1, unified: layout.unified, id }, read);
  }

  /** This tick's row of one cgroup, or null when it went away. */
  function measure(layout: CgroupMounts, identity: CgroupIdentity, at: number): CgroupRow | null {
    const { id } = identity;
    const read: ReadCgroupFile = (dir, name, tier) => reader!.read(id, dir, name, tier);
    const state = states.get(id);
    const tick = readTick(layout, id, read);
    const slowDue = state === undefined || tickNo % slowEvery === state.slot;
    let slow = slowDue ? readSlow(layout, id, read) : null;
    if ((tick.cpuUs ?? null) === null && (tick.memoryBytes ?? null) === null) {
      // No per-tick file at all: gone, unless the cgroup lives only in, say, the pids tree.
      slow ??= readSlow(layout, id, read);
      if ((slow.pids ?? null) === null) return null;
    }
    const fresh: GroupState = state ?? {
      slot: nextSlot++ % slowEvery,
      tick,
      tickAt: at,
      slow: {},
      slowAt: at,
      slowFields: NO_SLOW_FIELDS,
    };
    if (slow !== null) {
      // Rates of the slow files span the real time between their two reads.
      const fields = measuredFields(state ? fresh.slow : null, slow, at - fresh.slowAt);
      fresh.slowFields = { ...NO_SLOW_FIELDS, ...fields };
      fresh.slow = slow;
      fresh.slowAt = at;
    }
    // The per-tick fields, written out: this runs for every cgroup every tick.
    const elapsedMs = at - fresh.tickAt;
    const before = state === undefined ? null : state.tick;
    const cpuUs = tick.cpuUs ?? null;
    const cpuBefore = before?.cpuUs ?? null;
    const cpuPercent =
      cpuUs === null || cpuBefore === null
        ? 0
        : round(counterRate(cpuBefore, cpuUs, elapsedMs) / 10_000, 2);
    let throttledMsPerSec = fresh.slowFields.throttledMsPerSec;
    if (tick.throttledUs !== undefined) {
      const now = tick.throttledUs;
      const was = before?.throttledUs ?? null;
      throttledMsPerSec =
        now === null ? null : was === null ? 0 : round(counterRate(was, now, elapsedMs) / 1000, 2);
    }
    const memory = tick.memoryBytes ?? null;
    fresh.tick = tick;
    fresh.tickAt = at;
    states.set(id, fresh);
    const slowFields = fresh.slowFields;
    return {
      id,
      name: identity.name,
      kind: identity.kind,
      runtime: identity.runtime,
      containerId: identity.containerId,
      image: null,
      state: null,
      health: null,
      restartCount: null,
      cpuPercent,
      throttledMsPerSec,
      memoryBytes: memory === null ? 0 : Math.max(0, Math.round(memory)),
      memoryLimitBytes: slowFields.memoryLimitBytes,
      memoryAnonBytes: slowFields.memoryAnonBytes,
      memoryFileBytes: slowFields.memoryFileBytes,
      ioReadBytesPerSec: slowFields.ioReadBytesPerSec,
      ioWriteBytesPerSec: slowFields.ioWriteBytesPerSec,
      ioReadOpsPerSec: slowFields.ioReadOpsPerSec,
      ioWriteOpsPerSec: slowFields.ioWriteOpsPerSec,
      pids: slowFields.pids,
      pressure: slowFields.pressure,
    };
  }

  function sample(): CgroupsSample {
    if (mounts === null || deps.now() - walkedAt >= walkIntervalMs) walk();
    const layout = mounts!;
    const at = deps.now();
    const rows: CgroupRow[] = [];
    const gone = new Set<string>();
    for (const identity of groups) {
      let row: CgroupRow | null;
      try {
        row = measure(layout, identity, at);
      } catch (err) {
        if (!(err instanceof CgroupGoneError)) throw err;
        row = null;
      }
      if (row === null) {
        gone.add(identity.id);
        reader!.forget(identity.id);
        states.delete(identity.id);
        continue;
      }
      const info =
        identity.containerId === null ? undefined : options.names?.lookup(identity.containerId);
      rows.push(info === undefined ? row : { ...row, ...info });
    }
    tickNo += 1;
    if (gone.size > 0) groups = groups.filter((identity) => !gone.has(identity.id));
    // `groups` is in path order (see walk), and the sort is stable: CPU-heaviest first, then
    // by path, without comparing paths.
    rows.sort((a, b) => b.cpuPercent - a.cpuPercent);
    const summary = {
      layout: layout.layout,
      total: rows.length,
      truncated,
      slowEveryTicks: slowEvery,
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
    keptDescriptors: () => reader?.kept() ?? 0,
    async stop() {
      reader?.close();
      options.names?.stop();
    },
  };
}
