import { describe, expect, it } from 'vitest';
import { makeExampleSnapshot } from './examples.js';
import { seriesPath } from './rest.js';
import {
  APP_SECTION,
  flattenSeries,
  isSeriesFamily,
  parseAppSeriesFamily,
  resolveCatalogueSeries,
  resolveSeries,
  seriesInFamily,
  SERIES_PATTERNS,
  SERIES_SECTIONS,
} from './series.js';

function allPaths(snapshot = makeExampleSnapshot()): Map<string, number> {
  const out = new Map<string, number>();
  for (const section of SERIES_SECTIONS) {
    for (const [path, value] of flattenSeries(section, snapshot[section])) out.set(path, value);
  }
  return out;
}

describe('SERIES_PATTERNS', () => {
  it('lists the series the history API promises, one pattern each', () => {
    const patterns = SERIES_PATTERNS.map((p) => p.pattern);
    expect(patterns).toEqual(
      expect.arrayContaining([
        'cpu.usagePercent',
        'memory.usedPercent',
        'network.rxBytesPerSec',
        'disk.writeBytesPerSec',
        'bandwidth.pageInBytesPerSec',
        'perf.ipc',
        'network.interfaces.*.rxBytesPerSec',
        'disk.devices.*.writeBytesPerSec',
        'cpu.cores.*.usagePercent',
        'disk.filesystems.*.usedPercent',
        'bandwidth.dram.totalBytesPerSec',
        'agent.collectors.perf.durationMs',
        'pressure.cpu.some.avg10',
        'pressure.io.full.stallMsPerSec',
        'cgroups.total',
        'cgroups.groups.*.cpuPercent',
        'cgroups.groups.*.memoryBytes',
        'cgroups.groups.*.ioReadBytesPerSec',
        'cgroups.groups.*.pressure.memory',
      ]),
    );
    expect(new Set(patterns).size).toBe(patterns.length);
  });

  it('holds numbers only: no booleans, strings, nor the fields that name array elements', () => {
    const patterns = SERIES_PATTERNS.map((p) => p.pattern);
    for (const absent of [
      'cpu.available',
      'network.interfaces.*.loopback',
      'cpu.cores.*.id',
      'disk.filesystems.*.mountPoint',
      'perf.hardwareUnavailableReason',
      'bandwidth.dram.source',
      'cgroups.truncated',
      'cgroups.groups.*.name',
      'cgroups.groups.*.kind',
    ]) {
      expect(patterns).not.toContain(absent);
    }
  });

  it('has at most one wildcard per pattern, which resolveSeries relies on', () => {
    for (const { pattern } of SERIES_PATTERNS)
      expect(pattern.split('*').length).toBeLessThanOrEqual(2);
  });

  it('every path a snapshot flattens to resolves, and every path passes the request schema', () => {
    const paths = [...allPaths().keys()];
    expect(paths.length).toBeGreaterThan(80);
    for (const path of paths) {
      expect(resolveSeries(path)?.path, path).toBe(path);
      expect(seriesPath.safeParse(path).success, path).toBe(true);
    }
  });
});

describe('flattenSeries', () => {
  it('keys array elements by their naming field and records by their key', () => {
    const snapshot = makeExampleSnapshot();
    const values = allPaths(snapshot);
    expect(values.get('cpu.usagePercent')).toBe(
      snapshot.cpu.available && snapshot.cpu.usagePercent,
    );
    expect(values.get('cpu.cores.1.usagePercent')).toBe(10);
    expect(values.get('network.interfaces.eth0.rxBytesPerSec')).toBeTypeOf('number');
    expect(values.get('disk.filesystems./.usedPercent')).toBe(24.48);
    expect(values.has('cpu.cores.1.id')).toBe(false);
  });

  it('leaves out nulls, and yields nothing for an unavailable collector', () => {
    const snapshot = makeExampleSnapshot();
    expect(allPaths(snapshot).has('perf.ipc')).toBe(false); // null: no PMU on the example VM
    expect(flattenSeries('cpu', { available: false, error: 'boom' }).size).toBe(0);
  });
});

