import type { HistoryPoint } from '@livestat/contracts';

/** A CSV cell: null and undefined are written as an empty field. */
export type CsvCell = string | number | null | undefined;

// RFC 4180 §2.6: a field holding a comma, a double quote or a line break must be quoted.
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One field as RFC 4180 writes it: quoted (inner quotes doubled) when it holds a comma, a quote
 * or a line break; null, undefined and non-finite numbers as an empty field; numbers in their
 * shortest round-trip form.
 */
export function csvField(value: CsvCell): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  return NEEDS_QUOTES.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Rows as RFC 4180 text: fields joined by commas, every record ended by CRLF. */
export function toCsv(rows: readonly (readonly CsvCell[])[]): string {
  return rows.map((row) => `${row.map(csvField).join(',')}\r\n`).join('');
}

/** One charted series for {@link historyCsv}: its name in the header and its buckets. */
export interface CsvSeries {
  name: string;
  points: readonly HistoryPoint[];
}

/**
 * History buckets as a CSV table: header `time,<name> avg,<name> min,<name> max,…`, one row per
 * bucket time found in any series (ascending), the time as ISO 8601 UTC and an empty cell where
 * a series has no value. With `range`, only buckets that overlap `[from, to)` are written
 * (a bucket spans `bucketMs` from its time): what the chart shows, no more.
 */
export function historyCsv(
  series: readonly CsvSeries[],
  range?: { from: number; to: number; bucketMs: number },
): string {
  const header: CsvCell[] = ['time'];
  for (const { name } of series) header.push(`${name} avg`, `${name} min`, `${name} max`);

  const byTime = series.map((s) => new Map(s.points.map((point) => [point[0], point])));
  const times = new Set<number>();
  for (const s of series) for (const point of s.points) times.add(point[0]);
  const shown = [...times]
    .filter((t) => range === undefined || (t + range.bucketMs > range.from && t < range.to))
    .sort((a, b) => a - b);

  const rows: CsvCell[][] = [header];
  for (const time of shown) {
    const row: CsvCell[] = [new Date(time).toISOString()];
    for (const points of byTime) {
      const point = points.get(time);
      row.push(point?.[1], point?.[2], point?.[3]);
    }
    rows.push(row);
  }
  return toCsv(rows);
}

/**
 * A download's file name part: the characters file systems and browsers all accept
 * (letters, digits, `.`, `_`, `-`), anything else as `_`.
 */
export function fileNamePart(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** A time for a file name: compact ISO 8601 UTC to the second, with no colons (`20240102T030405Z`). */
export function fileNameTime(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

/** `livestat-<host>-<from>-<to>.csv`, safe for any file system. */
export function historyCsvFileName(host: string, from: number, to: number): string {
  return `livestat-${fileNamePart(host)}-${fileNameTime(from)}-${fileNameTime(to)}.csv`;
}
