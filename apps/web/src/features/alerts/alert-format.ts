import type { AlertEvent } from '@livestat/contracts';
import {
  formatBytes,
  formatByteRate,
  formatDecimal,
  formatPercent,
  NO_VALUE,
} from '../../lib/format';
import { fileNamePart, fileNameTime, toCsv } from '../history/csv';
import type { CsvCell } from '../history/csv';

/** A series' value in the unit its path names: `…Percent` in %, `…BytesPerSec` as a rate. */
export function formatAlertValue(series: string, value: number | null): string {
  if (value === null || !Number.isFinite(value)) return NO_VALUE;
  if (/percent$/i.test(series)) return formatPercent(value);
  if (/bytesPerSec$/i.test(series)) return formatByteRate(value);
  if (/bytes$/i.test(series)) return formatBytes(value);
  return formatDecimal(value);
}

/** Alert transitions as a CSV table, oldest first, times as ISO 8601 UTC. */
export function alertEventsCsv(events: readonly AlertEvent[]): string {
  const rows: CsvCell[][] = [['time', 'rule', 'host', 'series', 'from', 'to', 'value', 'severity']];
  const sorted = [...events].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.id - b.id);
  for (const e of sorted) {
    rows.push([e.at, e.ruleName, e.host, e.series, e.from, e.to, e.value, e.severity]);
  }
  return toCsv(rows);
}

/** `livestat-alerts-<from>-<to>.csv`, with the host when the table is one host's. */
export function alertEventsFileName(from: number, to: number, host?: string): string {
  const who = host === undefined ? '' : `-${fileNamePart(host)}`;
  return `livestat-alerts${who}-${fileNameTime(from)}-${fileNameTime(to)}.csv`;
}
