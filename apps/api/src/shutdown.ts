import type { Logger } from './logger.js';

/** One shutdown step; `timeoutMs` overrides the shutdown's `stepTimeoutMs` for this step. */
export type ShutdownStep = readonly [
  name: string,
  run: () => Promise<unknown>,
  options?: { timeoutMs?: number },
];

export interface ShutdownOptions {
  /** Longest one step may take before it is abandoned as failed; default 15 s. */
  stepTimeoutMs?: number;
  /**
   * Longest the whole shutdown may take: past it the process exits 1 with steps still
   * pending; default 25 s, inside docker compose's 30 s stop grace period.
   */
  deadlineMs?: number;
}

const STEP_TIMED_OUT = Symbol('step timed out');

/**
 * A shutdown that runs once, in order, each step timed and logged. A second signal while it
 * runs is logged and ignored, so it cannot cut a flush short. Exits 0 when every step
 * succeeded, 1 otherwise. Bounded: a step that hangs (a database that cannot write, a socket
 * that never closes) is abandoned after its timeout and the next one runs, and the whole
 * shutdown exits by `deadlineMs` whatever is still pending, so a signal always ends the process.
 */
export function createShutdown(
  logger: Logger,
  steps: readonly ShutdownStep[],
  exit: (code: number) => void = (code) => process.exit(code),
  options: ShutdownOptions = {},
) {
  const stepTimeoutMs = options.stepTimeoutMs ?? 15_000;
  const deadlineMs = options.deadlineMs ?? 25_000;
  let running: Promise<void> | null = null;
  /** `fatal`: shutting down because start-up failed, so the exit code is 1 whatever the steps do. */
  return (reason: string, fatal = false): Promise<void> => {
    if (running) {
      logger.warn({ reason }, 'shutdown already in progress; waiting for it to finish');
      return running;
    }
    let exited = false;
    const exitOnce = (code: number) => {
      if (exited) return;
      exited = true;
      exit(code);
    };
    running = (async () => {
      logger.info({ reason }, 'shutting down');
      let current: string | null = null;
      // Not unref'd: it is what ends the process if a pending step holds the loop open forever.
      const deadline = setTimeout(() => {
        logger.error(
          { reason, deadlineMs, step: current },
          'shutdown did not finish in time; exiting with steps still pending',
        );
        exitOnce(1);
      }, deadlineMs);
      let failed = fatal;
      for (const [name, run, stepOptions] of steps) {
        if (exited) return;
        current = name;
        const started = performance.now();
        const timeoutMs = stepOptions?.timeoutMs ?? stepTimeoutMs;
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<typeof STEP_TIMED_OUT>((resolve) => {
          timer = setTimeout(() => resolve(STEP_TIMED_OUT), timeoutMs);
        });
        try {
          const outcome = await Promise.race([run(), timedOut]);
          const ms = Math.round(performance.now() - started);
          if (outcome === STEP_TIMED_OUT) {
            failed = true;
            logger.error({ step: name, ms, timeoutMs }, 'shutdown step timed out; moving on');
          } else {
            logger.info({ step: name, ms }, 'shutdown step done');
          }
        } catch (err) {
          failed = true;
          logger.error({ step: name, err }, 'shutdown step failed');
        } finally {
          clearTimeout(timer);
        }
      }
      clearTimeout(deadline);
      if (exited) return;
      logger.info({ reason }, failed ? 'shutdown finished with errors' : 'shutdown complete');
      exitOnce(failed ? 1 : 0);
    })();
    return running;
  };
}
