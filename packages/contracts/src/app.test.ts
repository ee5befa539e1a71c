import { describe, expect, it } from 'vitest';
import {
  APP_METRIC_FIELDS,
  appMessage,
  appMetricKey,
  appsResponse,
  flattenAppSeries,
  parseAppSeriesPath,
  sanitizeServiceName,
} from './app.js';
import { serverMessage } from './messages.js';

const worker = {
  type: 'app',
  host: 'vm-web-01',
  timestamp: '2026-12-04T21:30:00.000Z',
  intervalMs: 1000,
  services: {
    worker: {
      metrics: {
        'queue.depth': { name: 'queue.depth', kind: 'gauge', tags: {}, value: 17 },
        'messages;queue=emails': {
          name: 'messages',
          kind: 'counter',
          tags: { queue: 'emails' },
          count: 30,
          rate: 30,
        },
        'batch.duration': {
          name: 'batch.duration',
          kind: 'timer',
          tags: {},
          count: 3,
          sum: 60,
          min: 10,
          max: 30,
          p50: 20,
          p90: 30,
          p99: 30,
        },
        users: { name: 'users', kind: 'set', tags: {}, unique: 2 },
      },
    },
  },
} as const;

describe('appMessage', () => {
  it('is a server message, narrowed by its type', () => {
    const parsed = serverMessage.parse(worker);
    expect(parsed.type === 'app' && parsed.services.worker?.metrics['queue.depth']?.value).toBe(17);
  });

  it('refuses a metric of an unknown kind, naming the field', () => {
    const bad = JSON.parse(JSON.stringify(worker)) as {
      services: { worker: { metrics: { users: { kind: string } } } };
    };
    bad.services.worker.metrics.users.kind = 'meter';
    const result = appMessage.safeParse(bad);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.join('.')).toBe('services.worker.metrics.users.kind');
  });
});

describe('appMetricKey', () => {
  it('appends tags sorted by key', () => {
    expect(appMetricKey('calls', { region: 'eu', provider: 'openai' })).toBe(
      'calls;provider=openai;region=eu',
    );
  });

  it('is the bare name without tags', () => {
    expect(appMetricKey('queue.depth', {})).toBe('queue.depth');
  });

  it('replaces blanks and separators inside names and tags', () => {
    expect(appMetricKey('a b;c', { 'k=1': 'v;2 x' })).toBe('a_b_c;k_1=v_2_x');
  });
});

describe('sanitizeServiceName', () => {
  it('keeps a service one path segment', () => {
    expect(sanitizeServiceName('checkout.api v2')).toBe('checkout_api_v2');
    // `*` is an alert family's wildcard, never a service.
    expect(sanitizeServiceName('*')).toBe('_');
  });
});

describe('parseAppSeriesPath', () => {
  it.each([
    ['app.worker.queue.depth.value', 'worker', 'queue.depth', 'value'],
    ['app.router.calls;provider=openai.rate', 'router', 'calls;provider=openai', 'rate'],
    ['app.worker.batch.duration.p99', 'worker', 'batch.duration', 'p99'],
    ['app.web.req;path=/a.b.count', 'web', 'req;path=/a.b', 'count'],
  ])('splits %s', (path, service, metricKey, field) => {
    expect(parseAppSeriesPath(path)).toEqual({ service, metricKey, field });
  });

  it.each([
    'app.worker.value',
    'app.worker.queue.depth.average',
    'cpu.usagePercent',
    'app..x.value',
    'app.worker.a b.value',
    'app.*.queue.depth.value',
    'app.worker.*.value',
    `app.worker.${'x'.repeat(300)}.value`,
  ])('refuses %s', (path) => {
    expect(parseAppSeriesPath(path)).toBeNull();
  });
});

describe('flattenAppSeries', () => {
  it('yields exactly the fields of each kind under their catalogue paths', () => {
    const series = flattenAppSeries(appMessage.parse(worker));
    expect(Object.fromEntries(series)).toEqual({
      'app.worker.queue.depth.value': 17,
      'app.worker.messages;queue=emails.rate': 30,
      'app.worker.messages;queue=emails.count': 30,
      'app.worker.batch.duration.count': 3,
      'app.worker.batch.duration.sum': 60,
      'app.worker.batch.duration.min': 10,
      'app.worker.batch.duration.max': 30,
      'app.worker.batch.duration.p50': 20,
      'app.worker.batch.duration.p90': 30,
      'app.worker.batch.duration.p99': 30,
      'app.worker.users.unique': 2,
    });
    for (const path of series.keys()) expect(parseAppSeriesPath(path)).not.toBeNull();
  });

  it('gives every kind at least one field', () => {
    for (const fields of Object.values(APP_METRIC_FIELDS)) expect(fields.length).toBeGreaterThan(0);
  });
});

describe('appsResponse', () => {
  it('accepts a service over its limit with the reason', () => {
    const answer = {
      services: [
        {
          name: 'worker',
          metrics: [
            { key: 'queue.depth', name: 'queue.depth', kind: 'gauge', tags: {}, fields: ['value'] },
          ],
          limits: {
            series: 2000,
            maxSeries: 2000,
            refusedSeries: 5,
            overLimit: true,
            reason: 'max series 2000 reached',
          },
          rejected: { max_series: 5, bad_value: 1 },
        },
      ],
    };
    expect(appsResponse.parse(answer)).toEqual(answer);
  });
});
