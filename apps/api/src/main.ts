import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startAgent } from './roles/agent.js';
import { startApi } from './roles/api.js';

// The entry point: validate the environment, then compose the role it asks for — the API
// (src/roles/api.ts) or an agent (src/roles/agent.ts). The roles are the composition roots:
// only they construct servers and clients; everything else receives them.

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
if (config.role === 'agent') await startAgent(config, logger);
else await startApi(config, logger);
