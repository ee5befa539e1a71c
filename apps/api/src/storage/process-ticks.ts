import type { Snapshot } from '@livestat/contracts';
import type { ProcessEntry, ProcessTable } from '../collectors/process-table.js';
import { topEntries } from '../collectors/processes.js';
import type { Queryable } from './db.js';
import { TIERS } from './rollup.js';

/** Processes of each order a tick stores: the union of the top 10 by CPU, RSS and I/O. */
export const PROCESS_TICK_TOP = 10;

/**
 * [pid, started (epoch s), name, user, cpuPercent, rssBytes, ioBytesPerSec | null]: CPU and
 * I/O as what the process used in the time since the last tick, as a rate over that time
 * (see {@link processTick}).
 */
export type ProcessTickRow = [number, number, string, string, number, number, number | null];

/** One snapshot's top processes, with the command lines kept apart (stored once each). */
export interface ProcessTick {
  rows: ProcessTickRow[];
  /** `pid:started` → command line. */
  commands: Map<string, string>;
}

// The top rows of a snapshot travel beside it from the sampler to the batch writer, never in
// it: the broadcast snapshot carries only its short top lists.
const attached = new WeakMap<Snapshot, ProcessTick>();

/** Hands `tick` to the batch writer with `snapshot` (the publishing pipeline does, each tick). */
export function attachProcessTick(snapshot: Snapshot, tick: ProcessTick): void {
  attached.set(snapshot, tick);
}

/**
 * A rate averaged over `spanMs`, as the same amount used within the last tick (`elapsedMs`).
 * A process read every tick has `spanMs === elapsedMs`: unchanged.
 */
function accounted(rate: number, spanMs: number, elapsedMs: number): number {
  return rate === 0 || spanMs === elapsedMs || elapsedMs <= 0 ? rate : (rate * spanMs) / elapsedMs;
}

/** CPU % of the last tick by what the tick accounted for (see {@link processTick}). */
const tickCpu = (table: ProcessTable) => (e: ProcessEntry) =>
  Math.round(accounted(e.cpuPercent, e.cpuSpanMs, table.elapsedMs) * 10) / 10;

/** I/O bytes/s of the last tick, accounted likewise; -1 when unreadable (ranks last). */
const tickIo = (table: ProcessTable) => (e: ProcessEntry) =>
  e.readBytesPerSec === null
    ? -1
    : Math.round(
        accounted(e.readBytesPerSec + (e.writeBytesPerSec ?? 0), e.ioSpanMs, table.elapsedMs),
      );

/**
 * The top {@link PROCESS_TICK_TOP} of each order of a sampled table, each process once. The
 * rollups count a row's CPU and I/O as used over the tick's interval, so a process read after
 * several ticks unread (an idle one, or `io` refreshed every 10 s) gives its rates over that
 * longer span, the live figure, times span / tick: all it used since its last read, placed in
 * the tick that saw it. Sums over any window stay whole; one tick may show such a process
 * above its live figure.
 */
export function processTick(table: ProcessTable): ProcessTick {
  const rows: ProcessTickRow[] = [];
  const commands = new Map<string, string>();
  const seen = new Set<number>();
  const cpu = tickCpu(table);
  const io = tickIo(table);
  const top = [
    ...topEntries(table.entries, PROCESS_TICK_TOP, cpu),
    ...topEntries(table.entries, PROCESS_TICK_TOP, 'memory'),
    ...topEntries(table.entries, PROCESS_TICK_TOP, io, 0),
  ];
  for (const e of top) {
    if (seen.has(e.pid)) continue;
    seen.add(e.pid);
    const started = Math.floor(Date.parse(e.startedAt) / 1000);
    const ioRate = io(e);
    rows.push([e.pid, started, e.name, e.user, cpu(e), e.rssBytes, ioRate < 0 ? null : ioRate]);
    if (e.command !== '') commands.set(`${e.pid}:${started}`, e.command);
  }
  return { rows, commands };
}

/**
 * The tick to store for `snapshot`: the one the sampler attached, else (a snapshot that came
 * without, as from a test or a replay) its own short top list, start times unknown (0).
 */
export function processTickOf(snapshot: Snapshot): ProcessTick | null {
  const tick = attached.get(snapshot);
  if (tick) return tick;
  const section = snapshot.processes;
  if (!section?.available) return null;
  return {
    rows: section.top.map((p) => [
      p.pid,
      0,
      p.name,
      p.user,
      p.cpuPercent,
      p.rssBytes,
      p.ioBytesPerSec,
    ]),
    commands: new Map(),
  };
}

