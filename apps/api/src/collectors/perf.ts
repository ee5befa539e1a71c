import type { PerfMetrics } from '@livestat/contracts';
import type { PerfCounter, PerfInterval } from './perf-parse.js';
import {
  DEFAULT_PERF_PATH,
  createPerfStatProcess,
  type PerfStatProcess,
  type PerfStatStatus,
} from './perf-stat.js';
import { checkPerfPermission, readPerfPermission } from './perf-permission.js';
import { percentOf, round } from './rates.js';
import type { Collector, CollectorDeps } from './types.js';

/** Counted by the CPU's PMU: missing on most VMs. */
export const PERF_HARDWARE_EVENTS = [
  'cycles',
  'instructions',
  'cache-references',
  'cache-misses',
  'branch-misses',
] as const;
/** Counted by the kernel: available wherever perf events are. */
export const PERF_SOFTWARE_EVENTS = ['context-switches', 'cpu-migrations', 'page-faults'] as const;
/** Everything the collector asks perf for, in `-e` order. */
export const PERF_EVENTS: readonly string[] = [...PERF_HARDWARE_EVENTS, ...PERF_SOFTWARE_EVENTS];

function counted(counter: PerfCounter | undefined): number | null {
  return counter?.status === 'counted' && counter.value !== null ? counter.value : null;
}

/**
 * Turns one complete interval into the payload. perf already reports per-interval deltas,
 * scaled for multiplexing, so a rate is value / interval length. An event perf did not
 * count is null and listed in `unsupportedEvents`; when nothing at all counted the
 * collector is unavailable.
 */
export function computePerfMetrics(
  interval: PerfInterval,
  events: readonly string[] = PERF_EVENTS,
): PerfMetrics {
  const values = new Map(events.map((event) => [event, counted(interval.counters.get(event))]));
  const unsupportedEvents = events.filter((event) => values.get(event) === null);
  if (unsupportedEvents.length === events.length) {
    return {
      available: false,
      error: `no countable perf events: perf counts none of ${events.join(', ')} here`,
    };
  }
  const perSec = (event: string): number | null => {
    const value = values.get(event) ?? null;
    return value === null ? null : round(value / interval.lengthS, 2);
  };
  const cycles = values.get('cycles') ?? null;
  const instructions = values.get('instructions') ?? null;
  const references = values.get('cache-references') ?? null;
  const misses = values.get('cache-misses') ?? null;
  const hardwareMissing = PERF_HARDWARE_EVENTS.filter((event) => unsupportedEvents.includes(event));
  const hardwareAvailable = hardwareMissing.length < PERF_HARDWARE_EVENTS.length;
  return {
    available: true,
    hardwareAvailable,
    hardwareUnavailableReason: hardwareAvailable
      ? null
      : 'hardware events not supported on this machine (no PMU, common on VMs): ' +
        hardwareMissing.join(', '),
    cyclesPerSec: perSec('cycles'),
    instructionsPerSec: perSec('instructions'),
    ipc:
      cycles === null || instructions === null || cycles === 0
        ? null
        : round(instructions / cycles, 2),
    cacheReferencesPerSec: perSec('cache-references'),
    cacheMissesPerSec: perSec('cache-misses'),
    cacheMissPercent:
      references === null || misses === null ? null : round(percentOf(misses, references), 2),
    branchMissesPerSec: perSec('branch-misses'),
    contextSwitchesPerSec: perSec('context-switches'),
    cpuMigrationsPerSec: perSec('cpu-migrations'),
    pageFaultsPerSec: perSec('page-faults'),
    unsupportedEvents,
    perfIntervalMs: round(interval.lengthS * 1000, 2),
  };
}

export interface PerfCollectorOptions {
  /** perf's `-I`, normally the sampling interval (perf accepts ≥ 10 ms). */
  intervalMs: number;
  perfPath?: string;
  /** Effective uid for the permission check; `process.geteuid()` by default. */
  euid?: number;
  logger?: { warn(obj: object, msg: string): void };
  restartBackoff?: { initialMs: number; maxMs: number };
  healthyAfterMs?: number;
  killGraceMs?: number;
}

