import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cgroupsMetrics, type CgroupsMetrics } from '@livestat/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  containerId,
  manyCgroups,
  writeV2Cgroup,
  writeV2Host,
  type V2Cgroup,
} from '../../test/cgroup-tree.js';
import { createCgroupsCollector, type CgroupsSample } from './cgroups.js';

const round2 = (value: number) => Math.round(value * 100) / 100;

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'livestat-cgroups-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function available(metrics: CgroupsMetrics): CgroupsSample {
  expect(cgroupsMetrics.parse(metrics)).toEqual(metrics);
  if (!metrics.available) throw new Error(metrics.error);
  return metrics;
}

describe('cgroups collector on this machine’s captured hybrid tree', () => {
  it('reads the v1 controllers, with the layout named and no PSI', async () => {
    // Symlinks flipped from the t0 reading to t1, as the golden test does.
    const proc = path.join(dir, 'proc');
    const sys = path.join(dir, 'sys');
    symlinkSync(`${FIXTURES}proc/hybrid-6.18/t0`, proc);
    symlinkSync(`${FIXTURES}sys/hybrid-6.18/t0`, sys);
    let clock = 0;
    const collector = createCgroupsCollector({ procRoot: proc, sysRoot: sys, now: () => clock });
    await collector.prime?.();
    unlinkSync(proc);
    unlinkSync(sys);
    symlinkSync(`${FIXTURES}proc/hybrid-6.18/t1`, proc);
    symlinkSync(`${FIXTURES}sys/hybrid-6.18/t1`, sys);
    clock = 1000;
    const metrics = available(await collector.collect());
    expect(metrics).toMatchObject({ layout: 'hybrid', total: 2, truncated: false });
    expect(metrics.namesUnavailableReason).toMatch(/Docker\/Podman API/);
    const byId = new Map(collector.table()!.groups.map((row) => [row.id, row]));
    const capture = byId.get('livestat-capture')!;
    // cpuacct.usage went from 431046177 to 822001439 ns in that second.
    expect(capture.cpuPercent).toBe(39.1);
    expect(capture).toMatchObject({
      kind: 'other',
      runtime: null,
      memoryBytes: 59854848,
      memoryLimitBytes: null,
      memoryAnonBytes: 59076608,
      memoryFileBytes: 0,
      ioReadBytesPerSec: 0,
      ioWriteOpsPerSec: 0,
      throttledMsPerSec: 0,
      // pids counts tasks: node's main thread and its six helper threads.
      pids: 7,
      pressure: { cpu: null, memory: null, io: null },
    });
    // The sandbox's group exists in the memory hierarchy only.
    expect(byId.get('process_api')).toMatchObject({
      cpuPercent: 0,
      throttledMsPerSec: null,
      pids: null,
    });
    // The snapshot's entry leaves out what has no value: no limit, no PSI on v1.
    expect(metrics.groups['livestat-capture']).toEqual({
      name: 'livestat-capture',
      kind: 'other',
      cpuPercent: 39.1,
      throttledMsPerSec: 0,
      memoryBytes: 59854848,
      memoryAnonBytes: 59076608,
      memoryFileBytes: 0,
      ioReadBytesPerSec: 0,
      ioWriteBytesPerSec: 0,
      ioReadOpsPerSec: 0,
      ioWriteOpsPerSec: 0,
      pids: 7,
    });
    const { memoryBytes, memoryAnonBytes, memoryFileBytes } = byId.get('process_api')!;
    expect(metrics.groups.process_api).toEqual({
      name: 'process_api',
      kind: 'other',
      cpuPercent: 0,
      memoryBytes,
      memoryAnonBytes,
      memoryFileBytes,
    });
    expect(collector.table()?.groups.map((row) => row.id)).toEqual([
      'livestat-capture',
      'process_api',
    ]);
  });
});

