import { describe, expect, it } from 'vitest';
import type { z } from 'zod/mini';
import { cgroupsMetrics } from './cgroups.js';
import { exampleSnapshot, makeExampleSnapshot } from './examples.js';
import { pressureMetrics } from './pressure.js';
import {
  agentMetrics,
  bandwidthMetrics,
  COLLECTOR_NAMES,
  CPU_MODES,
  cpuMetrics,
  diskMetrics,
  memoryMetrics,
  networkMetrics,
  perfMetrics,
  snapshot,
} from './snapshot.js';
import { processesMetrics } from './processes.js';

/** The dotted paths of the issues of a failed parse; fails the test if the parse succeeded. */
function failurePaths(result: z.core.util.SafeParseResult<unknown>): string[] {
  expect(result.success).toBe(false);
  return result.error?.issues.map((issue) => issue.path.map(String).join('.')) ?? [];
}

/** A shallow copy of `value` without `key`, to build a payload that misses a field. */
function without<T extends object>(value: T, key: keyof T & string): Record<string, unknown> {
  const copy = { ...value } as Record<string, unknown>;
  delete copy[key];
  return copy;
}

const collectorSchemas = {
  cpu: cpuMetrics,
  memory: memoryMetrics,
  network: networkMetrics,
  disk: diskMetrics,
  perf: perfMetrics,
  bandwidth: bandwidthMetrics,
  processes: processesMetrics,
  pressure: pressureMetrics,
  cgroups: cgroupsMetrics,
} as const;

describe('exampleSnapshot', () => {
  it('is a valid snapshot and parses to itself', () => {
    expect(snapshot.parse(exampleSnapshot)).toEqual(exampleSnapshot);
  });

  it('is internally consistent the way the collectors compute it', () => {
    const { memory, network, cpu } = exampleSnapshot;
    expect(memory.usedBytes).toBe(
      memory.totalBytes - memory.freeBytes - memory.buffersBytes - memory.cachedBytes,
    );
    // Totals leave out loopback and virtual interfaces.
    expect(network.rxBytesPerSec).toBe(network.interfaces.eth0.rxBytesPerSec);
    expect(cpu.cores).toHaveLength(cpu.coreCount);
    expect(Object.keys(exampleSnapshot.agent.collectors)).toEqual([...COLLECTOR_NAMES]);
  });

  it('makeExampleSnapshot returns an independent copy with overrides applied', () => {
    const copy = makeExampleSnapshot({ host: 'vm-db-02', seq: 43 });
    copy.cpu.usagePercent = 99;
    copy.network.interfaces.eth0.rxBytesPerSec = 1;

    expect(copy.host).toBe('vm-db-02');
    expect(copy.seq).toBe(43);
    expect(copy.timestamp).toBe(exampleSnapshot.timestamp);
    expect(exampleSnapshot.cpu.usagePercent).toBe(12.5);
    expect(exampleSnapshot.network.interfaces.eth0.rxBytesPerSec).toBe(15234.5);
    expect(snapshot.parse(copy).host).toBe('vm-db-02');
  });
});

