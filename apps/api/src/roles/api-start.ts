import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { loadJwtSecret } from '../auth/secret.js';
import { checkPort } from './listen.js';
import type { SamplingPipeline } from '../sampling-pipeline.js';
import { openDatabase, type OpenedDatabase } from './storage.js';

/** What `startApi` is handed: the database (opening), the tokens' secret, the collectors. */
export interface ApiStart {
  opened: OpenedDatabase;
  jwtSecret: string;
  /** With SAMPLING on: the collectors, already priming (perf's child counting its first interval). */
  sampling?: SamplingPipeline;
}

/**
 * The API's first steps, run by main.ts before the API's modules load so that PGlite loads,
 * compiles and opens on its thread while they do, and the collectors prime meanwhile (perf's
 * first interval takes one interval and more): a taken port ends start-up before anything
 * is opened, with one line and no stack; so does an unusable DATA_DIR or JWT secret file.
 */
export async function beginApi(config: Config, logger: Logger): Promise<ApiStart> {
  const portProblem = await checkPort(config.host, config.port);
  if (portProblem !== null) {
    process.stderr.write(`livestat: ${portProblem}\n`);
    process.exit(1);
  }
  // Storage: PostgreSQL when DATABASE_URL is set, else PGlite embedded under DATA_DIR.
  let opened: OpenedDatabase | undefined;
  try {
    opened = await openDatabase(config, logger);
    const jwtSecret = await loadJwtSecret({
      configured: config.jwtSecret,
      dataDir: config.dataDir,
      logger,
    });
    if (!config.sampling) return { opened, jwtSecret };
    const { createSamplingPipeline } = await import('../sampling-pipeline.js');
    const sampling = createSamplingPipeline(config, logger);
    void sampling.aggregator.prime(); // awaited by sampler.start(); never rejects
    return { opened, jwtSecret, sampling };
  } catch (err) {
    return cannotStart(err, opened);
  }
}

/** The one line a database or secret that cannot be used deserves, then exit 1. */
export async function cannotStart(err: unknown, opened?: OpenedDatabase): Promise<never> {
  process.stderr.write(`livestat: cannot start: ${(err as Error).message}\n`);
  await opened?.releaseDataDir();
  process.exit(1);
}