describe('cgroups collector on v2 hosts', () => {
  it('finds docker, podman, kubepods, systemd and session cgroups among many, and their rates', async () => {
    const groups = manyCgroups(60);
    const roots = writeV2Host(dir, groups);
    let clock = 0;
    const collector = createCgroupsCollector({ ...roots, now: () => clock }, { slowEveryTicks: 1 });
    await collector.prime?.();
    // One second later every container used 0.5 s of CPU more and wrote 1 MiB more.
    for (const group of groups) {
      writeV2Cgroup(roots.cgroupRoot, {
        ...group,
        usageUsec: group.usageUsec + 500_000,
        io: group.io?.map(([dev, rb, wb, ri, wi]) => [dev, rb, wb + 512 * 1024, ri, wi + 8]),
      });
    }
    clock = 1000;
    const metrics = available(await collector.collect());
    expect(metrics.layout).toBe('v2');
    // 60 plus the user-1000 slice that holds the rootless containers and a session.
    expect(metrics.total).toBe(61);
    const table = collector.table()!;
    const count = (kind: string, runtime: string | null) =>
      table.groups.filter((row) => row.kind === kind && row.runtime === runtime).length;
    expect(count('container', 'docker')).toBe(20);
    expect(count('container', 'podman')).toBe(20);
    expect(count('container', 'kubernetes')).toBe(10);
    expect(count('service', 'systemd')).toBe(10);
    expect(count('session', 'systemd')).toBe(1);
    for (const row of table.groups) {
      if (row.kind === 'session') continue;
      expect(row.cpuPercent, row.id).toBe(50);
      expect(row.ioWriteBytesPerSec, row.id).toBe(1024 * 1024);
      expect(row.ioWriteOpsPerSec, row.id).toBe(16);
    }
    const service = table.groups.find((row) => row.id === 'system.slice/svc-4.service')!;
    expect(service).toMatchObject({ name: 'svc-4.service', memoryLimitBytes: null, pids: 5 });
    expect(service.pressure).toEqual({ cpu: 4, memory: 0, io: 0 });
    // The snapshot keeps the top 20 by CPU and by memory only, keyed by name.
    expect(Object.keys(metrics.groups).length).toBeLessThanOrEqual(40);
    expect(metrics.groups['svc-4.service']?.name ?? 'not in the top').toBeTypeOf('string');
  });

  it('stops at CGROUPS_MAX and says the walk was cut', async () => {
    const roots = writeV2Host(dir, manyCgroups(120));
    const collector = createCgroupsCollector({ ...roots, now: () => 0 }, { max: 50 });
    const metrics = available(await collector.collect());
    expect(metrics).toMatchObject({ total: 50, truncated: true });
  });

  it('reads a restarted container’s counters as a reset, not a negative rate', async () => {
    const id = containerId(7);
    const web: V2Cgroup = {
      path: `system.slice/docker-${id}.scope`,
      usageUsec: 90_000_000,
      memoryCurrent: 300_000_000,
      io: [['8:0', 10_000_000, 20_000_000, 500, 900]],
      pids: 12,
    };
    const roots = writeV2Host(dir, [web]);
    let clock = 0;
    const collector = createCgroupsCollector({ ...roots, now: () => clock }, { slowEveryTicks: 1 });
    await collector.prime?.();
    // Restarted: the cgroup was created anew under the same id, its counters from zero.
    writeV2Cgroup(roots.cgroupRoot, {
      ...web,
      usageUsec: 200_000,
      memoryCurrent: 40_000_000,
      io: [['8:0', 4096, 0, 1, 0]],
      pids: 3,
    });
    clock = 1000;
    const restarted = available(await collector.collect()).groups[id.slice(0, 12)]!;
    expect(restarted).toMatchObject({
      cpuPercent: 0,
      ioReadBytesPerSec: 0,
      ioWriteBytesPerSec: 0,
      memoryBytes: 40_000_000,
      pids: 3,
    });
    // The next second measures from the new counters.
    writeV2Cgroup(roots.cgroupRoot, {
      ...web,
      usageUsec: 450_000,
      memoryCurrent: 40_000_000,
      io: [['8:0', 8192, 0, 2, 0]],
      pids: 3,
    });
    clock = 2000;
    const after = available(await collector.collect()).groups[id.slice(0, 12)]!;
    expect(after).toMatchObject({ cpuPercent: 25, ioReadBytesPerSec: 4096, ioReadOpsPerSec: 1 });
  });

  it('drops a cgroup that vanishes between the walk and the read, and carries on', async () => {
    const groups = manyCgroups(6);
    const roots = writeV2Host(dir, groups);
    let clock = 0;
    const collector = createCgroupsCollector(
      { ...roots, now: () => clock },
      { slowEveryTicks: 1, idleEveryTicks: 1 },
    );
    expect(available(await collector.collect()).total).toBe(7);
    // The container stops: its cgroup directory goes away before the next tick's reads.
    rmSync(path.join(roots.cgroupRoot, groups[4 + 1]!.path), { recursive: true });
    clock = 1000;
    const metrics = available(await collector.collect());
    expect(metrics.total).toBe(6);
    expect(collector.table()!.groups.some((row) => row.id === groups[5]!.path)).toBe(false);
    // A file gone from a cgroup that is still there (controller disabled) reads as null.
    const svc = groups.find((group) => group.path.endsWith('.service'))!;
    rmSync(path.join(roots.cgroupRoot, svc.path, 'io.stat'));
    rmSync(path.join(roots.cgroupRoot, svc.path, 'io.pressure'));
    clock = 2000;
    const row =
      collector.table() &&
      available(await collector.collect()) &&
      collector.table()!.groups.find((r) => r.id === svc.path)!;
    expect(row).toMatchObject({
      ioReadBytesPerSec: null,
      ioWriteOpsPerSec: null,
      pressure: { io: null },
    });
  });

  it('walks again every 10 s, not every tick', async () => {
    const roots = writeV2Host(dir, manyCgroups(3));
    let clock = 0;
    const collector = createCgroupsCollector({ ...roots, now: () => clock });
    // Three containers and the user slice.
    expect(available(await collector.collect()).total).toBe(4);
    writeV2Cgroup(roots.cgroupRoot, {
      path: 'system.slice/late.service',
      usageUsec: 1,
      memoryCurrent: 4096,
    });
    clock = 5000;
    expect(available(await collector.collect()).total).toBe(4);
    clock = 10_000;
    expect(available(await collector.collect()).total).toBe(5);
  });
});

