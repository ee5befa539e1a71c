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
import { readCgroupV2Slow, readCgroupV2Tick, readPsi, type ReadCgroupFile } from './cgroup-v2.js';
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
/**
 * Every how many ticks a cgroup idle at its last read (CPU, throttling and memory usage as
 * the read before) is read again; a cgroup that moved is read every tick.
 */
export const DEFAULT_IDLE_EVERY_TICKS = 10;
/**
 * A cgroup idle at every read since its slow files were last read whole gets only its PSI
 * files on its next turns, the rest (memory limit, `memory.stat`, I/O, pids; v1's
 * throttling) on every this many turns: those change with the cgroup's own CPU use, or from
 * outside (a new limit, writeback). PSI is read on every turn — tasks blocked on I/O stall
 * without using CPU, and the averages decay after a stall.
 */
export const QUIET_SLOW_TURNS = 3;

export interface CgroupsCollectorOptions {
  /** At most this many cgroups are measured; `truncated` says when the walk found more. */
  max?: number;
  walkIntervalMs?: number;
  /** Every how many ticks the slow-moving files are read; 1 reads every file every tick. */
  slowEveryTicks?: number;
  /**
   * Every how many ticks a cgroup idle at its last read is read again (and its slow files
   * other than PSI every {@link QUIET_SLOW_TURNS} turns); 1 reads every cgroup every tick and
   * all its slow files on every turn.
   */
  idleEveryTicks?: number;
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
  /**
   * Which tick of every `slowEveryTicks` reads its slow-moving files, and of every
   * `idleEveryTicks` its per-tick files while it is idle: the work is staggered.
   */
  slot: number;
  /** CPU, throttling and memory usage did not move between its last two reads. */
  idle: boolean;
  /** The row of its last read, shown again on the ticks an idle cgroup is not read. */
  row: CgroupRow;
  /** Idle at every read since its slow files were last read whole. */
  quiet: boolean;
  /** Turns of its slow files that read PSI only since they were last read whole. */
  quietTurns: number;
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
 * reads their CPU and memory usage every tick — every `idleEveryTicks` ticks for a cgroup
 * whose usage did not move at its last read — and their slow-moving files (memory limit and
 * breakdown, I/O, pids, PSI) every `slowEveryTicks` ticks, a share of the cgroups each tick.
 * On cgroupfs the descriptors stay open between ticks (a bounded number). A cgroup that
 * vanishes is dropped, not an error (an idle one when it is next read, or at the next walk).
 */
export function createCgroupsCollector(
  deps: CollectorDeps,
  options: CgroupsCollectorOptions = {},
): CgroupsCollector {
  const max = options.max ?? DEFAULT_CGROUPS_MAX;
  const walkIntervalMs = options.walkIntervalMs ?? DEFAULT_WALK_INTERVAL_MS;
  const slowEvery = Math.max(1, Math.floor(options.slowEveryTicks ?? DEFAULT_SLOW_EVERY_TICKS));
  const idleEvery = Math.max(1, Math.floor(options.idleEveryTicks ?? DEFAULT_IDLE_EVERY_TICKS));
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
    // PSI files next: read on every slow turn, where the rest waits two turns of three.
    reader.reserve(groups.length * TICK_FILES, mounts.unified === null ? 0 : groups.length * 3);
    for (const id of [...states.keys()]) if (!ids.has(id)) states.delete(id);
  }

  function readTick(layout: CgroupMounts, id: string, read: ReadCgroupFile): PartialReading {
    if (layout.layout === 'v2') return readCgroupV2Tick(`${layout.unified}/${id}`, read);
    return readCgroupV1Tick({ roots: layout.v1, unified: layout.unified, id }, read);
  }

