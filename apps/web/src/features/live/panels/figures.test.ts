import type { PerfMetrics } from '@livestat/contracts';
import { exampleSnapshot, makeExampleSnapshot } from '@livestat/contracts/examples';
import { describe, expect, it } from 'vitest';
import { NO_VALUE } from '../../../lib/format';
import { bandwidthFigures, bandwidthViews, dramNote } from './bandwidth';
import { coreBars, cpuFigures, cpuViews } from './cpu';
import { deviceRows, diskFigures, diskViews, filesystemRows, usageTone } from './disk';
import { agentSummary, latencySummary, quantile } from './footer';
import { MEMORY_VIEWS, memoryFigures } from './memory';
import { interfaceRows, networkFigures, networkViews } from './network';
import { availableData, panelState, pickView, unavailableText } from './panel-state';
import { HARDWARE_UNAVAILABLE, perfFigures, perfHardwareNotice, perfViews } from './perf';
import type { DiskData, Figure, NetworkData } from './panel-state';

const byKey = (figures: Figure[]) => Object.fromEntries(figures.map((f) => [f.key, f.text]));
const paths = (lines: readonly { path: string }[]) => lines.map((line) => line.path);

/** The example VM with hardware counters counting, as on a bare-metal host. */
function withPmu(): Extract<PerfMetrics, { available: true }> {
  return {
    ...makeExampleSnapshot().perf,
    hardwareAvailable: true,
    hardwareUnavailableReason: null,
    cyclesPerSec: 2.4e9,
    instructionsPerSec: 3.1e9,
    ipc: 1.2917,
    cacheReferencesPerSec: 5.2e7,
    cacheMissesPerSec: 1.3e6,
    cacheMissPercent: 2.5,
    branchMissesPerSec: 4.5e6,
    unsupportedEvents: [],
  };
}

describe('panelState', () => {
  it('tells waiting, unavailable and measured apart', () => {
    expect(panelState(undefined)).toEqual({ kind: 'waiting' });
    expect(panelState({ available: false, error: 'ENOENT /proc/stat' })).toEqual({
      kind: 'unavailable',
      error: 'ENOENT /proc/stat',
    });
    expect(panelState(exampleSnapshot.cpu)).toEqual({ kind: 'ok', data: exampleSnapshot.cpu });
    expect(availableData({ available: false, error: 'x' })).toBeUndefined();
    expect(availableData(exampleSnapshot.disk)).toBe(exampleSnapshot.disk);
    expect(unavailableText('Disk', 'no /proc/diskstats')).toBe(
      'Disk unavailable — no /proc/diskstats',
    );
  });

  it('falls back to the first view when the picked one is gone', () => {
    const views = perfViews(false);
    expect(pickView(views, 'ipc')?.id).toBe('software');
    expect(pickView(perfViews(true), 'misses')?.id).toBe('misses');
    expect(pickView([], 'x')).toBeUndefined();
  });
});

