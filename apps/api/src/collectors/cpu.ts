import { machine } from 'node:os';
import { CPU_MODES, type CpuCore, type CpuMetrics } from '@livestat/contracts';
import { createSyncCounterPair } from './counter-pair.js';
import { readOptionalProcFile, readProcFile } from './procfs.js';
import { counterRate, percentOf, round } from './rates.js';
import { CollectorError } from './types.js';
import type { Collector, CollectorDeps } from './types.js';

/** The `available: true` shape of the cpu payload. */
export type CpuSample = Extract<CpuMetrics, { available: true }>;

/**
 * Ticks (USER_HZ, usually 1/100 s) one CPU, or all of them, spent in each state since boot.
 * `guest` and `guestNice` are already counted inside `user` and `nice`.
 */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
  guest: number;
  guestNice: number;
}

/** One reading of `/proc/stat`. */
export interface ProcStat {
  /** The aggregate `cpu` line. */
  total: CpuTimes;
  /** The `cpuN` lines, by N: only the CPUs online at the time of the reading. */
  cores: Map<number, CpuTimes>;
  /** `ctxt`: context switches since boot. */
  contextSwitches: number;
  /** `intr`: the first number, all interrupts serviced since boot. */
  interrupts: number;
  processesRunning: number;
  processesBlocked: number;
  /** `btime`: boot time in Unix seconds; null if the kernel does not print it. */
  bootTime: number | null;
}

/** The kernel's identity, as `uname(2)` and node_exporter's `node_uname_info` give it. */
export type Uname = NonNullable<CpuSample['uname']>;

/** `/proc/loadavg`: run-queue averages over 1, 5 and 15 minutes. */
export interface Loadavg {
  load1: number;
  load5: number;
  load15: number;
}

// Column order of a cpu line, as proc(5) lists them.
const TIME_COLUMNS = [
  'user',
  'nice',
  'system',
  'idle',
  'iowait',
  'irq',
  'softirq',
  'steal',
  'guest',
  'guestNice',
] as const;

// The states that make up all CPU time; guest time is left out because the kernel already
// adds it to user/nice, and counting it twice would shrink every other share.
const TOTAL_COLUMNS = [
  'user',
  'nice',
  'system',
  'idle',
  'iowait',
  'irq',
  'softirq',
  'steal',
] as const satisfies readonly (keyof CpuTimes)[];
type TotalColumn = (typeof TOTAL_COLUMNS)[number];

// Linux 2.4 printed only user, nice, system and idle; every later column is optional.
const MIN_TIME_COLUMNS = 4;

function parseCount(source: string, label: string, token: string | undefined): number {
  if (token === undefined || !/^\d+$/.test(token)) {
    throw new CollectorError(
      'parse_failed',
      `${source}: ${label} is not a non-negative integer (got ${JSON.stringify(token ?? '')})`,
    );
  }
  return Number(token);
}

function parseCpuLine(label: string, tokens: string[]): CpuTimes {
  if (tokens.length < MIN_TIME_COLUMNS) {
    throw new CollectorError(
      'parse_failed',
      `/proc/stat: line "${label}" has ${tokens.length} columns, expected at least ${MIN_TIME_COLUMNS}`,
    );
  }
  const times = {} as CpuTimes;
  TIME_COLUMNS.forEach((column, i) => {
    const token = tokens[i];
    // Columns a kernel does not print yet are zero; columns beyond guest_nice are ignored.
    times[column] = token === undefined ? 0 : parseCount('/proc/stat', `${label} ${column}`, token);
  });
  return times;
}

const SCALAR_KEYS = new Set(['ctxt', 'intr', 'procs_running', 'procs_blocked', 'btime']);

/**
 * Parses `/proc/stat`. Needs the aggregate `cpu` line, at least one `cpuN` line, `ctxt`,
 * `intr`, `procs_running` and `procs_blocked`; throws a `CollectorError` naming what is missing
 * or malformed. Unknown lines and extra columns from newer kernels are ignored.
 */
