import type { PerfMetrics } from '@livestat/contracts';
import type { PerfCounter, PerfInterval } from './perf-parse.js';
import {
  DEFAULT_PERF_PATH,
  createPerfStatProcess,
  type PerfStatProcess,
  type PerfStatStatus,
} from './perf-stat.js';
import { readOptionalProcFile, readProcFile } from './procfs.js';
import { percentOf, round } from './rates.js';
import { CollectorError, type Collector, type CollectorDeps } from './types.js';

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

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;

/** What decides whether system-wide counting is allowed. */
export interface PerfPermissionInput {
  /** `kernel.perf_event_paranoid`, null when the kernel has no perf events at all. */
  paranoid: number | null;
  /** Effective capability mask (`CapEff` of `/proc/self/status`). */
  capEff: bigint;
  euid: number;
}

/** The `CapEff` mask of a `/proc/<pid>/status` text; 0 when the field is absent. */
export function parseCapEff(statusText: string): bigint {
  const match = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText);
  if (match?.[1] === undefined) return 0n;
  return BigInt(`0x${match[1]}`);
}

/**
 * Null when `perf stat -a` may count system-wide; otherwise why not. The kernel allows
 * CPU-wide events for everyone only at paranoid ≤ 0, and for root or a process holding
 * CAP_PERFMON (or, before 5.8, CAP_SYS_ADMIN) at any level.
 */
export function checkPerfPermission(input: PerfPermissionInput): string | null {
  const { paranoid, capEff, euid } = input;
  if (paranoid === null) {
    return 'perf events not supported by this kernel (no /proc/sys/kernel/perf_event_paranoid)';
  }
  const hasCap = (bit: bigint): boolean => ((capEff >> bit) & 1n) === 1n;
  if (paranoid <= 0 || euid === 0 || hasCap(CAP_PERFMON) || hasCap(CAP_SYS_ADMIN)) return null;
  return (
    `perf_event_paranoid is ${String(paranoid)}; system-wide counting needs ≤ 0, root, ` +
    'or CAP_PERFMON (sysctl kernel.perf_event_paranoid=0)'
  );
}

/** Reads the paranoid level and this process's effective capabilities under `procRoot`. */
export async function readPerfPermission(
  procRoot: string,
): Promise<Omit<PerfPermissionInput, 'euid'>> {
  const paranoidText = await readOptionalProcFile(procRoot, 'sys/kernel/perf_event_paranoid');
  const statusText = await readProcFile(procRoot, 'self/status');
  let paranoid: number | null = null;
  if (paranoidText !== null) {
    paranoid = Number(paranoidText.trim());
    if (paranoidText.trim() === '' || !Number.isInteger(paranoid)) {
      throw new CollectorError(
        'malformed',
        `malformed perf_event_paranoid: ${JSON.stringify(paranoidText.trim())}`,
      );
    }
  }
  return { paranoid, capEff: parseCapEff(statusText) };
}

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

/**
 * Counts hardware and software events with ONE long-running `perf stat -a` child (started
 * by `prime()`), and reports its latest complete interval. Never throws from `collect()`:
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

  async function prime(): Promise<void> {
    if (primed || stopped) return;
    primed = true;
    await startIfPermitted();
  }

  return {
    name: 'perf',
    prime,
    async collect() {
      if (stopped) return unavailable('perf collector stopped');
      if (!primed) await prime();
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