/** [pid, started, name, user, cpuSeconds, peakRss, ioBytes|null, firstMs, lastMs, seenMs] */
export type ProcessRollupRow = [
  number,
  number,
  string,
  string,
  number,
  number,
  number | null,
  number,
  number,
  number,
];

const identity = (row: { 0: number; 1: number; 2: string }) => `${row[0]}:${row[1]}:${row[2]}`;

/** Folds `row` into `into` (same process): sums added, peak and span widened. */
export function mergeRollupRow(into: ProcessRollupRow, row: ProcessRollupRow): void {
  into[4] += row[4];
  into[5] = Math.max(into[5], row[5]);
  into[6] = into[6] === null && row[6] === null ? null : (into[6] ?? 0) + (row[6] ?? 0);
  into[7] = Math.min(into[7], row[7]);
  into[8] = Math.max(into[8], row[8]);
  into[9] += row[9];
}

/** One tick's row as what it used over its interval. */
export function tickToRollupRow(
  row: ProcessTickRow,
  tsMs: number,
  intervalMs: number,
): ProcessRollupRow {
  const seconds = intervalMs / 1000;
  return [
    row[0],
    row[1],
    row[2],
    row[3],
    (row[4] / 100) * seconds,
    row[5],
    row[6] === null ? null : row[6] * seconds,
    tsMs,
    tsMs,
    intervalMs,
  ];
}

/**
 * `mergeRollupRow(into, tickToRollupRow(row, tsMs, intervalMs))` without the row in between: a
 * batch folds ~25 processes of 1000 ticks into three tiers, and allocating a row for each of
 * those 75,000 folds was much of the writer's garbage (bench/ingest).
 */
export function addTickToRollupRow(
  into: ProcessRollupRow,
  row: ProcessTickRow,
  tsMs: number,
  intervalMs: number,
): void {
  const seconds = intervalMs / 1000;
  into[4] += (row[4] / 100) * seconds;
  into[5] = Math.max(into[5], row[5]);
  const io = row[6] === null ? null : row[6] * seconds;
  into[6] = into[6] === null && io === null ? null : (into[6] ?? 0) + (io ?? 0);
  into[7] = Math.min(into[7], tsMs);
  into[8] = Math.max(into[8], tsMs);
  into[9] += intervalMs;
}

/**
 * Processes of each order a per-hour or per-day top list keeps: the union of the top 25 by
 * CPU-seconds, by peak RSS and by bytes of I/O (issue 14 defines a rollup as those). Uncapped,
 * an hour held every process seen in it (~150, most of them short-lived jobs) and a 30-day
 * answer unpacked and grouped 86,000 of them (1.1 s, bench:processes-top). 25 is 2.5 times
 * the default answer of 10: a process that matters over hours or days is in most of its
 * buckets' top 25, and one that is not in them cannot rank over the span either.
 */
export const PROCESS_ROLLUP_TOP = 25;

const DAY_MS = 86_400_000;

/** The top-list tiers; the per-minute lists (~30–40 processes) are left whole. */
export const PROCESS_TIERS = [
  { table: 'process_rollup_1m', bucketMs: TIERS[0]!.bucketMs, top: undefined },
  { table: 'process_rollup_1h', bucketMs: TIERS[1]!.bucketMs, top: PROCESS_ROLLUP_TOP },
  { table: 'process_rollup_1d', bucketMs: DAY_MS, top: PROCESS_ROLLUP_TOP },
] as const;

/**
 * The rows of `rows` among the top `top` by CPU-seconds, by peak RSS or by bytes of I/O (I/O
 * only where some was counted), in their order; all of them when there are no more than `top`.
 */
export function capRollupRows(rows: ProcessRollupRow[], top: number): ProcessRollupRow[] {
  if (rows.length <= top) return rows;
  const keep = new Set<ProcessRollupRow>();
  const byDesc = (measure: 4 | 5 | 6) => (a: ProcessRollupRow, b: ProcessRollupRow) =>
    (b[measure] ?? 0) - (a[measure] ?? 0) || a[0] - b[0];
  for (const row of [...rows].sort(byDesc(4)).slice(0, top)) keep.add(row);
  for (const row of [...rows].sort(byDesc(5)).slice(0, top)) keep.add(row);
  const withIo = rows.filter((row) => (row[6] ?? 0) > 0);
  for (const row of withIo.sort(byDesc(6)).slice(0, top)) keep.add(row);
  return rows.filter((row) => keep.has(row));
}

