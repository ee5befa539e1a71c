import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

// Builds cgroup v2 trees for tests and bench/cgroups: files in the kernel's own formats (as
// Documentation/admin-guide/cgroup-v2.rst prints them and a 6.x kernel writes them) at their
// real paths, and a mountinfo that mounts the tree where the host would.

/** The numbers of one v2 cgroup; counters since the cgroup was created. */
export interface V2Cgroup {
  /** Path below the cgroup2 root, e.g. `system.slice/nginx.service`. */
  path: string;
  usageUsec: number;
  throttledUsec?: number;
  memoryCurrent: number;
  /** null writes `max` (no limit). */
  memoryMax?: number | null;
  anon?: number;
  file?: number;
  /** Per device: [major:minor, rbytes, wbytes, rios, wios]. */
  io?: [string, number, number, number, number][];
  pids?: number;
  /** `some avg10` of cpu, memory and io pressure, %. */
  psi?: [number, number, number];
}

/** A mountinfo with the cgroup2 tree at /sys/fs/cgroup, as on a v2-only systemd host. */
export const V2_MOUNTINFO = [
  '22 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro',
  '23 22 0:21 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw',
  '24 23 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot',
  '25 22 0:5 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw',
  '',
].join('\n');

const psiFile = (avg10: number) =>
  `some avg10=${avg10.toFixed(2)} avg60=${(avg10 / 2).toFixed(2)} avg300=0.00 total=${Math.round(avg10 * 1e5)}\n` +
  `full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n`;

