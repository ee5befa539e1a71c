import { describe, expect, it } from 'vitest';
import {
  cgroupRow,
  cgroupsMessage,
  cgroupsMetrics,
  unwatchCgroupsMessage,
  watchCgroupsMessage,
} from './cgroups.js';
import { exampleSnapshot } from './examples.js';

const valid = exampleSnapshot.cgroups;
const service = valid.groups['nginx.service'];

describe('cgroups payload', () => {
  it('accepts a v1 host: no PSI and no throttling figures, no Docker API', () => {
    const v1 = {
      ...valid,
      layout: 'v1',
      namesUnavailableReason: 'cannot connect to /var/run/docker.sock: not found',
      groups: {
        'nginx.service': {
          ...service,
          throttledMsPerSec: null,
          memoryAnonBytes: null,
          pressure: { cpu: null, memory: null, io: null },
        },
      },
    };
    expect(cgroupsMetrics.parse(v1)).toEqual(v1);
  });

  it('accepts more than one core of CPU (100 = one core)', () => {
    expect(cgroupRow.parse({ ...service, cpuPercent: 350 }).cpuPercent).toBe(350);
  });

  it('rejects an unknown layout, kind or runtime, naming the field', () => {
    for (const [field, value] of [
      ['kind', 'vm'],
      ['runtime', 'lxc'],
    ] as const) {
      const result = cgroupRow.safeParse({ ...service, [field]: value });
      expect(result.error?.issues[0]?.path).toEqual([field]);
    }
    expect(cgroupsMetrics.safeParse({ ...valid, layout: 'v3' }).error?.issues[0]?.path).toEqual([
      'layout',
    ]);
  });

  it('rejects a negative memory figure and a fractional pid count', () => {
    expect(cgroupRow.safeParse({ ...service, memoryBytes: -1 }).success).toBe(false);
    expect(cgroupRow.safeParse({ ...service, pids: 1.5 }).success).toBe(false);
  });

  it('rejects a row without its truncation flag at the section level', () => {
    const { truncated: _, ...rest } = valid;
    expect(cgroupsMetrics.safeParse(rest).error?.issues[0]?.path).toEqual(['truncated']);
  });
});

describe('cgroups socket messages', () => {
  it('watch names a host; unwatch may name one or none', () => {
    expect(watchCgroupsMessage.parse({ type: 'watch_cgroups', host: 'vm-web-01' }).host).toBe(
      'vm-web-01',
    );
    expect(watchCgroupsMessage.safeParse({ type: 'watch_cgroups' }).success).toBe(false);
    expect(unwatchCgroupsMessage.parse({ type: 'unwatch_cgroups' })).toEqual({
      type: 'unwatch_cgroups',
    });
  });

  it('carries every cgroup as a list, with the section’s summary', () => {
    const message = {
      type: 'cgroups',
      host: exampleSnapshot.host,
      timestamp: exampleSnapshot.timestamp,
      layout: valid.layout,
      total: valid.total,
      truncated: valid.truncated,
      slowEveryTicks: valid.slowEveryTicks,
      namesUnavailableReason: valid.namesUnavailableReason,
      groups: Object.values(valid.groups),
    };
    expect(cgroupsMessage.parse(message)).toEqual(message);
    expect(cgroupsMessage.safeParse({ ...message, groups: valid.groups }).success).toBe(false);
  });
});
