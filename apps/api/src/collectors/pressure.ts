import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  PRESSURE_RESOURCES,
  type PressureMetrics,
  type PressureResource,
} from '@livestat/contracts';
import { createSyncCounterPair } from './counter-pair.js';
import { readProcFile } from './procfs.js';
import { counterRate, round } from './rates.js';
import { CollectorError } from './types.js';
import type { Collector, CollectorDeps } from './types.js';

/** The `available: true` shape of the pressure payload. */
export type PressureSample = Extract<PressureMetrics, { available: true }>;

/** One parsed PSI line: the kernel's three averages (%) and its `total` stall counter (µs). */
export interface PsiLine {
  avg10: number;
  avg60: number;
  avg300: number;
  totalUs: number;
}

/** A parsed PSI file (`/proc/pressure/io`, or a cgroup's `io.pressure`). */
export interface PsiReading {
  some: PsiLine;
  /** Null where the kernel prints no `full` line (the cpu file before Linux 5.13). */
  full: PsiLine | null;
}

const PSI_LINE = /^(some|full) avg10=([\d.]+) avg60=([\d.]+) avg300=([\d.]+) total=(\d+)\s*$/gm;

/**
 * Parses a PSI file: `some avg10=0.12 avg60=0.05 avg300=0.01 total=123456` and the same for
 * `full`. A file without a `some` line is a `CollectorError` naming `source`.
 */
export function parsePsi(text: string, source: string): PsiReading {
  let some: PsiLine | null = null;
  let full: PsiLine | null = null;
  PSI_LINE.lastIndex = 0;
  for (let match = PSI_LINE.exec(text); match !== null; match = PSI_LINE.exec(text)) {
    const line = {
      avg10: Number(match[2]),
      avg60: Number(match[3]),
      avg300: Number(match[4]),
      totalUs: Number(match[5]),
    };
    if (match[1] === 'some') some = line;
    else full = line;
  }
  if (some === null) throw new CollectorError('parse_failed', `${source}: no "some" line`);
  return { some, full };
}

/** The three PSI files of a host, by resource. */
export type PsiReadings = Record<PressureResource, PsiReading>;

const clampPercent = (value: number): number => round(Math.min(100, Math.max(0, value)), 2);

function line(previous: PsiLine | null, current: PsiLine, elapsedMs: number) {
  // `total` counts µs of stall; µs per second / 1000 = ms of stall per second.
  const stallUsPerSec =
    previous === null ? 0 : counterRate(previous.totalUs, current.totalUs, elapsedMs);
  return {
    avg10: clampPercent(current.avg10),
    avg60: clampPercent(current.avg60),
    avg300: clampPercent(current.avg300),
    stallMsPerSec: round(stallUsPerSec / 1000, 2),
  };
}

/**
 * Turns two readings `elapsedMs` apart into the pressure payload. Averages are the kernel's
 * own; the stall time per second comes from the `total` counters, and a counter that went
 * backwards reads 0 for the interval, as every rate here does.
 */
export function computePressureMetrics(
  previous: PsiReadings,
  current: PsiReadings,
  elapsedMs: number,
): PressureSample {
  const resource = (name: PressureResource) => {
    const before = previous[name];
    const now = current[name];
    return {
      some: line(before.some, now.some, elapsedMs),
      full: now.full === null ? null : line(before.full, now.full, elapsedMs),
    };
  };
  return {
    available: true,
    cpu: resource('cpu'),
    memory: resource('memory'),
    io: resource('io'),
  };
}

/** Why PSI is missing, for the section's `error`. */
export const PSI_MISSING =
  'PSI not available: /proc/pressure missing (kernel without CONFIG_PSI or psi=0)';

/**
 * Reads `<procRoot>/pressure/{cpu,memory,io}`. A missing `pressure` directory is a
 * `CollectorError` with code `psi_missing` and {@link PSI_MISSING} as its message.
 */
export function readPressure(procRoot: string): PsiReadings {
  if (!existsSync(path.join(procRoot, 'pressure'))) {
    throw new CollectorError('psi_missing', PSI_MISSING);
  }
  const readings = {} as PsiReadings;
  for (const name of PRESSURE_RESOURCES) {
    const file = `pressure/${name}`;
    try {
      readings[name] = parsePsi(readProcFile(procRoot, file), `/proc/${file}`);
    } catch (err) {
      // A kernel built with PSI but booted with psi=0 keeps the files and refuses to read them.
      const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
      if (cause?.code === 'EOPNOTSUPP') {
        throw new CollectorError('psi_missing', 'PSI not available: disabled at boot (psi=0)', {
          cause: err,
        });
      }
      throw err;
    }
  }
  return readings;
}

/**
 * The pressure collector: PSI averages and stall time per second for CPU, memory and I/O.
 * Without PSI every tick reports `available: false` with the reason, as a value, not a throw.
 */
export function createPressureCollector(deps: CollectorDeps): Collector<'pressure'> {
  const pair = createSyncCounterPair(() => readPressure(deps.procRoot), deps.now);
  const unavailable = (err: unknown): PressureMetrics | null =>
    err instanceof CollectorError && err.code === 'psi_missing'
      ? { available: false, error: err.message }
      : null;

  return {
    name: 'pressure',
    async prime() {
      try {
        pair.prime();
      } catch (err) {
        if (unavailable(err) === null) throw err;
      }
    },
    async collect() {
      try {
        const { previous, current, elapsedMs } = pair.next();
        return computePressureMetrics(previous, current, elapsedMs);
      } catch (err) {
        const reason = unavailable(err);
        if (reason === null) throw err;
        return reason;
      }
    },
  };
}
