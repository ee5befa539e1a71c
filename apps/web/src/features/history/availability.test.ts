import type { Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { describe, expect, it } from 'vitest';
import type { SeriesGroup } from './history-view';
import {
  NOT_MEASURED,
  NOT_REPORTED,
  defaultSelection,
  seriesUnavailable,
  unavailableGroups,
} from './availability';

// The example is a VM: no PMU, no DRAM bandwidth source.
const vm = makeExampleSnapshot() as Snapshot;
const NO_PMU = 'no hardware PMU (virtual machine): hardware events <not supported>';

const groups: SeriesGroup[] = [
  {
    id: 'cpu',
    label: 'CPU',
    unit: 'percent',
    series: [{ path: 'cpu.usagePercent', label: 'usage' }],
  },
  { id: 'ipc', label: 'IPC', unit: 'ratio', series: [{ path: 'perf.ipc', label: 'IPC' }] },
  {
    id: 'software',
    label: 'Software events',
    unit: 'rate',
    series: [
      { path: 'perf.ipc', label: 'IPC' },
      { path: 'perf.cpuMigrationsPerSec', label: 'migrations' },
    ],
  },
];

describe('series this host cannot measure', () => {
  it('says why IPC cannot exist without a PMU, in the collector’s words', () => {
    expect(seriesUnavailable('perf.ipc', vm)).toBe(NO_PMU);
    expect(seriesUnavailable('perf.cpuMigrationsPerSec', vm)).toBeNull();
    expect(seriesUnavailable('bandwidth.dram.totalBytesPerSec', vm)).toBe(
      'no resctrl mbm_total_bytes and no uncore_imc PMU',
    );
    expect(seriesUnavailable('network.interfaces.wlan9.rxBytesPerSec', vm)).toBe(NOT_MEASURED);
  });

  it('gives the collector’s error when the whole collector is unavailable', () => {
    const noPerf = {
      ...vm,
      perf: { available: false, error: 'perf not found in PATH' },
    } as Snapshot;
    expect(seriesUnavailable('perf.cpuMigrationsPerSec', noPerf)).toBe('perf not found in PATH');
  });

  it('knows nothing before the first snapshot', () => {
    expect(seriesUnavailable('perf.ipc', undefined)).toBeNull();
  });

  it('marks a chart only when none of its series can be drawn', () => {
    expect([...unavailableGroups(groups, vm)]).toEqual([['ipc', NO_PMU]]);
  });
});

describe('defaultSelection', () => {
  it('leaves out of the default charts what this host cannot draw', () => {
    expect(defaultSelection(['cpu', 'ipc', 'software'], groups, vm)).toEqual(['cpu', 'software']);
  });

  it('keeps every default where the host has a PMU, or while nothing is known', () => {
    const metal = makeExampleSnapshot() as Snapshot;
    if (!metal.perf.available) throw new Error('the example measures perf');
    Object.assign(metal.perf, {
      hardwareAvailable: true,
      hardwareUnavailableReason: null,
      ipc: 1.4,
    });
    expect(defaultSelection(['cpu', 'ipc'], groups, metal)).toEqual(['cpu', 'ipc']);
    expect(defaultSelection(['cpu', 'ipc'], groups, undefined)).toEqual(['cpu', 'ipc']);
  });
});

describe('sections newer than the agent, and cgroups that come and go', () => {
  it("says a section the host's agent does not send is not reported", () => {
    const old = makeExampleSnapshot() as Snapshot;
    delete old.pressure;
    delete old.cgroups;
    expect(seriesUnavailable('pressure.cpu.some.avg10', old)).toBe(NOT_REPORTED);
    expect(seriesUnavailable('cgroups.groups.web.cpuPercent', old)).toBe(NOT_REPORTED);
    expect(seriesUnavailable('pressure.cpu.some.avg10', vm)).toBeNull();
  });

  it('leaves a cgroup the snapshot no longer carries chartable: its past may be stored', () => {
    expect(seriesUnavailable('cgroups.groups.stopped-job.cpuPercent', vm)).toBeNull();
  });
});
