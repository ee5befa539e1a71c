import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { classifyCgroup } from './cgroup-discovery.js';
import { parseCgroupMounts, underSysRoot } from './cgroup-mounts.js';
import {
  flatKey,
  memoryLimit,
  parseBlkio,
  parseIoStat,
  psiSomeAvg10,
  unescapeUnit,
} from './cgroup-parse.js';
import { V2_MOUNTINFO, containerId } from '../../test/cgroup-tree.js';

const HYBRID_MOUNTINFO = readFileSync(
  fileURLToPath(new URL('../../test/fixtures/proc/hybrid-6.18/t0/self/mountinfo', import.meta.url)),
  'utf8',
);

describe('cgroup file parsers', () => {
  it('reads flat keys, not a longer key that starts the same', () => {
    const stat = 'usage_usec 1500\nuser_usec 1000\nthrottled_usec 42\nnr_throttled 3\n';
    expect(flatKey(stat, 'usage_usec')).toBe(1500);
    expect(flatKey(stat, 'throttled_usec')).toBe(42);
    expect(flatKey('total_rss 10\nrss 7\n', 'rss')).toBe(7);
    expect(flatKey(stat, 'nosuch')).toBeNull();
  });

  it('reads "max" and v1’s page-counter maximum as no limit', () => {
    expect(memoryLimit('max\n')).toBeNull();
    expect(memoryLimit('9223372036854771712\n')).toBeNull();
    expect(memoryLimit('536870912\n')).toBe(536870912);
  });

  it('sums io.stat over devices', () => {
    const text =
      '8:0 rbytes=1000 wbytes=2000 rios=1 wios=2 dbytes=0 dios=0\n' +
      '253:0 rbytes=500 wbytes=0 rios=3 wios=0 dbytes=0 dios=0\n';
    expect(parseIoStat(text)).toEqual({
      readBytes: 1500,
      writeBytes: 2000,
      readOps: 4,
      writeOps: 2,
    });
    expect(parseIoStat('')).toEqual({ readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 });
  });

  it('sums blkio Read and Write lines, never the Total lines', () => {
    const text =
      '8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 12288\n8:0 Async 0\n8:0 Discard 0\n8:0 Total 12288\n' +
      '253:0 Read 1024\n253:0 Write 0\n253:0 Total 1024\nTotal 13312\n';
    expect(parseBlkio(text)).toEqual({ read: 5120, write: 8192 });
  });

  it('reads some avg10 of a PSI file', () => {
    expect(
      psiSomeAvg10(
        'some avg10=3.25 avg60=1.00 avg300=0.10 total=9\nfull avg10=1.00 avg60=0 avg300=0 total=1\n',
      ),
    ).toBe(3.25);
    expect(psiSomeAvg10('')).toBeNull();
  });

  it('undoes systemd’s escapes in unit names', () => {
    expect(unescapeUnit('machine-qemu\\x2d1\\x2dwin11.scope')).toBe('machine-qemu-1-win11.scope');
  });
});

describe('parseCgroupMounts', () => {
  it('finds this machine’s hybrid layout: v1 controllers and an empty cgroup2 mount', () => {
    const mounts = parseCgroupMounts(HYBRID_MOUNTINFO, '/fixture/sys');
    expect(mounts.layout).toBe('hybrid');
    expect(mounts.unified).toBe('/fixture/sys/fs/cgroup/unified');
    expect(mounts.v1).toEqual({
      cpu: '/fixture/sys/fs/cgroup/cpu',
      cpuacct: '/fixture/sys/fs/cgroup/cpuacct',
      memory: '/fixture/sys/fs/cgroup/memory',
      blkio: '/fixture/sys/fs/cgroup/blkio',
      pids: '/fixture/sys/fs/cgroup/pids',
    });
  });

  it('finds a v2-only host, and a v1-only one with cpu and cpuacct in one mount', () => {
    expect(parseCgroupMounts(V2_MOUNTINFO, '/sys')).toEqual({
      layout: 'v2',
      unified: '/sys/fs/cgroup',
      v1: {},
    });
    const v1 = parseCgroupMounts(
      '30 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n' +
        '31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n',
      '/sys',
    );
    expect(v1.layout).toBe('v1');
    expect(v1.v1.cpu).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(v1.v1.cpuacct).toBe('/sys/fs/cgroup/cpu,cpuacct');
  });

  it('keeps a mount already under SYS_ROOT, as a container that mounts the host’s /sys sees it', () => {
    expect(underSysRoot('/host/sys/fs/cgroup', '/host/sys')).toBe('/host/sys/fs/cgroup');
    expect(underSysRoot('/sys/fs/cgroup', '/host/sys')).toBe('/host/sys/fs/cgroup');
  });

  it('says so when nothing is mounted', () => {
    expect(() => parseCgroupMounts('22 1 252:1 / / rw - ext4 /dev/vda1 rw\n', '/sys')).toThrow(
      /no cgroup filesystem mounted/,
    );
  });
});

describe('classifyCgroup', () => {
  const id = containerId(1);
  it.each([
    [`system.slice/docker-${id}.scope`, 'container', 'docker'],
    [`docker/${id}`, 'container', 'docker'],
    [`machine.slice/libpod-${id}.scope`, 'container', 'podman'],
    [`libpod_parent/libpod-${id}`, 'container', 'podman'],
    [`system.slice/cri-containerd-${id}.scope`, 'container', 'containerd'],
    [`kubepods/burstable/pod1234/${id}`, 'container', 'kubernetes'],
    [`kubepods.slice/kubepods-pod1.slice/cri-containerd-${id}.scope`, 'container', 'kubernetes'],
    ['system.slice/nginx.service', 'service', 'systemd'],
    ['user.slice/user-1000.slice', 'session', 'systemd'],
    ['machine.slice/machine-qemu\\x2d1\\x2dvm.scope', 'machine', 'systemd'],
    ['process_api', 'other', null],
  ])('shows %s as a %s of %s', (path, kind, runtime) => {
    expect(classifyCgroup(path).show).toMatchObject({ kind, runtime });
  });

  it('names containers by short id, units by their unescaped name', () => {
    expect(classifyCgroup(`docker/${id}`).show).toMatchObject({
      name: id.slice(0, 12),
      containerId: id,
    });
    expect(classifyCgroup('machine.slice/machine-qemu\\x2d1\\x2dvm.scope').show?.name).toBe(
      'machine-qemu-1-vm.scope',
    );
  });

  it.each([
    'init.scope',
    'system.slice/boot.mount',
    'system.slice',
    'user.slice/user-1000.slice/session-3.scope',
    'user.slice/user-1000.slice/user@1000.service',
    'kubepods.slice/kubepods-burstable.slice',
    'docker',
  ])('does not show %s', (path) => {
    expect(classifyCgroup(path).show).toBeNull();
  });
});
