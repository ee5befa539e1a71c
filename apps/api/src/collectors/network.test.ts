import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { networkMetrics } from '@livestat/contracts';
import { describe, expect, it } from 'vitest';
import {
  computeNetworkMetrics,
  createNetworkCollector,
  isLoopback,
  isVirtualLink,
  parseNetDev,
  readNetDev,
  readVirtualInterfaces,
} from './network.js';
import { CollectorError } from './types.js';

const testRoot = path.resolve(fileURLToPath(import.meta.url), '../../../test/fixtures');
const fixtures = path.join(testRoot, 'proc');
const debian = path.join(fixtures, 'debian12-vm-6.18');
const synthetic = path.join(fixtures, 'synthetic-64core-6.8');
const debianSys = path.join(testRoot, 'sys/debian12-vm-6.18');
const syntheticSys = path.join(testRoot, 'sys/synthetic-64core-6.8');

const HEADER = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
`;

/** A fake monotonic clock returning the given instants in turn. */
function clock(...instants: number[]): () => number {
  let i = 0;
  return () => instants[Math.min(i++, instants.length - 1)] ?? 0;
}

describe('parseNetDev', () => {
  it('reads the 16 columns, names with dots and dashes, and no space after the colon', () => {
    const reading = parseNetDev(
      HEADER +
        '    lo:   36230     482    0    0    0     0          0         0    36230     482    0    0    0     0       0          0\n' +
        '  eth0:1234567890123 987654321   12  340    0     0          0      5555 456789012345 654321098    1    3    0     0       0          0\n' +
        'eth0.100: 10 2 0 1 0 0 0 0 20 4 0 0 0 0 0 0\n' +
        'br-3f2a1b4c5d6e: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n',
    );
    expect([...reading.keys()]).toEqual(['lo', 'eth0', 'eth0.100', 'br-3f2a1b4c5d6e']);
    expect(reading.get('eth0')).toEqual({
      rxBytes: 1234567890123,
      rxPackets: 987654321,
      rxErrors: 12,
      rxDrops: 340,
      txBytes: 456789012345,
      txPackets: 654321098,
      txErrors: 1,
      txDrops: 3,
    });
    // tx bytes/packets/errs/drop are columns 9–12, not the fifo/frame/compressed ones
    expect(reading.get('br-3f2a1b4c5d6e')).toEqual({
      rxBytes: 1,
      rxPackets: 2,
      rxErrors: 3,
      rxDrops: 4,
      txBytes: 9,
      txPackets: 10,
      txErrors: 11,
      txDrops: 12,
    });
  });

  it('ignores extra columns a newer kernel may append, and blank lines', () => {
    const reading = parseNetDev(
      HEADER +
        '  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18\n\n  eth1: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n',
    );
    expect(reading.get('eth0')?.txDrops).toBe(12);
    expect(reading.size).toBe(2);
  });

  it('accepts a header-only file (no interfaces)', () => {
    expect(parseNetDev(HEADER).size).toBe(0);
  });

  it('throws a CollectorError on a missing header, missing columns or garbage', () => {
    expect(() => parseNetDev('')).toThrow(/missing the two header lines/);
    expect(() => parseNetDev('  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n')).toThrow(
      CollectorError,
    );
    expect(() => parseNetDev(HEADER + '  eth0: 1 2 3 4 5 6 7 8\n')).toThrow(
      /line 3: expected "name: 16 counters"/,
    );
    expect(() => parseNetDev(HEADER + '  eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n')).toThrow(
      /line 3/,
    );
    expect(() => parseNetDev(HEADER + '  eth0: 1 2 x 4 5 6 7 8 9 10 11 12 13 14 15 16\n')).toThrow(
      /"x" is not a counter \(interface eth0\)/,
    );
    expect(() => parseNetDev(HEADER + '  eth0: 1 2 -3 4 5 6 7 8 9 10 11 12 13 14 15 16\n')).toThrow(
      CollectorError,
    );
  });
});

describe('isLoopback', () => {
  it('is true for lo only', () => {
    expect(isLoopback('lo')).toBe(true);
    expect(isLoopback('eth0')).toBe(false);
    expect(isLoopback('lo0')).toBe(false);
  });
});

describe('isVirtualLink', () => {
  it('is true for links into devices/virtual/net (lo, ifb, bond, VLAN, bridge, veth, tunnel)', () => {
    for (const name of ['lo', 'ifb0', 'bond0', 'eth0.100', 'br-3f2a1b4c5d6e', 'veth69d345c']) {
      expect(isVirtualLink(`../../devices/virtual/net/${name}`)).toBe(true);
    }
    expect(isVirtualLink('/sys/devices/virtual/net/wg0')).toBe(true);
    expect(isVirtualLink('../../devices/virtual/net/tun0/')).toBe(true);
  });

  it('is false for devices on a bus, other virtual classes, and an empty target', () => {
    // The real eth0 of the debian12 KVM guest.
    expect(isVirtualLink('../../devices/pci0000:00/0000:00:03.0/virtio2/net/eth0')).toBe(false);
    expect(isVirtualLink('../../devices/pci0000:00/0000:00:01.0/0000:01:00.0/net/eth0')).toBe(
      false,
    );
    // A simulated radio has its own (virtual) parent device, not devices/virtual/net.
    expect(isVirtualLink('../../devices/virtual/mac80211_hwsim/hwsim0/net/wlan0')).toBe(false);
    expect(isVirtualLink('../../devices/pci0000:00/virtual/net/x')).toBe(false);
    expect(isVirtualLink('')).toBe(false);
  });
});

describe('computeNetworkMetrics', () => {
  const line = (name: string, rxBytes: number, rxPackets: number, txBytes: number) =>
    `${name}: ${rxBytes} ${rxPackets} 0 0 0 0 0 0 ${txBytes} ${rxPackets} 0 0 0 0 0 0\n`;

  it('gives per-second rates over the real elapsed time and excludes lo from totals', () => {
    const t0 = parseNetDev(HEADER + line('lo', 0, 0, 0) + line('eth0', 1000, 10, 500));
    const t1 = parseNetDev(HEADER + line('lo', 9000, 90, 9000) + line('eth0', 4000, 16, 1500));
    const payload = computeNetworkMetrics(t0, t1, 2000);
    expect(networkMetrics.parse(payload)).toEqual(payload);
    expect(payload.interfaces.eth0).toMatchObject({
      rxBytesPerSec: 1500,
      txBytesPerSec: 500,
      rxPacketsPerSec: 3,
      loopback: false,
      virtual: false,
    });
    // With nothing known about virtual interfaces, lo is still virtual.
    expect(payload.interfaces.lo).toMatchObject({
      rxBytesPerSec: 4500,
      loopback: true,
      virtual: true,
    });
    expect(payload.rxBytesPerSec).toBe(1500);
    expect(payload.txBytesPerSec).toBe(500);
  });

  it('leaves virtual interfaces out of totals so stacked traffic is counted once', () => {
    const t0 = parseNetDev(
      HEADER +
        line('lo', 0, 0, 0) +
        line('eth0', 0, 0, 0) +
        line('eth1', 0, 0, 0) +
        line('bond0', 0, 0, 0) +
        line('bond0.7', 0, 0, 0) +
        line('eth9', 0, 0, 0),
    );
    const t1 = parseNetDev(
      HEADER +
        line('lo', 800, 8, 800) +
        line('eth0', 3000, 30, 1000) +
        line('eth1', 1000, 10, 500) +
        line('bond0', 4000, 40, 1500) +
        line('bond0.7', 600, 6, 200) +
        line('eth9', 50, 5, 70),
    );
    // eth9 is missing from /sys/class/net (it raced away): not known virtual, so it counts.
    const payload = computeNetworkMetrics(t0, t1, 1000, new Set(['lo', 'bond0', 'bond0.7']));
    expect(networkMetrics.parse(payload)).toEqual(payload);
    const flags = Object.fromEntries(
      Object.entries(payload.interfaces).map(([name, i]) => [name, [i.loopback, i.virtual]]),
    );
    expect(flags).toEqual({
      lo: [true, true],
      eth0: [false, false],
      eth1: [false, false],
      bond0: [false, true],
      'bond0.7': [false, true],
      eth9: [false, false],
    });
    expect(payload.interfaces.bond0?.rxBytesPerSec).toBe(4000);
    expect(payload.rxBytesPerSec).toBe(4050);
    expect(payload.txBytesPerSec).toBe(1570);
    expect(payload.rxPacketsPerSec).toBe(45);
  });

  it('drops a vanished interface, gives a new one 0, and turns a reset into 0', () => {
    const t0 = parseNetDev(HEADER + line('eth0', 5000, 50, 5000) + line('veth1', 100, 1, 100));
    const t1 = parseNetDev(HEADER + line('eth0', 200, 2, 300) + line('veth2', 7000, 70, 7000));
    const payload = computeNetworkMetrics(t0, t1, 1000);
    expect(networkMetrics.parse(payload)).toEqual(payload);
    expect(Object.keys(payload.interfaces)).toEqual(['eth0', 'veth2']);
    expect(payload.interfaces.eth0?.rxBytesPerSec).toBe(0);
    expect(payload.interfaces.veth2?.rxBytesPerSec).toBe(0);
    expect(payload.rxBytesPerSec).toBe(0);
    expect(payload.txPacketsPerSec).toBe(0);
  });

  it('rounds to 2 decimals', () => {
    const t0 = parseNetDev(HEADER + line('eth0', 0, 0, 0));
    const t1 = parseNetDev(HEADER + line('eth0', 10, 1, 0));
    const payload = computeNetworkMetrics(t0, t1, 3000);
    expect(payload.rxBytesPerSec).toBe(3.33);
    expect(payload.interfaces.eth0?.rxPacketsPerSec).toBe(0.33);
  });
});

describe('readVirtualInterfaces', () => {
  it('reads the real debian12 links: lo, ifb0, ifb1 virtual; eth0 on virtio-pci is not', async () => {
    expect([...(await readVirtualInterfaces(debianSys))].sort()).toEqual(['ifb0', 'ifb1', 'lo']);
  });

  it('finds the 36 virtual interfaces of the synthetic tree, eth0–eth3 being physical', async () => {
    const names = await readVirtualInterfaces(syntheticSys);
    expect(names.size).toBe(36);
    for (const name of ['lo', 'bond0', 'eth0.100', 'docker0', 'virbr0', 'veth0ld0ne']) {
      expect(names.has(name)).toBe(true);
    }
    for (const name of ['eth0', 'eth1', 'eth2', 'eth3', 'vethn3w1y']) {
      expect(names.has(name)).toBe(false);
    }
  });

  it('returns an empty set when class/net cannot be read (no /sys)', async () => {
    expect((await readVirtualInterfaces('/nonexistent')).size).toBe(0);
    // The resctrl sys fixture has no class/net either.
    expect((await readVirtualInterfaces(path.join(testRoot, 'sys/resctrl-2socket'))).size).toBe(0);
  });

  it('treats an entry that is not a symlink as physical', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'livestat-net-'));
    try {
      await mkdir(path.join(root, 'class/net'), { recursive: true });
      await writeFile(path.join(root, 'class/net/eth7'), '');
      await symlink('../../devices/virtual/net/br0', path.join(root, 'class/net/br0'));
      expect([...(await readVirtualInterfaces(root))]).toEqual(['br0']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('readNetDev and createNetworkCollector', () => {
  it('reads the real debian12 capture', async () => {
    const t0 = await readNetDev(path.join(debian, 't0'));
    const t1 = await readNetDev(path.join(debian, 't1'));
    const payload = computeNetworkMetrics(t0, t1, 1000);
    expect(networkMetrics.parse(payload)).toEqual(payload);
    expect(Object.keys(payload.interfaces)).toEqual(['lo', 'ifb0', 'ifb1', 'eth0']);
    expect(payload.interfaces.lo).toMatchObject({ rxBytesPerSec: 32843156, loopback: true });
    expect(payload.interfaces.eth0).toMatchObject({
      rxBytesPerSec: 10927737,
      txBytesPerSec: 17790,
      rxPacketsPerSec: 273,
      txPacketsPerSec: 126,
    });
    expect(payload.rxBytesPerSec).toBe(10927737);
    expect(payload.txBytesPerSec).toBe(17790);
  });

  it('collects the debian12 capture with its /sys/class/net: ifb0/ifb1 virtual, eth0 totals', async () => {
    const deps = { procRoot: path.join(debian, 't0'), sysRoot: debianSys, now: clock(0, 1000) };
    const collector = createNetworkCollector(deps);
    await collector.prime?.();
    deps.procRoot = path.join(debian, 't1');
    const payload = await collector.collect();
    expect(networkMetrics.parse(payload)).toEqual(payload);
    if (!payload.available) throw new Error('expected an available payload');
    const virtual = Object.fromEntries(
      Object.entries(payload.interfaces).map(([name, i]) => [name, i.virtual]),
    );
    expect(virtual).toEqual({ lo: true, ifb0: true, ifb1: true, eth0: false });
    expect(payload.interfaces.lo?.loopback).toBe(true);
    expect(payload.rxBytesPerSec).toBe(10927737);
    expect(payload.txBytesPerSec).toBe(17790);
    expect(payload.rxPacketsPerSec).toBe(273);
    expect(payload.txPacketsPerSec).toBe(126);
  });

  it('totals only eth0–eth3 of the synthetic tree when its /sys/class/net is there', async () => {
    const deps = {
      procRoot: path.join(synthetic, 't0'),
      sysRoot: syntheticSys,
      now: clock(0, 1000),
    };
    const collector = createNetworkCollector(deps);
    await collector.prime?.();
    deps.procRoot = path.join(synthetic, 't1');
    const payload = await collector.collect();
    expect(networkMetrics.parse(payload)).toEqual(payload);
    if (!payload.available) throw new Error('expected an available payload');

    expect(Object.keys(payload.interfaces)).toHaveLength(40);
    const physical = Object.entries(payload.interfaces)
      .filter(([, i]) => !i.virtual)
      .map(([name]) => name);
    // vethn3w1y appeared after /sys was listed: /sys cannot say, so its name makes it virtual.
    expect(physical).toEqual(['eth0', 'eth1', 'eth2', 'eth3']);
    expect(payload.interfaces.vethn3w1y?.virtual).toBe(true);
    expect(payload.interfaces.lo).toMatchObject({ loopback: true, virtual: true });
    expect(payload.interfaces.bond0).toMatchObject({
      rxBytesPerSec: 100_000_000,
      loopback: false,
      virtual: true,
    });
    expect(payload.interfaces.eth0).toMatchObject({ rxBytesPerSec: 62_500_000, virtual: false });
    // Sums of eth0–eth3 only (awk over the fixture); bond0 (= eth0 + eth1), the VLAN, bridges
    // and veths no longer count the same bytes again.
    expect({
      rxBytesPerSec: payload.rxBytesPerSec,
      txBytesPerSec: payload.txBytesPerSec,
      rxPacketsPerSec: payload.rxPacketsPerSec,
      txPacketsPerSec: payload.txPacketsPerSec,
      rxErrorsPerSec: payload.rxErrorsPerSec,
      txErrorsPerSec: payload.txErrorsPerSec,
      rxDropsPerSec: payload.rxDropsPerSec,
      txDropsPerSec: payload.txDropsPerSec,
    }).toEqual({
      rxBytesPerSec: 100_125_000,
      txBytesPerSec: 20_062_500,
      rxPacketsPerSec: 75_150,
      txPacketsPerSec: 35_090,
      rxErrorsPerSec: 2,
      txErrorsPerSec: 0,
      rxDropsPerSec: 6,
      txDropsPerSec: 0,
    });
  });

  it('falls back to every non-loopback interface on the synthetic tree without /sys', async () => {
    // The collector reads procRoot each time; point it at t0, then at t1 for the second read.
    const deps = {
      procRoot: path.join(synthetic, 't0'),
      sysRoot: '/nonexistent',
      now: clock(0, 1000),
    };
    const collector = createNetworkCollector(deps);
    await collector.prime?.();
    deps.procRoot = path.join(synthetic, 't1');
    const payload = await collector.collect();
    expect(networkMetrics.parse(payload)).toEqual(payload);
    if (!payload.available) throw new Error('expected an available payload');

    expect(Object.keys(payload.interfaces)).toHaveLength(40);
    expect(payload.interfaces).not.toHaveProperty('veth0ld0ne');
    expect(payload.interfaces.vethn3w1y).toMatchObject({ rxBytesPerSec: 0, txBytesPerSec: 0 });
    expect(payload.interfaces.virbr0).toMatchObject({ rxBytesPerSec: 0, rxPacketsPerSec: 0 });
    expect(payload.interfaces.lo).toMatchObject({ rxBytesPerSec: 5_000_000, loopback: true });
    expect(payload.interfaces.eth0).toMatchObject({
      rxBytesPerSec: 62_500_000,
      txBytesPerSec: 12_500_000,
      rxPacketsPerSec: 45_000,
      txPacketsPerSec: 20_000,
      rxErrorsPerSec: 2,
      txErrorsPerSec: 0,
      rxDropsPerSec: 5,
      txDropsPerSec: 0,
      loopback: false,
      virtual: false,
    });
    // Without /sys/class/net only lo is known virtual.
    expect(
      Object.entries(payload.interfaces)
        .filter(([, i]) => i.virtual)
        .map(([name]) => name),
    ).toEqual(['lo']);
    expect(payload.interfaces.bond0?.rxBytesPerSec).toBe(100_000_000);
    expect(payload.interfaces['eth0.100']?.rxBytesPerSec).toBe(2_500_000);
    expect(payload.interfaces['br-3f2a1b4c5d6e']?.txBytesPerSec).toBe(1_200_000);
    // The old rule: sums over every non-loopback interface present in both readings (awk over
    // the fixture), so bond0, VLAN, bridges and veths count the same traffic again.
    expect(payload.rxBytesPerSec).toBe(213_216_000);
    expect(payload.txBytesPerSec).toBe(53_947_500);
    expect(payload.rxPacketsPerSec).toBe(167_286);
    expect(payload.rxDropsPerSec).toBe(14);
  });

  it('primes on a first collect() without prime() and reports 0 rates', async () => {
    const collector = createNetworkCollector({
      procRoot: path.join(debian, 't1'),
      sysRoot: '/nonexistent',
      now: clock(0, 1000),
    });
    const first = await collector.collect();
    expect(networkMetrics.parse(first)).toEqual(first);
    if (!first.available) throw new Error('expected an available payload');
    expect(first.rxBytesPerSec).toBe(0);
    expect(first.interfaces.lo?.rxBytesPerSec).toBe(0);
    expect(Object.keys(first.interfaces)).toHaveLength(4);
  });

  it('throws a CollectorError naming the file when net/dev is missing', async () => {
    const collector = createNetworkCollector({
      procRoot: path.join(fixtures, 'does-not-exist'),
      sysRoot: '/nonexistent',
      now: clock(0),
    });
    await expect(collector.collect()).rejects.toThrow(/cannot read .*net\/dev: not found/);
  });
});
