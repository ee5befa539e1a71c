import { z } from 'zod/mini';
import { collectorResult, percent, rate } from './common.js';

/** The three resources the kernel reports pressure stall information (PSI) for. */
export const PRESSURE_RESOURCES = ['cpu', 'memory', 'io'] as const;
export type PressureResource = (typeof PRESSURE_RESOURCES)[number];

/**
 * One line of a `/proc/pressure/<resource>` file: the share of time some (or all) runnable
 * tasks were stalled on the resource, averaged over 10, 60 and 300 s by the kernel, and the
 * stall time per second of this interval, from the delta of the line's `total=` µs counter.
 */
export const pressureLine = z.object({
  avg10: percent,
  avg60: percent,
  avg300: percent,
  /** Milliseconds of stall per second of wall time (0–1000); a counter reset reads 0. */
  stallMsPerSec: rate,
});
export type PressureLine = z.infer<typeof pressureLine>;

/** `some` and `full` of one resource; `full` is null where the kernel prints none (cpu before 5.13). */
export const pressureResource = z.object({
  some: pressureLine,
  full: z.nullable(pressureLine),
});
export type PressureResourceMetrics = z.infer<typeof pressureResource>;

/**
 * `/proc/pressure/{cpu,memory,io}`. `available: false` says why on a kernel without PSI
 * (no CONFIG_PSI, or booted with `psi=0`).
 */
export const pressureMetrics = collectorResult({
  cpu: pressureResource,
  memory: pressureResource,
  io: pressureResource,
});
export type PressureMetrics = z.infer<typeof pressureMetrics>;
