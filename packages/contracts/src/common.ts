import { z } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// zod/mini is the tree-shakable form of zod 4 (the same validation, functions instead of
// methods): the dashboard downloads only the parts these schemas use. Unlike `zod` it sets no
// messages on import; English ones are set here, once, for every schema of the contracts — the
// API answers them in its 400s and the dashboard's forms show them.
z.config(en());

/** A per-second rate: finite and never negative (counter resets are not rates). */
export const rate = z.number().check(z.nonnegative());
/** A share of a whole, 0–100. */
export const percent = z.number().check(z.minimum(0), z.maximum(100));
/** A byte or item count. */
export const count = z.number().check(z.int(), z.nonnegative());
/**
 * The earliest and latest instants a time may name, in epoch ms: 0001-01-01T00:00:00.000Z to
 * 9999-12-31T23:59:59.999Z. Years outside 0001–9999 have no four-digit ISO 8601 form, and
 * PostgreSQL refuses both year 0000 and the expanded `+275760-…` form `toISOString` writes.
 */
export const MIN_TIME_MS = Date.parse('0001-01-01T00:00:00.000Z');
export const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** True when `ms` is a whole instant between {@link MIN_TIME_MS} and {@link MAX_TIME_MS}. */
export function isStorableTime(ms: number): boolean {
  return Number.isInteger(ms) && ms >= MIN_TIME_MS && ms <= MAX_TIME_MS;
}

/** The message of every time outside {@link MIN_TIME_MS}…{@link MAX_TIME_MS}. */
export const TIME_RANGE_MESSAGE = 'must be between years 0001 and 9999';

/** ISO 8601 UTC with milliseconds, as `Date.prototype.toISOString()` writes it, years 0001–9999. */
export const isoTimestamp = z.iso.datetime({ precision: 3 }).check(
  // A value that is not a date at all is the format check's to report, not this one's.
  z.refine((value) => {
    const ms = Date.parse(value);
    return Number.isNaN(ms) || isStorableTime(ms);
  }, TIME_RANGE_MESSAGE),
);

const NUL = '\u0000';

/**
 * A string the database can store: PostgreSQL's text and jsonb refuse NUL (U+0000), so one
 * NUL in a host, interface, device or mount name would fail the whole batch it travels in.
 */
export const text = z
  .string()
  .check(z.refine((value) => !value.includes(NUL), 'must not contain NUL (\\u0000)'));

/** True when a string or a key anywhere inside `value` holds NUL, which the database refuses. */
export function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes(NUL);
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(containsNul);
  for (const [key, child] of Object.entries(value)) {
    if (key.includes(NUL) || containsNul(child)) return true;
  }
  return false;
}

/** A host name as it appears in snapshots and subscriptions. */
export const hostName = text.check(z.minLength(1), z.maxLength(253));

/** What a collector reports when it could not measure this tick. */
export const unavailable = z.object({
  available: z.literal(false),
  error: text.check(z.minLength(1)),
});
export type Unavailable = z.infer<typeof unavailable>;

/**
 * A collector's payload: `{available: true, ...fields}` or `{available: false, error}`.
 * One failing collector never hides the others (the seeds' `safe_collect`).
 */
export function collectorResult<const Shape extends z.core.$ZodShape>(shape: Shape) {
  return z.discriminatedUnion('available', [
    z.object({ available: z.literal(true), ...shape }),
    unavailable,
  ]);
}