describe('CPU', () => {
  it('formats the headline figures, or — before the first snapshot', () => {
    const figures = byKey(cpuFigures(exampleSnapshot.cpu));
    expect(cpuFigures(undefined).find((f) => f.key === 'loadAverage')?.wide).toBe(true);
    expect(figures).toMatchObject({
      usagePercent: '12.5 %',
      userPercent: '8.0 %',
      systemPercent: '3.5 %',
      iowaitPercent: '0.5 %',
      stealPercent: '0.5 %',
      loadAverage: '0.42 · 0.35 · 0.30',
      contextSwitchesPerSec: '1.84 k/s',
    });
    const empty = cpuFigures(undefined);
    expect(empty.map((f) => f.key)).toEqual(cpuFigures(exampleSnapshot.cpu).map((f) => f.key));
    expect(new Set(empty.map((f) => f.text))).toEqual(new Set([NO_VALUE]));
  });

  it('gives a bar per core in id order, clamped to 0–100', () => {
    const cpu = makeExampleSnapshot().cpu;
    cpu.cores = [
      { id: 1, usagePercent: 10, userPercent: 6, systemPercent: 3, iowaitPercent: 0 },
      { id: 0, usagePercent: 100, userPercent: 90, systemPercent: 10, iowaitPercent: 0 },
    ];
    expect(coreBars(cpu)).toEqual([
      { id: 0, label: 'CPU 0', percent: 100, text: '100 %' },
      { id: 1, label: 'CPU 1', percent: 10, text: '10 %' },
    ]);
    expect(coreBars(undefined)).toEqual([]);
  });

  it('charts the time split, each core by its series path, and the load', () => {
    const [total, cores, load] = cpuViews([3, 0, 1]);
    expect(paths(total!.lines)).toEqual([
      'cpu.usagePercent',
      'cpu.userPercent',
      'cpu.systemPercent',
      'cpu.iowaitPercent',
    ]);
    expect(total).toMatchObject({ unit: 'percent', yMax: 100 });
    expect(paths(cores!.lines)).toEqual([
      'cpu.cores.0.usagePercent',
      'cpu.cores.1.usagePercent',
      'cpu.cores.3.usagePercent',
    ]);
    expect(cores!.lines.map((l) => l.label)).toEqual(['CPU 0', 'CPU 1', 'CPU 3']);
    expect(paths(load!.lines)).toEqual(['cpu.load1', 'cpu.load5', 'cpu.load15']);
  });
});

describe('Memory', () => {
  it('formats bytes in binary units and swap as used / total', () => {
    const figures = byKey(memoryFigures(exampleSnapshot.memory));
    expect(figures).toMatchObject({
      usedPercent: '35.3 %',
      usedBytes: '1.16 GiB',
      cachedBytes: '1.46 GiB',
      buffersBytes: '94.0 MiB',
      freeBytes: '1.13 GiB',
      totalBytes: '3.84 GiB',
      swap: '0 B / 2.00 GiB',
    });
    const noSwap = { ...exampleSnapshot.memory, swapTotalBytes: 0, swapFreeBytes: 0 };
    expect(byKey(memoryFigures(noSwap)).swap).toBe('none');
  });

  it('stacks used, buffers, cached and free, which add up to the total', () => {
    const usage = MEMORY_VIEWS[0]!;
    expect(paths(usage.lines)).toEqual([
      'memory.usedBytes',
      'memory.buffersBytes',
      'memory.cachedBytes',
      'memory.freeBytes',
    ]);
    expect(new Set(usage.lines.map((l) => l.stack))).toEqual(new Set(['memory']));
    const m = exampleSnapshot.memory;
    expect(m.usedBytes + m.buffersBytes + m.cachedBytes + m.freeBytes).toBe(m.totalBytes);
  });
});

describe('Network', () => {
  it('formats totals as rates, errors and drops summed over both directions', () => {
    const network = { ...makeExampleSnapshot().network, rxErrorsPerSec: 1, txErrorsPerSec: 2 };
    expect(byKey(networkFigures(network))).toMatchObject({
      rxBytesPerSec: '14.9 KiB/s',
      txBytesPerSec: '4.71 KiB/s',
      rxPacketsPerSec: '42.0 /s',
      errorsPerSec: '3.00 /s',
      dropsPerSec: '0 /s',
    });
  });

  it('lists physical interfaces before virtual and loopback ones', () => {
    const network: NetworkData = makeExampleSnapshot().network;
    network.interfaces['br-0a1b2c3d4e5f'] = {
      ...network.interfaces.eth0!,
      virtual: true,
      rxBytesPerSec: 0,
    };
    network.interfaces.wlan0 = { ...network.interfaces.eth0! };
    const rows = interfaceRows(network);
    expect(rows.map((r) => [r.name, r.kind])).toEqual([
      ['eth0', 'physical'],
      ['wlan0', 'physical'],
      ['br-0a1b2c3d4e5f', 'virtual'],
      ['lo', 'loopback'],
    ]);
    expect(rows[0]).toMatchObject({
      rx: '14.9 KiB/s',
      tx: '4.71 KiB/s',
      packets: '42.0 · 31.0',
      errorsDrops: '0 · 0',
    });
    expect(interfaceRows(undefined)).toEqual([]);
  });

  it('charts the totals or one interface', () => {
    expect(paths(networkViews(null)[0]!.lines)).toEqual([
      'network.rxBytesPerSec',
      'network.txBytesPerSec',
    ]);
    expect(paths(networkViews('eth0.100')[0]!.lines)).toEqual([
      'network.interfaces.eth0.100.rxBytesPerSec',
      'network.interfaces.eth0.100.txBytesPerSec',
    ]);
    expect(networkViews(null).map((v) => v.unit)).toEqual(['byteRate', 'rate', 'rate']);
  });
});