describe('snapshot', () => {
  it('accepts every collector unavailable at once, keeping the reasons', () => {
    const s: Record<string, unknown> = makeExampleSnapshot();
    for (const name of COLLECTOR_NAMES) s[name] = { available: false, error: `${name} failed` };

    const parsed = snapshot.parse(s);
    expect(parsed.perf).toEqual({ available: false, error: 'perf failed' });
    expect(parsed.cpu).toEqual({ available: false, error: 'cpu failed' });
  });

  it('accepts a snapshot without the sections added after the first six (an older agent)', () => {
    const { processes: _processes, ...old } = makeExampleSnapshot();
    const parsed = snapshot.parse(old);
    expect(parsed.processes).toBeUndefined();
    expect(parsed.cpu).toEqual(exampleSnapshot.cpu);
  });

  it('keeps the other collectors when one is unavailable', () => {
    const s = { ...makeExampleSnapshot(), perf: { available: false, error: 'perf not found' } };
    const parsed = snapshot.parse(s);
    expect(parsed.perf).toEqual({ available: false, error: 'perf not found' });
    expect(parsed.cpu.available).toBe(true);
    expect(parsed.memory).toEqual(exampleSnapshot.memory);
  });

  it.each([0, -1, 1.5, '42'])('rejects seq %j', (seq) => {
    expect(failurePaths(snapshot.safeParse({ ...exampleSnapshot, seq }))).toEqual(['seq']);
  });

  it.each([
    ['without milliseconds', '2025-03-14T09:26:53Z'],
    ['with an offset instead of Z', '2025-03-14T10:26:53.589+01:00'],
    ['without a zone', '2025-03-14T09:26:53.589'],
    ['as a date only', '2025-03-14'],
    ['as epoch ms', 1741944413589],
  ])('rejects a timestamp %s', (_label, timestamp) => {
    expect(failurePaths(snapshot.safeParse({ ...exampleSnapshot, timestamp }))).toEqual([
      'timestamp',
    ]);
  });

  it('rejects a missing or empty host, a zero interval and another type', () => {
    expect(failurePaths(snapshot.safeParse(without(exampleSnapshot, 'host')))).toEqual(['host']);
    expect(failurePaths(snapshot.safeParse({ ...exampleSnapshot, host: '' }))).toEqual(['host']);
    expect(failurePaths(snapshot.safeParse({ ...exampleSnapshot, intervalMs: 0 }))).toEqual([
      'intervalMs',
    ]);
    expect(failurePaths(snapshot.safeParse({ ...exampleSnapshot, type: 'pong' }))).toEqual([
      'type',
    ]);
  });

  it('rejects a snapshot that misses a collector', () => {
    expect(failurePaths(snapshot.safeParse(without(exampleSnapshot, 'bandwidth')))).toEqual([
      'bandwidth',
    ]);
  });

  it('accepts a snapshot of an agent older than the pressure and cgroups sections', () => {
    const old = without(without(exampleSnapshot, 'pressure') as typeof exampleSnapshot, 'cgroups');
    const parsed = snapshot.parse(old);
    expect(parsed.pressure).toBeUndefined();
    expect(parsed.cgroups).toBeUndefined();
    expect(parsed.cpu).toEqual(exampleSnapshot.cpu);
  });

  it('names the nested field that is wrong', () => {
    const s = makeExampleSnapshot();
    s.disk.filesystems[0]!.usedPercent = 100.1;
    expect(failurePaths(snapshot.safeParse(s))).toEqual(['disk.filesystems.0.usedPercent']);
  });
});

describe.each(COLLECTOR_NAMES)('%s payload', (name) => {
  const schema = collectorSchemas[name];
  const valid = exampleSnapshot[name];

  it('accepts the available form', () => {
    expect(schema.parse(valid)).toEqual(valid);
  });

  it('accepts {available: false, error} and drops anything else', () => {
    expect(schema.parse({ available: false, error: 'permission denied', usagePercent: 5 })).toEqual(
      { available: false, error: 'permission denied' },
    );
  });

  it('rejects available: false without an error or with an empty one', () => {
    expect(failurePaths(schema.safeParse({ available: false }))).toEqual(['error']);
    expect(failurePaths(schema.safeParse({ available: false, error: '' }))).toEqual(['error']);
  });

  it('rejects available: true without its fields, and a missing available', () => {
    expect(failurePaths(schema.safeParse({ available: true })).length).toBeGreaterThan(1);
    expect(failurePaths(schema.safeParse(without(valid, 'available')))).toEqual(['available']);
  });

  it('rejects a missing field', () => {
    const firstField = Object.keys(valid).find((key) => key !== 'available')!;
    expect(
      failurePaths(schema.safeParse(without(valid, firstField as keyof typeof valid))),
    ).toEqual([firstField]);
  });
});