/**
 * A batch's process ticks with their rows serialized for {@link writeProcessTicks}: made by the
 * batch writer's preparation of the next batch (`prepareSnapshots`), off the write's path.
 */
export interface PreparedProcessTicks {
  readonly ticks: readonly { snapshot: TickStamp; tick: ProcessTick }[];
  /** The ticks as one JSON array of `{host, ts, interval_ms, processes}`. */
  readonly json: string;
}

/** Collects the ticks of a batch a snapshot at a time (so preparation can yield between). */
export function createProcessTickSerializer(): {
  /** A snapshot's tick ({@link processTickOf}; null when it has none). */
  add(snapshot: TickStamp, tick: ProcessTick | null): void;
  result(): PreparedProcessTicks;
} {
  const ticks: { snapshot: TickStamp; tick: ProcessTick }[] = [];
  let json = '';
  return {
    add(snapshot, tick) {
      if (!tick) return;
      json +=
        `${ticks.length === 0 ? '' : ','}{"host":${JSON.stringify(snapshot.host)},` +
        `"ts":${JSON.stringify(snapshot.timestamp)},"interval_ms":${snapshot.intervalMs},` +
        `"processes":${JSON.stringify(tick.rows)}}`;
      ticks.push({ snapshot, tick });
    },
    result: () => ({ ticks, json: `[${json}]` }),
  };
}

/** What a process tick takes from its snapshot. */
export type TickStamp = Pick<Snapshot, 'host' | 'timestamp' | 'intervalMs'>;

/** {@link createProcessTickSerializer}'s result for `snapshots`. */
export function prepareProcessTicks(snapshots: readonly Snapshot[]): PreparedProcessTicks {
  const serializer = createProcessTickSerializer();
  for (const snapshot of snapshots) serializer.add(snapshot, processTickOf(snapshot));
  return serializer.result();
}

/** A process tier's bucket as a key of {@link ProcessListCache}. */
const listKey = (tier: number, host: string, bucketMs: number) =>
  `${tier}\u0000${host}\u0000${bucketMs}`;

/**
 * The process tiers' lists this process wrote last (the buckets of its last committed write, as
 * the JSON it wrote), for a database no other process writes: PGlite, which this process alone
 * opens. The next batch, nearly always in the same buckets, merges into these instead of
 * reading them back (and locking them): that read returned ~80 lists, ~50 KB, every flush, each
 * cloned from PGlite's thread and parsed (bench/RESULTS.md, bench/footprint). Never for
 * PostgreSQL, where agents and replicas write too.
 */
export interface ProcessListCache {
  /** Bucket key → the list stored there, as written. */
  lists(): ReadonlyMap<string, string>;
  /** After a committed write: its buckets' lists replace what was kept. */
  committed(written: Map<string, string>): void;
  /** After a failed write (rolled back): nothing kept, the next write reads the lists. */
  clear(): void;
}

export function createProcessListCache(): ProcessListCache {
  let kept = new Map<string, string>();
  return {
    lists: () => kept,
    committed(written) {
      kept = written;
    },
    clear() {
      kept = new Map();
    },
  };
}

/**
 * Stores the process ticks of a batch and merges them into the per-minute, per-hour and
 * per-day top lists, inside the batch's transaction. Ticks already stored (a retried batch) are skipped
 * and not counted again. `prepared` is the batch's ticks serialized ahead, when they were.
 * `lists.cached` holds lists known to be stored (see {@link ProcessListCache}): those buckets
 * are not read back; every list written is put in `lists.written`.
 */
