import { formatByteRate, formatBytes, formatPercent, NO_VALUE } from '../../lib/format';
import type { ProcessRow, ProcessSort } from '@livestat/contracts';

/** A count of things (processes, threads) as a whole number, `12` or `1,234`; — for nothing. */
export function formatWhole(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return NO_VALUE;
  return Math.round(value).toLocaleString('en-US');
}

/** The columns of the processes table, in the order they are drawn. */
export const PROCESS_COLUMNS = [
  { key: 'name', label: 'Name', numeric: false },
  { key: 'user', label: 'User', numeric: false },
  { key: 'cpu', label: 'CPU %', numeric: true },
  { key: 'memory', label: 'Memory', numeric: true },
  { key: 'io', label: 'I/O', numeric: true },
  { key: 'state', label: 'State', numeric: false },
  { key: 'threads', label: 'Threads', numeric: true },
  { key: 'pid', label: 'PID', numeric: true },
] as const;

/** A column the table sorts by. */
export type ProcessColumn = (typeof PROCESS_COLUMNS)[number]['key'];

export type SortDirection = 'asc' | 'desc';

/** How the table is sorted: a column and a direction. */
export interface ProcessOrder {
  column: ProcessColumn;
  direction: SortDirection;
}

/** The table's order on a fresh page: the busiest first, as `top`. */
export const DEFAULT_ORDER: ProcessOrder = { column: 'cpu', direction: 'desc' };

/**
 * The sort the server must watch with for `column`: CPU, memory and I/O pick which N processes
 * it sends at all (the top N by that measure), so sorting by them asks the server; the other
 * columns reorder the rows already here, and keep the server's last sort (`current`).
 */
export function serverSortFor(column: ProcessColumn, current: ProcessSort): ProcessSort {
  return column === 'cpu' || column === 'memory' || column === 'io' ? column : current;
}

/** A column's first direction when clicked: numbers biggest first, words A to Z. */
export function firstDirection(column: ProcessColumn): SortDirection {
  return column === 'name' || column === 'user' || column === 'state' ? 'asc' : 'desc';
}

/** The order after a click on `column`'s header: the other direction if already sorted by it. */
export function nextOrder(order: ProcessOrder, column: ProcessColumn): ProcessOrder {
  if (order.column !== column) return { column, direction: firstDirection(column) };
  return { column, direction: order.direction === 'asc' ? 'desc' : 'asc' };
}

/** Read plus write bytes/s, or null when the process's I/O could not be read. */
export function ioRate(row: Pick<ProcessRow, 'readBytesPerSec' | 'writeBytesPerSec'>) {
  if (row.readBytesPerSec === null && row.writeBytesPerSec === null) return null;
  return (row.readBytesPerSec ?? 0) + (row.writeBytesPerSec ?? 0);
}

function sortValue(row: ProcessRow, column: ProcessColumn): number | string | null {
  switch (column) {
    case 'name':
      return row.name;
    case 'user':
      return row.user;
    case 'cpu':
      return row.cpuPercent;
    case 'memory':
      return row.rssBytes;
    case 'io':
      return ioRate(row);
    case 'state':
      return row.state;
    case 'threads':
      return row.threads;
    case 'pid':
      return row.pid;
  }
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/**
 * The rows in `order`, as a new array: unknown values (an unreadable I/O) last whatever the
 * direction, and ties by pid, so rows keep their places from one tick to the next.
 */
export function sortProcesses(rows: readonly ProcessRow[], order: ProcessOrder): ProcessRow[] {
  const sign = order.direction === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = sortValue(a, order.column);
    const y = sortValue(b, order.column);
    if (x !== y) {
      if (x === null) return 1;
      if (y === null) return -1;
      const compared =
        typeof x === 'string' && typeof y === 'string'
          ? collator.compare(x, y)
          : Number(x) - Number(y);
      if (compared !== 0) return sign * compared;
    }
    return a.pid - b.pid;
  });
}

/**
 * The rows a filter keeps: every word of `text` (case-insensitive) found in the row's name,
 * user, command line or pid. An empty filter keeps them all.
 */
export function filterProcesses(rows: readonly ProcessRow[], text: string): readonly ProcessRow[] {
  const words = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return rows;
  return rows.filter((row) => {
    const haystack = `${row.name}\n${row.user}\n${row.command}\n${row.pid}`.toLowerCase();
    return words.every((word) => haystack.includes(word));
  });
}

/** What the kernel's one-letter states mean (`man 5 proc`, `/proc/<pid>/stat` field 3). */
export const STATE_NAMES: Readonly<Record<string, string>> = {
  R: 'running',
  S: 'sleeping',
  D: 'waiting on I/O (uninterruptible)',
  Z: 'zombie',
  T: 'stopped',
  t: 'stopped by a tracer',
  I: 'idle',
  X: 'dead',
};

/**
 * One row as the table shows it: every cell already text, so a row whose text did not change
 * since the last tick is not re-rendered (its component's props compare equal).
 */
export interface ProcessCells {
  pid: number;
  name: string;
  user: string;
  /** The command line, or the name in brackets as `ps` shows a process without one. */
  command: string;
  cpu: string;
  memory: string;
  io: string;
  state: string;
  stateName: string;
  threads: string;
}

/** The cells of a row. */
export function processCells(row: ProcessRow): ProcessCells {
  return {
    pid: row.pid,
    name: row.name,
    user: row.user,
    command: row.command === '' ? `[${row.name}]` : row.command,
    cpu: formatPercent(row.cpuPercent),
    memory: formatBytes(row.rssBytes),
    io: ioText(row),
    state: row.state,
    stateName: STATE_NAMES[row.state] ?? row.state,
    threads: formatWhole(row.threads),
  };
}

function ioText(row: ProcessRow): string {
  const rate = ioRate(row);
  return rate === null ? NO_VALUE : formatByteRate(rate);
}

/** How many rows the table draws at first, and how many more each "Show more" adds. */
export const ROWS_PAGE = 50;
