import { describe, expect, it } from 'vitest';
import { createAppAggregator } from './app-aggregator.js';
import { parseStatsdPacket } from './statsd-parser.js';

function aggregatorWith(options: { maxSeries?: number; maxTagValues?: number } = {}) {
  const aggregator = createAppAggregator({
    maxSeries: options.maxSeries ?? 2000,
    maxTagValues: options.maxTagValues ?? 100,
    reservoirSize: 1000,
  });
  const send = (packet: string) =>
    parseStatsdPacket(packet, aggregator.statsd, (reason, name) =>
      aggregator.reject(name?.split('.')[0] ?? null, reason),
    );
  return { aggregator, send };
}

describe('app aggregator', () => {
  it('turns an interval of StatsD lines into one metric per series, by service', () => {
    const { aggregator, send } = aggregatorWith();
    send('worker.jobs:1|c\nworker.jobs:2|c\nworker.jobs:1|c|@0.5');
    send('worker.queue.depth:10|g\nworker.queue.depth:+5|g\nworker.queue.depth:-3|g');
    send('worker.users:a|s\nworker.users:b|s\nworker.users:a|s');
    send('calls:1|c|#service:router,provider:openai');
    const services = aggregator.flush(500);
    expect(services).toEqual({
      worker: {
        metrics: {
          jobs: { name: 'jobs', kind: 'counter', tags: {}, count: 5, rate: 10 },
          'queue.depth': { name: 'queue.depth', kind: 'gauge', tags: {}, value: 12 },
          users: { name: 'users', kind: 'set', tags: {}, unique: 2 },
        },
      },
      router: {
        metrics: {
          'calls;provider=openai': {
            name: 'calls',
            kind: 'counter',
            tags: { provider: 'openai' },
            count: 1,
            rate: 2,
          },
        },
      },
    });
    // Nothing arrived since: no message; a gauge keeps its value for the next +n.
    expect(aggregator.flush(500)).toBeNull();
    send('worker.queue.depth:+1|g');
    expect(aggregator.flush(500)?.worker?.metrics['queue.depth']?.value).toBe(13);
  });

  it('gives timers count, sum, min, max and nearest-rank percentiles of the interval', () => {
    const { aggregator, send } = aggregatorWith();
    send(Array.from({ length: 100 }, (_, i) => `api.req:${i + 1}|ms`).join('\n'));
    expect(aggregator.flush(1000)?.api?.metrics.req).toEqual({
      name: 'req',
      kind: 'timer',
      tags: {},
      count: 100,
      sum: 5050,
      min: 1,
      max: 100,
      p50: 50,
      p90: 90,
      p99: 99,
    });
  });

  it('scales sampled timers up in count and sum', () => {
    const { aggregator, send } = aggregatorWith();
    send('api.req:10|ms|@0.1');
    expect(aggregator.flush(1000)?.api?.metrics.req).toMatchObject({ count: 10, sum: 100 });
  });

  it('puts an undotted name without a service tag in the statsd service', () => {
    const { aggregator, send } = aggregatorWith();
    send('uptime:5|g');
    expect(Object.keys(aggregator.flush(1000) ?? {})).toEqual(['statsd']);
  });

  it('refuses new series past the cap, keeps the old ones, and says why', () => {
    const { aggregator, send } = aggregatorWith({ maxSeries: 3 });
    send(Array.from({ length: 5 }, (_, i) => `w.m${i}:1|c`).join('\n'));
    send('w.m0:1|c');
    expect(Object.keys(aggregator.flush(1000)?.w?.metrics ?? {})).toEqual(['m0', 'm1', 'm2']);
    const [info] = aggregator.describe();
    expect(info?.limits).toEqual({
      series: 3,
      maxSeries: 3,
      refusedSeries: 2,
      overLimit: true,
      reason: 'max series 3 reached',
    });
    expect(info?.rejected).toEqual({ max_series: 2 });
  });

  it('caps the values one tag key may take', () => {
    const { aggregator, send } = aggregatorWith({ maxTagValues: 2 });
    send('w.req:1|c|#user:a\nw.req:1|c|#user:b\nw.req:1|c|#user:c\nw.req:1|c|#user:a');
    expect(Object.keys(aggregator.flush(1000)?.w?.metrics ?? {})).toEqual([
      'req;user=a',
      'req;user=b',
    ]);
    expect(aggregator.describe()[0]?.limits.reason).toBe(
      'tag "user" has 2 values (max tag values)',
    );
  });

  it('counts malformed lines per reason under their service', () => {
    const { aggregator, send } = aggregatorWith();
    send('w.x:abc|c\nw.y:1|zz\ngarbage\nw.ok:1|c');
    const byName = Object.fromEntries(aggregator.describe().map((s) => [s.name, s.rejected]));
    expect(byName).toEqual({ unknown: { bad_line: 1 }, w: { bad_value: 1, bad_type: 1 } });
  });

  it('lists each service metric with the fields of its kind', () => {
    const { aggregator, send } = aggregatorWith();
    send('w.t:1|ms\nw.g:1|g');
    expect(aggregator.describe()[0]?.metrics).toEqual([
      { key: 'g', name: 'g', kind: 'gauge', tags: {}, fields: ['value'] },
      {
        key: 't',
        name: 't',
        kind: 'timer',
        tags: {},
        fields: ['count', 'sum', 'min', 'max', 'p50', 'p90', 'p99'],
      },
    ]);
  });
});
