import path from 'node:path';
import type { DramBandwidth } from '@livestat/contracts';
import { counterRate, round } from './rates.js';
import { listEntries, readOptionalProcFile } from './procfs.js';
import type { DramResult } from './bandwidth-dram.js';

// DRAM bandwidth from resctrl (Intel RDT MBM, AMD QoS): byte counters per L3 domain under
// /sys/fs/resctrl, read each tick. One of the DRAM monitor's sources.

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

/** Where resctrl is mounted, under the sysfs root. */
export const RESCTRL_DIR = 'fs/resctrl';
// Top-level entries of /sys/fs/resctrl that are not control groups.
const RESCTRL_RESERVED = new Set(['info', 'mon_data', 'mon_groups']);
const L3_DOMAIN = /^mon_L3_\d+$/;

/** Parses one `mbm_total_bytes` file: the byte count, or null when it holds no number. */
export function parseMbmBytes(text: string): number | null {
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : null;
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