describe('cpu payload', () => {
  const cpu = exampleSnapshot.cpu;

  it.each([
    ['a percent over 100', { usagePercent: 100.5 }, 'usagePercent'],
    ['a negative percent', { stealPercent: -0.1 }, 'stealPercent'],
    ['a negative rate', { contextSwitchesPerSec: -5 }, 'contextSwitchesPerSec'],
    ['an infinite rate', { interruptsPerSec: Infinity }, 'interruptsPerSec'],
    ['a NaN rate', { interruptsPerSec: NaN }, 'interruptsPerSec'],
    ['zero cores', { coreCount: 0 }, 'coreCount'],
    ['a fractional process count', { processesRunning: 1.5 }, 'processesRunning'],
    ['a negative load', { load1: -0.1 }, 'load1'],
  ])('rejects %s', (_label, patch, path) => {
    expect(failurePaths(cpuMetrics.safeParse({ ...cpu, ...patch }))).toEqual([path]);
  });

  it('rejects a per-core percent over 100 at its index', () => {
    const cores = [cpu.cores[0], { ...cpu.cores[1], usagePercent: 101 }];
    expect(failurePaths(cpuMetrics.safeParse({ ...cpu, cores }))).toEqual(['cores.1.usagePercent']);
  });

  it('accepts 0 and 100 percent at the bounds', () => {
    const parsed = cpuMetrics.parse({ ...cpu, usagePercent: 100, idlePercent: 0 });
    expect(parsed).toMatchObject({ usagePercent: 100, idlePercent: 0 });
  });
});

describe('memory payload', () => {
  const memory = exampleSnapshot.memory;

  it.each([
    ['negative bytes', { freeBytes: -1 }, 'freeBytes'],
    ['fractional bytes', { totalBytes: 1.5 }, 'totalBytes'],
    ['a used percent over 100', { usedPercent: 101 }, 'usedPercent'],
    ['bytes as a string', { cachedBytes: '1562378240' }, 'cachedBytes'],
  ])('rejects %s', (_label, patch, path) => {
    expect(failurePaths(memoryMetrics.safeParse({ ...memory, ...patch }))).toEqual([path]);
  });
});

describe('network payload', () => {
  const network = exampleSnapshot.network;

  it('keeps loopback per interface', () => {
    const parsed = networkMetrics.parse(network);
    expect(parsed.available && parsed.interfaces.lo?.loopback).toBe(true);
  });

  it('rejects a negative total or per-interface rate', () => {
    expect(failurePaths(networkMetrics.safeParse({ ...network, txDropsPerSec: -1 }))).toEqual([
      'txDropsPerSec',
    ]);
    const interfaces = {
      ...network.interfaces,
      eth0: { ...network.interfaces.eth0, rxBytesPerSec: -3 },
    };
    expect(failurePaths(networkMetrics.safeParse({ ...network, interfaces }))).toEqual([
      'interfaces.eth0.rxBytesPerSec',
    ]);
  });

  it('rejects a NUL in an interface name', () => {
    const interfaces = { ...network.interfaces, 'eth\u00000': network.interfaces.eth0 };
    expect(failurePaths(networkMetrics.safeParse({ ...network, interfaces }))).toEqual([
      'interfaces.eth\u00000',
    ]);
  });

  it('rejects an interface without its loopback flag', () => {
    const interfaces = { ...network.interfaces, lo: without(network.interfaces.lo, 'loopback') };
    expect(failurePaths(networkMetrics.safeParse({ ...network, interfaces }))).toEqual([
      'interfaces.lo.loopback',
    ]);
  });

  it('marks loopback virtual, and rejects an interface without its virtual flag', () => {
    expect(network.interfaces.lo.virtual).toBe(true);
    expect(network.interfaces.eth0.virtual).toBe(false);
    const interfaces = { ...network.interfaces, eth0: without(network.interfaces.eth0, 'virtual') };
    expect(failurePaths(networkMetrics.safeParse({ ...network, interfaces }))).toEqual([
      'interfaces.eth0.virtual',
    ]);
  });
});