describe('Disk', () => {
  it('formats totals, devices and filesystems', () => {
    const disk: DiskData = makeExampleSnapshot().disk;
    expect(byKey(diskFigures(disk))).toMatchObject({
      readBytesPerSec: '0 B/s',
      writeBytesPerSec: '96.0 KiB/s',
      writeOpsPerSec: '6.00 /s',
      busyPercent: '1.2 %',
    });
    disk.devices['dm-0'] = { ...disk.devices.vda!, virtual: true };
    expect(deviceRows(disk).map((d) => [d.name, d.virtual, d.write, d.ops])).toEqual([
      ['vda', false, '96.0 KiB/s', '0 · 6.00'],
      ['dm-0', true, '96.0 KiB/s', '0 · 6.00'],
    ]);
    expect(filesystemRows(disk)).toEqual([
      {
        mountPoint: '/',
        device: '/dev/vda1',
        fsType: 'ext4',
        usage: '9.00 GiB / 38.7 GiB',
        percent: 24.48,
        percentText: '24 %',
        tone: 'ok',
        // 9.00 used + 27.8 available of 38.7 GiB: the rest is kept back for root.
        reserved: '1.94 GiB',
      },
    ]);
    const full = { ...disk.filesystems[0]!, totalBytes: 100, usedBytes: 40, availableBytes: 60 };
    expect(filesystemRows({ ...disk, filesystems: [full] })[0]!.reserved).toBeNull();
  });

  it('warns from 80 % full and alarms from 90 %', () => {
    expect([79.9, 80, 89.9, 90, 100].map(usageTone)).toEqual(['ok', 'warn', 'warn', 'bad', 'bad']);
  });

  it('charts the totals or one device', () => {
    expect(diskViews(null).map((v) => v.id)).toEqual(['bytes', 'ops', 'busy']);
    expect(paths(diskViews('nvme0n1')[1]!.lines)).toEqual([
      'disk.devices.nvme0n1.readOpsPerSec',
      'disk.devices.nvme0n1.writeOpsPerSec',
    ]);
  });
});