/** The perf collector with access to its child, for tests and diagnostics. */
export interface PerfCollector extends Collector<'perf'> {
  /** The child's status, null before `prime()` started it (or when permission is lacking). */
  childStatus(): PerfStatStatus | null;
}

/** A missing interval for this many intervals makes the reading stale. */
const STALE_AFTER_INTERVALS = 3;
const FIRST_INTERVAL_GRACE_MS = 5000;
/** `prime()` waits for perf's first interval at most 2 intervals plus this long. */
const PRIME_WAIT_EXTRA_MS = 1500;

/**
 * Counts hardware and software events with ONE long-running `perf stat -a` child (started
 * by `prime()`), and reports its latest complete interval. `prime()` resolves once perf has
 * completed its first interval or failed (at most 2 intervals + 1.5 s), so the first tick
 * already has figures; it never throws. Never throws from `collect()` either:
 * every reason perf cannot count (no binary, no permission, no PMU, a dead or silent
 * child) is an `available: false` payload that says so.
 */
export function createPerfCollector(
  deps: CollectorDeps,
  options: PerfCollectorOptions,
): PerfCollector {
  const { intervalMs } = options;
  if (!Number.isInteger(intervalMs) || intervalMs < 10) {
    throw new RangeError(`perf intervalMs must be an integer ≥ 10, got ${String(intervalMs)}`);
  }
  const euid = options.euid ?? process.geteuid?.() ?? -1;
  let child: PerfStatProcess | null = null;
  let blocked: string | null = null;
  let primed = false;
  let stopped = false;

  async function startIfPermitted(): Promise<void> {
    try {
      blocked = checkPerfPermission({ ...(await readPerfPermission(deps.procRoot)), euid });
    } catch (err) {
      blocked = err instanceof Error ? err.message : String(err);
    }
    if (blocked !== null || stopped) return;
    child ??= createPerfStatProcess({
      perfPath: options.perfPath ?? DEFAULT_PERF_PATH,
      intervalMs,
      events: PERF_EVENTS,
      now: deps.now,
      logger: options.logger,
      restartBackoff: options.restartBackoff,
      healthyAfterMs: options.healthyAfterMs,
      killGraceMs: options.killGraceMs,
    });
    child.start();
  }

  const unavailable = (error: string): PerfMetrics => ({ available: false, error });

  /** Starts the child once; false when it was already started (or the collector stopped). */
  async function startOnce(): Promise<boolean> {
    if (primed || stopped) return false;
    primed = true;
    await startIfPermitted();
    return true;
  }

  async function prime(): Promise<void> {
    // perf's first interval lands a little after one interval (spawn, perf's own start):
    // without this wait the sampler's first tick, one interval after prime, would miss it.
    if (await startOnce()) await child?.whenReady(2 * intervalMs + PRIME_WAIT_EXTRA_MS);
  }

  return {
    name: 'perf',
    prime,
    async collect() {
      if (stopped) return unavailable('perf collector stopped');
      // An implicit start does not wait for perf: this tick reports it as starting.
      if (!primed) await startOnce();
      // The sysctl can be lowered at run time: look again rather than stay blocked forever.
      else if (blocked !== null) await startIfPermitted();
      if (blocked !== null) return unavailable(blocked);
      const status = child?.status();
      if (status === undefined) return unavailable('perf stat not started yet');
      if (status.failure !== null) return unavailable(status.failure);

      // A first interval gets a little longer: perf itself can take a moment to start.
      const staleMs = STALE_AFTER_INTERVALS * intervalMs;
      const allowedMs =
        status.latest === null ? Math.max(staleMs, FIRST_INTERVAL_GRACE_MS) : staleMs;
      const since = status.latest?.receivedAt ?? status.startedAt ?? deps.now();
      const silentMs = deps.now() - since;
      if (silentMs > allowedMs) {
        return unavailable(
          `perf stat stale: no interval completed for ${(silentMs / 1000).toFixed(1)} s ` +
            `(expected one every ${String(intervalMs)} ms)`,
        );
      }
      if (status.latest === null)
        return unavailable('perf stat starting: no interval completed yet');
      return computePerfMetrics(status.latest.interval);
    },
    childStatus: () => child?.status() ?? null,
    async stop() {
      stopped = true;
      await child?.stop();
    },
  };
}
