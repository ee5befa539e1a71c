import type { AppMessage, AppServiceInfo } from '@livestat/contracts';
import { describe, expect, it } from 'vitest';
import { limitNotice, searchServices, servicesOf } from './services-view';

const limits = { series: 3, maxSeries: 2000, refusedSeries: 0, overLimit: false, reason: null };

const catalogue: AppServiceInfo[] = [
  {
    name: 'worker',
    metrics: [
      { key: 'queue.depth', name: 'queue.depth', kind: 'gauge', tags: {}, fields: ['value'] },
      { key: 'messages', name: 'messages', kind: 'counter', tags: {}, fields: ['rate', 'count'] },
    ],
    limits,
    rejected: {},
  },
];

const message: AppMessage = {
  type: 'app',
  host: 'h',
  timestamp: '2026-12-04T21:00:00.000Z',
  intervalMs: 1000,
  services: {
    worker: {
      metrics: { 'batch.size': { name: 'batch.size', kind: 'histogram', tags: {}, count: 2 } },
    },
    router: {
      metrics: {
        'calls;provider=openai': { name: 'calls', kind: 'counter', tags: { provider: 'openai' } },
        'calls;provider=anthropic': {
          name: 'calls',
          kind: 'counter',
          tags: { provider: 'anthropic' },
        },
      },
    },
  },
};

describe('servicesOf', () => {
  it('lists the catalogue and what the newest message adds, sorted', () => {
    const services = servicesOf(catalogue, message);
    expect(services.map((s) => [s.name, s.metrics.map((m) => m.key)])).toEqual([
      ['router', ['calls;provider=anthropic', 'calls;provider=openai']],
      ['worker', ['batch.size', 'messages', 'queue.depth']],
    ]);
    expect(services[0]!.limits).toBeNull();
    expect(services[1]!.limits).toEqual(limits);
  });
});

describe('searchServices', () => {
  const services = servicesOf(catalogue, message);
  const keys = (query: string) =>
    searchServices(services, query).map(
      (s) => `${s.name}:${s.metrics.map((m) => m.key).join(',')}`,
    );

  it('matches service, metric name, kind and tags, every word, any case', () => {
    expect(keys('')).toHaveLength(2);
    expect(keys('OPENAI')).toEqual(['router:calls;provider=openai']);
    expect(keys('worker queue')).toEqual(['worker:queue.depth']);
    expect(keys('counter')).toEqual([
      'router:calls;provider=anthropic,calls;provider=openai',
      'worker:messages',
    ]);
    expect(keys('router')).toEqual(['router:calls;provider=anthropic,calls;provider=openai']);
    expect(keys('nothing-like-it')).toEqual([]);
  });
});

describe('limitNotice', () => {
  it('says which cap a service is over and how much was refused', () => {
    const [, worker] = servicesOf(
      [
        {
          ...catalogue[0]!,
          limits: {
            series: 2000,
            maxSeries: 2000,
            refusedSeries: 37,
            overLimit: true,
            reason: null,
          },
          rejected: { bad_value: 4, max_series: 37 },
        },
      ],
      message,
    );
    expect(limitNotice(worker!)).toBe(
      'at the 2,000-series cap (APP_MAX_SERIES): 37 new series refused; rejected: 4 bad value',
    );
  });

  it('names the tag whose values ran out, and a cap reached before series expired', () => {
    const [, worker] = servicesOf(
      [
        {
          ...catalogue[0]!,
          limits: {
            series: 1200,
            maxSeries: 2000,
            refusedSeries: 5,
            overLimit: true,
            reason: 'tag "user" has 100 values (max tag values)',
          },
          rejected: { max_tag_values: 3, max_series: 2 },
        },
      ],
      message,
    );
    expect(limitNotice(worker!, 'en-US')).toBe(
      'reached the 2,000-series cap (APP_MAX_SERIES): 2 new series refused; 3 new series ' +
        'refused for a tag with too many values (APP_MAX_TAG_VALUES, last tag "user" has 100 ' +
        'values (max tag values))',
    );
  });

  it('says nothing for a service within its caps', () => {
    expect(limitNotice(servicesOf(catalogue, undefined)[0]!)).toBeNull();
  });
});
