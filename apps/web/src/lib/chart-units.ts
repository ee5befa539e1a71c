import {
  NO_VALUE,
  formatByteRate,
  formatBytes,
  formatCount,
  formatDecimal,
  formatPercent,
  formatRate,
  niceScale,
} from './format';

/** What a chart's numbers measure, which decides how its axis and tooltip write them. */
export type Unit = 'percent' | 'bytes' | 'byteRate' | 'rate' | 'count' | 'ratio';

/** A value in full, as a tooltip or a headline figure shows it. */
export function formatValue(unit: Unit, value: number | null | undefined): string {
  switch (unit) {
    case 'percent':
      return formatPercent(value);
    case 'bytes':
      return value === null || value === undefined ? NO_VALUE : formatBytes(value);
    case 'byteRate':
      return formatByteRate(value);
    case 'rate':
      return formatRate(value);
    case 'count':
      return formatCount(value);
    case 'ratio':
      return formatDecimal(value);
  }
}

/** `1.50 KiB` → `1.5 KiB`, `2.00 MiB` → `2 MiB`, `60.0` → `60`: the number's trailing zeros dropped. */
const trimZeros = (text: string) =>
  text.replace(/(\.\d*?[1-9])0+(?= |$)/, '$1').replace(/\.0+(?= |$)/, '');

/** A y-axis tick: as {@link formatValue}, shorter where the axis allows (`50 %`, `1.5`, `2 MiB/s`). */
export function formatAxisValue(unit: Unit, value: number): string {
  switch (unit) {
    case 'percent':
      return formatPercent(value, 0);
    case 'ratio':
      return String(Number(value.toFixed(2)));
    default:
      // Ticks fall on round values (see niceScale): `2.00 MiB` reads as `2 MiB`, `2.00 k/s` as `2 k/s`.
      return trimZeros(formatValue(unit, value));
  }
}

/**
 * A y-axis step for byte values up to `max`: a power of two of bytes, about `splits` steps to
 * the top, so ticks read `0 · 256 · 512 · 768 KiB` or `0 · 2 · 4 · 6 MiB` rather than ECharts'
 * decimal `977 KiB · 1.91 MiB` (see {@link niceScale}). Undefined when there is nothing to
 * scale (no data, all zero).
 */
export function niceByteStep(max: number, splits = 3): number | undefined {
  if (!(max > 0) || !Number.isFinite(max)) return undefined;
  return niceScale(max, 'binary', splits).interval;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for the tooltip's HTML (interface and mount names come from the host). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}
