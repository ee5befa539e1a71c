// Writes the checked-in v2 cgroup fixture hosts under test/fixtures/{proc,sys}/v2-<layout>-6.8:
// one host per layout a runtime makes (Docker with the systemd driver and with cgroupfs,
// Podman rootful and rootless, containerd/nerdctl, kubepods with containerd and CRI-O, a
// systemd host with services, sessions and a VM), each cgroup by hand, at two readings 1 s
// apart (t0, t1). Paths follow what each runtime creates (docker/docker#40323, containers/
// podman's cgroups docs, kubelet's cgroup driver docs); the files are in the kernel's formats
// (test/cgroup-tree.ts). The fixtures are the files; this script only says how they were made:
//
//   npx tsx apps/api/test/write-cgroup-fixtures.ts
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { V2_MOUNTINFO, writeV2Cgroup, type V2Cgroup } from './cgroup-tree.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const MiB = 1024 * 1024;

/** One cgroup as the fixture holds it: its t0 numbers and what one second adds. */
interface HandCgroup {
  path: string;
  /** CPU µs used in the second between t0 and t1. */
  cpuUsPerSec: number;
  memory: number;
  limit?: number | null;
  /** Bytes written in that second (one device, 8:0), and read. */
  writePerSec?: number;
  readPerSec?: number;
  pids: number;
  psi?: [number, number, number];
  throttledUsPerSec?: number;
}

// Container ids as runtimes print them: 64 hex.
const id = (prefix: string): string => prefix.padEnd(64, '0').replace(/[^0-9a-f]/g, 'a');