export async function writeProcessTicks(
  tx: Queryable,
  snapshots: readonly Snapshot[],
  prepared: PreparedProcessTicks = prepareProcessTicks(snapshots),
  lists: { cached?: ReadonlyMap<string, string> | undefined; written?: Map<string, string> } = {},
): Promise<number> {
  const { ticks } = prepared;
  if (ticks.length === 0) return 0;
  const cached = lists.cached;
  // Each tier's stored lists of the buckets the ticks fall in are read (and locked) by the
  // statement that inserts the ticks, and all tiers are written back by one more: two round
  // trips a batch instead of two per tier and host, each waiting on the client (bench/ingest).
  const params: unknown[] = [prepared.json];
  const stored = PROCESS_TIERS.map(() => new Map<string, ProcessRollupRow[]>());
  // The tiers with lists to read.
  const read: number[] = [];
  const reads = PROCESS_TIERS.flatMap((tier, t) => {
    const keys = new Map<string, [string, number]>();
    for (const { snapshot } of ticks) {
      const tsMs = Date.parse(snapshot.timestamp);
      const bucket = tsMs - (tsMs % tier.bucketMs);
      const k = `${snapshot.host}\u0000${bucket}`;
      if (keys.has(k) || stored[t]!.has(k)) continue;
      const list = cached?.get(listKey(t, snapshot.host, bucket));
      // Parsed, as the database would give it back.
      if (list !== undefined) stored[t]!.set(k, JSON.parse(list) as ProcessRollupRow[]);
      else keys.set(k, [snapshot.host, bucket]);
    }
    if (keys.size === 0) return [];
    read.push(t);
    params.push(
      [...keys.values()].map(([host]) => host),
      [...keys.values()].map(([, bucket]) => bucket),
    );
    return [
      `stored_${t} AS (
      SELECT ${t} AS tier, r.host, (extract(epoch FROM r.bucket) * 1000)::float8 AS ms, r.processes
      FROM unnest($${params.length - 1}::text[], $${params.length}::float8[]) AS k(host, bucket_ms)
      JOIN ${tier.table} AS r ON r.host = k.host AND r.bucket = to_timestamp(k.bucket_ms / 1000.0)
      FOR UPDATE OF r)`,
    ];
  });
  // One JSON document rather than four arrays: node-postgres escapes every quote of every
  // element of a jsonb[] and the server unescapes them again (bench/ingest: ~40 % of the
  // client's and ~20 % of the server's CPU for this statement).
  const found = await tx.query<{
    tier: number | null;
    host: string;
    ms: number;
    processes: ProcessRollupRow[] | null;
  }>(
    `WITH inserted AS (
       INSERT INTO process_ticks (host, ts, interval_ms, processes)
       SELECT host, ts, interval_ms, processes
       FROM jsonb_to_recordset($1::jsonb)
         AS u(host text, ts timestamptz, interval_ms int, processes jsonb)
       ON CONFLICT DO NOTHING
       RETURNING host, (extract(epoch FROM ts) * 1000)::float8 AS ms)${reads.length === 0 ? '' : ','}
     ${reads.join(',\n     ')}
     SELECT NULL::int AS tier, host, ms, NULL::jsonb AS processes FROM inserted
     ${read.map((t) => `UNION ALL SELECT tier, host, ms, processes FROM stored_${t}`).join('\n     ')}`,
    params,
  );
  const fresh = new Set<string>();
  for (const row of found) {
    if (row.tier === null) fresh.add(`${row.host}\u0000${row.ms}`);
    else stored[row.tier]!.set(`${row.host}\u0000${row.ms}`, row.processes ?? []);
  }
  if (fresh.size === 0) return 0;
  const commands = new Map<string, [string, number, number, string, string]>();
  const writes: string[] = [];
  const values: unknown[] = [];
  // tier → host → bucket → identity → row, each tick read once for all tiers.
  const byTier = PROCESS_TIERS.map(
    () => new Map<string, Map<number, Map<string, ProcessRollupRow>>>(),
  );
  for (const { snapshot, tick } of ticks) {
    const tsMs = Date.parse(snapshot.timestamp);
    if (!fresh.has(`${snapshot.host}\u0000${tsMs}`)) continue;
    const lists = PROCESS_TIERS.map((tier, t) => {
      const bucket = tsMs - (tsMs % tier.bucketMs);
      const hosts = byTier[t]!;
      let byHost = hosts.get(snapshot.host);
      if (!byHost) hosts.set(snapshot.host, (byHost = new Map()));
      let rows = byHost.get(bucket);
      if (!rows) byHost.set(bucket, (rows = new Map()));
      return rows;
    });
    for (const row of tick.rows) {
      const id = identity(row);
      for (const rows of lists) {
        const current = rows.get(id);
        if (current) addTickToRollupRow(current, row, tsMs, snapshot.intervalMs);
        else rows.set(id, tickToRollupRow(row, tsMs, snapshot.intervalMs));
      }
      const command = tick.commands.get(`${row[0]}:${row[1]}`);
      if (command !== undefined) {
        commands.set(`${snapshot.host}\u0000${row[0]}:${row[1]}`, [
          snapshot.host,
          row[0],
          row[1],
          command,
          snapshot.timestamp,
        ]);
      }
    }
  }
  PROCESS_TIERS.forEach((tier, t) => {
    const buckets = byTier[t]!;
    const hosts: string[] = [];
    const bucketMs: number[] = [];
    const written: string[] = [];
    for (const [host, byBucket] of buckets) {
      for (const [ms, rows] of byBucket) {
        for (const row of stored[t]!.get(`${host}\u0000${ms}`) ?? []) {
          const current = rows.get(identity(row));
          if (current) mergeRollupRow(current, row);
          else rows.set(identity(row), row);
        }
        const merged = [...rows.values()];
        const list = JSON.stringify(
          tier.top === undefined ? merged : capRollupRows(merged, tier.top),
        );
        hosts.push(host);
        bucketMs.push(ms);
        written.push(list);
        lists.written?.set(listKey(t, host, ms), list);
      }
    }
    values.push(hosts, bucketMs, written);
    const [h, b, p] = [values.length - 2, values.length - 1, values.length];
    writes.push(`written_${t} AS (
      INSERT INTO ${tier.table} (host, bucket, processes)
      SELECT host, to_timestamp(bucket_ms / 1000.0), processes
      FROM unnest($${h}::text[], $${b}::float8[], $${p}::jsonb[]) AS u(host, bucket_ms, processes)
      ON CONFLICT (host, bucket) DO UPDATE SET processes = excluded.processes)`);
  });
  const list = [...commands.values()];
  values.push(
    list.map((c) => c[0]),
    list.map((c) => c[1]),
    list.map((c) => c[2]),
    list.map((c) => c[3]),
    list.map((c) => c[4]),
  );
  const c = values.length - 4;
  await tx.query(
    `WITH ${writes.join(',\n     ')}
     INSERT INTO process_commands (host, pid, started, command, last_seen)
     SELECT * FROM unnest($${c}::text[], $${c + 1}::int[], $${c + 2}::bigint[], $${c + 3}::text[], $${c + 4}::timestamptz[])
     ON CONFLICT (host, pid, started) DO UPDATE
       SET last_seen = greatest(process_commands.last_seen, excluded.last_seen)`,
    values,
  );
  return fresh.size;
}

