/** One run of a polled task; `signal` aborts when the poller is stopped mid-run. */
export type PollTask = (signal: AbortSignal) => Promise<void>;

/** A repeating task that its owner starts and stops (a component: mount and unmount). */
export interface Poller {
  /** Runs the task now, then again `intervalMs` after each run settles. A no-op when running. */
  start(): void;
  /** Clears the pending timer and aborts a run in flight; nothing runs after this returns. */
  stop(): void;
  readonly running: boolean;
}

/**
 * Polls `task` every `intervalMs`, measured from the end of one run to the start of the next so
 * a slow answer never stacks requests. The task handles its own errors; a rejection is ignored
 * here so one failed run never ends the polling.
 */
export function createPoller(task: PollTask, intervalMs: number): Poller {
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new RangeError(`intervalMs must be a positive number, got ${intervalMs}`);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  let controller: AbortController | undefined;
  // Bumped on every start and stop, so a run that settles after stop() (or after a
  // stop-start pair) never schedules a second chain of timers.
  let generation = 0;
  let running = false;

  async function run(own: number): Promise<void> {
    timer = undefined;
    controller = new AbortController();
    try {
      await task(controller.signal);
    } catch {
      // The task reports its own failures; polling goes on.
    }
    if (own !== generation) return;
    timer = setTimeout(() => void run(own), intervalMs);
  }

  return {
    start() {
      if (running) return;
      running = true;
      generation += 1;
      void run(generation);
    },
    stop() {
      if (!running) return;
      running = false;
      generation += 1;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      controller?.abort();
      controller = undefined;
    },
    get running() {
      return running;
    },
  };
}