export const LAYOUTS: Record<string, { about: string; groups: HandCgroup[] }> = {
  docker: {
    about:
      'Docker 27 with the systemd cgroup driver (system.slice/docker-<id>.scope) on Debian 12, ' +
      'plus one engine still on the cgroupfs driver (/docker/<id>), which old hosts have',
    groups: [
      { path: 'init.scope', cpuUsPerSec: 1000, memory: 12 * MiB, pids: 1 },
      { path: 'system.slice/docker.service', cpuUsPerSec: 20_000, memory: 80 * MiB, pids: 24 },
      { path: 'system.slice/containerd.service', cpuUsPerSec: 8000, memory: 40 * MiB, pids: 15 },
      { path: 'system.slice/ssh.service', cpuUsPerSec: 0, memory: 5 * MiB, pids: 1 },
      { path: 'system.slice/docker.socket', cpuUsPerSec: 0, memory: 0, pids: 0 },
      { path: 'system.slice/boot-efi.mount', cpuUsPerSec: 0, memory: 0, pids: 0 },
      ...['1a2b3c4d5e6f', '2b3c4d5e6f70', '3c4d5e6f7081', '4d5e6f708192', '5e6f708192a3'].map(
        (prefix, i): HandCgroup => ({
          path: `system.slice/docker-${id(prefix)}.scope`,
          cpuUsPerSec: 100_000 * (i + 1),
          memory: (64 + 32 * i) * MiB,
          limit: i % 2 === 0 ? 512 * MiB : null,
          writePerSec: 256 * 1024 * i,
          readPerSec: 4096 * i,
          pids: 3 + i,
          psi: [i, 0, i % 2],
          throttledUsPerSec: i === 4 ? 20_000 : 0,
        }),
      ),
      {
        path: `docker/${id('cafe0001')}`,
        cpuUsPerSec: 50_000,
        memory: 30 * MiB,
        pids: 2,
      },
      {
        path: `docker/${id('cafe0002')}`,
        cpuUsPerSec: 0,
        memory: 8 * MiB,
        pids: 1,
      },
      { path: 'user.slice/user-1000.slice', cpuUsPerSec: 5000, memory: 120 * MiB, pids: 9 },
      {
        path: 'user.slice/user-1000.slice/session-4.scope',
        cpuUsPerSec: 5000,
        memory: 20 * MiB,
        pids: 3,
      },
    ],
  },
  podman: {
    about:
      'Podman 5 rootful (machine.slice/libpod-<id>.scope with its libpod-conmon-<id>.scope beside ' +
      'it) and rootless under user@1000.service (…/user.slice/libpod-<id>.scope), Fedora-style',
    groups: [
      { path: 'init.scope', cpuUsPerSec: 1000, memory: 10 * MiB, pids: 1 },
      { path: 'system.slice/sshd.service', cpuUsPerSec: 0, memory: 6 * MiB, pids: 1 },
      ...['d00d01', 'd00d02', 'd00d03', 'd00d04'].flatMap((prefix, i): HandCgroup[] => [
        {
          path: `machine.slice/libpod-${id(prefix)}.scope`,
          cpuUsPerSec: 40_000 * (i + 1),
          memory: (50 + 10 * i) * MiB,
          limit: 256 * MiB,
          writePerSec: 8192 * i,
          pids: 2 + i,
          psi: [0, i, 0],
        },
        {
          path: `machine.slice/libpod-conmon-${id(prefix)}.scope`,
          cpuUsPerSec: 100,
          memory: 1 * MiB,
          pids: 1,
        },
      ]),
      { path: 'user.slice/user-1000.slice', cpuUsPerSec: 90_000, memory: 300 * MiB, pids: 20 },
      ...['beef01', 'beef02', 'beef03'].map((prefix, i): HandCgroup => ({
        path: `user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${id(prefix)}.scope`,
        cpuUsPerSec: 30_000 * (i + 1),
        memory: (20 + 5 * i) * MiB,
        pids: 1 + i,
      })),
      {
        path: 'user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service',
        cpuUsPerSec: 100,
        memory: 2 * MiB,
        pids: 1,
      },
    ],
  },
  containerd: {
    about:
      'containerd 1.7 driven by nerdctl with the cgroupfs driver: /<namespace>/<id> (namespace ' +
      '`default`), containerd itself a systemd service',
    groups: [
      { path: 'init.scope', cpuUsPerSec: 1000, memory: 10 * MiB, pids: 1 },
      { path: 'system.slice/containerd.service', cpuUsPerSec: 12_000, memory: 45 * MiB, pids: 18 },
      ...['c0ffee01', 'c0ffee02', 'c0ffee03', 'c0ffee04', 'c0ffee05', 'c0ffee06'].map(
        (prefix, i): HandCgroup => ({
          path: `default/${id(prefix)}`,
          cpuUsPerSec: 25_000 * (i + 1),
          memory: (16 + 16 * i) * MiB,
          limit: i < 3 ? 128 * MiB : null,
          readPerSec: 65536 * i,
          pids: 1 + i,
          psi: [i % 3, 0, 0],
        }),
      ),
    ],
  },
  kubepods: {
    about:
      'a kubelet node with the systemd driver: Guaranteed pods under kubepods.slice, Burstable and ' +
      'BestEffort under their QoS slices, containers as cri-containerd-<id>.scope (and one CRI-O ' +
      'crio-<id>.scope), each pod with its pause container',
    groups: [
      { path: 'system.slice/kubelet.service', cpuUsPerSec: 30_000, memory: 90 * MiB, pids: 30 },
      { path: 'system.slice/containerd.service', cpuUsPerSec: 15_000, memory: 60 * MiB, pids: 40 },
      ...[
        ['kubepods.slice/kubepods-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice', 'a0'],
        [
          'kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_5f60_789a_bcde_f01234567890.slice',
          'b0',
        ],
        [
          'kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod2c3d4e5f_6071_89ab_cdef_012345678901.slice',
          'c0',
        ],
        [
          'kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod3d4e5f60_7182_9abc_def0_123456789012.slice',
          'd0',
        ],
      ].flatMap(([pod, prefix], i): HandCgroup[] => [
        {
          path: `${pod}/cri-containerd-${id(`${prefix}0001`)}.scope`,
          cpuUsPerSec: 10,
          memory: 1 * MiB,
          pids: 1,
        },
        {
          path: `${pod}/cri-containerd-${id(`${prefix}0002`)}.scope`,
          cpuUsPerSec: 60_000 * (i + 1),
          memory: (100 + 50 * i) * MiB,
          limit: i === 3 ? null : 1024 * MiB,
          writePerSec: 1024 * 1024 * i,
          pids: 5 + i,
          psi: [i, i, 0],
          throttledUsPerSec: i === 0 ? 50_000 : 0,
        },
      ]),
      {
        path: `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod4e5f6071_8293_abcd_ef01_234567890123.slice/crio-${id('e00001')}.scope`,
        cpuUsPerSec: 70_000,
        memory: 70 * MiB,
        pids: 4,
      },
    ],
  },
  systemd: {
    about:
      'a systemd host without containers: services (one escaped name), two users with sessions, ' +
      'a libvirt VM in machine.slice, and the units that are not shown (mounts, sockets, init.scope)',
    groups: [
      { path: 'init.scope', cpuUsPerSec: 2000, memory: 14 * MiB, pids: 1 },
      { path: 'system.slice/nginx.service', cpuUsPerSec: 150_000, memory: 40 * MiB, pids: 5 },
      {
        path: 'system.slice/postgresql@16-main.service',
        cpuUsPerSec: 300_000,
        memory: 600 * MiB,
        limit: 2048 * MiB,
        writePerSec: 4 * MiB,
        readPerSec: MiB,
        pids: 12,
        psi: [2, 1, 3],
      },
      { path: 'system.slice/redis-server.service', cpuUsPerSec: 20_000, memory: 30 * MiB, pids: 4 },
      {
        path: 'system.slice/systemd-journald.service',
        cpuUsPerSec: 3000,
        memory: 25 * MiB,
        writePerSec: 65536,
        pids: 1,
      },
      { path: 'system.slice/cron.service', cpuUsPerSec: 0, memory: 2 * MiB, pids: 1 },
      {
        path: 'system.slice/system-getty.slice/getty@tty1.service',
        cpuUsPerSec: 0,
        memory: MiB,
        pids: 1,
      },
      { path: 'system.slice/dev-vda15.mount', cpuUsPerSec: 0, memory: 0, pids: 0 },
      { path: 'system.slice/dbus.socket', cpuUsPerSec: 0, memory: 0, pids: 0 },
      {
        path: 'system.slice/backup\\x2dnightly.service',
        cpuUsPerSec: 80_000,
        memory: 60 * MiB,
        pids: 2,
      },
      { path: 'user.slice/user-1000.slice', cpuUsPerSec: 40_000, memory: 200 * MiB, pids: 14 },
      {
        path: 'user.slice/user-1000.slice/session-2.scope',
        cpuUsPerSec: 30_000,
        memory: 50 * MiB,
        pids: 4,
      },
      { path: 'user.slice/user-1001.slice', cpuUsPerSec: 1000, memory: 30 * MiB, pids: 3 },
      {
        path: 'machine.slice/machine-qemu\\x2d1\\x2dwin11.scope',
        cpuUsPerSec: 900_000,
        memory: 4096 * MiB,
        limit: 4096 * MiB,
        pids: 8,
        psi: [5, 0, 1],
      },
    ],
  },
};

