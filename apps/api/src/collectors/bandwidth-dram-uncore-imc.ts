import path from 'node:path';
import type { DramBandwidth } from '@livestat/contracts';
import { round } from './rates.js';
import type { PerfInterval } from './perf-parse.js';
import { listEntries, readOptionalProcFile } from './procfs.js';
import type { DramResult } from './bandwidth-dram.js';

// DRAM bandwidth from perf's uncore_imc PMU: cache-line (CAS) counts of Intel's integrated
// memory controllers, counted by a perf child. One of the DRAM monitor's sources.

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