/**
 * Merges a host's new bucket rows (bucket start ms → identity → row) with those stored in
 * `table`, row by row in JS, and writes them back, each bucket cut to {@link capRollupRows}
 * of `top` when given. `table` is one of {@link PROCESS_TIERS}' (never input).
 */
export async function mergeProcessRollups(
  tx: Queryable,
  table: (typeof PROCESS_TIERS)[number]['table'],
  host: string,
  byBucket: Map<number, Map<string, ProcessRollupRow>>,
  top?: number,
): Promise<void> {
  const bucketMs = [...byBucket.keys()];
  const stored = await tx.query<{ bucket_ms: number; processes: ProcessRollupRow[] }>(
    `SELECT (extract(epoch FROM bucket) * 1000)::float8 AS bucket_ms, processes FROM ${table}
     WHERE host = $1 AND bucket = ANY(SELECT to_timestamp(b / 1000.0) FROM unnest($2::float8[]) AS b)
     FOR UPDATE`,
    [host, bucketMs],
  );
  for (const { bucket_ms: ms, processes } of stored) {
    const rows = byBucket.get(ms);
    if (!rows) continue;
    for (const row of processes) {
      const current = rows.get(identity(row));
      if (current) mergeRollupRow(current, row);
      else rows.set(identity(row), row);
    }
  }
  await tx.query(
    `INSERT INTO ${table} (host, bucket, processes)
     SELECT $1, to_timestamp(b / 1000.0), p FROM unnest($2::float8[], $3::jsonb[]) AS u(b, p)
     ON CONFLICT (host, bucket) DO UPDATE SET processes = excluded.processes`,
    [
      host,
      bucketMs,
      bucketMs.map((ms) => {
        const rows = [...byBucket.get(ms)!.values()];
        return JSON.stringify(top === undefined ? rows : capRollupRows(rows, top));
      }),
    ],
  );
}
