import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseExportedVmstat } from './bandwidth.js';
import { createCpuCollector } from './cpu.js';
import { createDiskCollector, exportedMounts, parseMounts } from './disk.js';
import { parseMeminfoFields } from './memory.js';
import { createNetworkCollector, readNetDev } from './network.js';

// The cumulative counters each collector adds beside its rates, which /metrics exposes under
// node_exporter's names: they must be the kernel's own numbers, in node_exporter's units.

const fixtures = fileURLToPath(new URL('../../test/fixtures/proc/', import.meta.url));
const DEBIAN = path.join(fixtures, 'debian12-vm-6.18/t0');
const clock = () => {
  let t = 0;
  return () => (t += 1000);
};

let dir: string | null = null;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = null;
});

describe('kernel counters in the snapshot', () => {
  it('keeps every meminfo field, kB fields in bytes and the others plain', () => {
    const fields = parseMeminfoFields(
      'MemTotal:  1000 kB\nActive(anon):   17080 kB\nHugePages_Total:       3\n',
    );
    expect(fields).toEqual([
      ['MemTotal', 1024000],
      ['Active(anon)', 17080 * 1024],
      ['HugePages_Total', 3],
    ]);
  });

  it('keeps the vmstat counters node_exporter exports by default, and no others', () => {
    const text =
      'nr_free_pages 5\npgpgin 714877\npgpgout 1\npswpin 2\npswpout 3\npgfault 4\npgmajfault 6\npgfree 9\noom_kill 7\n';
    expect(parseExportedVmstat(text)).toEqual([
      ['pgpgin', 714877],
      ['pgpgout', 1],
      ['pswpin', 2],
      ['pswpout', 3],
      ['pgfault', 4],
      ['pgmajfault', 6],
      ['oom_kill', 7],
    ]);
  });

  it('lists mount points as node_exporter does: no /proc, /sys, /dev or pseudo filesystems', () => {
    const mounts = parseMounts(
      [
        'proc /proc proc rw 0 0',
        '/dev/vda / ext4 rw 0 0',
        'tmpfs /dev/shm tmpfs rw 0 0',
        'tmpfs /run tmpfs rw 0 0',
        'cgroup2 /sys/fs/cgroup cgroup2 rw 0 0',
        'overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0',
        '/dev/vdb /srv ext4 rw 0 0',
        '/dev/vdc /srv xfs rw 0 0',
      ].join('\n'),
    );
    expect(exportedMounts(mounts).map((m) => `${m.device} ${m.mountPoint}`)).toEqual([
      '/dev/vda /',
      'tmpfs /run',
      '/dev/vdc /srv',
    ]);
  });

  it('gives per-core mode seconds, context switches, interrupts and boot time', async () => {
    const collector = createCpuCollector({
      procRoot: DEBIAN,
      sysRoot: '/nonexistent',
      now: clock(),
    });
    const cpu = await collector.collect();
    if (!cpu.available) throw new Error('expected cpu');
    // cpu0 2223 0 1001 12780 7 0 8 32: USER_HZ ticks, node_exporter's seconds
    expect(cpu.cores[0]?.seconds).toEqual([22.23, 0, 10.01, 127.8, 0.07, 0, 0.08, 0.32]);
    const [contextSwitches, interrupts, bootTime] = cpu.counters ?? [];
    expect(bootTime).toBe(1795299327);
    expect(contextSwitches).toBeGreaterThan(0);
    expect(interrupts).toBeGreaterThan(0);
  });

  it("reads the host's network namespace from PID 1 when it is there", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'livestat-netns-'));
    const header = 'Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n';
    const line = (name: string, rx: number) =>
      `${name}: ${rx} 2 3 4 0 0 0 0 ${rx * 2} 6 7 8 0 0 0 0\n`;
    await mkdir(path.join(dir, 'net'));
    await mkdir(path.join(dir, '1/net'), { recursive: true });
    await writeFile(path.join(dir, 'net/dev'), header + line('lo', 10));
    expect([...readNetDev(dir).keys()]).toEqual(['lo']);
    await writeFile(path.join(dir, '1/net/dev'), header + line('lo', 10) + line('eth0', 1000));
    expect([...readNetDev(dir).keys()]).toEqual(['lo', 'eth0']);

    const collector = createNetworkCollector({
      procRoot: dir,
      sysRoot: '/nonexistent',
      now: clock(),
    });
    const network = await collector.collect();
    if (!network.available) throw new Error('expected network');
    expect(network.interfaces.eth0?.counters).toEqual([1000, 2, 3, 4, 2000, 6, 7, 8]);
  });

  it("judges the host's interfaces by name when the container's /sys does not list them", async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'livestat-netns-'));
    const header = 'Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n';
    const line = (name: string, rx: number) => `${name}: ${rx} 0 0 0 0 0 0 0 ${rx} 0 0 0 0 0 0 0\n`;
    await mkdir(path.join(dir, 'proc/1/net'), { recursive: true });
    await mkdir(path.join(dir, 'proc/net'), { recursive: true });
    await writeFile(path.join(dir, 'proc/net/dev'), header + line('lo', 1));
    const host = ['lo', 'eth0', 'docker0', 'veth1a2b3c', 'br-0123abcd'];
    await writeFile(
      path.join(dir, 'proc/1/net/dev'),
      header + host.map((n) => line(n, 100)).join(''),
    );
    // The container's own sysfs: its lo and its eth0 (a veth on the host side).
    await mkdir(path.join(dir, 'sys/class/net'), { recursive: true });
    await symlink('../../devices/virtual/net/lo', path.join(dir, 'sys/class/net/lo'));
    await symlink('../../devices/virtual/net/eth0', path.join(dir, 'sys/class/net/eth0'));

    let t = 0;
    const collector = createNetworkCollector({
      procRoot: path.join(dir, 'proc'),
      sysRoot: path.join(dir, 'sys'),
      now: () => (t += 1000),
    });
    await collector.prime?.();
    const network = await collector.collect();
    if (!network.available) throw new Error('expected network');
    expect(Object.keys(network.interfaces)).toEqual(host);
    expect(network.interfaces.docker0?.virtual).toBe(true);
    expect(network.interfaces['veth1a2b3c']?.virtual).toBe(true);
    expect(network.interfaces['br-0123abcd']?.virtual).toBe(true);
  });

  it('gives device counters in bytes and ms, and measures mounts under the root filesystem', async () => {
    const asked: string[] = [];
    const collector = createDiskCollector(
      { procRoot: DEBIAN, sysRoot: '/nonexistent', rootFs: '/host', now: clock() },
      {
        statfs: async (mountPoint) => {
          asked.push(mountPoint);
          return { bsize: 4096, blocks: 100, bfree: 40, bavail: 30, files: 50, ffree: 20 };
        },
      },
    );
    const disk = await collector.collect();
    if (!disk.available) throw new Error('expected disk');
    // vda: 29325 reads, 1429754 sectors read, 23888 writes, 1477000 sectors written, io 4332 ms
    expect(disk.devices.vda?.counters).toEqual([29325, 1429754 * 512, 23888, 1477000 * 512, 4332]);
    expect(asked).toContain('/host/');
    expect(asked.every((p) => p.startsWith('/host'))).toBe(true);
    expect(disk.mounts).toContainEqual(['/', '/dev/vda', 'ext4', 409600, 163840, 122880, 50, 20]);
    expect(disk.filesystems.map((fs) => fs.mountPoint)).toEqual(['/']);
  });
});
