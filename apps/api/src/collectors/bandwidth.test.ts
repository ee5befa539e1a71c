import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bandwidthMetrics } from '@livestat/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  computeBandwidthMetrics,
  createBandwidthCollector,
  parseVmstat,
  readVmstat,
  type Vmstat,
} from './bandwidth.js';
import {
  computeResctrlBandwidth,
  parseMbmBytes,
  readResctrl,
  type MbmCounter,
} from './bandwidth-dram-resctrl.js';
import {
  computeUncoreImcBandwidth,
  detectUncoreImc,
  uncoreImcPerfEvents,
  type UncoreImcEvents,
} from './bandwidth-dram-uncore-imc.js';
import { createDramMonitor, type DramResult } from './bandwidth-dram.js';
import { parsePerfStatOutput } from './perf-parse.js';
import { perfStatArgs } from './perf-stat.js';
import { CollectorError } from './types.js';

const fixtures = path.resolve(fileURLToPath(import.meta.url), '../../../test/fixtures');
const debianProc = path.join(fixtures, 'proc/debian12-vm-6.18');
const syntheticProc = path.join(fixtures, 'proc/synthetic-64core-6.8');
const debianSys = path.join(fixtures, 'sys/debian12-vm-6.18');
const resctrlSys = path.join(fixtures, 'sys/resctrl-2socket');
const perfmonProc = path.join(fixtures, 'perf/proc-perfmon');
const unprivilegedProc = path.join(fixtures, 'perf/proc-unprivileged');

const NO_SOURCE =
  'no resctrl monitoring (mount -t resctrl resctrl /sys/fs/resctrl on Intel RDT / AMD QoS hardware) and no uncore_imc PMU';
const MIB = 2 ** 20;

/** A settable fake monotonic clock: every read in one tick sees the same instant. */
function fakeClock(): { now: () => number; set: (ms: number) => void } {
  let t = 0;
  return { now: () => t, set: (ms) => (t = ms) };
}

const VMSTAT = (over: Partial<Record<string, number>> = {}): string => {
  const values: Record<string, number> = {
    nr_free_pages: 988722,
    pgpgin: 1000,
    pgpgout: 2000,
    pswpin: 10,
    pswpout: 20,
    pgalloc_normal: 2521994,
    pgfault: 50000,
    pgmajfault: 7,
    ...over,
  };
  return Object.entries(values)
    .map(([key, value]) => `${key} ${value}\n`)
    .join('');
};

const reading = (over: Partial<Vmstat> = {}): Vmstat => ({
  pageInKiB: 1000,
  pageOutKiB: 2000,
  swapInPages: 10,
  swapOutPages: 20,
  pageFaults: 50000,
  majorFaults: 7,
  ...over,
});

const NO_DRAM: DramResult = { dram: null, reason: 'none here' };

