import {
  PROCESS_SNAPSHOT_TOP,
  type ProcessesMetrics,
  type ProcessRow,
  type ProcessSort,
  type ProcessSummary,
} from '@livestat/contracts';
import {
  createProcessReader,
  type ProcessEntry,
  type ProcessReaderOptions,
  type ProcessTable,
} from './process-table.js';
import type { Collector, CollectorDeps } from './types.js';

/** The processes collector, which also keeps its last full table for watchers and history. */
export interface ProcessesCollector extends Collector<'processes'> {
  /** The table of the last `collect()`, valid until the next one; null before the first. */
  latestTable(): ProcessTable | null;
}

/** A number to rank processes by. */
export type Measure = (entry: ProcessEntry) => number;

/** What each sort order ranks by; a process whose I/O is unreadable ranks last. */
export const PROCESS_MEASURES: Readonly<Record<ProcessSort, Measure>> = {
  cpu: (e) => e.cpuPercent,
  memory: (e) => e.rssBytes,
  io: (e) => (e.readBytesPerSec === null ? -1 : e.readBytesPerSec + (e.writeBytesPerSec ?? 0)),
};

/**
 * The `n` entries highest by `by`, highest first (ties by pid), without sorting the whole
 * table: one pass keeping a short sorted list, which is what a top 5 or top 10 needs. `by` is
 * a sort order or any measure.
 * Entries whose measure is below `floor` are left out.
 */
export function topEntries(
  entries: readonly ProcessEntry[],
  n: number,
  by: ProcessSort | Measure,
  floor = -Infinity,
): ProcessEntry[] {
  const measure = typeof by === 'function' ? by : PROCESS_MEASURES[by];
  const top: ProcessEntry[] = [];
  const values: number[] = [];
  for (const entry of entries) {
    const value = measure(entry);
    if (value < floor) continue;
    if (top.length === n) {
      const last = values[n - 1]!;
      if (value < last || (value === last && entry.pid > top[n - 1]!.pid)) continue;
    }
    let i = top.length === n ? n - 1 : top.length;
    while (
      i > 0 &&
      (values[i - 1]! < value || (values[i - 1] === value && top[i - 1]!.pid > entry.pid))
    ) {
      top[i] = top[i - 1]!;
      values[i] = values[i - 1]!;
      i--;
    }
    top[i] = entry;
    values[i] = value;
  }
  return top;
}

/** The whole table in `by` order, cut to `limit`: for a watcher, who may ask for 1,000. */
export function sortedEntries(
  entries: readonly ProcessEntry[],
  by: ProcessSort,
  limit: number,
): ProcessEntry[] {
  if (limit <= 32) return topEntries(entries, limit, by);
  const measure = PROCESS_MEASURES[by];
  return [...entries].sort((a, b) => measure(b) - measure(a) || a.pid - b.pid).slice(0, limit);
}

/** A table entry as the contract's row: a copy, safe to keep after the next tick. */
export function toProcessRow(entry: ProcessEntry): ProcessRow {
  return {
    pid: entry.pid,
    ppid: entry.ppid,
    user: entry.user,
    name: entry.name,
    command: entry.command,
    state: entry.state,
    threads: entry.threads,
    cpuPercent: entry.cpuPercent,
    rssBytes: entry.rssBytes,
    readBytesPerSec: entry.readBytesPerSec,
    writeBytesPerSec: entry.writeBytesPerSec,
    startedAt: entry.startedAt,
  };
}

function toSummary(entry: ProcessEntry): ProcessSummary {
  return {
    pid: entry.pid,
    user: entry.user,
    name: entry.name,
    cpuPercent: entry.cpuPercent,
    rssBytes: entry.rssBytes,
    ioBytesPerSec:
      entry.readBytesPerSec === null ? null : entry.readBytesPerSec + (entry.writeBytesPerSec ?? 0),
  };
}

/** The snapshot's section: counts and the top five of each order, each process listed once. */
export function summarizeProcesses(table: ProcessTable): ProcessesMetrics {
  const byCpu = topEntries(table.entries, PROCESS_SNAPSHOT_TOP, 'cpu');
  const byMemory = topEntries(table.entries, PROCESS_SNAPSHOT_TOP, 'memory');
  // Processes whose I/O could not be read are not ranked by it.
  const byIo = topEntries(table.entries, PROCESS_SNAPSHOT_TOP, 'io', 0);
  const top: ProcessSummary[] = [];
  const listed = new Set<number>();
  for (const entry of [...byCpu, ...byMemory, ...byIo]) {
    if (listed.has(entry.pid)) continue;
    listed.add(entry.pid);
    top.push(toSummary(entry));
  }
  return {
    available: true,
    total: table.total,
    running: table.running,
    blocked: table.blocked,
    zombie: table.zombie,
    threads: table.threads,
    ioUnavailableReason: table.ioUnavailableReason,
    top,
    topByCpu: byCpu.map((e) => e.pid),
    topByMemory: byMemory.map((e) => e.pid),
    topByIo: byIo.map((e) => e.pid),
  };
}

/**
 * The `processes` collector: every process's `stat` and `io` each tick (see
 * {@link createProcessReader}), summed up into counts and short top lists for the snapshot.
 */
export function createProcessesCollector(
  deps: CollectorDeps,
  options: Pick<
    ProcessReaderOptions,
    'clockTicks' | 'pageSize' | 'listOnNewPid' | 'useSchedstat' | 'idleEveryTicks'
  > = {},
): ProcessesCollector {
  const reader = createProcessReader({
    procRoot: deps.procRoot,
    rootFs: deps.rootFs,
    now: deps.now,
    ...options,
  });
  let latest: ProcessTable | null = null;
  return {
    name: 'processes',
    prime() {
      latest = reader.read();
      return Promise.resolve();
    },
    collect() {
      latest = reader.read();
      return Promise.resolve(summarizeProcesses(latest));
    },
    latestTable: () => latest,
    stop() {
      reader.close();
      return Promise.resolve();
    },
  };
}