describe('disk payload', () => {
  const disk = exampleSnapshot.disk;

  it('rejects a busy percent over 100 and a negative ops rate', () => {
    expect(failurePaths(diskMetrics.safeParse({ ...disk, busyPercent: 150 }))).toEqual([
      'busyPercent',
    ]);
    const devices = { vda: { ...disk.devices.vda, writeOpsPerSec: -1 } };
    expect(failurePaths(diskMetrics.safeParse({ ...disk, devices }))).toEqual([
      'devices.vda.writeOpsPerSec',
    ]);
  });

  it('rejects a device without its virtual flag and a filesystem without a mount point', () => {
    const devices = { vda: without(disk.devices.vda, 'virtual') };
    expect(failurePaths(diskMetrics.safeParse({ ...disk, devices }))).toEqual([
      'devices.vda.virtual',
    ]);
    const filesystems = [without(disk.filesystems[0]!, 'mountPoint')];
    expect(failurePaths(diskMetrics.safeParse({ ...disk, filesystems }))).toEqual([
      'filesystems.0.mountPoint',
    ]);
  });

  // One NUL would fail the database write of every snapshot batched with this one.
  it('rejects a NUL in a device name or a filesystem field, naming it', () => {
    const devices = { ...disk.devices, 'vd\u0000a': disk.devices.vda };
    expect(failurePaths(diskMetrics.safeParse({ ...disk, devices }))).toEqual([
      'devices.vd\u0000a',
    ]);
    const filesystems = [{ ...disk.filesystems[0]!, mountPoint: '/mnt/\u0000' }];
    expect(failurePaths(diskMetrics.safeParse({ ...disk, filesystems }))).toEqual([
      'filesystems.0.mountPoint',
    ]);
  });

  it('accepts a host with no real filesystem mounted', () => {
    const parsed = diskMetrics.parse({ ...disk, filesystems: [] });
    expect(parsed.available && parsed.filesystems).toEqual([]);
  });
});

describe('perf payload', () => {
  const vm = exampleSnapshot.perf;
  const bareMetal = {
    ...vm,
    hardwareAvailable: true,
    hardwareUnavailableReason: null,
    cyclesPerSec: 2.1e9,
    instructionsPerSec: 2.8e9,
    ipc: 1.33,
    cacheReferencesPerSec: 4.2e7,
    cacheMissesPerSec: 1.6e6,
    cacheMissPercent: 3.81,
    branchMissesPerSec: 5.1e6,
    unsupportedEvents: [],
  };

  it('accepts null hardware counters with a reason, as on a VM', () => {
    const parsed = perfMetrics.parse(vm);
    expect(parsed).toMatchObject({ hardwareAvailable: false, cyclesPerSec: null, ipc: null });
    expect(parsed.available && parsed.unsupportedEvents).toContain('cycles');
  });

  it('accepts every counter present, as on bare metal', () => {
    expect(perfMetrics.parse(bareMetal)).toEqual(bareMetal);
  });

  it.each([
    ['a negative counter', { cyclesPerSec: -1 }, 'cyclesPerSec'],
    ['a negative IPC', { ipc: -0.5 }, 'ipc'],
    ['a cache miss percent over 100', { cacheMissPercent: 120 }, 'cacheMissPercent'],
    ['a zero perf interval', { perfIntervalMs: 0 }, 'perfIntervalMs'],
    [
      'an undefined counter instead of null',
      { branchMissesPerSec: undefined },
      'branchMissesPerSec',
    ],
  ])('rejects %s', (_label, patch, path) => {
    expect(failurePaths(perfMetrics.safeParse({ ...bareMetal, ...patch }))).toEqual([path]);
  });

  it('rejects a missing unsupportedEvents list', () => {
    expect(failurePaths(perfMetrics.safeParse(without(vm, 'unsupportedEvents')))).toEqual([
      'unsupportedEvents',
    ]);
  });
});

describe('bandwidth payload', () => {
  const bandwidth = exampleSnapshot.bandwidth;

  it('accepts no DRAM source with a reason', () => {
    const parsed = bandwidthMetrics.parse(bandwidth);
    expect(parsed).toMatchObject({ dram: null, dramUnavailableReason: expect.any(String) });
  });

  it('accepts DRAM bandwidth from resctrl (total only) and from uncore_imc (read and write)', () => {
    const resctrl = {
      source: 'resctrl',
      readBytesPerSec: null,
      writeBytesPerSec: null,
      totalBytesPerSec: 3.2e9,
    };
    const imc = {
      source: 'uncore_imc',
      readBytesPerSec: 2e9,
      writeBytesPerSec: 1.2e9,
      totalBytesPerSec: 3.2e9,
    };
    for (const dram of [resctrl, imc]) {
      const parsed = bandwidthMetrics.parse({ ...bandwidth, dram, dramUnavailableReason: null });
      expect(parsed.available && parsed.dram).toEqual(dram);
    }
  });

  it('rejects an unknown DRAM source and a DRAM reading without a total', () => {
    const dram = {
      source: 'msr',
      readBytesPerSec: null,
      writeBytesPerSec: null,
      totalBytesPerSec: 1,
    };
    expect(failurePaths(bandwidthMetrics.safeParse({ ...bandwidth, dram }))).toEqual([
      'dram.source',
    ]);
    const noTotal = { source: 'resctrl', readBytesPerSec: null, writeBytesPerSec: null };
    expect(failurePaths(bandwidthMetrics.safeParse({ ...bandwidth, dram: noTotal }))).toEqual([
      'dram.totalBytesPerSec',
    ]);
  });

  it('rejects a negative paging rate', () => {
    expect(
      failurePaths(bandwidthMetrics.safeParse({ ...bandwidth, pageOutBytesPerSec: -4096 })),
    ).toEqual(['pageOutBytesPerSec']);
  });
});

