// The livestat side of bench/statsd: the StatsD server and aggregator alone in a process, with
// a one-second flush standing in for the sampler's tick. Prints `port <n>` when bound, then
// answers each `stats` line on stdin with the lines it has read so far.
import { createInterface } from 'node:readline';
import pino from 'pino';
import { createAppAggregator } from '../apps/api/src/ingest/app-aggregator.js';
import { createStatsdServer } from '../apps/api/src/ingest/statsd-server.js';

const aggregator = createAppAggregator({ maxSeries: 2000, maxTagValues: 100 });
const server = createStatsdServer({
  host: '127.0.0.1',
  port: 0,
  aggregator,
  logger: pino({ level: 'silent' }),
});
const port = await server.start();
const tick = setInterval(() => aggregator.flush(1000), 1000);
process.stdout.write(`port ${port}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'stats') continue;
  const { lines, rejectedLines, droppedPackets } = server.stats();
  process.stdout.write(`lines ${lines + rejectedLines} dropped ${droppedPackets}\n`);
}
clearInterval(tick);
await server.close();
