import { pathToFileURL } from 'node:url';
import StatsD from 'hot-shots';

// A queue worker in the shape of seed 003: messages arrive at ~45/s, the worker flushes them to
// the database in batches of 50 (or whatever arrived within 2 s), and reports over StatsD what
// that seed's dashboard showed every 500 ms — queue depth, messages per second, total messages
// and batch size — plus how long each batch took.

export interface WorkerOptions {
  host: string;
  port: number;
  /** The service the metrics belong to (DogStatsD tag `service`). */
  service?: string;
}

const BATCH_SIZE = 50;
const BATCH_WAIT_MS = 2000;
const REPORT_MS = 500;

/** Starts the worker; the returned function stops it and closes its socket. */
export function startQueueWorker(options: WorkerOptions): () => Promise<void> {
  const statsd = new StatsD({
    host: options.host,
    port: options.port,
    protocol: 'udp',
    globalTags: { service: options.service ?? 'worker' },
    errorHandler: (err) => process.stderr.write(`worker: statsd: ${err.message}\n`),
  });
  const started = Date.now();
  let queue = 12;
  let total = 0;
  let lastFlush = Date.now();

  // Arrivals: ~45 messages/s with a slow swell and bursts, so the charts have a shape.
  const arrive = setInterval(() => {
    const t = (Date.now() - started) / 1000;
    const perSecond = 45 + 20 * Math.sin(t / 20) + (Math.random() < 0.05 ? 120 : 0);
    queue += Math.max(0, Math.round((perSecond / 10) * (0.5 + Math.random())));
  }, 100);

  const work = setInterval(() => {
    const due = Date.now() - lastFlush >= BATCH_WAIT_MS;
    if (queue < BATCH_SIZE && !(due && queue > 0)) return;
    const size = Math.min(queue, BATCH_SIZE);
    queue -= size;
    total += size;
    lastFlush = Date.now();
    // An insert of `size` rows: a few ms of overhead and a little per row.
    const duration = 4 + size * 0.3 + Math.random() * 6;
    statsd.increment('messages', size);
    statsd.increment('batches');
    statsd.histogram('batch.size', size);
    statsd.timing('batch.duration', duration);
  }, 50);

  const report = setInterval(() => {
    statsd.gauge('queue.depth', queue);
    statsd.gauge('messages.total', total);
  }, REPORT_MS);

  return async () => {
    clearInterval(arrive);
    clearInterval(work);
    clearInterval(report);
    await new Promise<void>((resolve) => statsd.close(() => resolve()));
  };
}

// `npm run worker -w examples`: the worker alone, to the StatsD port of a local livestat.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const stop = startQueueWorker({
    host: process.env.STATSD_HOST ?? '127.0.0.1',
    port: Number(process.env.STATSD_PORT ?? 8125),
  });
  process.stderr.write('worker: sending StatsD; Ctrl-C stops\n');
  process.once('SIGINT', () => void stop().then(() => process.exit(0)));
}
