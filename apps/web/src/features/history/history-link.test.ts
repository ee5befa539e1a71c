import { describe, expect, it } from 'vitest';
import { cgroupHistoryLocation, cgroupViews } from '../cgroups/cgroup-links';
import { historyLocation, parseHistoryQuery } from './history-link';

describe('links into History', () => {
  it("makes a container's last week one address, and reads it back", () => {
    const location = cgroupHistoryLocation('web-1', 'nginx.service');
    expect(location).toEqual({
      name: 'history',
      query: {
        host: 'web-1',
        range: '7d',
        series: [
          'cgroups.groups.nginx.service.cpuPercent',
          'cgroups.groups.nginx.service.memoryBytes',
        ],
      },
    });
    expect(parseHistoryQuery(location.query)).toEqual({
      host: 'web-1',
      range: '7d',
      series: [
        'cgroups.groups.nginx.service.cpuPercent',
        'cgroups.groups.nginx.service.memoryBytes',
      ],
    });
  });

  it('reads one series as a string, and leaves out what the address gets wrong', () => {
    expect(parseHistoryQuery({ series: 'cpu.usagePercent', range: '3w', host: '' })).toEqual({
      series: ['cpu.usagePercent'],
    });
    expect(parseHistoryQuery({ series: ['a', null, 'a', ''] })).toEqual({ series: ['a'] });
    expect(historyLocation({ series: [] })).toEqual({ name: 'history', query: {} });
  });

  it("charts a cgroup's CPU and memory live, from the same series", () => {
    const views = cgroupViews('db');
    expect(views.map((view) => [view.unit, view.lines.map((line) => line.path)])).toEqual([
      ['percent', ['cgroups.groups.db.cpuPercent']],
      ['bytes', ['cgroups.groups.db.memoryBytes']],
    ]);
  });
});
