import type { Logger } from './logger.js';

export type ShutdownStep = readonly [name: string, run: () => Promise<unknown>];

/**
 * A shutdown that runs once, in order, each step timed and logged. A second signal while it
 * runs is logged and ignored, so it cannot cut a flush short. Exits 0 when every step
 * succeeded, 1 otherwise.
 */
export function createShutdown(
  logger: Logger,
  steps: readonly ShutdownStep[],
  exit: (code: number) => void = (code) => process.exit(code),
) {
  let running: Promise<void> | null = null;
  /** `fatal`: shutting down because start-up failed, so the exit code is 1 whatever the steps do. */
  return (reason: string, fatal = false): Promise<void> => {
    if (running) {
      logger.warn({ reason }, 'shutdown already in progress; waiting for it to finish');
      return running;
    }
    running = (async () => {
      logger.info({ reason }, 'shutting down');
      let failed = fatal;
      for (const [name, run] of steps) {
        const started = performance.now();
        try {
          await run();
          logger.info(
            { step: name, ms: Math.round(performance.now() - started) },
            'shutdown step done',
          );
        } catch (err) {
          failed = true;
          logger.error({ step: name, err }, 'shutdown step failed');
        }
      }
      logger.info({ reason }, failed ? 'shutdown finished with errors' : 'shutdown complete');
      exit(failed ? 1 : 0);
    })();
    return running;
  };
}