describe('cgroups collector, per-tick and slow-moving files', () => {
  /** 20 docker containers, each writing 1 MiB and using 0.25 s of CPU a second. */
  const tree = (second: number): V2Cgroup[] =>
    Array.from({ length: 20 }, (_, i) => ({
      path: `system.slice/docker-${containerId(i)}.scope`,
      usageUsec: 1_000_000 + 250_000 * second,
      memoryCurrent: 100_000_000 + 4096 * second,
      io: [['8:0', 0, 1024 * 1024 * second, 0, 8 * second]],
      pids: 1 + second,
    }));

  it('reads CPU and memory every tick and the rest every 10 ticks, a tenth of the cgroups each tick', async () => {
    const roots = writeV2Host(dir, tree(0));
    let clock = 0;
    const collector = createCgroupsCollector({ ...roots, now: () => clock });
    await collector.prime?.();
    for (let second = 1; second <= 10; second++) {
      for (const group of tree(second)) writeV2Cgroup(roots.cgroupRoot, group);
      clock = second * 1000;
      const metrics = available(await collector.collect());
      expect(metrics.slowEveryTicks).toBe(10);
      const rows = collector.table()!.groups;
      // CPU and memory usage: fresh every tick for every cgroup.
      expect(new Set(rows.map((row) => row.cpuPercent))).toEqual(new Set([25]));
      expect(new Set(rows.map((row) => row.memoryBytes))).toEqual(
        new Set([100_000_000 + 4096 * second]),
      );
      // I/O and pids: two cgroups more each second have been read again. Whatever the time
      // between their two reads (1 s to 10 s), the rate is over that real time: 1 MiB/s.
      const refreshed = rows.filter((row) => row.pids !== 1);
      expect(refreshed.length).toBe(2 * second);
      for (const row of refreshed) expect(row.ioWriteBytesPerSec, row.id).toBe(1024 * 1024);
      for (const row of rows.filter((r) => r.pids === 1)) expect(row.ioWriteBytesPerSec).toBe(0);
    }
  });

  it('keeps descriptors open between ticks, gives back those of a cgroup gone, closes on stop', async () => {
    const roots = writeV2Host(dir, tree(0));
    let clock = 0;
    const collector = createCgroupsCollector(
      { ...roots, now: () => clock },
      { keepDescriptors: true, slowEveryTicks: 1 },
    );
    await collector.prime?.();
    // Nine files for each of the 20 cgroups.
    expect(collector.keptDescriptors()).toBe(180);
    // Rewritten in place, the files read anew from offset 0 through the same descriptors.
    for (const group of tree(1)) writeV2Cgroup(roots.cgroupRoot, group);
    clock = 1000;
    available(await collector.collect());
    expect(collector.table()!.groups[0]).toMatchObject({
      cpuPercent: 25,
      ioWriteBytesPerSec: 1024 * 1024,
      pids: 2,
    });
    expect(collector.keptDescriptors()).toBe(180);
    // A container stops; the next walk no longer finds it and its descriptors are closed.
    rmSync(path.join(roots.cgroupRoot, tree(0)[3]!.path), { recursive: true });
    clock = 11_000;
    expect(available(await collector.collect()).total).toBe(19);
    expect(collector.keptDescriptors()).toBe(171);
    await collector.stop?.();
    expect(collector.keptDescriptors()).toBe(0);
  });
});

