/** What a formatter shows for a value it cannot format (NaN, ±Infinity). */
export const NO_VALUE = '—';

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * A duration in seconds as its two most significant units, the second zero-padded so the width
 * stays steady while it ticks: `42 s`, `5 min 07 s`, `2 h 05 min`, `3 d 04 h`.
 * Fractions of a second are dropped (an uptime of 59.9 s has not reached a minute); a negative
 * duration keeps its sign; NaN and ±Infinity give {@link NO_VALUE}.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return NO_VALUE;
  const total = Math.floor(Math.abs(seconds));
  const sign = seconds < 0 && total > 0 ? '-' : '';
  const days = Math.floor(total / DAY);
  const hours = Math.floor((total % DAY) / HOUR);
  const minutes = Math.floor((total % HOUR) / MINUTE);
  const secs = total % MINUTE;
  if (days > 0) return `${sign}${days} d ${pad2(hours)} h`;
  if (hours > 0) return `${sign}${hours} h ${pad2(minutes)} min`;
  if (minutes > 0) return `${sign}${minutes} min ${pad2(secs)} s`;
  return `${sign}${secs} s`;
}

/** Three significant digits without ever switching to exponent notation. */
function threeDigits(value: number): string {
  return value >= 99.95 ? String(Math.round(value)) : value.toPrecision(3);
}

/**
 * A byte count in binary units (1 KiB = 1024 B): whole bytes below 1 KiB, then three significant
 * digits: `512 B`, `1.50 KiB`, `15.0 MiB`, `150 GiB`. A value that would round up to 1024 of a
 * unit is shown in the next one (`1.00 MiB`, never `1024 KiB`); PiB is the largest unit. A
 * negative count (a difference) keeps its sign; NaN and ±Infinity give {@link NO_VALUE}.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return NO_VALUE;
  const last = BYTE_UNITS.length - 1;
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < last) {
    value /= 1024;
    unit += 1;
  }
  let text = unit === 0 ? String(Math.round(value)) : threeDigits(value);
  if (Number(text) >= 1024 && unit < last) {
    value /= 1024;
    unit += 1;
    text = threeDigits(value);
  }
  const sign = bytes < 0 && Number(text) !== 0 ? '-' : '';
  return `${sign}${text} ${BYTE_UNITS[unit]}`;
}

const SI_PREFIXES = ['', 'k', 'M', 'G', 'T', 'P', 'E'] as const;

/** A number or nothing yet: what a collector's nullable field, or a missing snapshot, gives. */
export type MaybeNumber = number | null | undefined;

const missing = (value: MaybeNumber): value is null | undefined =>
  typeof value !== 'number' || !Number.isFinite(value);

/** `value` with three significant digits and an SI prefix: `[text, prefix]`. */
function siParts(value: number): [string, string] {
  const last = SI_PREFIXES.length - 1;
  let scaled = Math.abs(value);
  let prefix = 0;
  while (scaled >= 1000 && prefix < last) {
    scaled /= 1000;
    prefix += 1;
  }
  let text = scaled === 0 ? '0' : threeDigits(scaled);
  if (Number(text) >= 1000 && prefix < last) {
    scaled /= 1000;
    prefix += 1;
    text = threeDigits(scaled);
  }
  const sign = value < 0 && Number(text) !== 0 ? '-' : '';
  return [`${sign}${text}`, SI_PREFIXES[prefix]!];
}

/**
 * A count with three significant digits and an SI prefix (1 k = 1000): `0`, `12.0`, `350`,
 * `1.84 k`, `2.40 G`. Nothing (null, undefined, NaN, ±Infinity) gives {@link NO_VALUE}.
 */
export function formatCount(value: MaybeNumber): string {
  if (missing(value)) return NO_VALUE;
  const [text, prefix] = siParts(value);
  return prefix === '' ? text : `${text} ${prefix}`;
}

/**
 * Events per second: `0 /s`, `350 /s`, `1.84 k/s`; with a unit word, `12.0 pages/s`,
 * `1.20 k pages/s`. Nothing gives {@link NO_VALUE}.
 */
export function formatRate(value: MaybeNumber, unit = ''): string {
  if (missing(value)) return NO_VALUE;
  const [text, prefix] = siParts(value);
  if (unit === '') return `${text} ${prefix}/s`;
  return prefix === '' ? `${text} ${unit}/s` : `${text} ${prefix} ${unit}/s`;
}

/** Bytes per second in binary units: `0 B/s`, `1.50 KiB/s`. Nothing gives {@link NO_VALUE}. */
export function formatByteRate(value: MaybeNumber): string {
  return missing(value) ? NO_VALUE : `${formatBytes(value)}/s`;
}

/** A percentage with `digits` decimals: `12.3 %`. Nothing gives {@link NO_VALUE}. */
export function formatPercent(value: MaybeNumber, digits = 1): string {
  if (missing(value)) return NO_VALUE;
  const text = value.toFixed(digits);
  // -0.0 (a rounding of a tiny negative) reads as a sign error.
  return `${Number(text) === 0 ? (0).toFixed(digits) : text} %`;
}

/** A plain ratio or average with `digits` decimals (IPC, load): `1.23`. */
export function formatDecimal(value: MaybeNumber, digits = 2): string {
  if (missing(value)) return NO_VALUE;
  const text = value.toFixed(digits);
  return Number(text) === 0 ? (0).toFixed(digits) : text;
}

/** A byte count, or {@link NO_VALUE} for nothing: {@link formatBytes} for nullable fields. */
export function formatMaybeBytes(value: MaybeNumber): string {
  return missing(value) ? NO_VALUE : formatBytes(value);
}

/** A value axis from 0: its top and the step between ticks, for ECharts' `max` and `interval`. */
export interface AxisScale {
  max: number;
  interval: number;
}

/**
 * How an axis steps: `binary` for bytes (a power of two of bytes, so every tick is a whole
 * number of KiB, MiB… with its unit's own halves: `0 · 256 · 512 · 768 KiB`, `0 · 2 · 4 · 6 MiB`),
 * `decimal` for counts, rates and ratios (1, 2 or 5 × a power of ten).
 */
export type AxisSteps = 'binary' | 'decimal';

/**
 * The axis from 0 that holds `max` in about `splits` steps, each a round number in the unit's
 * own steps (see {@link AxisSteps}), the top a whole number of steps — never ECharts' own
 * decimal split of a byte range (`2.86 MiB · 5.72 MiB`). Between `splits / 2` and `splits`
 * steps are used. With nothing to scale (no data, all zero, NaN) the axis is 0 to 1.
 */
export function niceScale(max: number, steps: AxisSteps, splits = 3): AxisScale {
  if (!(max > 0) || !Number.isFinite(max)) return { max: 1, interval: 1 };
  const raw = max / Math.max(1, splits);
  let interval: number;
  if (steps === 'binary') {
    // Whole bytes: a sub-byte step would label every tick `0 B`.
    interval = Math.max(1, 2 ** Math.ceil(Math.log2(raw)));
  } else {
    const magnitude = 10 ** Math.floor(Math.log10(raw));
    const normal = raw / magnitude;
    // A hair over a nice number (floating point) still takes it.
    const nice = [1, 2, 5, 10].find((n) => normal <= n * (1 + 1e-9)) ?? 10;
    interval = nice * magnitude;
  }
  const count = Math.max(1, Math.ceil(max / interval - 1e-9));
  // 3 × 0.1 is 0.30000000000000004 in floating point: the top is written as it reads.
  return { max: Number((count * interval).toPrecision(12)), interval };
}
