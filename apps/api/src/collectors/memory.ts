import type { MemoryMetrics } from '@livestat/contracts';
import { readProcFile } from './procfs.js';
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

/**
 * Parses `/proc/meminfo` into bytes. `MemTotal` (positive) and `MemFree` are required and a
 * `CollectorError` names the one missing; every other field is optional and reads as 0
 * (`MemAvailable` as null) when an older or stripped-down kernel does not print it.
 */
export function parseMeminfo(text: string): Meminfo {
  return meminfoOf(parseMeminfoFields(text));
}

/** The fields livestat uses, from every field of one reading (`parseMeminfoFields`). */
export function meminfoOf(fields: readonly (readonly [string, number])[]): Meminfo {
  // The kernel prints each once; should one repeat, its last line counts.
  let memTotal: number | undefined;
  let memFree: number | undefined;
  let memAvailable: number | null = null;
  let buffers = 0;
  let cached = 0;
  let sReclaimable = 0;
  let shmem = 0;
  let swapTotal = 0;
  let swapFree = 0;
  for (const [name, value] of fields) {
    switch (name) {
      case 'MemTotal':
        memTotal = value;
        break;
      case 'MemFree':
        memFree = value;
        break;
      case 'MemAvailable':
        memAvailable = value;
        break;
      case 'Buffers':
        buffers = value;
        break;
      case 'Cached':
        cached = value;
        break;
      case 'SReclaimable':
        sReclaimable = value;
        break;
      case 'Shmem':
        shmem = value;
        break;
      case 'SwapTotal':
        swapTotal = value;
        break;
      case 'SwapFree':
        swapFree = value;
        break;
    }
  }
  if (memTotal === undefined) throw missing('MemTotal');
  if (memFree === undefined) throw missing('MemFree');
  if (memTotal === 0) throw new CollectorError('parse_failed', '/proc/meminfo: MemTotal is 0');
  return {
    memTotal,
    memFree,
    memAvailable,
    buffers,
    cached,
    sReclaimable,
    shmem,
    swapTotal,
    swapFree,
  };
}

const missing = (key: string) =>
  new CollectorError('missing_field', `/proc/meminfo: no "${key}" field`);

const COLON = 0x3a;
const SPACE = 0x20;
const ZERO = 0x30;
const NINE = 0x39;
/** A blank other than the line break (the `[^\S\n]` of a regular expression). */
const isBlank = (c: number) => c === SPACE || (c >= 0x09 && c <= 0x0d && c !== 0x0a);

/**
 * Every `/proc/meminfo` field by the kernel's name: bytes for the fields printed in kB, the
 * plain number for the others (`HugePages_Total`). A line is `Name: value` or `Name: value kB`
 * (a name may hold parentheses: `Active(anon)`); lines that do not parse are left out.
 *
 * Scanned by hand, once, each name taken from `previous` (the reading before) when the same
 * name stands at the same place, as it does every tick: the two regular-expression scans this
 * replaced made a match array and substrings for each of ~55 lines a second, and names that
 * the batch writer kept alive until its flush (bench/RESULTS.md, bench/footprint).
 */
export function parseMeminfoFields(
  text: string,
  previous: readonly (readonly [string, number])[] = [],
): [string, number][] {
  const fields: [string, number][] = [];
  for (let start = 0; start < text.length;) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const field = parseLine(text, start, end, previous[fields.length]?.[0]);
    if (field !== null) fields.push(field);
    start = end + 1;
  }
  return fields;
}

/** The line `text[start, end)` as `[name, value]`, or null when it does not parse. */
function parseLine(
  text: string,
  start: number,
  end: number,
  known: string | undefined,
): [string, number] | null {
  let at = start;
  for (let c = text.charCodeAt(at); at < end && c !== COLON && !isBlank(c);) {
    c = text.charCodeAt(++at);
  }
  const nameEnd = at;
  if (nameEnd === start || text.charCodeAt(at) !== COLON || !isBlank(text.charCodeAt(++at))) {
    return null;
  }
  while (at < end && isBlank(text.charCodeAt(at))) at += 1;
  const digits = at;
  let value = 0;
  for (let c = text.charCodeAt(at); at < end && c >= ZERO && c <= NINE;) {
    value = value * 10 + (c - ZERO);
    c = text.charCodeAt(++at);
  }
  if (at === digits) return null;
  let unit = 1;
  if (text.startsWith(' kB', at) && blankUpTo(text, at + 3, end)) unit = KIB;
  else if (!blankUpTo(text, at, end)) return null;
  const name =
    known !== undefined && known.length === nameEnd - start && text.startsWith(known, start)
      ? known
      : text.slice(start, nameEnd);
  return [name, value * unit];
}

/** Whether `text[from, end)` is blanks only. */
function blankUpTo(text: string, from: number, end: number): boolean {
  for (let at = from; at < end; at++) if (!isBlank(text.charCodeAt(at))) return false;
  return true;
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
  // The reading before, whose names the next one reuses.
  let fields: [string, number][] = [];
  return {
    name: 'memory',
    async collect() {
      fields = parseMeminfoFields(readProcFile(deps.procRoot, 'meminfo'), fields);
      return computeMemoryMetrics(meminfoOf(fields), fields);
    },
  };
}