describe('cgroups collector, idle cgroups', () => {
  /** 20 docker containers using `usageUsec` of CPU so far. */
  const containers = (usageUsec: number): V2Cgroup[] =>
    Array.from({ length: 20 }, (_, i) => ({
      path: `system.slice/docker-${containerId(i)}.scope`,
      usageUsec,
      memoryCurrent: 100_000_000,
      io: [['8:0', 0, 0, 0, 0]],
    }));

  it('reads an idle cgroup every 10 ticks, each on its turn, and shows one that woke within them', async () => {
    const roots = writeV2Host(dir, containers(1_000_000));
    let clock = 0;
    const collector = createCgroupsCollector({ ...roots, now: () => clock });
    await collector.prime?.();
    clock = 1000;
    const first = available(await collector.collect());
    expect(first.idleEveryTicks).toBe(10);
    // Idle since the prime. Then every container uses 2 s of CPU before the next tick.
    for (const group of containers(3_000_000)) writeV2Cgroup(roots.cgroupRoot, group);
    const seen = new Set<string>();
    for (let second = 2; second <= 11; second++) {
      clock = second * 1000;
      available(await collector.collect());
      const moved = collector.table()!.groups.filter((row) => row.cpuPercent > 0);
      // Two containers a tick are read on their turn: the CPU they used shows as the average
      // over the real time since their last read (second 1). Those read the tick before are
      // read again, found idle, and show 0 %.
      expect(moved.length, `second ${second}`).toBe(2);
      for (const row of moved) {
        expect(row.cpuPercent).toBe(round2(200 / (second - 1)));
        expect(seen.has(row.id)).toBe(false);
        seen.add(row.id);
      }
    }
    expect(seen.size).toBe(20);
  });

  it('reads a busy cgroup every tick beside idle ones, and a restart while skipped as a reset', async () => {
    const groups = containers(1_000_000);
    const roots = writeV2Host(dir, groups);
    let clock = 0;
    const collector = createCgroupsCollector({ ...roots, now: () => clock });
    await collector.prime?.();
    const busy = groups[0]!;
    const restarted = groups[1]!;
    const row = (group: V2Cgroup) => collector.table()!.groups.find((r) => r.id === group.path)!;
    let restartShownAt = 0;
    for (let second = 1; second <= 12; second++) {
      writeV2Cgroup(roots.cgroupRoot, { ...busy, usageUsec: 1_000_000 + 250_000 * second });
      // Restarted (created anew under the same id) at second 4, busy from second 12 on.
      if (second === 4) {
        writeV2Cgroup(roots.cgroupRoot, { ...restarted, usageUsec: 200_000, memoryCurrent: 4096 });
      }
      if (second === 12) {
        writeV2Cgroup(roots.cgroupRoot, { ...restarted, usageUsec: 450_000, memoryCurrent: 4096 });
      }
      clock = second * 1000;
      available(await collector.collect());
      expect(row(busy).cpuPercent, `second ${second}`).toBe(25);
      if (restartShownAt === 0 && row(restarted).memoryBytes === 4096) restartShownAt = second;
      // Counters that went backwards read as 0, not as a negative rate.
      expect(row(restarted).cpuPercent, `second ${second}`).toBe(second === 12 ? 25 : 0);
    }
    // Seen on its turn, within 10 ticks of the restart; read every tick after, as it moved.
    expect(restartShownAt).toBeGreaterThanOrEqual(4);
    expect(restartShownAt).toBeLessThan(14);
  });

  it('reads PSI of a quiet cgroup on every slow turn, its limit, I/O and pids on every third', async () => {
    const [web] = containers(1_000_000);
    const roots = writeV2Host(dir, [web!]);
    let clock = 0;
    const collector = createCgroupsCollector({ ...roots, now: () => clock });
    await collector.prime?.();
    // Idle all along; at second 5 its tasks stall on I/O (PSI) and writeback of what it
    // dirtied before writes 30 MiB (I/O without CPU).
    const shown = { psi: 0, io: 0 };
    for (let second = 1; second <= 30; second++) {
      if (second === 5) {
        writeV2Cgroup(roots.cgroupRoot, {
          ...web!,
          io: [['8:0', 0, 30 * 1024 * 1024, 0, 30]],
          psi: [0, 0, 40],
        });
      }
      clock = second * 1000;
      available(await collector.collect());
      const row = collector.table()!.groups[0]!;
      if (shown.psi === 0 && row.pressure.io === 40) shown.psi = second;
      if (shown.io === 0 && row.ioWriteBytesPerSec !== 0) {
        shown.io = second;
        // The rate spans the real time between the two reads of io.stat: 30 s.
        expect(row.ioWriteBytesPerSec).toBe(1024 * 1024);
      }
    }
    expect(shown).toEqual({ psi: 10, io: 30 });
  });
});

