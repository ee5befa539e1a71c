import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from './config.js';
import { createApp } from './http/app.js';
import { createLogger } from './logger.js';
import { createSamplingPipeline } from './sampling.js';
import { createShutdown } from './shutdown.js';
import { VERSION } from './version.js';

// The composition root: config → collectors → sampler → HTTP → graceful shutdown.
// Only this file constructs servers and clients; everything else receives them.

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`livestat: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

const logger = createLogger({ level: config.logLevel });
const startedAt = Date.now();

const { aggregator, sampler } = createSamplingPipeline(config, logger);

const app = createApp({
  logger,
  health: () => {
    const { seq, lastSnapshot } = sampler.stats();
    return {
      status: 'ok',
      version: VERSION,
      host: config.hostName,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      database: 'not_configured',
      redis: 'not_configured',
      websocketConnections: 0,
      sampler: { seq, lastSnapshotAt: lastSnapshot?.timestamp ?? null },
    };
  },
});

await sampler.start();
const server = app.listen(config.port, config.host);
await once(server, 'listening');
const { port } = server.address() as AddressInfo;
logger.info(
  {
    url: `http://${config.host}:${port}`,
    host: config.hostName,
    intervalMs: config.samplingIntervalMs,
    collectors: config.collectors,
    version: VERSION,
  },
  `livestat API listening on http://${config.host}:${port} (health: /api/health)`,
);

const shutdown = createShutdown(logger, [
  ['stop sampling', () => sampler.stop()],
  ['stop collectors', () => aggregator.stop()],
  [
    'close http server',
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  ],
]);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => void shutdown(signal));
}
