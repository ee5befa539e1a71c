import { statSync } from 'node:fs';
import type { DramBandwidth } from '@livestat/contracts';
import { checkPerfPermission, readPerfPermission } from './perf-permission.js';
import { DEFAULT_PERF_PATH, createPerfStatProcess, type PerfStatProcess } from './perf-stat.js';
import type { CollectorDeps } from './types.js';
import {
  RESCTRL_DIR,
  computeResctrlBandwidth,
  readResctrl,
  type MbmCounter,
  type ResctrlReading,
} from './bandwidth-dram-resctrl.js';
import {
  computeUncoreImcBandwidth,
  detectUncoreImc,
  uncoreImcPerfEvents,
  type UncoreImcEvents,
} from './bandwidth-dram-uncore-imc.js';

// The DRAM monitor: picks a source (resctrl, else perf uncore_imc), keeps its state between
// ticks, and owns the perf child.

/** This tick's DRAM bandwidth, or null and why not. */
export interface DramResult {
  dram: DramBandwidth | null;
  /** Set exactly when `dram` is null. */
  reason: string | null;
}

/** How much longer than 2 intervals `prime()` waits for perf's first uncore_imc interval. */
const PRIME_WAIT_EXTRA_MS = 1500;

/** DRAM bandwidth as the bandwidth collector consumes it, one `read()` per tick. */
export interface DramMonitor {
  /**
   * Picks the source and takes its first reading; for uncore_imc starts the perf child and
   * resolves once it has completed an interval or failed, or after 2 intervals + 1.5 s.
   * Never throws.
   */
  prime(): Promise<void>;
  /** This tick's DRAM bandwidth, or null and why. Never throws. */
  read(): Promise<DramResult>;
  /** Kills the perf child, if any, and cancels its restarts. Safe to call twice. */
  stop(): Promise<void>;
}

export interface DramMonitorOptions {
  /** perf's `-I` for uncore_imc, normally the sampling interval. */
  intervalMs: number;
  perfPath?: string;
  /** Effective uid for perf's permission check; `process.geteuid()` by default. */
  euid?: number;
}

type Source =
  | { kind: 'none'; reason: string; sysRoot: string; resctrlMounted: boolean; age: number }
  | { kind: 'resctrl'; counters: Map<string, MbmCounter> }
  | {
      kind: 'uncore';
      events: UncoreImcEvents;
      child: PerfStatProcess | null;
      blocked: string | null;
    };

// With no source, the full search (resctrl's tree, every PMU's events) runs again only this
// often, in readings (a minute at 1 Hz); each tick in between just checks whether resctrl was
// mounted or unmounted, which is what an operator following the reason does.
const NONE_RECHECK_READINGS = 60;

function resctrlMounted(sysRoot: string): boolean {
  // statSync without throwing costs less than existsSync, which fails through an exception.
  return statSync(`${sysRoot}/${RESCTRL_DIR}/info`, { throwIfNoEntry: false }) !== undefined;
}

/**
 * Chooses resctrl when it has MBM counters, else perf `uncore_imc`, else none, and looks
 * again while it has none — at once when resctrl is mounted at run time, as the reason
 * suggests, and every minute or so for the rest — or when resctrl disappears. The perf child is started once and restarted by
 * `createPerfStatProcess` with capped backoff when it dies.
 */
