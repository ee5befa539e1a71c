import { describe, expect, it } from 'vitest';
import { NO_VALUE } from '../../lib/format';
import { cgroupCells, memoryBar } from './cgroup-cells';
import { cgroupRow } from './cgroup-fixtures';
import { cgroupNotes, emptyText, healthTone } from './cgroups-notes';

const MiB = 1024 * 1024;

describe('memoryBar', () => {
  it('measures memory against the limit, toned as the disk bars are', () => {
    expect(memoryBar({ memoryBytes: 128 * MiB, memoryLimitBytes: 512 * MiB })).toEqual({
      percent: 25,
      tone: 'ok',
    });
    expect(memoryBar({ memoryBytes: 420 * MiB, memoryLimitBytes: 500 * MiB })).toEqual({
      percent: 84,
      tone: 'warn',
    });
  });

  it('is full, not past full, for a cgroup over its limit', () => {
    expect(memoryBar({ memoryBytes: 600 * MiB, memoryLimitBytes: 512 * MiB })).toEqual({
      percent: 100,
      tone: 'bad',
    });
  });

  it('draws no bar without a limit', () => {
    expect(memoryBar({ memoryBytes: 600 * MiB, memoryLimitBytes: null })).toBeNull();
    expect(memoryBar({ memoryBytes: 600 * MiB, memoryLimitBytes: 0 })).toBeNull();
  });
});

describe('cgroupCells', () => {
  it('writes a container with every measure', () => {
    const cells = cgroupCells(
      cgroupRow('db', {
        kind: 'container',
        runtime: 'docker',
        health: 'healthy',
        state: 'running',
        cpuPercent: 153.24,
        memoryBytes: 256 * MiB,
        memoryLimitBytes: 1024 * MiB,
        ioReadBytesPerSec: 1.5 * MiB,
        ioWriteBytesPerSec: 0,
        pressure: { cpu: 0.12, memory: 0, io: 3.4 },
        pids: 42,
      }),
    );
    expect(cells).toEqual({
      kind: 'container · docker',
      cpu: '153.2 %',
      memory: '256 MiB / 1.00 GiB',
      memoryBar: { percent: 25, tone: 'ok' },
      io: '1.50 MiB/s · 0 B/s',
      pressure: '0.12 · 0.00 · 3.40 %',
      health: 'healthy',
      pids: '42',
    });
  });

  it('shows dashes where v1 or a service has nothing to say', () => {
    const cells = cgroupCells(cgroupRow('cron.service', { memoryBytes: 3 * MiB, runtime: null }));
    expect(cells).toMatchObject({
      kind: 'service',
      memory: '3.00 MiB',
      memoryBar: null,
      io: NO_VALUE,
      pressure: NO_VALUE,
      health: NO_VALUE,
      pids: NO_VALUE,
    });
    expect(cgroupCells(cgroupRow('web', { state: 'running' })).health).toBe('running');
  });
});

describe('what the panel says around the table', () => {
  it('says where it looked, and for what, when it found nothing', () => {
    const text = emptyText('hybrid');
    expect(text).toContain('cgroup v1 controllers of a hybrid layout');
    for (const kind of ['Docker', 'Podman', 'containerd', 'Kubernetes', 'systemd services']) {
      expect(text).toContain(kind);
    }
    expect(emptyText('v2')).toContain('unified cgroup v2 hierarchy');
  });

  it('notes missing names and a walk cut short', () => {
    expect(cgroupNotes({ truncated: false, namesUnavailableReason: null })).toEqual([]);
    const notes = cgroupNotes({
      truncated: true,
      namesUnavailableReason: 'no Docker API at /var/run/docker.sock (ENOENT)',
    });
    expect(notes).toEqual([
      'Container names, images and health unavailable — no Docker API at /var/run/docker.sock (ENOENT)',
      'More cgroups than CGROUPS_MAX: the walk stopped there, so some are not measured.',
    ]);
  });

  it('tones health and state at a glance', () => {
    expect(healthTone('healthy')).toBe('ok');
    expect(healthTone('starting')).toBe('warn');
    expect(healthTone('unhealthy')).toBe('bad');
    expect(healthTone('created')).toBeNull();
    expect(healthTone(null)).toBeNull();
  });
});
