import { describe, expect, it } from 'vitest';
import { DEFAULT_CGROUP_SORT, nextSort, sortCgroups } from './cgroup-sort';
import { cgroupRow } from './cgroup-fixtures';

const ROWS = [
  cgroupRow('nginx.service', { cpuPercent: 12, memoryBytes: 50e6, pids: 5 }),
  cgroupRow('db', {
    kind: 'container',
    runtime: 'docker',
    cpuPercent: 80,
    memoryBytes: 900e6,
    health: 'healthy',
    ioReadBytesPerSec: 1000,
    ioWriteBytesPerSec: 4000,
    pressure: { cpu: 0.5, memory: 3, io: 1 },
    pids: 40,
  }),
  cgroupRow('cron.service', { cpuPercent: 0, memoryBytes: 2e6, pids: null }),
  cgroupRow('web', {
    kind: 'container',
    runtime: 'docker',
    cpuPercent: 12,
    memoryBytes: 300e6,
    state: 'running',
    ioReadBytesPerSec: 0,
    ioWriteBytesPerSec: 0,
    pressure: { cpu: 7, memory: null, io: null },
  }),
];
const names = (sort: Parameters<typeof sortCgroups>[1]) =>
  sortCgroups(ROWS, sort).map((r) => r.name);

describe('sortCgroups', () => {
  it('opens with the busiest CPU first, ties by name', () => {
    expect(names(DEFAULT_CGROUP_SORT)).toEqual(['db', 'nginx.service', 'web', 'cron.service']);
  });

  // Rows without I/O, pressure, health or pids stay last both ways.
  it.each([
    ['memory', true, ['db', 'web', 'nginx.service', 'cron.service']],
    ['name', false, ['cron.service', 'db', 'nginx.service', 'web']],
    ['kind', false, ['db', 'web', 'cron.service', 'nginx.service']],
    ['io', true, ['db', 'web', 'cron.service', 'nginx.service']],
    ['io', false, ['web', 'db', 'cron.service', 'nginx.service']],
    ['pressure', true, ['web', 'db', 'cron.service', 'nginx.service']],
    ['health', false, ['db', 'web', 'cron.service', 'nginx.service']],
    ['pids', true, ['db', 'nginx.service', 'cron.service', 'web']],
  ] as const)('sorts by %s (descending: %s)', (key, descending, expected) => {
    expect(names({ key, descending })).toEqual(expected);
  });

  it('leaves the rows it was given in their order', () => {
    const before = ROWS.map((r) => r.name);
    sortCgroups(ROWS, { key: 'name', descending: true });
    expect(ROWS.map((r) => r.name)).toEqual(before);
  });
});

describe('nextSort', () => {
  it('flips the same column; a new one starts biggest first, or A→Z for text', () => {
    expect(nextSort(DEFAULT_CGROUP_SORT, 'cpu')).toEqual({ key: 'cpu', descending: false });
    expect(nextSort(DEFAULT_CGROUP_SORT, 'memory')).toEqual({ key: 'memory', descending: true });
    expect(nextSort(DEFAULT_CGROUP_SORT, 'name')).toEqual({ key: 'name', descending: false });
    expect(nextSort({ key: 'name', descending: false }, 'name')).toEqual({
      key: 'name',
      descending: true,
    });
  });
});