describe('cgroups collector on a v1-only host', () => {
  it('reads cpuacct, cpu, memory, blkio and pids trees and reports null PSI', async () => {
    const id = containerId(3);
    const sys = path.join(dir, 'sys/fs/cgroup');
    const proc = path.join(dir, 'proc');
    mkdirSync(path.join(proc, 'self'), { recursive: true });
    writeFileSync(
      path.join(proc, 'self/mountinfo'),
      [
        '25 22 0:23 / /sys/fs/cgroup ro,nosuid shared:9 - tmpfs tmpfs ro,mode=755',
        '26 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid shared:10 - cgroup cgroup rw,xattr,name=systemd',
        '28 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:12 - cgroup cgroup rw,cpu,cpuacct',
        '29 25 0:27 / /sys/fs/cgroup/memory rw,nosuid shared:13 - cgroup cgroup rw,memory',
        '30 25 0:28 / /sys/fs/cgroup/blkio rw,nosuid shared:14 - cgroup cgroup rw,blkio',
        '31 25 0:29 / /sys/fs/cgroup/pids rw,nosuid shared:15 - cgroup cgroup rw,pids',
        '',
      ].join('\n'),
    );
    const write = (controller: string, files: Record<string, string>) => {
      const at = path.join(sys, controller, 'docker', id);
      mkdirSync(at, { recursive: true });
      for (const [name, text] of Object.entries(files)) writeFileSync(path.join(at, name), text);
    };
    const reading = (usageNs: number, throttledNs: number, readBytes: number) => {
      write('cpu,cpuacct', {
        'cpuacct.usage': `${usageNs}\n`,
        'cpu.stat': `nr_periods 100\nnr_throttled 4\nthrottled_time ${throttledNs}\n`,
      });
      write('memory', {
        'memory.usage_in_bytes': '104857600\n',
        'memory.limit_in_bytes': '268435456\n',
        'memory.stat': 'cache 20971520\nrss 73400320\ntotal_cache 20971520\ntotal_rss 73400320\n',
      });
      write('blkio', {
        'blkio.throttle.io_service_bytes': `8:0 Read ${readBytes}\n8:0 Write 0\n8:0 Total ${readBytes}\nTotal ${readBytes}\n`,
        'blkio.throttle.io_serviced': `8:0 Read ${readBytes / 4096}\n8:0 Write 0\n8:0 Total ${readBytes / 4096}\nTotal ${readBytes / 4096}\n`,
      });
      write('pids', { 'pids.current': '4\n' });
    };
    reading(5_000_000_000, 1_000_000, 4096);
    let clock = 0;
    const collector = createCgroupsCollector(
      { procRoot: proc, sysRoot: path.join(dir, 'sys'), now: () => clock },
      { slowEveryTicks: 1 },
    );
    await collector.prime?.();
    reading(5_800_000_000, 21_000_000, 4096 * 11);
    clock = 2000;
    const metrics = available(await collector.collect());
    expect(metrics).toMatchObject({ layout: 'v1', total: 1 });
    expect(collector.table()!.groups[0]).toMatchObject({
      kind: 'container',
      runtime: 'docker',
      cpuPercent: 40,
      throttledMsPerSec: 10,
      memoryBytes: 104857600,
      memoryLimitBytes: 268435456,
      memoryAnonBytes: 73400320,
      memoryFileBytes: 20971520,
      ioReadBytesPerSec: 20480,
      ioReadOpsPerSec: 5,
      pids: 4,
      pressure: { cpu: null, memory: null, io: null },
    });
  });
});

describe('cgroups collector without cgroups', () => {
  it('throws, naming the problem, so the section says why', async () => {
    const proc = path.join(dir, 'proc');
    mkdirSync(path.join(proc, 'self'), { recursive: true });
    writeFileSync(path.join(proc, 'self/mountinfo'), '22 1 252:1 / / rw - ext4 /dev/vda1 rw\n');
    const collector = createCgroupsCollector({ procRoot: proc, sysRoot: dir, now: () => 0 });
    await expect(collector.collect()).rejects.toThrow(/no cgroup filesystem mounted/);
  });
});
