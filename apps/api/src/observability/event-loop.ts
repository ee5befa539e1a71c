import { monitorEventLoopDelay } from 'node:perf_hooks';

/** How late this process's event loop ran, over the monitor's window. */
export interface EventLoopLag {
  /** The worst 99th percentile of any slice in the window, in ms. */
  lagMs: number;
  /** The longest single delay in the window, in ms: one stall shows here, not in the p99. */
  maxLagMs: number;
  /** The span the figures cover, in ms. */
  windowMs: number;
}

/** One slice of the window, as summarised when it closed (or so far, for the open one). */
export interface LagSlice {
  p99Ms: number;
  maxMs: number;
}

/**
 * A window of the last `slices` slices: pushing one drops the oldest. Percentiles cannot be
 * merged, so the window reports the worst slice's p99 — an upper bound of the window's p99 that
 * still shows ten bad seconds among fifty good ones.
 */
export function createLagWindow(slices: number) {
  if (!Number.isInteger(slices) || slices < 1) {
    throw new RangeError(`slices must be a whole number ≥ 1 (got ${slices})`);
  }
  const closed: LagSlice[] = [];
  return {
    push(slice: LagSlice): void {
      closed.push(slice);
      if (closed.length > slices) closed.shift();
    },
    /** The worst p99 and max of the closed slices and `open`, the slice still being measured. */
    worst(open?: LagSlice): LagSlice {
      let p99Ms = open?.p99Ms ?? 0;
      let maxMs = open?.maxMs ?? 0;
      for (const slice of closed) {
        p99Ms = Math.max(p99Ms, slice.p99Ms);
        maxMs = Math.max(maxMs, slice.maxMs);
      }
      return { p99Ms, maxMs };
    },
  };
}

/**
 * The period of the event-loop delay timers, this monitor's and prom-client's
 * (`nodejs_eventloop_lag_*`), in ms. Each is a wake-up of an otherwise idle process: at
 * prom-client's default 10 ms and the 20 ms this monitor had, the two took ~150 wake-ups a
 * second and about a fifth of the API's idle CPU (bench/RESULTS.md, "Steady CPU"). 50 ms still
 * resolves the 200 ms lag and 1 s stall limits /api/health judges by.
 */
export const EVENT_LOOP_RESOLUTION_MS = 50;

export interface EventLoopMonitorOptions {
  /** The delay timer's period in ms (default {@link EVENT_LOOP_RESOLUTION_MS}): finer costs more wake-ups. */
  resolutionMs?: number;
  /** Length of one slice in ms (default 10 s). */
  sliceMs?: number;
  /** Closed slices kept (default 5: with the open one, 50–60 s of history). */
  slices?: number;
}

export interface EventLoopMonitor {
  /** The lag over the last `slices` closed slices and the open one. */
  lag(): EventLoopLag;
  /** Stops the delay timer and the slice timer; `lag()` then reports what was measured. */
  stop(): void;
}

const NS_PER_MS = 1e6;

/**
 * Measures how late the event loop runs with `perf_hooks.monitorEventLoopDelay`, in slices so
 * a stall a minute ago stops counting. A blocked loop delays the sampler, heartbeats and every
 * socket at once, so this is the first figure to read when the stream stutters.
 *
 * Independent of prom-client's `nodejs_eventloop_lag_*` metrics, which reset on every scrape.
 * Its timers are unref'd: they never keep the process alive, and `stop()` ends them.
 */
export function createEventLoopMonitor(options: EventLoopMonitorOptions = {}): EventLoopMonitor {
  const { resolutionMs = EVENT_LOOP_RESOLUTION_MS, sliceMs = 10_000, slices = 5 } = options;
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  const window = createLagWindow(slices);

  // Each sample is the whole time between two wake-ups of a `resolutionMs` timer, so an idle
  // loop records about `resolutionMs`: only what exceeds it is lag.
  const lagOf = (ns: number) => Math.max(0, ns / NS_PER_MS - resolutionMs);
  function current(): LagSlice | undefined {
    if (histogram.count === 0) return undefined;
    return { p99Ms: lagOf(histogram.percentile(99)), maxMs: lagOf(histogram.max) };
  }

  const timer = setInterval(() => {
    window.push(current() ?? { p99Ms: 0, maxMs: 0 });
    histogram.reset();
  }, sliceMs);
  timer.unref();

  return {
    lag() {
      const { p99Ms, maxMs } = window.worst(current());
      return {
        lagMs: Math.round(p99Ms * 10) / 10,
        maxLagMs: Math.round(maxMs * 10) / 10,
        windowMs: sliceMs * (slices + 1),
      };
    },
    stop() {
      clearInterval(timer);
      histogram.disable();
    },
  };
}
