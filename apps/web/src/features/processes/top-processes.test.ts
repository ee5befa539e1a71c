import { describe, expect, it } from 'vitest';
import { processesTopSearch } from '../../lib/api';
import type { ProcessUsage } from '@livestat/contracts';
import { rangeText, topEntries } from './top-processes';

const SPIKE: ProcessUsage = {
  pid: 4242,
  name: 'livestat-spike',
  user: 'alice',
  command: 'node /tmp/livestat-spike-1a2b.js',
  cpuSeconds: 58.5,
  avgCpuPercent: 97.5,
  peakRssBytes: 48 * 1024 * 1024,
  ioBytes: null,
  firstSeen: '2025-03-14T03:12:00.000Z',
  lastSeen: '2025-03-14T03:13:00.000Z',
};

describe('topEntries', () => {
  it('puts the ranking figure first and the other two after', () => {
    expect(topEntries({ by: 'cpu', processes: [SPIKE] })).toEqual([
      {
        key: '4242@2025-03-14T03:12:00.000Z',
        pid: 4242,
        name: 'livestat-spike',
        user: 'alice',
        command: 'node /tmp/livestat-spike-1a2b.js',
        measure: '97.5 % avg · 58.5 s CPU',
        detail: '48.0 MiB peak · I/O —',
      },
    ]);
    const [memory] = topEntries({
      by: 'memory',
      processes: [{ ...SPIKE, cpuSeconds: 125, ioBytes: 3 * 1024 ** 3, command: '' }],
    });
    expect(memory).toMatchObject({
      measure: '48.0 MiB peak',
      detail: '97.5 % avg · 2 min 05 s CPU · 3.00 GiB I/O',
      command: '[livestat-spike]',
    });
  });
});

describe('the top-processes query', () => {
  it('sends the host, the range widened to whole ms, the measure and the limit', () => {
    const search = new URLSearchParams(
      processesTopSearch({ host: 'vm-web-01', from: 1000.7, to: 2000.2, by: 'io', limit: 10 }),
    );
    expect(Object.fromEntries(search)).toEqual({
      host: 'vm-web-01',
      from: '1000',
      to: '2001',
      by: 'io',
      limit: '10',
    });
  });

  it('names the range by its times, with the date when it is not today', () => {
    const now = Date.UTC(2025, 2, 14, 12);
    const today = rangeText({ from: now - 60_000, to: now }, now);
    expect(today).toBe(
      `${new Date(now - 60_000).toLocaleTimeString()} – ${new Date(now).toLocaleTimeString()}`,
    );
    const older = rangeText({ from: now - 3 * 86_400_000, to: now - 2 * 86_400_000 }, now);
    expect(older).toContain(String(new Date(now - 3 * 86_400_000).getFullYear()));
  });
});
