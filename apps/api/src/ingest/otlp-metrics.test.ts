import { describe, expect, it } from 'vitest';
import { createAppAggregator } from './app-aggregator.js';
import {
  decodeOtlpJson,
  decodeOtlpProtobuf,
  encodeOtlpRequest,
  OtlpDecodeError,
} from './otlp-codec.js';
import { createOtlpIngest } from './otlp-metrics.js';

const START = '1733340000000000000';
const attrs = (o: Record<string, string>) =>
  Object.entries(o).map(([key, v]) => ({ key, value: { stringValue: v } }));

/** An export request of one service with these metrics, in OTLP/JSON form. */
function request(metrics: object[]) {
  return {
    resourceMetrics: [
      {
        resource: { attributes: attrs({ 'service.name': 'router' }) },
        scopeMetrics: [{ scope: { name: 'test' }, metrics }],
      },
    ],
  };
}

const counter = (value: string, temporality: number) => ({
  name: 'calls',
  sum: {
    aggregationTemporality: temporality,
    isMonotonic: true,
    dataPoints: [
      {
        attributes: attrs({ provider: 'openai' }),
        startTimeUnixNano: START,
        timeUnixNano: START,
        asInt: value,
      },
    ],
  },
});
const gauge = {
  name: 'queue.depth',
  gauge: { dataPoints: [{ asDouble: 17.5, timeUnixNano: START }] },
};
const upDown = {
  name: 'inflight',
  sum: {
    aggregationTemporality: 2,
    isMonotonic: false,
    dataPoints: [{ asInt: '4', startTimeUnixNano: START }],
  },
};
const histogram = {
  name: 'latency',
  histogram: {
    aggregationTemporality: 1,
    dataPoints: [
      {
        count: '10',
        sum: 550,
        min: 10,
        max: 100,
        explicitBounds: [50, 100],
        bucketCounts: ['5', '5', '0'],
        startTimeUnixNano: START,
      },
    ],
  },
};
const exponential = {
  name: 'size',
  exponentialHistogram: {
    aggregationTemporality: 1,
    dataPoints: [
      {
        count: '4',
        sum: 14,
        min: 1,
        max: 8,
        scale: 0,
        zeroCount: '0',
        // scale 0: bucket i is (2^i, 2^(i+1)]; offset -1 starts at (0.5, 1].
        positive: { offset: -1, bucketCounts: ['1', '1', '1', '1'] },
        startTimeUnixNano: START,
      },
    ],
  },
};

function run(decoded: unknown) {
  const aggregator = createAppAggregator({ maxSeries: 100, maxTagValues: 100 });
  const ingest = createOtlpIngest(aggregator);
  const result = ingest(decoded);
  return { result, services: aggregator.flush(1000), aggregator, ingest };
}

describe.each([
  ['JSON', (body: object) => decodeOtlpJson(Buffer.from(JSON.stringify(body)))],
  ['protobuf', (body: object) => decodeOtlpProtobuf(encodeOtlpRequest(body))],
])('OTLP %s', (_encoding, decode) => {
  it('reads a monotonic delta sum as a counter of the service named by the resource', () => {
    const { result, services } = run(decode(request([counter('42', 1)])));
    expect(result).toEqual({ accepted: 1, rejected: 0, errors: [] });
    expect(services?.router?.metrics['calls;provider=openai']).toEqual({
      name: 'calls',
      kind: 'counter',
      tags: { provider: 'openai' },
      count: 42,
      rate: 42,
    });
  });

  it('differences cumulative sums, counting all of the first point and a reset', () => {
    const aggregator = createAppAggregator({ maxSeries: 100, maxTagValues: 100 });
    const ingest = createOtlpIngest(aggregator);
    const counts = ['10', '25', '3'].map((value) => {
      ingest(decode(request([counter(value, 2)])));
      return aggregator.flush(1000)?.router?.metrics['calls;provider=openai']?.count;
    });
    expect(counts).toEqual([10, 15, 3]);
  });

  it('reads gauges and non-monotonic sums as gauges', () => {
    const { services } = run(decode(request([gauge, upDown])));
    expect(services?.router?.metrics['queue.depth']).toMatchObject({ kind: 'gauge', value: 17.5 });
    expect(services?.router?.metrics.inflight).toMatchObject({ kind: 'gauge', value: 4 });
  });

  it('estimates percentiles of a histogram from its buckets', () => {
    const { services } = run(decode(request([histogram])));
    expect(services?.router?.metrics.latency).toEqual({
      name: 'latency',
      kind: 'histogram',
      tags: {},
      count: 10,
      sum: 550,
      min: 10,
      max: 100,
      // Rank 5 of 10 ends the first bucket (10…50]; ranks 9 and 9.9 fall in (50, 100].
      p50: 50,
      p90: 90,
      p99: 99,
    });
  });

  it('expands an exponential histogram into its buckets', () => {
    const { services } = run(decode(request([exponential])));
    const m = services?.router?.metrics.size;
    expect(m).toMatchObject({ kind: 'histogram', count: 4, sum: 14, min: 1, max: 8 });
    // Rank 2 of 4 ends the bucket (1, 2]; rank 3.96 lies in (4, 8].
    expect(m?.p50).toBe(2);
    expect(m?.p99).toBeCloseTo(7.84, 5);
  });

  it('refuses points without a value and names how many in the result', () => {
    const bad = {
      name: 'broken',
      gauge: { dataPoints: [{ timeUnixNano: START }, { asDouble: 1 }] },
    };
    const { result, aggregator } = run(decode(request([bad])));
    expect(result).toEqual({ accepted: 1, rejected: 1, errors: ['1 no value'] });
    expect(aggregator.describe()[0]?.rejected).toEqual({ no_value: 1 });
  });
});

describe('OTLP decoding', () => {
  it.each([
    ['protobuf garbage', () => decodeOtlpProtobuf(Buffer.from([0x0a, 0xff, 0xff, 0xff]))],
    ['JSON garbage', () => decodeOtlpJson(Buffer.from('{"resourceMetrics": ['))],
    ['a JSON array', () => decodeOtlpJson(Buffer.from('[]'))],
  ])('refuses %s with an OtlpDecodeError', (_label, decode) => {
    expect(decode).toThrow(OtlpDecodeError);
  });
});

describe('OTLP points past the series cap', () => {
  it('are counted once, under their service and the cap that refused them', () => {
    const aggregator = createAppAggregator({ maxSeries: 3, maxTagValues: 100 });
    const points = Array.from({ length: 5 }, (_, i) => ({
      attributes: attrs({ id: `s${i}` }),
      asDouble: i,
    }));
    const result = createOtlpIngest(aggregator)(
      request([{ name: 'depth', gauge: { dataPoints: points } }]),
    );
    expect(result).toMatchObject({ accepted: 3, rejected: 2, errors: ['2 series refused'] });
    // No second count under `unknown`: the service is known, and so is the reason.
    expect(aggregator.describe().map((s) => [s.name, s.rejected])).toEqual([
      ['router', { max_series: 2 }],
    ]);
  });
});
