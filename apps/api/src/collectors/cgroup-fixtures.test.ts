import { mkdtempSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cgroupsMetrics } from '@livestat/contracts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LAYOUTS } from '../../test/write-cgroup-fixtures.js';
import { createCgroupsCollector } from './cgroups.js';

// The checked-in hand-built v2 hosts (test/fixtures/sys/v2-<layout>-6.8), read as the
// collector reads a host: the t0 tree, then the t1 tree one second later.
const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'livestat-cgroup-fixtures-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function readHost(layout: string) {
  const name = `v2-${layout}-6.8`;
  const sys = path.join(dir, 'sys');
  symlinkSync(`${FIXTURES}sys/${name}/t0`, sys);
  let clock = 0;
  const collector = createCgroupsCollector(
    { procRoot: `${FIXTURES}proc/${name}`, sysRoot: sys, now: () => clock },
    { slowEveryTicks: 1 },
  );
  await collector.prime?.();
  unlinkSync(sys);
  symlinkSync(`${FIXTURES}sys/${name}/t1`, sys);
  clock = 1000;
  const metrics = await collector.collect();
  expect(cgroupsMetrics.parse(metrics)).toEqual(metrics);
  if (!metrics.available) throw new Error(metrics.error);
  const table = collector.table()!;
  await collector.stop?.();
  return { metrics, rows: table.groups };
}

/** `kind runtime name` of every row, sorted: what the walk found and how it named it. */
const found = (rows: { kind: string; runtime: string | null; name: string }[]) =>
  rows.map((row) => `${row.kind} ${row.runtime} ${row.name}`).sort();

describe('cgroups collector on the hand-built v2 fixture hosts', () => {
  it('docker: systemd-driver scopes and cgroupfs-driver /docker/<id>, services, a session', async () => {
    const { metrics, rows } = await readHost('docker');
    expect(metrics).toMatchObject({ layout: 'v2', total: 11, truncated: false });
    expect(found(rows)).toEqual([
      'container docker 1a2b3c4d5e6f',
      'container docker 2b3c4d5e6f70',
      'container docker 3c4d5e6f7081',
      'container docker 4d5e6f708192',
      'container docker 5e6f708192a3',
      'container docker cafe00010000',
      'container docker cafe00020000',
      'service systemd containerd.service',
      'service systemd docker.service',
      'service systemd ssh.service',
      'session systemd user-1000.slice',
    ]);
  });

  it('podman: rootful and rootless containers, conmon scopes not shown', async () => {
    const { rows } = await readHost('podman');
    expect(found(rows)).toEqual([
      'container podman beef01000000',
      'container podman beef02000000',
      'container podman beef03000000',
      'container podman d00d01000000',
      'container podman d00d02000000',
      'container podman d00d03000000',
      'container podman d00d04000000',
      'service systemd sshd.service',
      'session systemd user-1000.slice',
    ]);
  });

  it('containerd: /<namespace>/<id> under the cgroupfs driver', async () => {
    const { rows } = await readHost('containerd');
    expect(found(rows).filter((row) => row.startsWith('container'))).toEqual(
      ['c0ffee01', 'c0ffee02', 'c0ffee03', 'c0ffee04', 'c0ffee05', 'c0ffee06'].map(
        (prefix) => `container containerd ${prefix}0000`,
      ),
    );
    expect(found(rows)).toContain('service systemd containerd.service');
  });

  it('kubepods: every QoS class, pause containers, CRI-O beside containerd', async () => {
    const { rows } = await readHost('kubepods');
    const containers = rows.filter((row) => row.kind === 'container');
    expect(containers).toHaveLength(9);
    expect(new Set(containers.map((row) => row.runtime))).toEqual(new Set(['kubernetes']));
    expect(found(rows).filter((row) => row.startsWith('service'))).toEqual([
      'service systemd containerd.service',
      'service systemd kubelet.service',
    ]);
  });

  it('systemd: services with escaped names, users, a VM; mounts and sockets not shown', async () => {
    const { rows } = await readHost('systemd');
    expect(found(rows)).toEqual([
      'machine systemd machine-qemu-1-win11.scope',
      'service systemd backup-nightly.service',
      'service systemd cron.service',
      'service systemd nginx.service',
      'service systemd postgresql@16-main.service',
      'service systemd redis-server.service',
      'service systemd systemd-journald.service',
      'session systemd user-1000.slice',
      'session systemd user-1001.slice',
    ]);
  });

  it.each(Object.keys(LAYOUTS))(
    '%s: the rates of the second between the two readings',
    async (layout) => {
      const { rows } = await readHost(layout);
      const byPath = new Map(LAYOUTS[layout]!.groups.map((group) => [group.path, group]));
      for (const row of rows) {
        const group = byPath.get(row.id)!;
        expect(group, row.id).toBeDefined();
        expect(row, row.id).toMatchObject({
          cpuPercent: Math.round(group.cpuUsPerSec / 100) / 100,
          throttledMsPerSec: (group.throttledUsPerSec ?? 0) / 1000,
          memoryBytes: group.memory,
          memoryLimitBytes: group.limit ?? null,
          ioReadBytesPerSec: group.readPerSec ?? 0,
          ioWriteBytesPerSec: group.writePerSec ?? 0,
          pids: group.pids,
          pressure: {
            cpu: group.psi?.[0] ?? 0,
            memory: group.psi?.[1] ?? 0,
            io: group.psi?.[2] ?? 0,
          },
        });
      }
    },
  );
});
