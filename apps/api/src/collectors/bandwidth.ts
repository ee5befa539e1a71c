import type { BandwidthMetrics } from '@livestat/contracts';
import { createDramMonitor, type DramResult } from './bandwidth-dram.js';
import { createSyncCounterPair } from './counter-pair.js';
import { keyValueParser, readProcFile } from './procfs.js';
import { counterRate, round } from './rates.js';
import { CollectorError } from './types.js';
import type { Collector, CollectorDeps } from './types.js';

/** The `available: true` shape of the bandwidth payload. */
export type BandwidthSample = Extract<BandwidthMetrics, { available: true }>;

/** The paging counters of `/proc/vmstat` livestat uses, as the kernel counts them since boot. */
export interface Vmstat {
  /** `pgpgin`: KiB read from block devices (the kernel halves its sector count). */
  pageInKiB: number;
  /** `pgpgout`: KiB written to block devices, swap included. */
  pageOutKiB: number;
  /** `pswpin`: pages read back from swap. */
  swapInPages: number;
  /** `pswpout`: pages written to swap. */
  swapOutPages: number;
  /** `pgfault`: page faults of every kind. */
  pageFaults: number;
  /** `pgmajfault`: faults that had to wait for I/O. */
  majorFaults: number;
}

/** The page size swap counters are multiplied by when none is given (x86-64, most arm64). */
export const DEFAULT_PAGE_SIZE = 4096;

const KIB = 1024;

const VMSTAT_KEYS = {
  pageInKiB: 'pgpgin',
  pageOutKiB: 'pgpgout',
  swapInPages: 'pswpin',
  swapOutPages: 'pswpout',
  pageFaults: 'pgfault',
  majorFaults: 'pgmajfault',
} as const satisfies Record<keyof Vmstat, string>;
const VMSTAT_ENTRIES = Object.entries(VMSTAT_KEYS) as [keyof Vmstat, string][];
const parseFields = keyValueParser(Object.values(VMSTAT_KEYS));

/**
 * Parses `/proc/vmstat`. The six paging counters are required: a missing or negative one is
 * a `CollectorError` naming the key. The other ~190 keys, and any a newer kernel adds, are
 * ignored.
 */
export function parseVmstat(text: string): Vmstat {
  const fields = parseFields(text);
  const reading = {} as Vmstat;
  for (const [field, key] of VMSTAT_ENTRIES) {
    const value = fields.get(key);
    if (value === undefined) {
      throw new CollectorError('missing_field', `/proc/vmstat: no numeric "${key}" line`);
    }
    if (value < 0) {
      throw new CollectorError('parse_failed', `/proc/vmstat: "${key}" is negative (${value})`);
    }
    reading[field] = value;
  }
  return reading;
}

// node_exporter's default `--collector.vmstat.fields`: paging, swapping, faults, OOM kills.
const EXPORTED_VMSTAT = /^((?:oom_kill|pgpg|pswp|pg\S*fault)\S*)[^\S\n]+(\d+)[^\S\n]*$/gm;

/** The `/proc/vmstat` counters node_exporter exports by default, by the kernel's name. */
export function parseExportedVmstat(text: string): [string, number][] {
  const fields: [string, number][] = [];
  EXPORTED_VMSTAT.lastIndex = 0;
  for (let match = EXPORTED_VMSTAT.exec(text); match !== null; match = EXPORTED_VMSTAT.exec(text)) {
    fields.push([match[1] ?? '', Number(match[2])]);
  }
  return fields;
}

/**
 * Turns two vmstat readings `elapsedMs` apart, plus this tick's DRAM result, into the
 * bandwidth payload. Page-in/out KiB become bytes/s; swap pages are reported both as pages/s
 * and, times `pageSize`, as bytes/s. A counter that went backwards reports 0 for the tick.
 */
export function computeBandwidthMetrics(
  previous: Vmstat,
  current: Vmstat,
  elapsedMs: number,
  dram: DramResult,
  pageSize: number = DEFAULT_PAGE_SIZE,
  exported: [string, number][] | null = null,
): BandwidthSample {
  const perSec = (field: keyof Vmstat): number =>
    counterRate(previous[field], current[field], elapsedMs);
  const swapIn = perSec('swapInPages');
  const swapOut = perSec('swapOutPages');
  return {
    available: true,
    pageInBytesPerSec: round(perSec('pageInKiB') * KIB, 2),
    pageOutBytesPerSec: round(perSec('pageOutKiB') * KIB, 2),
    swapInPagesPerSec: round(swapIn, 2),
    swapOutPagesPerSec: round(swapOut, 2),
    swapInBytesPerSec: round(swapIn * pageSize, 2),
    swapOutBytesPerSec: round(swapOut * pageSize, 2),
    pageFaultsPerSec: round(perSec('pageFaults'), 2),
    majorFaultsPerSec: round(perSec('majorFaults'), 2),
    dram: dram.dram,
    dramUnavailableReason: dram.dram === null ? dram.reason : null,
    ...(exported === null ? {} : { vmstat: exported }),
  };
}

/** Reads and parses `<procRoot>/vmstat`. */
export function readVmstat(procRoot: string): Vmstat {
  return parseVmstat(readProcFile(procRoot, 'vmstat'));
}

export interface BandwidthCollectorOptions {
  /** Bytes per page for the swap byte rates; default 4096. */
  pageSize?: number;
  /** The perf child's counting interval for `uncore_imc`, normally the sampling interval; default 1000. */
  intervalMs?: number;
  /** The `perf` binary for `uncore_imc`; default `/usr/bin/perf`. */
  perfPath?: string;
}

/**
 * The bandwidth collector: paging and swap traffic from `/proc/vmstat` every tick, plus DRAM
 * bandwidth from resctrl or the `uncore_imc` PMU where the machine has either (otherwise
 * `dram: null` and the reason). A failing DRAM source never fails the paging figures. A
 * `collect()` without a prior `prime()` primes itself and reports zero rates. `stop()` ends
 * the perf child, if one was started; it is safe to call twice.
 */
export function createBandwidthCollector(
  deps: CollectorDeps,
  options: BandwidthCollectorOptions = {},
): Collector<'bandwidth'> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const intervalMs = options.intervalMs ?? 1000;
  if (!Number.isInteger(pageSize) || pageSize <= 0) {
    throw new RangeError(`bandwidth: pageSize must be a positive integer, got ${pageSize}`);
  }
  if (!Number.isInteger(intervalMs) || intervalMs < 10) {
    throw new RangeError(`bandwidth: intervalMs must be an integer ≥ 10, got ${intervalMs}`);
  }
  const dram = createDramMonitor(deps, { intervalMs, perfPath: options.perfPath });
  const vmstat = createSyncCounterPair(() => {
    const text = readProcFile(deps.procRoot, 'vmstat');
    return { reading: parseVmstat(text), exported: parseExportedVmstat(text) };
  }, deps.now);

  return {
    name: 'bandwidth',
    async prime() {
      const priming = dram.prime();
      vmstat.prime();
      await priming;
    },
    async collect() {
      // The DRAM source is read whether or not vmstat is, so its deltas keep their pace.
      const reading = dram.read();
      const { previous, current, elapsedMs } = vmstat.next();
      return computeBandwidthMetrics(
        previous.reading,
        current.reading,
        elapsedMs,
        await reading,
        pageSize,
        current.exported,
      );
    },
    async stop() {
      await dram.stop();
    },
  };
}