const tmpDirs: string[] = [];
async function tmpTree(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(path.join(tmpdir(), 'livestat-bandwidth-'));
  tmpDirs.push(root);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
  return root;
}
afterEach(async () => {
  await Promise.all(tmpDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('parseVmstat', () => {
  it('takes the six paging counters and ignores the other keys, new ones included', () => {
    const text = VMSTAT({ nr_iommu_pages: 0, swpout_zero: 12, pgpromote_candidate_nrl: 3 });
    expect(parseVmstat(text)).toEqual(reading());
  });

  it('names a missing key in a CollectorError', () => {
    const text = VMSTAT().replace(/^pswpout .*\n/m, '');
    expect(() => parseVmstat(text)).toThrow(CollectorError);
    expect(() => parseVmstat(text)).toThrow('/proc/vmstat: no numeric "pswpout" line');
  });

  it('rejects a non-numeric or negative counter, naming it', () => {
    const garbage = VMSTAT().replace(/^pgfault .*$/m, 'pgfault lots');
    expect(() => parseVmstat(garbage)).toThrow('no numeric "pgfault" line');
    expect(() => parseVmstat(VMSTAT({ pgmajfault: -1 }))).toThrow('"pgmajfault" is negative');
    expect(() => parseVmstat('')).toThrow('no numeric "pgpgin" line');
  });
});

describe('computeBandwidthMetrics', () => {
  it('turns KiB into bytes/s and swap pages into pages/s and bytes/s over the real elapsed time', () => {
    const after = reading({
      pageInKiB: 1000 + 4096,
      pageOutKiB: 2000 + 1024,
      swapInPages: 10 + 6,
      swapOutPages: 20 + 2,
      pageFaults: 50000 + 3001,
      majorFaults: 7 + 3,
    });
    const payload = computeBandwidthMetrics(reading(), after, 2000, NO_DRAM);
    expect(bandwidthMetrics.parse(payload)).toEqual(payload);
    expect(payload).toEqual({
      available: true,
      pageInBytesPerSec: 2048 * 1024,
      pageOutBytesPerSec: 512 * 1024,
      swapInPagesPerSec: 3,
      swapOutPagesPerSec: 1,
      swapInBytesPerSec: 3 * 4096,
      swapOutBytesPerSec: 4096,
      pageFaultsPerSec: 1500.5,
      majorFaultsPerSec: 1.5,
      dram: null,
      dramUnavailableReason: 'none here',
    });
  });

  it('uses the given page size for swap bytes (16 KiB pages on some arm64 kernels)', () => {
    const payload = computeBandwidthMetrics(
      reading(),
      reading({ swapInPages: 14, swapOutPages: 21 }),
      1000,
      NO_DRAM,
      16384,
    );
    expect(payload).toMatchObject({ swapInBytesPerSec: 65536, swapOutBytesPerSec: 16384 });
  });

  it('reports 0, never a negative rate, for a counter that went backwards', () => {
    const after = reading({ pageFaults: 12, pageInKiB: 1000 + 10 });
    const payload = computeBandwidthMetrics(reading(), after, 1000, NO_DRAM);
    expect(bandwidthMetrics.parse(payload)).toEqual(payload);
    expect(payload).toMatchObject({ pageFaultsPerSec: 0, pageInBytesPerSec: 10240 });
  });

  it('reports zero rates when no time passed, and carries a DRAM figure through', () => {
    const dram: DramResult = {
      dram: {
        source: 'resctrl',
        readBytesPerSec: null,
        writeBytesPerSec: null,
        totalBytesPerSec: 5,
      },
      reason: null,
    };
    const payload = computeBandwidthMetrics(reading(), reading({ pageFaults: 60000 }), 0, dram);
    expect(bandwidthMetrics.parse(payload)).toEqual(payload);
    expect(payload).toMatchObject({ pageFaultsPerSec: 0, dramUnavailableReason: null });
    expect(payload.dram).toEqual(dram.dram);
  });
});

describe('resctrl', () => {
  it('parses mbm_total_bytes, and "Unavailable" or other words as null', () => {
    expect(parseMbmBytes('812345678912\n')).toBe(812345678912);
    expect(parseMbmBytes('Unavailable\n')).toBeNull();
    expect(parseMbmBytes('Error\n')).toBeNull();
    expect(parseMbmBytes('Unassigned\n')).toBeNull();
    expect(parseMbmBytes('')).toBeNull();
  });

  it('sums every L3 domain, treats resets and new domains as 0, spans an Unavailable gap', () => {
    const first = computeResctrlBandwidth(
      new Map(),
      new Map([
        ['mon_L3_00', 1000],
        ['mon_L3_01', 5000],
      ]),
      0,
    );
    expect(first.result.dram?.totalBytesPerSec).toBe(0);

    // 1 s later: domain 0 moved 3000 bytes, domain 1 is Unavailable, a new domain appears.
    const second = computeResctrlBandwidth(
      first.counters,
      new Map<string, number | null>([
        ['mon_L3_00', 4000],
        ['mon_L3_01', null],
        ['mon_L3_02', 70],
      ]),
      1000,
    );
    expect(second.result).toEqual({
      dram: {
        source: 'resctrl',
        readBytesPerSec: null,
        writeBytesPerSec: null,
        totalBytesPerSec: 3000,
      },
      reason: null,
    });
    // The Unavailable domain keeps its last good value and when it was read.
    expect(second.counters.get('mon_L3_01')).toEqual<MbmCounter>({ bytes: 5000, atMs: 0 });

    // 2 s after its last good reading, domain 1 is back: 8000 bytes over 2 s. Domain 0 reset.
    const third = computeResctrlBandwidth(
      second.counters,
      new Map([
        ['mon_L3_00', 10],
        ['mon_L3_01', 13000],
        ['mon_L3_02', 1070],
      ]),
      2000,
    );
    expect(third.result.dram?.totalBytesPerSec).toBe(4000 + 0 + 1000);
  });

  it('reports null and why when every domain is Unavailable', () => {
    const { result } = computeResctrlBandwidth(
      new Map([['mon_L3_00', { bytes: 1, atMs: 0 }]]),
      new Map([
        ['mon_L3_00', null],
        ['mon_L3_01', null],
      ]),
      1000,
    );
    expect(result).toEqual({
      dram: null,
      reason: 'resctrl mbm_total_bytes is Unavailable in all 2 L3 domain(s) this tick',
    });
  });

  it('reads the root and each control group, never a monitor group counted twice', async () => {
    const t0 = await readResctrl(path.join(resctrlSys, 't0'));
    expect(t0).toEqual(
      new Map([
        ['mon_L3_00', 812345678912],
        ['mon_L3_01', 645123456789],
        ['batch/mon_L3_00', 123456789012],
        ['batch/mon_L3_01', 23456789012],
      ]),
    );
    const t2 = await readResctrl(path.join(resctrlSys, 't2'));
    expect(t2?.get('mon_L3_01')).toBeNull();
  });

  it('tells "not mounted" (null) from "mounted without MBM" (empty)', async () => {
    expect(await readResctrl(debianSys)).toBeNull();
    // The mount point exists on RDT kernels even when nothing is mounted on it.
    const unmounted = await tmpTree({ 'fs/resctrl/.keep': '' });
    expect(await readResctrl(unmounted)).toBeNull();
    const noMbm = await tmpTree({
      'fs/resctrl/info/L3/cbm_mask': '7ff\n',
      'fs/resctrl/schemata': 'L3:0=7ff\n',
    });
    expect(await readResctrl(noMbm)).toEqual(new Map());
  });
});

const CAS: UncoreImcEvents = {
  pmu: 'uncore_imc',
  read: 'cas_count_read',
  write: 'cas_count_write',
  readUnit: 'MiB',
  writeUnit: 'MiB',
  readScale: 6.103515625e-5,
  writeScale: 6.103515625e-5,
};

describe('uncore_imc detection', () => {
  it('finds the server CAS events and their MiB unit in sysfs', async () => {
    const found = await detectUncoreImc(path.join(resctrlSys, 't0'));
    expect(found).toEqual({
      pmus: ['uncore_imc_0', 'uncore_imc_1', 'uncore_imc_2', 'uncore_imc_3'],
      events: CAS,
    });
    expect(perfStatArgs(1000, uncoreImcPerfEvents(CAS))).toEqual([
      'stat',
      '-x,',
      '-I',
      '1000',
      '-a',
      '--log-fd',
      '1',
      '-e',
      'uncore_imc/cas_count_read/,uncore_imc/cas_count_write/',
    ]);
  });

  it('finds nothing on the KVM guest', async () => {
    expect(await detectUncoreImc(debianSys)).toEqual({ pmus: [], events: null });
  });

  it('falls back to desktop and laptop events', async () => {
    const desktop = await tmpTree({
      'bus/event_source/devices/uncore_imc/events/data_reads': 'event=0x01\n',
      'bus/event_source/devices/uncore_imc/events/data_reads.unit': 'MiB\n',
      'bus/event_source/devices/uncore_imc/events/data_writes': 'event=0x02\n',
      'bus/event_source/devices/uncore_imc/events/data_writes.unit': 'MiB\n',
    });
    expect((await detectUncoreImc(desktop)).events).toEqual({
      pmu: 'uncore_imc',
      read: 'data_reads',
      write: 'data_writes',
      readUnit: 'MiB',
      writeUnit: 'MiB',
      readScale: 1,
      writeScale: 1,
    });
    const laptop = await tmpTree({
      'bus/event_source/devices/uncore_imc_free_running_0/events/data_read': 'event=0xff\n',
      'bus/event_source/devices/uncore_imc_free_running_0/events/data_write': 'event=0xff\n',
    });
    expect(await detectUncoreImc(laptop)).toEqual({
      pmus: ['uncore_imc_free_running_0'],
      events: {
        pmu: 'uncore_imc_free_running',
        read: 'data_read',
        write: 'data_write',
        readUnit: '',
        writeUnit: '',
        readScale: 1,
        writeScale: 1,
      },
    });
  });

  it('lists a PMU without known events (or in an unknown unit) but offers no events', async () => {
    const odd = await tmpTree({
      'bus/event_source/devices/uncore_imc_0/events/clockticks': 'event=0x00\n',
      'bus/event_source/devices/uncore_imc_1/events/cas_count_read': 'event=0x04,umask=0x0f\n',
      'bus/event_source/devices/uncore_imc_1/events/cas_count_read.unit': 'furlongs\n',
      'bus/event_source/devices/uncore_imc_1/events/cas_count_write': 'event=0x04,umask=0x30\n',
      'bus/event_source/devices/uncore_imc_2/events/cas_count_read': 'event=0x04,umask=0x0f\n',
      'bus/event_source/devices/uncore_imc_2/events/cas_count_read.scale': 'lots\n',
      'bus/event_source/devices/uncore_imc_2/events/cas_count_write': 'event=0x04,umask=0x30\n',
    });
    expect(await detectUncoreImc(odd)).toEqual({
      pmus: ['uncore_imc_0', 'uncore_imc_1', 'uncore_imc_2'],
      events: null,
    });
  });
});

describe('uncore_imc perf lines', () => {
  // Hand-written in the format perf prints for these events (no uncore hardware here).
  const merged =
    '     1.001002003,5000.00,MiB,uncore_imc/cas_count_read/,8008016024,100.00,,\n' +
    '     1.001002003,1250.50,MiB,uncore_imc/cas_count_write/,8008016024,100.00,,\n' +
    '     2.002004006,6000.25,MiB,uncore_imc/cas_count_read/,8008009874,100.00,,\n' +
    '     2.002004006,2000.00,MiB,uncore_imc/cas_count_write/,8008009874,100.00,,\n';

  it('converts MiB per interval into bytes/s over perf interval length', () => {
    const intervals = parsePerfStatOutput(merged);
    expect(intervals).toHaveLength(2);
    const [first, second] = intervals.map((interval) => computeUncoreImcBandwidth(interval, CAS));
    const seconds = 1.001002003;
    expect(first?.reason).toBeNull();
    expect(first?.dram?.source).toBe('uncore_imc');
    expect(first?.dram?.readBytesPerSec).toBeCloseTo((5000 * MIB) / seconds, 1);
    expect(first?.dram?.writeBytesPerSec).toBeCloseTo((1250.5 * MIB) / seconds, 1);
    expect(first?.dram?.totalBytesPerSec).toBeCloseTo((6250.5 * MIB) / seconds, 1);
    expect(second?.dram?.totalBytesPerSec).toBeCloseTo((8000.25 * MIB) / seconds, 1);
    expect(
      bandwidthMetrics.parse(computeBandwidthMetrics(reading(), reading(), 1000, first!)),
    ).toBeTruthy();
  });

  it('sums instances printed one by one, and reads raw CAS counts as 64-byte lines', () => {
    const unmerged =
      '1.000000000,1000,,uncore_imc_0/cas_count_read/,1000000000,100.00,,\n' +
      '1.000000000,3000,,uncore_imc_1/cas_count_read/,1000000000,100.00,,\n' +
      '1.000000000,500,,uncore_imc_0/cas_count_write/,1000000000,100.00,,\n' +
      '1.000000000,1500,,uncore_imc_1/cas_count_write/,1000000000,100.00,,\n';
    const [interval] = parsePerfStatOutput(unmerged);
    const raw = { ...CAS, readUnit: '', writeUnit: '' };
    expect(computeUncoreImcBandwidth(interval!, raw)).toEqual({
      dram: {
        source: 'uncore_imc',
        readBytesPerSec: 4000 * 64,
        writeBytesPerSec: 2000 * 64,
        totalBytesPerSec: 6000 * 64,
      },
      reason: null,
    });
  });

  it("uses perf's unit column over sysfs, and sysfs unit × scale only when it is empty", () => {
    // sysfs knows no unit here (an older kernel, say); perf still prints MiB: trust perf.
    const noSysfsUnit = { ...CAS, readUnit: '', writeUnit: '', readScale: 1, writeScale: 1 };
    const [mib] = parsePerfStatOutput(
      '1.000000000,3.00,MiB,uncore_imc/cas_count_read/,1000000000,100.00,,\n' +
        '1.000000000,1.50,MiB,uncore_imc/cas_count_write/,1000000000,100.00,,\n',
    );
    expect(computeUncoreImcBandwidth(mib!, noSysfsUnit).dram).toEqual({
      source: 'uncore_imc',
      readBytesPerSec: 3 * MIB,
      writeBytesPerSec: 1.5 * MIB,
      totalBytesPerSec: 4.5 * MIB,
    });
    // perf's KiB wins over the sysfs MiB too.
    const [kib] = parsePerfStatOutput(
      '0.500000000,8.00,KiB,uncore_imc/cas_count_read/,500000000,100.00,,\n' +
        '0.500000000,2.00,KiB,uncore_imc/cas_count_write/,500000000,100.00,,\n',
    );
    expect(computeUncoreImcBandwidth(kib!, CAS).dram?.totalBytesPerSec).toBe(20 * 1024);
    // No unit column: perf did not scale, so the value is a raw count; sysfs says one count
    // is 6.103515625e-5 MiB = 64 bytes.
    const [raw] = parsePerfStatOutput(
      '1.000000000,1000,,uncore_imc/cas_count_read/,1000000000,100.00,,\n' +
        '1.000000000,250,,uncore_imc/cas_count_write/,1000000000,100.00,,\n',
    );
    expect(computeUncoreImcBandwidth(raw!, CAS).dram).toEqual({
      source: 'uncore_imc',
      readBytesPerSec: 64_000,
      writeBytesPerSec: 16_000,
      totalBytesPerSec: 80_000,
    });
  });

  it('names a unit perf printed that it cannot convert', () => {
    const [interval] = parsePerfStatOutput(
      '1.000000000,3.00,furlongs,uncore_imc/cas_count_read/,1000000000,100.00,,\n' +
        '1.000000000,1.50,MiB,uncore_imc/cas_count_write/,1000000000,100.00,,\n',
    );
    expect(computeUncoreImcBandwidth(interval!, CAS)).toEqual({
      dram: null,
      reason: 'perf reports uncore_imc/cas_count_read/ in an unknown unit "furlongs"',
    });
  });

  it('says which event perf could not count', () => {
    const notCounted =
      '1.000000000,<not counted>,MiB,uncore_imc/cas_count_read/,0,0.00,,\n' +
      '1.000000000,12.00,MiB,uncore_imc/cas_count_write/,1000000000,100.00,,\n';
    const [interval] = parsePerfStatOutput(notCounted);
    expect(computeUncoreImcBandwidth(interval!, CAS)).toEqual({
      dram: null,
      reason: 'perf reports uncore_imc/cas_count_read/ as not-counted',
    });
    const [onlyRead] = parsePerfStatOutput(
      '1.000000000,12.00,MiB,uncore_imc/cas_count_read/,1000000000,100.00,,\n',
    );
    expect(computeUncoreImcBandwidth(onlyRead!, CAS).reason).toBe(
      'perf printed no uncore_imc/cas_count_write/ line',
    );
  });
});

describe('readVmstat and createBandwidthCollector', () => {
  it('reads the real debian12 capture; the KVM guest has no DRAM source', async () => {
    const clock = fakeClock();
    const deps = { procRoot: path.join(debianProc, 't0'), sysRoot: debianSys, now: clock.now };
    const collector = createBandwidthCollector(deps);
    await collector.prime?.();
    clock.set(1000);
    deps.procRoot = path.join(debianProc, 't1');
    const payload = await collector.collect();
    await collector.stop?.();
    expect(bandwidthMetrics.parse(payload)).toEqual(payload);
    expect(payload).toMatchObject({
      available: true,
      pageInBytesPerSec: (725785 - 714877) * 1024,
      pageOutBytesPerSec: (943304 - 738500) * 1024,
      swapInPagesPerSec: 0,
      swapOutPagesPerSec: 0,
      swapInBytesPerSec: 0,
      swapOutBytesPerSec: 0,
      pageFaultsPerSec: 2646976 - 2621377,
      majorFaultsPerSec: 10,
      dram: null,
      dramUnavailableReason: NO_SOURCE,
    });
  });

  it('collects the synthetic server with resctrl over three readings', async () => {
    const clock = fakeClock();
    const deps = {
      procRoot: path.join(syntheticProc, 't0'),
      sysRoot: path.join(resctrlSys, 't0'),
      now: clock.now,
    };
    const collector = createBandwidthCollector(deps, { intervalMs: 1000 });
    await collector.prime?.();
    clock.set(1000);
    deps.procRoot = path.join(syntheticProc, 't1');
    deps.sysRoot = path.join(resctrlSys, 't1');
    const payload = await collector.collect();
    expect(bandwidthMetrics.parse(payload)).toEqual(payload);
    expect(payload).toMatchObject({
      available: true,
      pageInBytesPerSec: 200 * MIB,
      pageOutBytesPerSec: 400 * MIB,
      swapInPagesPerSec: 512,
      swapOutPagesPerSec: 2560,
      swapInBytesPerSec: 2 * MIB,
      swapOutBytesPerSec: 10 * MIB,
      pageFaultsPerSec: 1_500_000,
      majorFaultsPerSec: 320,
      // resctrl wins over the uncore_imc PMUs the same machine has; no perf child started.
      dram: {
        source: 'resctrl',
        readBytesPerSec: null,
        writeBytesPerSec: null,
        totalBytesPerSec: 40_000_000_000,
      },
      dramUnavailableReason: null,
    });

    // t2: the root group's socket-1 domain reads "Unavailable"; the other three still count.
    clock.set(2000);
    deps.sysRoot = path.join(resctrlSys, 't2');
    const next = await collector.collect();
    expect(bandwidthMetrics.parse(next)).toEqual(next);
    expect(next).toMatchObject({
      pageInBytesPerSec: 0, // vmstat did not move between two reads of t1
      dram: { source: 'resctrl', totalBytesPerSec: 28_000_000_000 },
      dramUnavailableReason: null,
    });
    await collector.stop?.();
    await collector.stop?.();
  });

  it('primes itself on a first collect() and reports zero rates instead of throwing', async () => {
    const clock = fakeClock();
    const deps = {
      procRoot: path.join(syntheticProc, 't1'),
      sysRoot: path.join(resctrlSys, 't1'),
      now: clock.now,
    };
    const payload = await createBandwidthCollector(deps).collect();
    expect(bandwidthMetrics.parse(payload)).toEqual(payload);
    expect(payload).toMatchObject({
      pageInBytesPerSec: 0,
      pageFaultsPerSec: 0,
      dram: { source: 'resctrl', totalBytesPerSec: 0 },
    });
  });

  it('throws a CollectorError naming the path when vmstat is missing', async () => {
    const collector = createBandwidthCollector({
      procRoot: debianSys,
      sysRoot: debianSys,
      now: () => 0,
    });
    await expect(collector.collect()).rejects.toThrow(/cannot read .*vmstat: not found/);
  });

  it('validates its options', () => {
    const deps = { procRoot: debianProc, sysRoot: debianSys, now: () => 0 };
    expect(() => createBandwidthCollector(deps, { pageSize: 0 })).toThrow(RangeError);
    expect(() => createBandwidthCollector(deps, { intervalMs: 5 })).toThrow(RangeError);
    expect(() => createBandwidthCollector(deps, { intervalMs: 250.5 })).toThrow(RangeError);
  });

  it('reads the synthetic kernel-6.8 vmstat', async () => {
    expect(await readVmstat(path.join(syntheticProc, 't0'))).toEqual({
      pageInKiB: 9876543210,
      pageOutKiB: 12345678901,
      swapInPages: 4123456,
      swapOutPages: 9876543,
      pageFaults: 98765432101,
      majorFaults: 1234567,
    });
  });
});

describe('createDramMonitor source selection', () => {
  const monitorFor = (sysRoot: string) =>
    createDramMonitor({ procRoot: perfmonProc, sysRoot, now: () => 0 }, { intervalMs: 1000 });

  it('names what is missing and how to get it', async () => {
    expect(await monitorFor(debianSys).read()).toEqual({ dram: null, reason: NO_SOURCE });
    const noMbm = await tmpTree({ 'fs/resctrl/info/L3/cbm_mask': '7ff\n' });
    expect((await monitorFor(noMbm).read()).reason).toBe(
      'resctrl is mounted but exposes no mbm_total_bytes (this CPU has no memory bandwidth monitoring) and no uncore_imc PMU',
    );
    const oddPmu = await tmpTree({ 'bus/event_source/devices/uncore_imc_0/type': '24\n' });
    expect((await monitorFor(oddPmu).read()).reason).toBe(
      'no resctrl monitoring (mount -t resctrl resctrl /sys/fs/resctrl on Intel RDT / AMD QoS hardware) and uncore_imc PMU (uncore_imc_0) publishes no known DRAM read/write events',
    );
  });

  it('prime() never throws; read() reports the failure instead', async () => {
    // mbm_total_bytes is a directory: reading it fails with EISDIR.
    const sysRoot = await tmpTree({
      'fs/resctrl/info/L3_MON/num_rmids': '128\n',
      'fs/resctrl/mon_data/mon_L3_00/mbm_total_bytes/oops': '',
    });
    const monitor = monitorFor(sysRoot);
    await expect(monitor.prime()).resolves.toBeUndefined();
    expect((await monitor.read()).reason).toMatch(/^DRAM source failed: EISDIR/);
    await monitor.stop();
  });

  it('picks resctrl up once it is mounted, and re-detects when it goes away', async () => {
    const sysRoot = await tmpTree({ 'fs/resctrl/.keep': '' });
    let t = 0;
    const monitor = createDramMonitor(
      { procRoot: perfmonProc, sysRoot, now: () => t },
      { intervalMs: 1000 },
    );
    await monitor.prime();
    expect((await monitor.read()).reason).toBe(NO_SOURCE);
    const domain = path.join(sysRoot, 'fs/resctrl/mon_data/mon_L3_00');
    await mkdir(path.join(sysRoot, 'fs/resctrl/info'), { recursive: true });
    await mkdir(domain, { recursive: true });
    await writeFile(path.join(domain, 'mbm_total_bytes'), '1000\n');
    expect((await monitor.read()).dram?.totalBytesPerSec).toBe(0);
    t = 500;
    await writeFile(path.join(domain, 'mbm_total_bytes'), '6000\n');
    expect((await monitor.read()).dram?.totalBytesPerSec).toBe(10_000);
    await rm(path.join(sysRoot, 'fs/resctrl/mon_data'), { recursive: true });
    await rm(path.join(sysRoot, 'fs/resctrl/info'), { recursive: true });
    expect((await monitor.read()).reason).toBe(NO_SOURCE);
    await monitor.stop();
  });
});

describe('createDramMonitor with perf uncore_imc', () => {
  const uncoreSys = (): Promise<string> =>
    tmpTree({
      'bus/event_source/devices/uncore_imc_0/events/cas_count_read': 'event=0x04,umask=0x0f\n',
      'bus/event_source/devices/uncore_imc_0/events/cas_count_read.unit': 'MiB\n',
      'bus/event_source/devices/uncore_imc_0/events/cas_count_write': 'event=0x04,umask=0x30\n',
      'bus/event_source/devices/uncore_imc_0/events/cas_count_write.unit': 'MiB\n',
    });

  it('runs one perf child, reports its intervals, and kills it on stop()', async () => {
    const sysRoot = await uncoreSys();
    // Stands in for perf: 25 MiB read and 5 MiB written per 100 ms interval, on stderr.
    const fakePerf = path.join(sysRoot, 'fake-perf.sh');
    await writeFile(
      fakePerf,
      [
        '#!/bin/sh',
        `echo "$$ $*" > "${sysRoot}/perf.args"`,
        'i=1',
        'while :; do',
        '  sleep 0.1',
        '  printf "%d.%03d000000,25.00,MiB,uncore_imc/cas_count_read/,100000000,100.00,,\\n" $((i / 10)) $((i % 10 * 100)) >&2',
        '  printf "%d.%03d000000,5.00,MiB,uncore_imc/cas_count_write/,100000000,100.00,,\\n" $((i / 10)) $((i % 10 * 100)) >&2',
        '  i=$((i + 1))',
        'done',
        '',
      ].join('\n'),
    );
    await chmod(fakePerf, 0o755);
    const monitor = createDramMonitor(
      { procRoot: perfmonProc, sysRoot, now: () => performance.now() },
      { intervalMs: 100, perfPath: fakePerf, euid: 1000 },
    );
    await monitor.prime();
    // prime() waited for the first interval: the first read already has figures.
    const first = await monitor.read();
    expect(first.reason).toBeNull();
    expect(first.dram?.readBytesPerSec).toBeCloseTo(250 * MIB, 0);
    let result: DramResult = { dram: null, reason: null };
    await vi.waitFor(
      async () => {
        result = await monitor.read();
        expect(result.dram).not.toBeNull();
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(result.dram?.source).toBe('uncore_imc');
    expect(result.dram?.readBytesPerSec).toBeCloseTo(250 * MIB, 0);
    expect(result.dram?.writeBytesPerSec).toBeCloseTo(50 * MIB, 0);

    const [pid, ...args] = (await readFile(path.join(sysRoot, 'perf.args'), 'utf8'))
      .trim()
      .split(' ');
    expect(args.join(' ')).toBe(
      'stat -x, -I 100 -a --log-fd 1 -e uncore_imc/cas_count_read/,uncore_imc/cas_count_write/',
    );
    await monitor.stop();
    await monitor.stop();
    expect(() => process.kill(Number(pid), 0)).toThrow();
    expect(await monitor.read()).toEqual({ dram: null, reason: 'bandwidth collector stopped' });
  });

  it('says why when perf may not count system-wide or is missing', async () => {
    const sysRoot = await uncoreSys();
    const blocked = createDramMonitor(
      { procRoot: unprivilegedProc, sysRoot, now: () => performance.now() },
      { intervalMs: 100, perfPath: '/nonexistent/perf', euid: 1000 },
    );
    expect((await blocked.read()).reason).toMatch(
      /^uncore_imc PMU present but perf_event_paranoid is 2; system-wide counting needs/,
    );
    await blocked.stop();

    const missing = createDramMonitor(
      { procRoot: perfmonProc, sysRoot, now: () => performance.now() },
      { intervalMs: 100, perfPath: '/nonexistent/perf', euid: 1000 },
    );
    await missing.prime();
    // prime() returned once perf failed to start: the first read says why.
    expect((await missing.read()).reason).toBe(
      'uncore_imc PMU present but perf not found: install linux-perf (Debian) / linux-tools (Ubuntu) (no /nonexistent/perf)',
    );
    await vi.waitFor(
      async () =>
        expect((await missing.read()).reason).toMatch(/^uncore_imc PMU present but perf not found/),
      { timeout: 10_000, interval: 20 },
    );
    await missing.stop();
  });
});
