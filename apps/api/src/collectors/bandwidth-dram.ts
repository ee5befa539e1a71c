import { readdirSync, statSync, type Dirent } from 'node:fs';
import path from 'node:path';
import type { DramBandwidth } from '@livestat/contracts';
import { readOptionalProcFile } from './procfs.js';
import { counterRate, round } from './rates.js';
import type { PerfInterval } from './perf-parse.js';
import { checkPerfPermission, readPerfPermission } from './perf-permission.js';
import { DEFAULT_PERF_PATH, createPerfStatProcess, type PerfStatProcess } from './perf-stat.js';
import type { CollectorDeps } from './types.js';

/** This tick's DRAM bandwidth, or null and why not. */
export interface DramResult {
  dram: DramBandwidth | null;
  /** Set exactly when `dram` is null. */
  reason: string | null;
}

// ---------------------------------------------------------------------------------------------
// resctrl (Intel RDT MBM, AMD QoS): byte counters per L3 domain under /sys/fs/resctrl

/**
 * One reading of `mbm_total_bytes`, keyed by `<domain>` for the root group and
 * `<group>/<domain>` for other control groups; null where the kernel printed
 * "Unavailable" (or "Error", "Unassigned") instead of a number.
 */
export type ResctrlReading = Map<string, number | null>;

/** The last good value of one counter and the clock time it was read. */
export interface MbmCounter {
  bytes: number;
  atMs: number;
}

const RESCTRL_DIR = 'fs/resctrl';
// Top-level entries of /sys/fs/resctrl that are not control groups.
const RESCTRL_RESERVED = new Set(['info', 'mon_data', 'mon_groups']);
const L3_DOMAIN = /^mon_L3_\d+$/;

/** Parses one `mbm_total_bytes` file: the byte count, or null when it holds no number. */
export function parseMbmBytes(text: string): number | null {
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : null;
}