export function parseProcStat(text: string): ProcStat {
  let total: CpuTimes | undefined;
  const cores = new Map<number, CpuTimes>();
  const scalars = new Map<string, number>();

  for (const line of text.split('\n')) {
    // Only the key decides whether a line matters: splitting every line would cut the intr
    // and softirq lines, hundreds of numbers on a big machine, into strings each tick.
    const key = /^\s*(\S*)/.exec(line)?.[1] ?? '';
    if (key === '' || !(key.startsWith('cpu') || SCALAR_KEYS.has(key))) continue;
    const tokens =
      key === 'intr'
        ? (/^\s*\S+\s+(\S+)/.exec(line)?.slice(1) ?? [])
        : line.trim().split(/\s+/).slice(1);
    if (key === 'cpu') {
      total = parseCpuLine(key, tokens);
    } else if (/^cpu\d+$/.test(key)) {
      cores.set(Number(key.slice(3)), parseCpuLine(key, tokens));
    } else if (
      key === 'ctxt' ||
      key === 'intr' ||
      key === 'procs_running' ||
      key === 'procs_blocked' ||
      key === 'btime'
    ) {
      scalars.set(key, parseCount('/proc/stat', key, tokens[0]));
    }
  }

  if (total === undefined) {
    throw new CollectorError('missing_field', '/proc/stat: no aggregate "cpu" line');
  }
  if (cores.size === 0) {
    throw new CollectorError('missing_field', '/proc/stat: no per-core "cpuN" lines');
  }
  const scalar = (key: string): number => {
    const value = scalars.get(key);
    if (value === undefined) {
      throw new CollectorError('missing_field', `/proc/stat: no "${key}" line`);
    }
    return value;
  };
  return {
    total,
    cores,
    contextSwitches: scalar('ctxt'),
    interrupts: scalar('intr'),
    processesRunning: scalar('procs_running'),
    processesBlocked: scalar('procs_blocked'),
    bootTime: scalars.get('btime') ?? null,
  };
}

// USER_HZ: the kernel reports /proc/stat in 1/100 s on every architecture, whatever HZ it
// runs at (node_exporter's procfs assumes the same).
const USER_HZ = 100;

/** A core's ticks as seconds per mode, in {@link CPU_MODES} order. */
export function modeSeconds(times: CpuTimes): number[] {
  return CPU_MODES.map((mode) => times[mode] / USER_HZ);
}

/**
 * Parses `/proc/loadavg` (`0.34 0.26 0.11 1/152 5798`): the three load averages, which must
 * be finite and non-negative, or a `CollectorError`.
 */
export function parseLoadavg(text: string): Loadavg {
  const tokens = text.trim().split(/\s+/);
  const load = [0, 1, 2].map((i) => {
    const token = tokens[i];
    const value = token !== undefined && /^\d+(\.\d+)?$/.test(token) ? Number(token) : NaN;
    if (!Number.isFinite(value)) {
      throw new CollectorError(
        'parse_failed',
        `/proc/loadavg: load average ${i + 1} is not a non-negative number (got ${JSON.stringify(token ?? '')})`,
      );
    }
    return value;
  });
  return { load1: load[0] ?? 0, load5: load[1] ?? 0, load15: load[2] ?? 0 };
}

type Shares = Record<TotalColumn, number> & { usage: number };

/**
 * Each state's share of the CPU time between two readings. A counter that went backwards
 * (iowait and idle do on some kernels) contributes 0 rather than a negative share, and the
 * total is the sum of the clamped deltas so the shares still add up to 100.
 */
function sharesBetween(previous: CpuTimes, current: CpuTimes): Shares {
  const deltas = {} as Record<TotalColumn, number>;
  let total = 0;
  for (const column of TOTAL_COLUMNS) {
    const delta = Math.max(0, current[column] - previous[column]);
    deltas[column] = delta;
    total += delta;
  }
  const shares = {} as Shares;
  for (const column of TOTAL_COLUMNS) shares[column] = round(percentOf(deltas[column], total), 2);
  if (total === 0) {
    // Both reads fell within one tick: nothing ran that we can see, so report an idle CPU.
    shares.idle = 100;
    shares.usage = 0;
    return shares;
  }
  // psutil's "busy": everything but idle and iowait (a CPU waiting on I/O could run work).
  shares.usage = round(percentOf(total - deltas.idle - deltas.iowait, total), 2);
  return shares;
}

