import type { MemoryMetrics } from '@livestat/contracts';
import { keyValueParser, readProcFile } from './procfs.js';
import { percentOf, round } from './rates.js';
import { CollectorError } from './types.js';
import type { Collector, CollectorDeps } from './types.js';

/** The `available: true` shape of the memory payload. */
export type MemorySample = Extract<MemoryMetrics, { available: true }>;

/** The `/proc/meminfo` fields livestat uses, converted from kB to bytes. */
export interface Meminfo {
  memTotal: number;
  memFree: number;
  /** `MemAvailable`, the kernel's estimate; null on kernels before 3.14, which lack it. */
  memAvailable: number | null;
  buffers: number;
  /** `Cached`: page cache, without `SReclaimable`. */
  cached: number;
  sReclaimable: number;
  /** `Shmem` (tmpfs, shared anonymous memory). */
  shmem: number;
  swapTotal: number;
  swapFree: number;
}

const KIB = 1024;

const parseFields = keyValueParser([
  'MemTotal',
  'MemFree',
  'MemAvailable',
  'Buffers',
  'Cached',
  'SReclaimable',
  'Shmem',
  'SwapTotal',
  'SwapFree',
]);

/**
 * Parses `/proc/meminfo` into bytes. `MemTotal` (positive) and `MemFree` are required and a
 * `CollectorError` names the one missing; every other field is optional and reads as 0
 * (`MemAvailable` as null) when an older or stripped-down kernel does not print it.
 */
export function parseMeminfo(text: string): Meminfo {
  const fields = parseFields(text);
  const required = (key: string): number => {
    const value = fields.get(key);
    if (value === undefined) {
      throw new CollectorError('missing_field', `/proc/meminfo: no "${key}" field`);
    }
    return Math.max(0, value) * KIB;
  };
  const optional = (key: string): number => Math.max(0, fields.get(key) ?? 0) * KIB;

  const memTotal = required('MemTotal');
  if (memTotal === 0) {
    throw new CollectorError('parse_failed', '/proc/meminfo: MemTotal is 0');
  }
  const available = fields.get('MemAvailable');
  return {
    memTotal,
    memFree: required('MemFree'),
    memAvailable: available === undefined ? null : Math.max(0, available) * KIB,
    buffers: optional('Buffers'),
    cached: optional('Cached'),
    sReclaimable: optional('SReclaimable'),
    shmem: optional('Shmem'),
    swapTotal: optional('SwapTotal'),
    swapFree: optional('SwapFree'),
  };
}

// `Name: value` or `Name: value kB`; names may hold parentheses (`Active(anon)`).
const MEMINFO_LINE = /^([^\s:]+):[^\S\n]+(\d+)( kB)?[^\S\n]*$/gm;

/**
 * Every `/proc/meminfo` field by the kernel's name: bytes for the fields printed in kB, the
 * plain number for the others (`HugePages_Total`). Lines that do not parse are left out.
 */
export function parseMeminfoFields(text: string): [string, number][] {
  const fields: [string, number][] = [];
  MEMINFO_LINE.lastIndex = 0;
  for (let match = MEMINFO_LINE.exec(text); match !== null; match = MEMINFO_LINE.exec(text)) {
    const value = Number(match[2]);
    fields.push([match[1] ?? '', match[3] === undefined ? value : value * KIB]);
  }
  return fields;
}

/**
 * Turns one meminfo reading into the memory payload, as psutil ≥ 5 computes
 * `virtual_memory()` and `swap_memory()`: cached includes SReclaimable; used is
 * total − free − buffers − cached (total − free if that is negative); available falls back
 * to free + buffers + cached without MemAvailable; used % is the share not available.
 */
export function computeMemoryMetrics(
  info: Meminfo,
  fields: [string, number][] | null = null,
): MemorySample {
  const total = info.memTotal;
  const cached = info.cached + info.sReclaimable;
  let used = total - info.memFree - info.buffers - cached;
  // Possible in containers (lxcfs) and on kernels whose counters race: psutil's fallback.
  if (used < 0) used = Math.max(0, total - info.memFree);
  const available = Math.min(
    total,
    Math.max(0, info.memAvailable ?? info.memFree + info.buffers + cached),
  );
  const swapUsed = Math.max(0, info.swapTotal - info.swapFree);

  return {
    available: true,
    totalBytes: total,
    usedBytes: used,
    availableBytes: available,
    freeBytes: info.memFree,
    buffersBytes: info.buffers,
    cachedBytes: cached,
    sharedBytes: info.shmem,
    swapTotalBytes: info.swapTotal,
    swapUsedBytes: swapUsed,
    swapFreeBytes: info.swapTotal - swapUsed,
    usedPercent: round(percentOf(total - available, total), 2),
    swapUsedPercent: round(percentOf(swapUsed, info.swapTotal), 2),
    ...(fields === null ? {} : { meminfo: fields }),
  };
}

/** Reads and parses `<procRoot>/meminfo`. */
export function readMeminfo(procRoot: string): Meminfo {
  return parseMeminfo(readProcFile(procRoot, 'meminfo'));
}

/**
 * The memory collector. Memory reports levels, not rates, so each `collect()` stands alone
 * and needs no priming.
 */
export function createMemoryCollector(deps: CollectorDeps): Collector<'memory'> {
  return {
    name: 'memory',
    async collect() {
      const text = readProcFile(deps.procRoot, 'meminfo');
      return computeMemoryMetrics(parseMeminfo(text), parseMeminfoFields(text));
    },
  };
}