/** Writes one cgroup's directory under `cgroupRoot` (the cgroup2 mount). */
export function writeV2Cgroup(cgroupRoot: string, group: V2Cgroup): void {
  const dir = path.join(cgroupRoot, group.path);
  mkdirSync(dir, { recursive: true });
  const anon = group.anon ?? Math.floor(group.memoryCurrent * 0.6);
  const file = group.file ?? Math.floor(group.memoryCurrent * 0.35);
  const throttled = group.throttledUsec ?? 0;
  const [cpuPsi, memoryPsi, ioPsi] = group.psi ?? [0, 0, 0];
  const files: Record<string, string> = {
    'cgroup.procs': '',
    'cgroup.controllers': 'cpuset cpu io memory pids\n',
    'cgroup.events': 'populated 1\nfrozen 0\n',
    'cpu.weight': '100\n',
    'cpu.max': 'max 100000\n',
    'cpu.stat':
      `usage_usec ${group.usageUsec}\nuser_usec ${Math.floor(group.usageUsec * 0.7)}\n` +
      `system_usec ${Math.ceil(group.usageUsec * 0.3)}\ncore_sched.force_idle_usec 0\n` +
      `nr_periods ${throttled > 0 ? 1200 : 0}\nnr_throttled ${throttled > 0 ? 300 : 0}\n` +
      `throttled_usec ${throttled}\nnr_bursts 0\nburst_usec 0\n`,
    'memory.current': `${group.memoryCurrent}\n`,
    'memory.max': group.memoryMax == null ? 'max\n' : `${group.memoryMax}\n`,
    'memory.high': 'max\n',
    'memory.stat':
      `anon ${anon}\nfile ${file}\nkernel ${group.memoryCurrent - anon - file}\n` +
      `kernel_stack 147456\npagetables 593920\nsec_pagetables 0\npercpu 2240\nsock 0\n` +
      `vmalloc 0\nshmem 0\nzswap 0\nzswapped 0\nfile_mapped ${Math.floor(file / 3)}\n` +
      `file_dirty 4096\nfile_writeback 0\nswapcached 0\nanon_thp 0\nfile_thp 0\nshmem_thp 0\n` +
      `inactive_anon ${anon}\nactive_anon 0\ninactive_file ${Math.floor(file / 2)}\n` +
      `active_file ${Math.ceil(file / 2)}\nunevictable 0\nslab_reclaimable 262144\n` +
      `slab_unreclaimable 131072\nslab 393216\nworkingset_refault_anon 0\n` +
      `workingset_refault_file 12\npgfault 48211\npgmajfault 3\n`,
    'io.stat': (group.io ?? [])
      .map(
        ([dev, rb, wb, ri, wi]) =>
          `${dev} rbytes=${rb} wbytes=${wb} rios=${ri} wios=${wi} dbytes=0 dios=0\n`,
      )
      .join(''),
    'pids.current': `${group.pids ?? 1}\n`,
    'pids.max': 'max\n',
    'cpu.pressure': psiFile(cpuPsi),
    'memory.pressure': psiFile(memoryPsi),
    'io.pressure': psiFile(ioPsi),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
}

/** Roots for the collector: `proc` (with self/mountinfo) and `sys` under `dir`. */
export interface TreeRoots {
  procRoot: string;
  sysRoot: string;
  /** The cgroup2 mount inside `sysRoot`. */
  cgroupRoot: string;
}

/** Writes a v2 host under `dir`: its mountinfo and every cgroup of `groups`. */
export function writeV2Host(dir: string, groups: readonly V2Cgroup[]): TreeRoots {
  rmSync(dir, { recursive: true, force: true });
  const procRoot = path.join(dir, 'proc');
  const sysRoot = path.join(dir, 'sys');
  const cgroupRoot = path.join(sysRoot, 'fs/cgroup');
  mkdirSync(path.join(procRoot, 'self'), { recursive: true });
  writeFileSync(path.join(procRoot, 'self/mountinfo'), V2_MOUNTINFO);
  mkdirSync(cgroupRoot, { recursive: true });
  for (const group of groups) writeV2Cgroup(cgroupRoot, group);
  return { procRoot, sysRoot, cgroupRoot };
}

const hex = (seed: number, length: number): string =>
  createHash('sha256').update(`livestat-${seed}`).digest('hex').slice(0, length);

/** A 64-hex container id, stable for a seed. */
export const containerId = (seed: number): string => hex(seed, 64);

/**
 * A busy v2 host with `count` cgroups worth showing, a mix of every layout: Docker with the
 * systemd and the cgroupfs drivers, Podman (rootful and rootless), kubepods pods with
 * containerd containers, systemd services, user slices and a VM — plus the units and scopes
 * that are not shown (mounts, sockets, init.scope, sessions), as a real tree has them.
 */
export function manyCgroups(count: number): V2Cgroup[] {
  const groups: V2Cgroup[] = [
    { path: 'init.scope', usageUsec: 9_000_000, memoryCurrent: 12_000_000 },
    { path: 'system.slice/boot.mount', usageUsec: 10, memoryCurrent: 4096 },
    { path: 'system.slice/dbus.socket', usageUsec: 10, memoryCurrent: 4096 },
    { path: 'user.slice/user-1000.slice', usageUsec: 2_000_000, memoryCurrent: 90_000_000 },
    { path: 'user.slice/user-1000.slice/session-3.scope', usageUsec: 500, memoryCurrent: 81920 },
  ];
  const kinds = [
    (i: number) => `system.slice/docker-${containerId(i)}.scope`,
    (i: number) => `docker/${containerId(i)}`,
    (i: number) => `machine.slice/libpod-${containerId(i)}.scope`,
    (i: number) =>
      `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${hex(i, 8)}_${hex(i + 1, 4)}.slice/cri-containerd-${containerId(i)}.scope`,
    (i: number) => `system.slice/svc-${i}.service`,
    (i: number) =>
      `user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${containerId(i)}.scope`,
  ];
  for (let i = 0; i < count; i++) {
    groups.push({
      path: kinds[i % kinds.length]!(i),
      usageUsec: 1_000_000 * (i + 1),
      throttledUsec: i % 7 === 0 ? 5_000 * i : 0,
      memoryCurrent: 4096 * (1000 + ((i * 7919) % 50_000)),
      memoryMax: i % 3 === 0 ? 512 * 1024 * 1024 : null,
      io: [
        ['8:0', 4096 * i, 8192 * i, i, 2 * i],
        ['253:0', 4096 * i, 8192 * i, i, 2 * i],
      ],
      pids: 1 + (i % 40),
      psi: [i % 5, 0, i % 2],
    });
  }
  return groups;
}
