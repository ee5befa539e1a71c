// bench/otlp: OTLP/HTTP protobuf data points/s into livestat, beside a body-only floor.
//
// Workload: export requests of 1,000 data points each (10 metrics — gauges, cumulative
// monotonic sums, explicit-bucket histograms — × 100 attribute sets, one service), encoded once
// with the opentelemetry-proto schema, each sum and histogram rising between requests so the
// cumulative differencing does real work. Contenders, on the same Express app and port setup:
// livestat's POST /v1/metrics (token check against PGlite, protobuf decode, aggregation; the
// aggregator flushed every second as the sampler's tick does) and a floor route that reads the
// same body and answers 200 (HTTP, body reading and the client's own cost). Keep-alive, 4
// requests in flight, `--seconds` each, contenders alternating run by run; medians and ratio.
//
//   npm run bench:otlp -- [--runs 3] [--seconds 5]
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import express from 'express';
import pino from 'pino';
import { createAppAggregator } from '../apps/api/src/ingest/app-aggregator.js';
import { encodeOtlpRequest } from '../apps/api/src/ingest/otlp-codec.js';
import { createOtlpIngest } from '../apps/api/src/ingest/otlp-metrics.js';
import { createOtlpRouter } from '../apps/api/src/ingest/otlp-route.js';
import { createPgliteDatabase } from '../apps/api/src/storage/db.js';
import { migrate } from '../apps/api/src/storage/migrate.js';
import { createTokenStore } from '../apps/api/src/tokens/token-store.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, seconds: { type: 'string', default: '5' } },
});
const RUNS = Number(values.runs);
const SECONDS = Number(values.seconds);
const POINTS = 1000;
const IN_FLIGHT = 4;

const logger = pino({ level: 'silent' });
const db = await createPgliteDatabase();
await migrate(db, logger);
const tokens = createTokenStore(db);
const { token } = await tokens.create({ name: 'bench', scope: 'ingest', createdBy: null });
const aggregator = createAppAggregator({ maxSeries: 2000, maxTagValues: 1000 });
const tick = setInterval(() => aggregator.flush(1000), 1000);

const app = express();
app.use(createOtlpRouter({ tokens, ingest: createOtlpIngest(aggregator), logger }));
app.post('/floor', express.raw({ type: () => true, limit: '4mb' }), (_req, res) => {
  res.status(200).type('application/x-protobuf').send(Buffer.alloc(0));
});
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

/** Request `n`: every cumulative value grown by n since the first. */
function body(n: number): Uint8Array {
  const attrs = (i: number) => [{ key: 'shard', value: { stringValue: `s${i}` } }];
  const start = '1733340000000000000';
  const metrics = [];
  for (let m = 0; m < 10; m += 1) {
    const points = Array.from({ length: POINTS / 10 }, (_, i) => ({
      attributes: attrs(i),
      startTimeUnixNano: start,
      timeUnixNano: start,
    }));
    if (m % 3 === 0) {
      metrics.push({
        name: `gauge${m}`,
        gauge: { dataPoints: points.map((p, i) => ({ ...p, asDouble: i + n })) },
      });
    } else if (m % 3 === 1) {
      metrics.push({
        name: `sum${m}`,
        sum: {
          aggregationTemporality: 2,
          isMonotonic: true,
          dataPoints: points.map((p, i) => ({ ...p, asInt: i + n })),
        },
      });
    } else {
      metrics.push({
        name: `hist${m}`,
        histogram: {
          aggregationTemporality: 2,
          dataPoints: points.map((p) => ({
            ...p,
            count: 3 * n,
            sum: 6 * n,
            explicitBounds: [1, 2, 5],
            bucketCounts: [n, n, n, 0],
          })),
        },
      });
    }
  }
  return encodeOtlpRequest({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bench' } }] },
        scopeMetrics: [{ metrics }],
      },
    ],
  });
}
const bodies = Array.from({ length: 64 }, (_, n) => body(n + 1));

/** Data points/s a route took: IN_FLIGHT loops posting bodies in turn for SECONDS. */
async function measure(path: string): Promise<number> {
  const headers = { 'content-type': 'application/x-protobuf', authorization: `Bearer ${token}` };
  const until = performance.now() + SECONDS * 1000;
  let requests = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < until) {
        const res = await fetch(`${base}${path}`, {
          method: 'POST',
          headers,
          body: bodies[next++ % bodies.length],
        });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
        requests += 1;
      }
    }),
  );
  return (requests * POINTS) / ((performance.now() - started) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, number[]> = { livestat: [], floor: [] };
console.log(
  `bench/otlp: ${RUNS} runs of ${SECONDS} s, ${POINTS} points a request, ${IN_FLIGHT} in flight, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
for (let run = 0; run < RUNS; run += 1) {
  const order: ['livestat' | 'floor', string][] = [
    ['livestat', '/v1/metrics'],
    ['floor', '/floor'],
  ];
  if (run % 2 === 1) order.reverse();
  for (const [name, path] of order) results[name]!.push(await measure(path));
  console.log(
    `run ${run + 1}: livestat ${Math.round(results.livestat!.at(-1)!)} points/s, floor ${Math.round(results.floor!.at(-1)!)} points/s`,
  );
}
const ours = median(results.livestat!);
const floor = median(results.floor!);
console.log(
  `median: livestat ${Math.round(ours)} points/s, floor ${Math.round(floor)} points/s, livestat/floor ${(ours / floor).toFixed(2)}`,
);
clearInterval(tick);
server.close();
await db.close();