/**
 * Turns two `/proc/stat` readings `elapsedMs` apart, plus the current load average, into the
 * cpu payload. Percentages are shares of the CPU time that passed; per-core figures cover the
 * cores online now, sorted by id, and a core absent from the previous reading (hotplugged)
 * reports 0 this tick. Rates are per second of the real elapsed time and never negative.
 */
export function computeCpuMetrics(
  previous: ProcStat,
  current: ProcStat,
  load: Loadavg,
  elapsedMs: number,
  uname: Uname | null = null,
): CpuSample {
  const all = sharesBetween(previous.total, current.total);
  const cores: CpuCore[] = [...current.cores]
    .sort(([a], [b]) => a - b)
    .map(([id, now]) => {
      const shares = sharesBetween(previous.cores.get(id) ?? now, now);
      return {
        id,
        usagePercent: shares.usage,
        userPercent: shares.user,
        systemPercent: shares.system,
        iowaitPercent: shares.iowait,
        seconds: modeSeconds(now),
      };
    });

  return {
    available: true,
    usagePercent: all.usage,
    userPercent: all.user,
    nicePercent: all.nice,
    systemPercent: all.system,
    iowaitPercent: all.iowait,
    irqPercent: all.irq,
    softirqPercent: all.softirq,
    stealPercent: all.steal,
    idlePercent: all.idle,
    coreCount: current.cores.size,
    cores,
    load1: load.load1,
    load5: load.load5,
    load15: load.load15,
    contextSwitchesPerSec: round(
      counterRate(previous.contextSwitches, current.contextSwitches, elapsedMs),
      2,
    ),
    interruptsPerSec: round(counterRate(previous.interrupts, current.interrupts, elapsedMs), 2),
    processesRunning: current.processesRunning,
    processesBlocked: current.processesBlocked,
    ...(current.bootTime === null
      ? {}
      : { counters: [current.contextSwitches, current.interrupts, current.bootTime] }),
    ...(uname === null ? {} : { uname }),
  };
}

/** Reads and parses `<procRoot>/stat`. */
export function readProcStat(procRoot: string): ProcStat {
  return parseProcStat(readProcFile(procRoot, 'stat'));
}

/** Reads and parses `<procRoot>/loadavg`. */
export function readLoadavg(procRoot: string): Loadavg {
  return parseLoadavg(readProcFile(procRoot, 'loadavg'));
}

/**
 * Reads the kernel's identity from `<procRoot>/sys/kernel` (ostype, osrelease, version,
 * hostname, domainname, arch), or null when the tree has none (fixtures, stripped kernels).
 * Kernels before 6.1 have no `arch`: the machine is then this process's, the same host's.
 */
export function readUname(procRoot: string): Uname | null {
  const read = (name: string): string | null =>
    readOptionalProcFile(procRoot, `sys/kernel/${name}`)?.trim() ?? null;
  try {
    const sysname = read('ostype');
    const release = read('osrelease');
    const version = read('version');
    const nodename = read('hostname');
    const domainname = read('domainname');
    if (sysname === null || release === null || version === null || nodename === null) return null;
    return {
      sysname,
      release,
      version,
      machine: read('arch') ?? machine(),
      nodename,
      domainname: domainname ?? '(none)',
    };
  } catch {
    return null; // unreadable: the counters matter more than the label set
  }
}

// A hostname can change while we run, but not often enough to read six files every tick.
const UNAME_REREAD_TICKS = 60;

/**
 * The cpu collector. It keeps the previous `/proc/stat` reading and the clock time it was
 * taken; a `collect()` without a prior `prime()` primes itself and reports an idle interval
 * with zero rates instead of throwing.
 */
export function createCpuCollector(deps: CollectorDeps): Collector<'cpu'> {
  const stats = createSyncCounterPair(() => readProcStat(deps.procRoot), deps.now);
  let uname: Uname | null = null;
  let unameAge = UNAME_REREAD_TICKS;

  return {
    name: 'cpu',
    async prime() {
      stats.prime();
    },
    async collect() {
      const { previous, current, elapsedMs } = stats.next();
      if (unameAge++ >= UNAME_REREAD_TICKS) {
        uname = readUname(deps.procRoot);
        unameAge = 1;
      }
      return computeCpuMetrics(previous, current, readLoadavg(deps.procRoot), elapsedMs, uname);
    },
  };
}