// Entry names of a directory, sorted; null when it does not exist. `dirsOnly` drops files
// (resctrl's tasks, schemata); PMU devices are symlinks, so those are listed without it.
function listEntries(dir: string, dirsOnly: boolean): string[] | null {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
  return entries
    .filter((entry) => !dirsOnly || entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

/**
 * Reads `mbm_total_bytes` of every L3 domain of every resctrl control group: the root's
 * `mon_data` and each `<group>/mon_data`. A control group's `mon_data` already includes its
 * `mon_groups`, and tasks belong to exactly one control group, so the sum is the whole
 * machine with nothing counted twice. `null` when resctrl is not mounted (no `info/`); an
 * empty map when it is mounted without MBM.
 */
export function readResctrl(sysRoot: string): ResctrlReading | null {
  const root = path.join(sysRoot, RESCTRL_DIR);
  const top = listEntries(root, true);
  // An unmounted /sys/fs/resctrl is an empty mount point; a mounted one always has info/.
  if (top === null || !top.includes('info')) return null;
  const groups = ['', ...top.filter((name) => !RESCTRL_RESERVED.has(name))];
  const reading: ResctrlReading = new Map();
  for (const group of groups) {
    const monData = path.join(RESCTRL_DIR, group, 'mon_data');
    const domains = listEntries(path.join(sysRoot, monData), true) ?? [];
    for (const domain of domains.filter((name) => L3_DOMAIN.test(name))) {
      // mbm_local_bytes beside it counts only traffic to the domain's own NUMA node; the
      // total also counts remote traffic, which is what the memory bus carries.
      const text = readOptionalProcFile(sysRoot, path.join(monData, domain, 'mbm_total_bytes'));
      if (text === null) continue;
      reading.set(group === '' ? domain : `${group}/${domain}`, parseMbmBytes(text));
    }
  }
  return reading;
}

/**
 * Total DRAM bytes/s from two resctrl readings, the previous one given as the last good value
 * of each counter. A counter that reads "Unavailable" is left out this tick and keeps its last
 * good value, so when it comes back its rate covers the whole gap; a counter that went
 * backwards, or is new, contributes 0. resctrl counts no direction: read and write are null.
 * Returns the payload and the counters to keep for the next tick.
 */
export function computeResctrlBandwidth(
  previous: ReadonlyMap<string, MbmCounter>,
  current: ResctrlReading,
  atMs: number,
): { result: DramResult; counters: Map<string, MbmCounter> } {
  const counters = new Map<string, MbmCounter>();
  let total = 0;
  let usable = 0;
  for (const [key, bytes] of current) {
    const before = previous.get(key);
    if (bytes === null) {
      if (before !== undefined) counters.set(key, before);
      continue;
    }
    usable += 1;
    if (before !== undefined) total += counterRate(before.bytes, bytes, atMs - before.atMs);
    counters.set(key, { bytes, atMs });
  }
  if (usable === 0) {
    const reason = `resctrl mbm_total_bytes is Unavailable in all ${current.size} L3 domain(s) this tick`;
    return { result: { dram: null, reason }, counters };
  }
  const dram: DramBandwidth = {
    source: 'resctrl',
    readBytesPerSec: null,
    writeBytesPerSec: null,
    totalBytesPerSec: round(total, 2),
  };
  return { result: { dram, reason: null }, counters };
}

// ---------------------------------------------------------------------------------------------
// perf uncore_imc: cache-line (CAS) counts of Intel's integrated memory controllers

/** The memory-controller PMU, its DRAM read and write events, and what sysfs says of their units. */
export interface UncoreImcEvents {
  /** What perf takes as a prefix of every instance: `uncore_imc` covers `uncore_imc_0…N`. */
  pmu: string;
  read: string;
  write: string;
  /**
   * From sysfs `events/<event>.unit` (`MiB`), '' when absent. Only used when perf prints no
   * unit of its own; '' then means raw 64-byte CAS counts.
   */
  readUnit: string;
  writeUnit: string;
  /** From sysfs `events/<event>.scale`, 1 when absent: one raw count is scale × unit. */
  readScale: number;
  writeScale: number;
}

/** What `detectUncoreImc` found. */
export interface UncoreImcDetection {
  /** Memory-controller PMU instances (`uncore_imc_0`…), empty when there are none. */
  pmus: string[];
  /** The events to count; null when no instance names a known pair in a known unit. */
  events: UncoreImcEvents | null;
}

const PMU_DIR = 'bus/event_source/devices';
const UNCORE_PMU = /^uncore_imc(_free_running)?(_\d+)?$/;
// In order of preference: servers (one PMU per channel), desktop parts, Ice Lake+ laptops.
const UNCORE_CANDIDATES = [
  { pmu: 'uncore_imc', read: 'cas_count_read', write: 'cas_count_write' },
  { pmu: 'uncore_imc', read: 'data_reads', write: 'data_writes' },
  { pmu: 'uncore_imc_free_running', read: 'data_read', write: 'data_write' },
] as const;

// Bytes per unit perf prints. The kernel publishes a scale that turns CAS counts (one 64-byte
// cache line each) into MiB, and perf prints the scaled value with that unit.
const UNIT_BYTES: Readonly<Record<string, number>> = {
  B: 1,
  Bytes: 1,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  MB: 1e6,
  GB: 1e9,
};
const CACHE_LINE_BYTES = 64;

function isInstanceOf(device: string, pmu: string): boolean {
  return device === pmu || new RegExp(`^${pmu}_\\d+$`).test(device);
}

// The sysfs unit and scale of one event; null when either is one this module cannot use.
function eventUnit(
  sysRoot: string,
  instance: string,
  event: string,
): { unit: string; scale: number } | null {
  const file = (suffix: string): string | null =>
    readOptionalProcFile(sysRoot, path.join(PMU_DIR, instance, 'events', `${event}.${suffix}`));
  const unit = file('unit')?.trim() ?? '';
  const scaleText = file('scale')?.trim();
  const scale = scaleText === undefined ? 1 : Number(scaleText);
  if (unit !== '' && UNIT_BYTES[unit] === undefined) return null;
  if (scaleText === '' || !Number.isFinite(scale) || scale <= 0) return null;
  return { unit, scale };
}

/**
 * Bytes one raw count stands for, from sysfs: `.scale` × `.unit` (6.103515625e-5 × 1 MiB = 64
 * for CAS counts); a 64-byte cache line when sysfs publishes no unit.
 */
function rawCountBytes(unit: string, scale: number): number {
  return unit === '' ? CACHE_LINE_BYTES : scale * (UNIT_BYTES[unit] ?? Number.NaN);
}

/**
 * Finds Intel memory-controller PMUs under `<sysRoot>/bus/event_source/devices` and the
 * events they publish for DRAM reads and writes (`cas_count_read`/`cas_count_write` on
 * servers, `data_reads`/`data_writes` or `uncore_imc_free_running`'s `data_read`/`data_write`
 * on desktops and laptops), with their sysfs unit and scale. A candidate whose unit is
 * unknown or whose scale is not a positive number is passed over.
 */
export function detectUncoreImc(sysRoot: string): UncoreImcDetection {
  const devices = listEntries(path.join(sysRoot, PMU_DIR), false) ?? [];
  const pmus = devices.filter((device) => UNCORE_PMU.test(device));
  for (const candidate of UNCORE_CANDIDATES) {
    for (const instance of pmus.filter((device) => isInstanceOf(device, candidate.pmu))) {
      const events = listEntries(path.join(sysRoot, PMU_DIR, instance, 'events'), false) ?? [];
      if (!events.includes(candidate.read) || !events.includes(candidate.write)) continue;
      const read = eventUnit(sysRoot, instance, candidate.read);
      const write = eventUnit(sysRoot, instance, candidate.write);
      if (read === null || write === null) continue;
      return {
        pmus,
        events: {
          ...candidate,
          readUnit: read.unit,
          writeUnit: write.unit,
          readScale: read.scale,
          writeScale: write.scale,
        },
      };
    }
  }
  return { pmus, events: null };
}

/** The `-e` list for the perf child: both events on every instance of the PMU. */
export function uncoreImcPerfEvents(events: UncoreImcEvents): string[] {
  return [`${events.pmu}/${events.read}/`, `${events.pmu}/${events.write}/`];
}

/**
 * DRAM bytes/s over one perf interval. perf prints the per-interval count of each event,
 * summed over the PMU instances, scaled into the unit it prints beside it (MiB for CAS
 * counts); the rate is that many bytes over the interval's real length. A value printed
 * without a unit is a raw count, converted with the sysfs unit and scale in `events`. Null
 * and the reason when perf did not count either direction or printed a unit it cannot use.
 */
export function computeUncoreImcBandwidth(
  interval: PerfInterval,
  events: UncoreImcEvents,
): DramResult {
  const bytes = (event: string, sysfsUnit: string, sysfsScale: number): number | string => {
    const counter = interval.counters.get(event);
    if (counter === undefined) return `perf printed no ${events.pmu}/${event}/ line`;
    if (counter.status !== 'counted' || counter.value === null) {
      return `perf reports ${events.pmu}/${event}/ as ${counter.status}`;
    }
    // perf's own unit says what it scaled the count into; sysfs is only the fallback.
    const perValue =
      counter.unit === '' ? rawCountBytes(sysfsUnit, sysfsScale) : UNIT_BYTES[counter.unit];
    if (perValue === undefined) {
      return `perf reports ${events.pmu}/${event}/ in an unknown unit ${JSON.stringify(counter.unit)}`;
    }
    return counter.value * perValue;
  };
  const read = bytes(events.read, events.readUnit, events.readScale);
  const write = bytes(events.write, events.writeUnit, events.writeScale);
  if (typeof read === 'string') return { dram: null, reason: read };
  if (typeof write === 'string') return { dram: null, reason: write };
  if (!(interval.lengthS > 0) || !Number.isFinite(read + write)) {
    return { dram: null, reason: 'perf printed an unusable uncore_imc interval' };
  }
  const dram: DramBandwidth = {
    source: 'uncore_imc',
    readBytesPerSec: round(read / interval.lengthS, 2),
    writeBytesPerSec: round(write / interval.lengthS, 2),
    totalBytesPerSec: round((read + write) / interval.lengthS, 2),
  };
  return { dram, reason: null };
}

// ---------------------------------------------------------------------------------------------
// The monitor: picks a source, keeps its state between ticks, owns the perf child

/** How much longer than 2 intervals `prime()` waits for perf's first uncore_imc interval. */
const PRIME_WAIT_EXTRA_MS = 1500;

/** DRAM bandwidth as the bandwidth collector consumes it, one `read()` per tick. */
export interface DramMonitor {
  /**
   * Picks the source and takes its first reading; for uncore_imc starts the perf child and
   * resolves once it has completed an interval or failed, or after 2 intervals + 1.5 s.
   * Never throws.
   */
  prime(): Promise<void>;
  /** This tick's DRAM bandwidth, or null and why. Never throws. */
  read(): Promise<DramResult>;
  /** Kills the perf child, if any, and cancels its restarts. Safe to call twice. */
  stop(): Promise<void>;
}

export interface DramMonitorOptions {
  /** perf's `-I` for uncore_imc, normally the sampling interval. */
  intervalMs: number;
  perfPath?: string;
  /** Effective uid for perf's permission check; `process.geteuid()` by default. */
  euid?: number;
}

type Source =
  | { kind: 'none'; reason: string; sysRoot: string; resctrlMounted: boolean; age: number }
  | { kind: 'resctrl'; counters: Map<string, MbmCounter> }
  | {
      kind: 'uncore';
      events: UncoreImcEvents;
      child: PerfStatProcess | null;
      blocked: string | null;
    };

// With no source, the full search (resctrl's tree, every PMU's events) runs again only this
// often, in readings (a minute at 1 Hz); each tick in between just checks whether resctrl was
// mounted or unmounted, which is what an operator following the reason does.
const NONE_RECHECK_READINGS = 60;

function resctrlMounted(sysRoot: string): boolean {
  // statSync without throwing costs less than existsSync, which fails through an exception.
  return statSync(`${sysRoot}/${RESCTRL_DIR}/info`, { throwIfNoEntry: false }) !== undefined;
}

/**
 * Chooses resctrl when it has MBM counters, else perf `uncore_imc`, else none, and looks
 * again while it has none — at once when resctrl is mounted at run time, as the reason
 * suggests, and every minute or so for the rest — or when resctrl disappears. The perf child is started once and restarted by
 * `createPerfStatProcess` with capped backoff when it dies.
 */
export function createDramMonitor(deps: CollectorDeps, options: DramMonitorOptions): DramMonitor {
  const { intervalMs } = options;
  const euid = options.euid ?? process.geteuid?.() ?? -1;
  // perf-stat completes an interval when the next one starts, so the latest can be two
  // intervals old; perf itself takes a moment to enumerate uncore PMUs on start.
  const staleMs = 4 * intervalMs + 1000;
  let source: Source | null = null;
  let stopped = false;

  function sampleResctrl(
    state: { counters: Map<string, MbmCounter> },
    reading: ResctrlReading,
    at: number,
  ): DramResult {
    const { result, counters } = computeResctrlBandwidth(state.counters, reading, at);
    state.counters = counters;
    return result;
  }

  async function startUncore(state: Extract<Source, { kind: 'uncore' }>): Promise<void> {
    try {
      state.blocked = checkPerfPermission({ ...(await readPerfPermission(deps.procRoot)), euid });
    } catch (err) {
      state.blocked = err instanceof Error ? err.message : String(err);
    }
    if (state.blocked !== null || stopped) return;
    state.child ??= createPerfStatProcess({
      perfPath: options.perfPath ?? DEFAULT_PERF_PATH,
      intervalMs,
      events: uncoreImcPerfEvents(state.events),
      now: deps.now,
    });
    state.child.start();
  }

  function uncoreResult(state: Extract<Source, { kind: 'uncore' }>): DramResult {
    const unavailable = (why: string): DramResult => ({
      dram: null,
      reason: `uncore_imc PMU present but ${why}`,
    });
    if (state.blocked !== null) return unavailable(state.blocked);
    const status = state.child?.status();
    if (status === undefined) return unavailable('perf stat not started');
    if (status.failure !== null) return unavailable(status.failure);
    const silentMs = deps.now() - (status.latest?.receivedAt ?? status.startedAt ?? deps.now());
    if (silentMs > staleMs) {
      return unavailable(`perf stat silent for ${(silentMs / 1000).toFixed(1)} s`);
    }
    if (status.latest === null) return unavailable('perf stat has not completed an interval yet');
    return computeUncoreImcBandwidth(status.latest.interval, state.events);
  }

  async function detect(): Promise<DramResult> {
    const at = deps.now();
    const mounted = resctrlMounted(deps.sysRoot);
    const resctrl = readResctrl(deps.sysRoot);
    if (resctrl !== null && resctrl.size > 0) {
      const state = { kind: 'resctrl' as const, counters: new Map<string, MbmCounter>() };
      source = state;
      return sampleResctrl(state, resctrl, at);
    }
    const uncore = detectUncoreImc(deps.sysRoot);
    if (uncore.events !== null && !stopped) {
      const state: Source = { kind: 'uncore', events: uncore.events, child: null, blocked: null };
      source = state;
      await startUncore(state);
      return uncoreResult(state);
    }
    const noResctrl =
      resctrl === null
        ? 'no resctrl monitoring (mount -t resctrl resctrl /sys/fs/resctrl on Intel RDT / AMD QoS hardware)'
        : 'resctrl is mounted but exposes no mbm_total_bytes (this CPU has no memory bandwidth monitoring)';
    const noUncore =
      uncore.pmus.length === 0
        ? 'no uncore_imc PMU'
        : `uncore_imc PMU (${uncore.pmus.join(', ')}) publishes no known DRAM read/write events`;
    const reason = `${noResctrl} and ${noUncore}`;
    source = { kind: 'none', reason, sysRoot: deps.sysRoot, resctrlMounted: mounted, age: 0 };
    return { dram: null, reason };
  }

  async function tick(): Promise<DramResult> {
    if (stopped) return { dram: null, reason: 'bandwidth collector stopped' };
    if (source === null) return detect();
    if (source.kind === 'none') {
      const unchanged =
        source.sysRoot === deps.sysRoot &&
        source.resctrlMounted === resctrlMounted(deps.sysRoot) &&
        ++source.age < NONE_RECHECK_READINGS;
      return unchanged ? { dram: null, reason: source.reason } : detect();
    }
    if (source.kind === 'uncore') {
      // perf_event_paranoid can be lowered at run time: look again rather than stay blocked.
      if (source.blocked !== null) await startUncore(source);
      return uncoreResult(source);
    }
    const at = deps.now();
    const reading = readResctrl(deps.sysRoot);
    if (reading === null || reading.size === 0) return detect(); // unmounted since
    return sampleResctrl(source, reading, at);
  }

  return {
    async prime() {
      try {
        if (source === null) await tick();
      } catch {
        // Priming never throws: read() reports the same failure as a reason every tick.
      }
      // perf's first interval lands a little after one interval: waiting for it (bounded)
      // lets the first tick after prime carry DRAM figures.
      if (source?.kind === 'uncore') {
        await source.child?.whenReady(2 * intervalMs + PRIME_WAIT_EXTRA_MS);
      }
    },
    async read() {
      try {
        return await tick();
      } catch (err) {
        // An unexpected I/O error on an optional source never costs the paging figures.
        return {
          dram: null,
          reason: `DRAM source failed: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
    },
    async stop() {
      stopped = true;
      if (source?.kind === 'uncore') await source.child?.stop();
    },
  };
}
