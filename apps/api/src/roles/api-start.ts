import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { checkPort } from './listen.js';
import type { SamplingPipeline } from '../sampling-pipeline.js';
import type { OpenedDatabase } from './storage.js';

/** What `startApi` is handed: the database (opening), the tokens' secret, the collectors. */
export interface ApiStart {
  opened: OpenedDatabase;
  jwtSecret: string;
  /** With SAMPLING on: the collectors, already priming (perf's child counting its first interval). */
  sampling?: SamplingPipeline;
}

/**
 * The API's first steps, run by main.ts before the API's modules load. A taken port ends
 * start-up before anything is started, with one line and no stack. Then the collectors prime
 * at once (perf's child counting its first interval, which takes one interval and more: the
 * first snapshot waits for it), before storage's modules are even loaded; then PGlite loads,
 * compiles and opens on its thread while the API's modules load. An unusable DATA_DIR or JWT
 * secret file ends start-up with one line too.
 */
export async function beginApi(config: Config, logger: Logger): Promise<ApiStart> {
  // The collectors' modules load while the port is checked.
  const pipelineModule = config.sampling ? import('../sampling-pipeline.js') : undefined;
  const portProblem = await checkPort(config.host, config.port);
  if (portProblem !== null) {
    process.stderr.write(`livestat: ${portProblem}\n`);
    process.exit(1);
  }
  let sampling: SamplingPipeline | undefined;
  if (pipelineModule) {
    sampling = (await pipelineModule).createSamplingPipeline(config, logger);
    void sampling.aggregator.prime(); // awaited by sampler.start(); never rejects
  }
  // Storage: PostgreSQL when DATABASE_URL is set, else PGlite embedded under DATA_DIR.
  let opened: OpenedDatabase | undefined;
  try {
    const [{ openDatabase }, { loadJwtSecret }] = await Promise.all([
      import('./storage.js'),
      import('../auth/secret.js'),
    ]);
    opened = await openDatabase(config, logger);
    const jwtSecret = await loadJwtSecret({
      configured: config.jwtSecret,
      dataDir: config.dataDir,
      logger,
    });
    return sampling ? { opened, jwtSecret, sampling } : { opened, jwtSecret };
  } catch (err) {
    // perf's child ends with the collectors, not orphaned until its next write fails.
    await sampling?.aggregator.stop();
    return cannotStart(err, opened);
  }
}

/** The one line a database or secret that cannot be used deserves, then exit 1. */
export async function cannotStart(err: unknown, opened?: OpenedDatabase): Promise<never> {
  process.stderr.write(`livestat: cannot start: ${(err as Error).message}\n`);
  await opened?.releaseDataDir();
  process.exit(1);
}