describe('Perf', () => {
  it('says exactly why hardware counters are missing', () => {
    expect(perfHardwareNotice(exampleSnapshot.perf)).toBe(
      'Hardware performance counters unavailable — no hardware PMU (virtual machine): hardware events <not supported>',
    );
    expect(perfHardwareNotice({ available: false, error: 'perf: command not found' })).toBe(
      'Hardware performance counters unavailable — perf: command not found',
    );
    expect(perfHardwareNotice({ ...exampleSnapshot.perf, hardwareUnavailableReason: null })).toBe(
      HARDWARE_UNAVAILABLE,
    );
    expect(perfHardwareNotice(withPmu())).toBeNull();
    expect(perfHardwareNotice(undefined)).toBeNull();
  });

  it('shows software events only without a PMU, all counters with one', () => {
    const noPmu = perfFigures(exampleSnapshot.perf);
    expect(noPmu.map((f) => f.key)).toEqual([
      'contextSwitchesPerSec',
      'cpuMigrationsPerSec',
      'pageFaultsPerSec',
    ]);
    expect(byKey(noPmu)).toEqual({
      contextSwitchesPerSec: '1.79 k/s',
      cpuMigrationsPerSec: '12.0 /s',
      pageFaultsPerSec: '350 /s',
    });
    expect(byKey(perfFigures(withPmu()))).toMatchObject({
      ipc: '1.29',
      cyclesPerSec: '2.40 G/s',
      instructionsPerSec: '3.10 G/s',
      cacheMissesPerSec: '1.30 M/s',
      cacheMissPercent: '2.5 %',
      branchMissesPerSec: '4.50 M/s',
      contextSwitchesPerSec: '1.79 k/s',
    });
    expect(perfFigures(undefined).find((f) => f.key === 'ipc')?.text).toBe(NO_VALUE);
  });

  it('offers hardware charts only with a PMU', () => {
    expect(perfViews(false).map((v) => v.id)).toEqual(['software']);
    expect(perfViews(true).map((v) => v.id)).toEqual(['ipc', 'cycles', 'misses', 'software']);
    expect(paths(perfViews(true)[0]!.lines)).toEqual(['perf.ipc']);
    expect(paths(perfViews(false)[0]!.lines)).toEqual([
      'perf.contextSwitchesPerSec',
      'perf.cpuMigrationsPerSec',
      'perf.pageFaultsPerSec',
    ]);
  });
});

describe('Bandwidth', () => {
  it('formats paging, swap and faults; minor faults are all faults less major ones', () => {
    const bw = { ...makeExampleSnapshot().bandwidth, majorFaultsPerSec: 12 };
    expect(byKey(bandwidthFigures(bw))).toEqual({
      pageInBytesPerSec: '0 B/s',
      pageOutBytesPerSec: '48.0 KiB/s',
      swapInPagesPerSec: '0 pages/s',
      swapOutPagesPerSec: '0 pages/s',
      minorFaultsPerSec: '400 /s',
      majorFaultsPerSec: '12.0 /s',
    });
    expect(dramNote(bw)).toBe(
      'DRAM bandwidth unavailable — no resctrl mbm_total_bytes and no uncore_imc PMU',
    );
    expect(bandwidthViews(false).map((v) => v.id)).toEqual(['paging', 'swap', 'faults']);
  });

  it('adds DRAM bandwidth, its source named, where the machine measures it', () => {
    const bw = {
      ...makeExampleSnapshot().bandwidth,
      dram: {
        source: 'uncore_imc' as const,
        readBytesPerSec: 3 * 1024 ** 3,
        writeBytesPerSec: 1024 ** 3,
        totalBytesPerSec: 4 * 1024 ** 3,
      },
      dramUnavailableReason: null,
    };
    expect(byKey(bandwidthFigures(bw))).toMatchObject({
      dramTotalBytesPerSec: '4.00 GiB/s',
      dramReadBytesPerSec: '3.00 GiB/s',
      dramWriteBytesPerSec: '1.00 GiB/s',
    });
    expect(dramNote(bw)).toBe('DRAM bandwidth from perf uncore_imc CAS counts');
    const dram = bandwidthViews(true).at(-1)!;
    expect(dram.id).toBe('dram');
    expect(paths(dram.lines)).toContain('bandwidth.dram.totalBytesPerSec');
  });
});

describe('footer', () => {
  it('takes the median and p99 by nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(values, 0.5)).toBe(50);
    expect(quantile(values, 0.99)).toBe(99);
    expect(quantile([7], 0.99)).toBe(7);
    expect(quantile([], 0.5)).toBeUndefined();
    expect(latencySummary([12, 5, 7, 300])).toBe('median 7 ms · p99 300 ms');
    expect(latencySummary([])).toBe(NO_VALUE);
  });

  it('states the sampler cost', () => {
    expect(agentSummary(exampleSnapshot.agent)).toBe('0.8 % CPU · 75.0 MiB RSS · 3.4 ms per tick');
  });
});
