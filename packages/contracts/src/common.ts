import { z } from 'zod';

/** A per-second rate: finite and never negative (counter resets are not rates). */
export const rate = z.number().nonnegative();
/** A share of a whole, 0–100. */
export const percent = z.number().min(0).max(100);
/** A byte or item count. */
export const count = z.number().int().nonnegative();
/** ISO 8601 UTC with milliseconds, as `Date.prototype.toISOString()` writes it. */
export const isoTimestamp = z.iso.datetime({ precision: 3 });
/** A host name as it appears in snapshots and subscriptions. */
export const hostName = z.string().min(1).max(253);

/** What a collector reports when it could not measure this tick. */
export const unavailable = z.object({
  available: z.literal(false),
  error: z.string().min(1),
});
export type Unavailable = z.infer<typeof unavailable>;

/**
 * A collector's payload: `{available: true, ...fields}` or `{available: false, error}`.
 * One failing collector never hides the others (the seeds' `safe_collect`).
 */
export function collectorResult<const Shape extends z.ZodRawShape>(shape: Shape) {
  return z.discriminatedUnion('available', [
    z.object({ available: z.literal(true), ...shape }),
    unavailable,
  ]);
}