/** The V2Cgroup of `group` at second `t` (0 or 1). */
export function atSecond(group: HandCgroup, t: number, seed: number): V2Cgroup {
  const base = 1_000_000 * (seed + 3);
  return {
    path: group.path,
    usageUsec: base + group.cpuUsPerSec * t,
    throttledUsec: (group.throttledUsPerSec ?? 0) * (t + 10),
    memoryCurrent: group.memory,
    memoryMax: group.limit ?? null,
    io: [
      [
        '8:0',
        1_000_000 + (group.readPerSec ?? 0) * t,
        2_000_000 + (group.writePerSec ?? 0) * t,
        100 + Math.round((group.readPerSec ?? 0) / 4096) * t,
        200 + Math.round((group.writePerSec ?? 0) / 4096) * t,
      ],
    ],
    pids: group.pids,
    psi: group.psi ?? [0, 0, 0],
  };
}

function write(): void {
  for (const [layout, { about, groups }] of Object.entries(LAYOUTS)) {
    const name = `v2-${layout}-6.8`;
    const proc = path.join(FIXTURES, 'proc', name);
    const sys = path.join(FIXTURES, 'sys', name);
    rmSync(proc, { recursive: true, force: true });
    rmSync(sys, { recursive: true, force: true });
    mkdirSync(path.join(proc, 'self'), { recursive: true });
    writeFileSync(path.join(proc, 'self/mountinfo'), V2_MOUNTINFO);
    for (const t of [0, 1]) {
      const root = path.join(sys, `t${t}`, 'fs/cgroup');
      mkdirSync(root, { recursive: true });
      writeFileSync(
        path.join(root, 'cgroup.controllers'),
        'cpuset cpu io memory hugetlb pids rdma misc\n',
      );
      groups.forEach((group, seed) => writeV2Cgroup(root, atSecond(group, t, seed)));
    }
    writeFileSync(
      path.join(sys, 'README.md'),
      `# ${name}\n\nHand-built cgroup v2 host: ${about}. Written by ` +
        '`apps/api/test/write-cgroup-fixtures.ts` in the formats a 6.8 kernel prints ' +
        '(Documentation/admin-guide/cgroup-v2.rst); two readings 1 s apart (`t0/`, `t1/`); ' +
        `\`proc/${name}/self/mountinfo\` mounts the tree at /sys/fs/cgroup.\n`,
    );
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) write();