describe('agent', () => {
  const agent = exampleSnapshot.agent;

  it('accepts timings for only some collectors', () => {
    const parsed = agentMetrics.parse({
      ...agent,
      collectors: { cpu: { durationMs: 0.4, ok: false } },
    });
    expect(parsed.collectors).toEqual({ cpu: { durationMs: 0.4, ok: false } });
  });

  it('rejects an unknown collector key, in the agent and in a snapshot', () => {
    const collectors = { ...agent.collectors, gpu: { durationMs: 1, ok: true } };
    const result = agentMetrics.safeParse({ ...agent, collectors });
    expect(failurePaths(result)).toEqual(['collectors']);
    expect(result.error?.issues[0]?.code).toBe('unrecognized_keys');

    const s = { ...exampleSnapshot, agent: { ...agent, collectors } };
    expect(failurePaths(snapshot.safeParse(s))).toEqual(['agent.collectors']);
  });

  it('rejects a negative duration or CPU share', () => {
    const collectors = { ...agent.collectors, disk: { durationMs: -1, ok: true } };
    expect(failurePaths(agentMetrics.safeParse({ ...agent, collectors }))).toEqual([
      'collectors.disk.durationMs',
    ]);
    expect(failurePaths(agentMetrics.safeParse({ ...agent, cpuPercent: -1 }))).toEqual([
      'cpuPercent',
    ]);
  });
});

describe('kernel counters', () => {
  /** The example with every counter the collectors add, as a current agent sends it. */
  function withCounters() {
    const s = makeExampleSnapshot();
    Object.assign(s.cpu.cores[0]!, { seconds: [10, 0, 2, 300, 0.5, 0, 0.25, 0] });
    Object.assign(s.cpu, { counters: [123456, 7890, 1795299327] });
    Object.assign(s.memory, {
      meminfo: [
        ['MemTotal', 4122206208],
        ['HugePages_Total', 0],
      ],
    });
    Object.assign(s.network.interfaces.eth0, { counters: [1, 2, 3, 4, 5, 6, 7, 8] });
    Object.assign(s.disk.devices.vda, { counters: [1, 512, 2, 1024, 30] });
    Object.assign(s.disk, { mounts: [['/', '/dev/vda1', 'ext4', 100, 40, 30, 10, 5]] });
    Object.assign(s.bandwidth, { vmstat: [['pgfault', 99]] });
    return s;
  }

  it('accepts them, and a snapshot of an older agent without them', () => {
    const s = withCounters();
    expect(snapshot.parse(s)).toEqual(s);
    expect(snapshot.safeParse(makeExampleSnapshot()).success).toBe(true);
  });

  it('rejects a counter tuple of the wrong length and a negative counter', () => {
    const short = withCounters();
    Object.assign(short.network.interfaces.eth0, { counters: [1, 2, 3] });
    expect(snapshot.safeParse(short).success).toBe(false);
    const modes = withCounters();
    Object.assign(modes.cpu.cores[0]!, { seconds: [1, 2, 3] });
    expect(snapshot.safeParse(modes).success).toBe(false);
    const negative = withCounters();
    Object.assign(negative.bandwidth, { vmstat: [['pgfault', -1]] });
    expect(snapshot.safeParse(negative).success).toBe(false);
  });

  it('names the CPU modes in node_exporter’s order', () => {
    expect(CPU_MODES).toEqual([
      'user',
      'nice',
      'system',
      'idle',
      'iowait',
      'irq',
      'softirq',
      'steal',
    ]);
  });
});
