/**
 * Per-second rate of a monotonically increasing kernel counter between two readings.
 *
 * A counter that went backwards was reset (reboot, 32-bit wrap, device removed and
 * re-created): the increase since the reset is unknowable, so the interval reports 0
 * rather than a negative or absurd rate, and the next interval measures from the new value.
 * A non-positive or non-finite elapsed time also gives 0.
 */
export function counterRate(previous: number, current: number, elapsedMs: number): number {
  if (!(elapsedMs > 0) || !Number.isFinite(previous) || !Number.isFinite(current)) return 0;
  const delta = current - previous;
  if (delta <= 0) return 0;
  return (delta * 1000) / elapsedMs;
}

/** `part` as a percentage of `whole`, clamped to 0–100; 0 when `whole` is not positive. */
export function percentOf(part: number, whole: number): number {
  if (!(whole > 0) || !Number.isFinite(part)) return 0;
  return Math.min(100, Math.max(0, (part * 100) / whole));
}

/** Rounds to `digits` decimals so snapshots stay small and golden files stable. */
export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
