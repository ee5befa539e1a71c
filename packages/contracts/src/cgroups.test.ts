import { describe, expect, it } from 'vitest';
import {
  cgroupEntry,
  cgroupRow,
  fromCgroupEntry,
  toCgroupEntry,
  cgroupsMessage,
  cgroupsMetrics,
  unwatchCgroupsMessage,
  watchCgroupsMessage,
} from './cgroups.js';
import { exampleSnapshot } from './examples.js';

const valid = exampleSnapshot.cgroups;
/** The full row of the example's nginx.service: what the watched table carries. */
const service = fromCgroupEntry('system.slice/nginx.service', valid.groups['nginx.service']!);

describe('cgroups payload', () => {
  it('accepts a v1 host: no PSI and no throttling figures, no Docker API', () => {
    const row = {
      ...service,
      throttledMsPerSec: null,
      memoryAnonBytes: null,
      pressure: { cpu: null, memory: null, io: null },
    };
    const v1 = {
      ...valid,
      layout: 'v1',
      namesUnavailableReason: 'cannot connect to /var/run/docker.sock: not found',
      groups: { 'nginx.service': toCgroupEntry(row) },
    };
    expect(cgroupsMetrics.parse(v1)).toEqual(v1);
    // The snapshot's entry leaves the figures v1 lacks out; the row says null.
    expect(v1.groups['nginx.service']).not.toHaveProperty('pressure');
    expect(v1.groups['nginx.service']).not.toHaveProperty('throttledMsPerSec');
    expect(cgroupRow.parse(row)).toEqual(row);
  });

  it('turns a row into a small entry and back, losing only what the entry leaves out', () => {
    const row = cgroupRow.parse({
      ...service,
      id: 'system.slice/docker-' + 'a'.repeat(64) + '.scope',
      name: 'web',
      kind: 'container',
      runtime: 'docker',
      containerId: 'a'.repeat(64),
      image: 'nginx:1.27',
      state: 'running',
      health: 'healthy',
      restartCount: 3,
    });
    const entry = cgroupEntry.parse(toCgroupEntry(row));
    for (const gone of ['id', 'containerId', 'image', 'restartCount', 'memoryLimitBytes'])
      expect(entry).not.toHaveProperty(gone);
    expect(fromCgroupEntry('web', entry)).toEqual({
      ...row,
      id: 'web',
      containerId: null,
      image: null,
      restartCount: null,
    });
  });

  it('still parses a section of an older agent: full rows with nulls, no slowEveryTicks', () => {
    const { slowEveryTicks: _, idleEveryTicks: __, ...older } = valid;
    const section = { ...older, groups: { 'nginx.service': service } };
    const parsed = cgroupsMetrics.parse(section);
    if (!parsed.available) throw new Error('unavailable');
    expect(parsed.slowEveryTicks).toBeUndefined();
    expect(parsed.idleEveryTicks).toBeUndefined();
    // What entries leave out is dropped; the rest reads as the same row again.
    expect(parsed.groups['nginx.service']).not.toHaveProperty('containerId');
    expect(fromCgroupEntry(service.id, parsed.groups['nginx.service']!)).toEqual(service);
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
      idleEveryTicks: valid.idleEveryTicks,
      namesUnavailableReason: valid.namesUnavailableReason,
      groups: Object.entries(valid.groups).map(([key, entry]) => fromCgroupEntry(key, entry)),
    };
    expect(cgroupsMessage.parse(message)).toEqual(message);
    expect(cgroupsMessage.safeParse({ ...message, groups: valid.groups }).success).toBe(false);
  });
});