  function readSlow(
    layout: CgroupMounts,
    id: string,
    read: ReadCgroupFile,
    psiOnly = false,
  ): PartialReading {
    if (psiOnly) return layout.unified === null ? {} : readPsi(`${layout.unified}/${id}`, read);
    if (layout.layout === 'v2') return readCgroupV2Slow(`${layout.unified}/${id}`, read);
    return readCgroupV1Slow({ roots: layout.v1, unified: layout.unified, id }, read);
  }

  /**
   * This tick's row of one cgroup, or null when it went away. A cgroup idle at its last read
   * is read only on its turn (and when its slow files are due); in between, its last row
   * stands: 0 % CPU and the memory usage of that read.
   */
  function measure(layout: CgroupMounts, identity: CgroupIdentity, at: number): CgroupRow | null {
    const { id } = identity;
    const state = states.get(id);
    const slowDue = state === undefined || tickNo % slowEvery === state.slot;
    if (state?.idle === true && !slowDue && tickNo % idleEvery !== state.slot % idleEvery) {
      return state.row;
    }
    const read: ReadCgroupFile = (dir, name, tier) => reader!.read(id, dir, name, tier);
    const tick = readTick(layout, id, read);
    const before = state?.tick ?? null;
    const idle =
      before !== null &&
      tick.cpuUs === before.cpuUs &&
      tick.memoryBytes === before.memoryBytes &&
      tick.throttledUs === before.throttledUs;
    const quiet = idleEvery > 1 && idle && state!.quiet;
    let psiOnly = slowDue && quiet && state!.quietTurns < QUIET_SLOW_TURNS - 1;
    let slow = slowDue ? readSlow(layout, id, read, psiOnly) : null;
    if ((tick.cpuUs ?? null) === null && (tick.memoryBytes ?? null) === null) {
      // No per-tick file at all: gone, unless the cgroup lives only in, say, the pids tree.
      if (slow === null || psiOnly) slow = readSlow(layout, id, read);
      psiOnly = false;
      if ((slow.pids ?? null) === null) return null;
    }
    const whole = slow !== null && !psiOnly;
    let slowFields = state?.slowFields ?? NO_SLOW_FIELDS;
    if (slow !== null && psiOnly) {
      // PSI alone: averages, no rates; the other slow fields stand.
      slowFields = { ...slowFields, ...measuredFields(null, slow, 0) };
    } else if (slow !== null) {
      // Rates of the slow files span the real time between their two reads.
      const fields = measuredFields(state?.slow ?? null, slow, at - (state?.slowAt ?? at));
      slowFields = { ...NO_SLOW_FIELDS, ...fields };
    }
    // The per-tick fields, written out: this runs for every cgroup read. Rates span the real
    // time since the last read, however many ticks an idle cgroup was skipped.
    const elapsedMs = at - (state?.tickAt ?? at);
    const cpuUs = tick.cpuUs ?? null;
    const cpuBefore = before?.cpuUs ?? null;
    const cpuPercent =
      cpuUs === null || cpuBefore === null
        ? 0
        : round(counterRate(cpuBefore, cpuUs, elapsedMs) / 10_000, 2);
    let throttledMsPerSec = slowFields.throttledMsPerSec;
    if (tick.throttledUs !== undefined) {
      const now = tick.throttledUs;
      const was = before?.throttledUs ?? null;
      throttledMsPerSec =
        now === null ? null : was === null ? 0 : round(counterRate(was, now, elapsedMs) / 1000, 2);
    }
    const memory = tick.memoryBytes ?? null;
    const row: CgroupRow = {
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
    const slowOf = whole ? { slow: slow!, slowAt: at } : state!;
    states.set(id, {
      slot: state?.slot ?? nextSlot++ % slowEvery,
      idle,
      row,
      quiet: whole || quiet,
      quietTurns: whole ? 0 : (state?.quietTurns ?? 0) + (psiOnly ? 1 : 0),
      tick,
      tickAt: at,
      slow: slowOf.slow,
      slowAt: slowOf.slowAt,
      slowFields,
    });
    return row;
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
      idleEveryTicks: idleEvery,
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
