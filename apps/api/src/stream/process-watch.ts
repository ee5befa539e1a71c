import {
  PROCESS_WATCH_MAX_LIMIT,
  type ProcessesMessage,
  type ProcessRow,
  type ProcessSort,
} from '@livestat/contracts';
import { sortedEntries, toProcessRow } from '../collectors/processes.js';
import type { ProcessTable } from '../collectors/process-table.js';
import type { WatchKind } from './watches.js';

/** The processes table as it travels to watchers (and over Redis): rows, not live entries. */
export interface ProcessTablePayload {
  total: number;
  ioUnavailableReason: string | null;
  rows: ProcessRow[];
}

/** What a `watch_processes` asked for. */
export interface ProcessWatchParams {
  sort: ProcessSort;
  limit: number;
}

/**
 * A copy of the reader's table fit to publish: every process, or on a host with more than
 * {@link PROCESS_WATCH_MAX_LIMIT}, those in the top that many of any order — no watcher can
 * ask for more.
 */
export function processTablePayload(table: ProcessTable): ProcessTablePayload {
  let entries = table.entries;
  if (entries.length > PROCESS_WATCH_MAX_LIMIT) {
    const kept = new Set(
      (['cpu', 'memory', 'io'] as const).flatMap((by) =>
        sortedEntries(entries, by, PROCESS_WATCH_MAX_LIMIT),
      ),
    );
    entries = [...kept];
  }
  return {
    total: table.total,
    ioUnavailableReason: table.ioUnavailableReason,
    rows: entries.map(toProcessRow),
  };
}

// The collector's orders (PROCESS_MEASURES), over rows instead of live entries.
const ROW_MEASURES: Readonly<Record<ProcessSort, (row: ProcessRow) => number>> = {
  cpu: (row) => row.cpuPercent,
  memory: (row) => row.rssBytes,
  io: (row) =>
    row.readBytesPerSec === null ? -1 : row.readBytesPerSec + (row.writeBytesPerSec ?? 0),
};

/** The `processes` kind of watch: a `processes` message of the first `limit` rows in `sort` order. */
export const processWatchKind: WatchKind<ProcessTablePayload, ProcessWatchParams> = {
  kind: 'processes',
  paramsKey: ({ sort, limit }) => `${sort}:${limit}`,
  render(table, host, timestamp, { sort, limit }) {
    const measure = ROW_MEASURES[sort];
    const rows = [...table.rows]
      .sort((a, b) => measure(b) - measure(a) || a.pid - b.pid)
      .slice(0, limit);
    const message: ProcessesMessage = {
      type: 'processes',
      host,
      timestamp,
      sort,
      total: table.total,
      ioUnavailableReason: table.ioUnavailableReason,
      processes: rows,
    };
    return JSON.stringify(message);
  },
};
