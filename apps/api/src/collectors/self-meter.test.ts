import { agentMetrics } from '@livestat/contracts';
import { describe, expect, it } from 'vitest';
import { createSelfMeter } from './self-meter.js';

describe('self meter', () => {
  it('reports process CPU time over wall time since the last measurement', () => {
    let now = 0;
    let cpu = { user: 0, system: 0 };
    const meter = createSelfMeter({
      now: () => now,
      cpuUsage: () => cpu,
      memoryUsage: () => ({ rss: 50 * 1024 * 1024, heapUsed: 12_345 }),
    });
    now = 1000;
    cpu = { user: 20_000, system: 5_000 }; // 25 ms of CPU in 1 s
    const first = meter.measure({ cpu: { durationMs: 1.5, ok: true } }, 2.345);
    expect(first).toEqual({
      cpuPercent: 2.5,
      rssBytes: 50 * 1024 * 1024,
      heapUsedBytes: 12_345,
      collectDurationMs: 2.35,
      collectors: { cpu: { durationMs: 1.5, ok: true } },
    });
    expect(agentMetrics.parse(first)).toEqual(first);
    now = 3000;
    cpu = { user: 420_000, system: 105_000 }; // 500 ms more in 2 s
    expect(meter.measure({}, 0).cpuPercent).toBe(25);
  });

  it('reports 0 rather than dividing by zero when no time passed', () => {
    const meter = createSelfMeter({
      now: () => 7,
      cpuUsage: () => ({ user: 5, system: 5 }),
      memoryUsage: () => ({ rss: 1, heapUsed: 1 }),
    });
    expect(meter.measure({}, 0).cpuPercent).toBe(0);
  });
});