describe('resolveSeries', () => {
  it('resolves a plain field', () => {
    expect(resolveSeries('memory.usedPercent')).toMatchObject({
      section: 'memory',
      steps: [{ kind: 'field', name: 'usedPercent' }],
    });
  });

  it('gives a wildcard everything between prefix and suffix, dots included (VLAN eth0.100)', () => {
    expect(resolveSeries('network.interfaces.eth0.100.rxBytesPerSec')?.steps).toEqual([
      { kind: 'field', name: 'interfaces' },
      { kind: 'key', name: 'eth0.100' },
      { kind: 'field', name: 'rxBytesPerSec' },
    ]);
  });

  it('picks array elements by id (a number) or by mount point (a string)', () => {
    expect(resolveSeries('cpu.cores.12.usagePercent')?.steps[1]).toEqual({
      kind: 'element',
      by: 'id',
      value: 12,
    });
    expect(resolveSeries('disk.filesystems./var/lib.usedPercent')?.steps[1]).toEqual({
      kind: 'element',
      by: 'mountPoint',
      value: '/var/lib',
    });
  });

  it('takes cgroup names with dots and slashes whole (units, container ids)', () => {
    expect(resolveSeries('cgroups.groups.nginx.service.cpuPercent')?.steps).toEqual([
      { kind: 'field', name: 'groups' },
      { kind: 'key', name: 'nginx.service' },
      { kind: 'field', name: 'cpuPercent' },
    ]);
    expect(resolveSeries('cgroups.groups.user.slice/user-1000.slice.pressure.io')?.steps).toEqual([
      { kind: 'field', name: 'groups' },
      { kind: 'key', name: 'user.slice/user-1000.slice' },
      { kind: 'field', name: 'pressure' },
      { kind: 'field', name: 'io' },
    ]);
    expect(resolveSeries('pressure.cpu.full.stallMsPerSec')?.section).toBe('pressure');
  });

  it('flattens a cgroup named with dots to a path that resolves back to it', () => {
    const values = allPaths();
    expect(values.get('cgroups.groups.nginx.service.cpuPercent')).toBe(1.2);
    expect(values.get('cgroups.groups.web.memoryLimitBytes')).toBe(536870912);
    expect(values.get('pressure.io.some.stallMsPerSec')).toBe(2.9);
    // Strings and nulls are not series.
    expect(values.has('cgroups.groups.nginx.service.memoryLimitBytes')).toBe(false);
    expect(values.has('cgroups.groups.web.image')).toBe(false);
  });

  it('returns null for paths no snapshot holds', () => {
    for (const path of [
      'cpu.nosuch',
      'cpu.cores.x.usagePercent',
      'network.interfaces..rxBytesPerSec',
      'cpu',
      'cpu.cores',
      'agent.collectors.nosuch.durationMs',
      'cpu.available',
      'cgroups.groups.web.nosuch',
      'cgroups.groups..cpuPercent',
      'pressure.cpu.some',
    ]) {
      expect(resolveSeries(path), path).toBeNull();
    }
  });
});

describe('application series in the catalogue', () => {
  it('resolves an application path to its stored keys and field', () => {
    expect(resolveCatalogueSeries('app.router.calls;provider=openai.rate')).toMatchObject({
      section: APP_SECTION,
      service: 'router',
      metricKey: 'calls;provider=openai',
      field: 'rate',
      steps: [
        { kind: 'key', name: 'router' },
        { kind: 'key', name: 'calls;provider=openai' },
        { kind: 'field', name: 'rate' },
      ],
    });
    // Host series resolve as resolveSeries does.
    expect(resolveCatalogueSeries('cpu.usagePercent')).toEqual(resolveSeries('cpu.usagePercent'));
  });

  it.each(['app.worker.value', 'app.*.queue.depth.value', 'app.worker.*.value', 'app.x.y.avg'])(
    'resolves no concrete series for %s',
    (path) => {
      expect(resolveCatalogueSeries(path)).toBeNull();
    },
  );

  it.each([
    ['app.*.queue.depth.value', { service: null, metricKey: 'queue.depth', field: 'value' }],
    [
      'app.*.calls;provider=openai.rate',
      { service: null, metricKey: 'calls;provider=openai', field: 'rate' },
    ],
    ['app.worker.*.p99', { service: 'worker', metricKey: null, field: 'p99' }],
  ])('parses the family %s', (path, family) => {
    expect(parseAppSeriesFamily(path)).toEqual(family);
    expect(isSeriesFamily(path)).toBe(true);
  });

  it.each(['app.*.*.value', 'app.*.queue.depth.avg', 'app.a.b.*.value', 'app.worker.queue.value'])(
    'parses no family from %s',
    (path) => {
      expect(parseAppSeriesFamily(path)).toBeNull();
    },
  );

  it('matches whole services and metric keys, never part of one', () => {
    expect(seriesInFamily('app.*.queue.depth.value', 'app.worker.queue.depth.value')).toBe(true);
    // Service `a`, key `b.queue.depth`: a `*` over a service never spans a dot.
    expect(seriesInFamily('app.*.queue.depth.value', 'app.a.b.queue.depth.value')).toBe(false);
    expect(seriesInFamily('app.*.queue.depth.value', 'app.worker.queue.depth.count')).toBe(false);
    expect(seriesInFamily('app.worker.*.p99', 'app.worker.batch.duration.p99')).toBe(true);
    expect(seriesInFamily('app.worker.*.p99', 'app.router.batch.duration.p99')).toBe(false);
    expect(seriesInFamily('app.worker.queue.depth.value', 'app.worker.queue.depth.value')).toBe(
      true,
    );
    expect(
      seriesInFamily('disk.filesystems.*.usedPercent', 'disk.filesystems./home.usedPercent'),
    ).toBe(true);
    expect(
      seriesInFamily('disk.filesystems.*.usedPercent', 'disk.filesystems./home.sizeBytes'),
    ).toBe(false);
  });
});
