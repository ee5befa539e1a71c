import { makeExampleSnapshot } from '@livestat/contracts/examples';
import type { Snapshot } from '@livestat/contracts';
import { describe, expect, it } from 'vitest';
import { chartedNames, chartedPaths } from '../live/panels/charted';
import {
  DEFAULT_GROUP_IDS,
  OVERVIEW_GROUPS,
  PANEL_GROUPS,
  PRESSURE_GROUPS,
  groupsForHost,
  selectedGroups,
  seriesPaths,
} from './series-groups';

function snapshotWith(interfaces: string[], devices: string[]): Snapshot {
  const snapshot = makeExampleSnapshot() as Snapshot;
  if (!snapshot.network.available || !snapshot.disk.available) throw new Error('example');
  const nic = Object.values(snapshot.network.interfaces)[0]!;
  const disk = Object.values(snapshot.disk.devices)[0]!;
  snapshot.network.interfaces = Object.fromEntries(
    interfaces.map((name) => [name, { ...nic, loopback: name === 'lo' }]),
  );
  snapshot.disk.devices = Object.fromEntries(devices.map((name) => [name, { ...disk }]));
  return snapshot;
}

describe('series groups', () => {
  it('offers one chart per dashboard panel, every one shown by default', () => {
    expect(OVERVIEW_GROUPS.map((g) => g.label)).toEqual([
      'CPU usage',
      'Memory used',
      'Network',
      'Disk I/O',
      'Paging',
      'Perf IPC',
    ]);
    expect(DEFAULT_GROUP_IDS).toEqual(OVERVIEW_GROUPS.map((g) => g.id));
    expect(seriesPaths(OVERVIEW_GROUPS)).toEqual([
      'cpu.usagePercent',
      'memory.usedPercent',
      'network.rxBytesPerSec',
      'network.txBytesPerSec',
      'disk.readBytesPerSec',
      'disk.writeBytesPerSec',
      'bandwidth.pageInBytesPerSec',
      'bandwidth.pageOutBytesPerSec',
      'perf.ipc',
    ]);
  });

  it('adds every chart per core, per interface (not loopback) and per device from a snapshot', () => {
    const groups = groupsForHost(snapshotWith(['lo', 'eth1', 'eth0.100'], ['sda', 'nvme0n1']));
    const extra = groups.slice(
      OVERVIEW_GROUPS.length + PANEL_GROUPS.length + PRESSURE_GROUPS.length,
    );
    expect(extra.map((g) => [g.section, g.id])).toEqual([
      ['Cores', 'cpu-cores'],
      ['Interfaces', 'interface:eth0.100'],
      ['Interfaces', 'interface:eth0.100:packets'],
      ['Interfaces', 'interface:eth0.100:errors'],
      ['Interfaces', 'interface:eth1'],
      ['Interfaces', 'interface:eth1:packets'],
      ['Interfaces', 'interface:eth1:errors'],
      ['Devices', 'device:nvme0n1'],
      ['Devices', 'device:nvme0n1:ops'],
      ['Devices', 'device:nvme0n1:busy'],
      ['Devices', 'device:sda'],
      ['Devices', 'device:sda:ops'],
      ['Devices', 'device:sda:busy'],
      // The example carries a container and a service.
      ['Containers & services', 'cgroup:nginx.service:cpu'],
      ['Containers & services', 'cgroup:nginx.service:memory'],
      ['Containers & services', 'cgroup:web:cpu'],
      ['Containers & services', 'cgroup:web:memory'],
    ]);
    expect(extra[1]!.series.map((s) => s.path)).toEqual([
      'network.interfaces.eth0.100.rxBytesPerSec',
      'network.interfaces.eth0.100.txBytesPerSec',
    ]);
    expect(extra[7]!.series.map((s) => s.path)).toEqual([
      'disk.devices.nvme0n1.readBytesPerSec',
      'disk.devices.nvme0n1.writeBytesPerSec',
    ]);
  });

  it('offers every line a dashboard panel charts, derived from the panels', () => {
    const snapshot = snapshotWith(['eth0', 'lo'], ['vda']);
    const offered = new Set(seriesPaths(groupsForHost(snapshot)));
    const charted = chartedPaths(chartedNames(snapshot)).filter(
      (path) => !path.startsWith('network.interfaces.lo.'),
    );
    expect(charted.filter((path) => !offered.has(path))).toEqual([]);
    // Listed under their panel, each chart once.
    expect(PANEL_GROUPS.map((g) => g.id)).toContain('cpu-load');
    expect(PANEL_GROUPS.map((g) => g.id)).toContain('perf-software');
    expect(PANEL_GROUPS.map((g) => g.id)).not.toContain('perf-ipc');
    const ids = groupsForHost(snapshot).map((g) => g.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('leaves out names the API cannot take in a series path', () => {
    const groups = groupsForHost(snapshotWith(['bad name'], []));
    expect(groups.map((g) => g.id)).not.toContain('interface:bad name');
  });

  it('offers only the panels without a snapshot, or when collectors are unavailable', () => {
    const panels = [...OVERVIEW_GROUPS, ...PANEL_GROUPS, ...PRESSURE_GROUPS];
    expect(groupsForHost(undefined)).toEqual(panels);
    const snapshot = makeExampleSnapshot() as Snapshot;
    snapshot.cpu = { available: false, error: 'no /proc/stat' };
    snapshot.network = { available: false, error: 'no /proc/net/dev' };
    snapshot.disk = { available: false, error: 'no /proc/diskstats' };
    snapshot.cgroups = { available: false, error: 'no cgroup hierarchy' };
    expect(groupsForHost(snapshot)).toEqual(panels);
  });

  it('lists pressure, and the CPU and memory of each cgroup, a linked one too', () => {
    expect(PRESSURE_GROUPS.map((g) => [g.section, g.label, g.series.map((s) => s.path)])).toEqual([
      ['Pressure', 'CPU pressure', ['pressure.cpu.some.avg10', 'pressure.cpu.full.avg10']],
      ['Pressure', 'Memory pressure', ['pressure.memory.some.avg10', 'pressure.memory.full.avg10']],
      ['Pressure', 'I/O pressure', ['pressure.io.some.avg10', 'pressure.io.full.avg10']],
    ]);
    const groups = groupsForHost(makeExampleSnapshot() as Snapshot, ['db.gone']);
    const cgroups = groups.filter((g) => g.section === 'Containers & services');
    expect(cgroups.map((g) => [g.id, g.unit, g.series[0]!.path])).toEqual([
      ['cgroup:db.gone:cpu', 'percent', 'cgroups.groups.db.gone.cpuPercent'],
      ['cgroup:db.gone:memory', 'bytes', 'cgroups.groups.db.gone.memoryBytes'],
      ['cgroup:nginx.service:cpu', 'percent', 'cgroups.groups.nginx.service.cpuPercent'],
      ['cgroup:nginx.service:memory', 'bytes', 'cgroups.groups.nginx.service.memoryBytes'],
      ['cgroup:web:cpu', 'percent', 'cgroups.groups.web.cpuPercent'],
      ['cgroup:web:memory', 'bytes', 'cgroups.groups.web.memoryBytes'],
    ]);
  });

  it('picks the selected groups in the order offered, ignoring unknown ids', () => {
    expect(
      selectedGroups(OVERVIEW_GROUPS, ['ipc', 'cpu', 'interface:gone']).map((g) => g.id),
    ).toEqual(['cpu', 'ipc']);
  });
});
