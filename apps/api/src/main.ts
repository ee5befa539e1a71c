import { ConfigError, loadConfig, loadEnvFile } from './config.js';
import { createLogger } from './logger.js';
import { applyMemoryFlags } from './memory-flags.js';
import { beginApi } from './roles/api-start.js';

// The entry point: validate the environment, then compose the role it asks for — the API
// (src/roles/api.ts) or an agent (src/roles/agent.ts). The roles are the composition roots:
// only they construct servers and clients; everything else receives them.

// `--dev`: started by `npm run dev`, beside the Vite dev server that serves the dashboard.
const dev = process.argv.includes('--dev');

let config;
let envFile;
try {
  envFile = loadEnvFile();
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`livestat: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
// V8's flags for the footprint, before anything allocates much or starts a thread.
applyMemoryFlags(config);

const logger = createLogger({ level: config.logLevel });
if (envFile) logger.info({ file: envFile }, 'read .env (the environment wins over it)');
if (config.role === 'agent') {
  const { startAgent } = await import('./roles/agent.js');
  await startAgent(config, logger);
} else {
  // The port checked, the collectors priming (the first snapshot comes one interval after)
  // and the embedded database opening on its own thread first, then the API's modules loaded
  // (most of start-up's time) while PGlite compiles and opens.
  const begun = await beginApi(config, logger);
  const { startApi } = await import('./roles/api.js');
  await startApi(config, logger, begun, { dev });
}