export function createDramMonitor(deps: CollectorDeps, options: DramMonitorOptions): DramMonitor {
  const { intervalMs } = options;
  const euid = options.euid ?? process.geteuid?.() ?? -1;
  // perf-stat completes an interval when the next one starts, so the latest can be two
  // intervals old; perf itself takes a moment to enumerate uncore PMUs on start.
  const staleMs = 4 * intervalMs + 1000;
  let source: Source | null = null;
  let stopped = false;

  function sampleResctrl(
    state: { counters: Map<string, MbmCounter> },
    reading: ResctrlReading,
    at: number,
  ): DramResult {
    const { result, counters } = computeResctrlBandwidth(state.counters, reading, at);
    state.counters = counters;
    return result;
  }

  async function startUncore(state: Extract<Source, { kind: 'uncore' }>): Promise<void> {
    try {
      state.blocked = checkPerfPermission({ ...(await readPerfPermission(deps.procRoot)), euid });
    } catch (err) {
      state.blocked = err instanceof Error ? err.message : String(err);
    }
    if (state.blocked !== null || stopped) return;
    state.child ??= createPerfStatProcess({
      perfPath: options.perfPath ?? DEFAULT_PERF_PATH,
      intervalMs,
      events: uncoreImcPerfEvents(state.events),
      now: deps.now,
    });
    state.child.start();
  }

  function uncoreResult(state: Extract<Source, { kind: 'uncore' }>): DramResult {
    const unavailable = (why: string): DramResult => ({
      dram: null,
      reason: `uncore_imc PMU present but ${why}`,
    });
    if (state.blocked !== null) return unavailable(state.blocked);
    const status = state.child?.status();
    if (status === undefined) return unavailable('perf stat not started');
    if (status.failure !== null) return unavailable(status.failure);
    const silentMs = deps.now() - (status.latest?.receivedAt ?? status.startedAt ?? deps.now());
    if (silentMs > staleMs) {
      return unavailable(`perf stat silent for ${(silentMs / 1000).toFixed(1)} s`);
    }
    if (status.latest === null) return unavailable('perf stat has not completed an interval yet');
    return computeUncoreImcBandwidth(status.latest.interval, state.events);
  }

  async function detect(): Promise<DramResult> {
    const at = deps.now();
    const mounted = resctrlMounted(deps.sysRoot);
    const resctrl = readResctrl(deps.sysRoot);
    if (resctrl !== null && resctrl.size > 0) {
      const state = { kind: 'resctrl' as const, counters: new Map<string, MbmCounter>() };
      source = state;
      return sampleResctrl(state, resctrl, at);
    }
    const uncore = detectUncoreImc(deps.sysRoot);
    if (uncore.events !== null && !stopped) {
      const state: Source = { kind: 'uncore', events: uncore.events, child: null, blocked: null };
      source = state;
      await startUncore(state);
      return uncoreResult(state);
    }
    const noResctrl =
      resctrl === null
        ? 'no resctrl monitoring (mount -t resctrl resctrl /sys/fs/resctrl on Intel RDT / AMD QoS hardware)'
        : 'resctrl is mounted but exposes no mbm_total_bytes (this CPU has no memory bandwidth monitoring)';
    const noUncore =
      uncore.pmus.length === 0
        ? 'no uncore_imc PMU'
        : `uncore_imc PMU (${uncore.pmus.join(', ')}) publishes no known DRAM read/write events`;
    const reason = `${noResctrl} and ${noUncore}`;
    source = { kind: 'none', reason, sysRoot: deps.sysRoot, resctrlMounted: mounted, age: 0 };
    return { dram: null, reason };
  }

  async function tick(): Promise<DramResult> {
    if (stopped) return { dram: null, reason: 'bandwidth collector stopped' };
    if (source === null) return detect();
    if (source.kind === 'none') {
      const unchanged =
        source.sysRoot === deps.sysRoot &&
        source.resctrlMounted === resctrlMounted(deps.sysRoot) &&
        ++source.age < NONE_RECHECK_READINGS;
      return unchanged ? { dram: null, reason: source.reason } : detect();
    }
    if (source.kind === 'uncore') {
      // perf_event_paranoid can be lowered at run time: look again rather than stay blocked.
      if (source.blocked !== null) await startUncore(source);
      return uncoreResult(source);
    }
    const at = deps.now();
    const reading = readResctrl(deps.sysRoot);
    if (reading === null || reading.size === 0) return detect(); // unmounted since
    return sampleResctrl(source, reading, at);
  }

  return {
    async prime() {
      try {
        if (source === null) await tick();
      } catch {
        // Priming never throws: read() reports the same failure as a reason every tick.
      }
      // perf's first interval lands a little after one interval: waiting for it (bounded)
      // lets the first tick after prime carry DRAM figures.
      if (source?.kind === 'uncore') {
        await source.child?.whenReady(2 * intervalMs + PRIME_WAIT_EXTRA_MS);
      }
    },
    async read() {
      try {
        return await tick();
      } catch (err) {
        // An unexpected I/O error on an optional source never costs the paging figures.
        return {
          dram: null,
          reason: `DRAM source failed: ${err instanceof Error ? err.message : String(err)}`,
        };
      }
    },
    async stop() {
      stopped = true;
      if (source?.kind === 'uncore') await source.child?.stop();
    },
  };
}
