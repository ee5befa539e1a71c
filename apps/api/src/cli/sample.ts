import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, loadEnvFile } from '../config.js';
import { createLogger } from '../logger.js';
import { createSamplingPipeline } from '../sampling-pipeline.js';

// `npm run sample -- --count N [--interval S]`: N snapshots as JSON lines on stdout, logs on
// stderr. The quickest way to see what livestat measures on this machine.

const USAGE = `usage: npm run sample -- --count N [--interval SECONDS]

  --count N            snapshots to print (1-100000)
  --interval SECONDS   sampling interval (0.1-3600; default SAMPLING_INTERVAL_SECONDS or 1)

Prints one snapshot per line as JSON on stdout; logs go to stderr.
PROC_ROOT, SYS_ROOT, COLLECTORS and METRICS_HOST_NAME apply as for the API.
Tip: npm prints its own banner on stdout; use \`npm run -s sample -- ...\` when piping to jq.
`;

function fail(message: string): never {
  process.stderr.write(`sample: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseCli(argv: string[]): { count: number; intervalSeconds: number | undefined } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        count: { type: 'string', short: 'n' },
        interval: { type: 'string', short: 'i' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (values.count === undefined) fail('--count is required');
  const count = Number(values.count);
  if (!/^\d+$/.test(values.count) || count < 1 || count > 100_000) {
    fail(`--count must be a whole number from 1 to 100000 (got "${values.count}")`);
  }
  let intervalSeconds: number | undefined;
  if (values.interval !== undefined) {
    intervalSeconds = Number(values.interval);
    if (!Number.isFinite(intervalSeconds) || intervalSeconds < 0.1 || intervalSeconds > 3600) {
      fail(`--interval must be a number of seconds from 0.1 to 3600 (got "${values.interval}")`);
    }
  }
  return { count, intervalSeconds };
}

const { count, intervalSeconds } = parseCli(process.argv.slice(2));

let config;
try {
  loadEnvFile();
  config = loadConfig(
    intervalSeconds === undefined
      ? process.env
      : { ...process.env, SAMPLING_INTERVAL_SECONDS: String(intervalSeconds) },
  );
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}

const logger = createLogger({ level: config.logLevel, name: 'livestat-sample' }, process.stderr);
const { aggregator, sampler } = createSamplingPipeline(config, logger);

let printed = 0;
const done = new Promise<void>((resolve) => {
  sampler.subscribe((snapshot) => {
    if (printed >= count) return;
    printed += 1;
    process.stdout.write(`${JSON.stringify(snapshot)}\n`);
    if (printed === count) resolve();
  });
});

async function finish(code: number): Promise<never> {
  await sampler.stop();
  await aggregator.stop();
  // Let stdout drain before exiting so a pipe receives every line.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void finish(130));
}

logger.info(
  { count, intervalMs: config.samplingIntervalMs, collectors: config.collectors },
  'sampling',
);
await sampler.start();
await done;
await finish(0);
