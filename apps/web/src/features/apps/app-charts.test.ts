import { describe, expect, it } from 'vitest';
import { chartKindOf, chartSpecOf, chartedPaths, headlineOf, tagsText } from './app-charts';

const ref = (kind: 'counter' | 'gauge' | 'timer' | 'histogram' | 'set', key: string) => ({
  service: 'worker',
  key,
  name: key.split(';')[0]!,
  kind,
  tags: {},
});

describe('chart per metric kind', () => {
  it('draws counters as a rate, gauges and sets as a line, timings as p50/p90/p99', () => {
    expect(chartKindOf('counter')).toBe('rate');
    expect(chartKindOf('gauge')).toBe('line');
    expect(chartKindOf('set')).toBe('line');
    expect(chartKindOf('timer')).toBe('bands');
    expect(chartKindOf('histogram')).toBe('bands');
  });

  it('charts a counter by its per-second rate, never its interval count', () => {
    expect(chartSpecOf(ref('counter', 'messages;queue=emails'))).toEqual({
      unit: 'rate',
      lines: [{ path: 'app.worker.messages;queue=emails.rate', label: 'per second' }],
    });
  });

  it("charts a gauge by its value and a timer by its interval's percentiles", () => {
    expect(chartSpecOf(ref('gauge', 'queue.depth')).lines.map((l) => l.path)).toEqual([
      'app.worker.queue.depth.value',
    ]);
    expect(chartedPaths(ref('timer', 'batch.duration'))).toEqual([
      'app.worker.batch.duration.p50',
      'app.worker.batch.duration.p90',
      'app.worker.batch.duration.p99',
    ]);
    expect(chartSpecOf(ref('histogram', 'batch.size')).lines.map((l) => l.label)).toEqual([
      'p50',
      'p90',
      'p99',
    ]);
    expect(chartSpecOf(ref('set', 'users')).unit).toBe('count');
  });

  it("headlines the newest interval's figure", () => {
    expect(headlineOf({ name: 'm', kind: 'counter', tags: {}, count: 25, rate: 12.5 })).toBe(
      '12.5 /s',
    );
    expect(headlineOf({ name: 'q', kind: 'gauge', tags: {}, value: 42 })).toBe('42.00');
    expect(
      headlineOf({ name: 'b', kind: 'timer', tags: {}, count: 3, p50: 10, p90: 20, p99: 30 }),
    ).toBe('p50 10.00 · p99 30.00');
    expect(headlineOf(undefined)).toBeNull();
    expect(tagsText({ region: 'eu', provider: 'openai' })).toBe('provider=openai, region=eu');
  });
});
