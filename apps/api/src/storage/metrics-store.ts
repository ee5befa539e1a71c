import { isOptionalSection, type SeriesSection, type Snapshot } from '@livestat/contracts';
import { publishedFieldJson } from '../stream/snapshot-json.js';
import type { Database, Queryable, QueryOptions } from './db.js';
import {
  createProcessTickSerializer,
  processTickOf,
  writeProcessTicks,
  type ProcessListCache,
  type PreparedProcessTicks,
  type ProcessTick,
} from './process-ticks.js';
import {
  createRollupAccumulator,
  sectionSeries,
  STORED_SECTIONS,
  TIERS,
  type Aggregate,
  type RollupAccumulator,
  type SeriesNode,
  type Tier,
} from './rollup.js';

/** What one write did. */
export interface WriteResult {
  /** Rows offered: one per stored section per snapshot. */
  rows: number;
  /** Rows that were new; the rest were already stored (a retried batch). */
  inserted: number;
  /** Rollup rows created or updated, all tiers together. */
  rollupRows: number;
}

const RAW_COLUMNS = ['host', 'ts', 'metric_type', 'metric_data', 'seq', 'interval_ms'] as const;

// The keys of a batch already stored — a batch retried after its COMMIT acknowledgement was
// lost. Looked up when a batch's COPY (which has no ON CONFLICT) met one, so the rest can go
// in by COPY (see writePrepared).
const EXISTING_KEYS = `
  SELECT host, metric_type, (extract(epoch FROM ts) * 1000)::float8 AS ts_ms
  FROM metrics_snapshots
  WHERE host = ANY($1::text[]) AND metric_type = ANY($2::text[])
    AND ts >= to_timestamp($3::float8 / 1000) AND ts <= to_timestamp($4::float8 / 1000)`;

/** A value in COPY's text format: backslash, tab and line breaks escaped. */
const copyText = (value: string) => value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c] ?? c);
const COPY_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
};

/**
 * A section as JSON in COPY's text format. JSON.stringify escapes every control character, so
 * a backslash is the only character to double, and most sections have none: checking first
 * skips a regular-expression pass over every document (bench/ingest).
 */
const copyJson = (snapshot: Snapshot, section: SeriesSection) => {
  // The text the bus published when there is one (the live path: no second serialization);
  // `processes` is stored without its top lists, so it is not the published text.
  const json =
    (section !== 'processes' && publishedFieldJson(snapshot, section)) ||
    JSON.stringify(storedSection(snapshot, section));
  return json.includes('\\') ? json.replaceAll('\\', '\\\\') : json;
};

/** The merge of a tier's aggregates, given as seven arrays from parameter `$first` on. */
const mergeRollup = (table: Tier['table'], first = 1) => {
  const [h, s, b, n, sum, min, max] = Array.from({ length: 7 }, (_, i) => `$${first + i}`);
  return `
  INSERT INTO ${table} AS r (host, series, bucket, samples, sum, min, max)
  SELECT host, series, to_timestamp(bucket_ms / 1000.0), samples, sum, min, max
  FROM unnest(${h}::text[], ${s}::text[], ${b}::float8[], ${n}::int[], ${sum}::float8[], ${min}::float8[], ${max}::float8[])
    AS u(host, series, bucket_ms, samples, sum, min, max)
  ON CONFLICT (host, series, bucket) DO UPDATE SET
    samples = r.samples + excluded.samples,
    sum = r.sum + excluded.sum,
    min = least(r.min, excluded.min),
    max = greatest(r.max, excluded.max)`;
};

/** The hosts of a batch, each with its first and last timestamp, from parameter `$first` on. */
const upsertHosts = (first: number) => `
  INSERT INTO hosts (host, first_seen, last_seen)
  SELECT * FROM unnest($${first}::text[], $${first + 1}::timestamptz[], $${first + 2}::timestamptz[])
  ON CONFLICT (host) DO UPDATE SET
    first_seen = least(hosts.first_seen, excluded.first_seen),
    last_seen = greatest(hosts.last_seen, excluded.last_seen)`;

// Array parameters written out as PostgreSQL array literals ahead of the write (node-postgres
// would format them on the write's path, while the server waits).
const textArray = (values: readonly string[]) => {
  let out = '';
  for (const value of values) {
    out += `${out === '' ? '' : ','}"${value.includes('"') || value.includes('\\') ? value.replace(/["\\]/g, '\\$&') : value}"`;
  }
  return `{${out}}`;
};
const numberArray = (values: readonly number[]) => `{${values.join(',')}}`;

/** Per host: the timestamps of its earliest and latest snapshot in a batch, and their ms. */
type HostSpans = Map<string, { first: string; firstMs: number; last: string; lastMs: number }>;

const widenSpan = (spans: HostSpans, { host, timestamp, tsMs }: QueuedSnapshot) => {
  const span = spans.get(host);
  if (!span) {
    spans.set(host, { first: timestamp, firstMs: tsMs, last: timestamp, lastMs: tsMs });
    return;
  }
  if (tsMs < span.firstMs) Object.assign(span, { first: timestamp, firstMs: tsMs });
  if (tsMs > span.lastMs) Object.assign(span, { last: timestamp, lastMs: tsMs });
};

/** One statement and its parameters. */
interface Statement {
  sql: string;
  params: unknown[];
}

/**
 * Every tier's merge and the hosts' upsert as one statement (data-modifying CTEs): one round
 * trip instead of one per tier and one for the hosts, each of which waits for the client.
 */
function mergeStatement(aggregates: Map<Tier, Aggregate[]>, spans: HostSpans): Statement {
  const params: unknown[] = [];
  const merges: string[] = [];
  for (const [tier, tierAggregates] of aggregates) {
    if (tierAggregates.length === 0) continue;
    merges.push(`merged_${tier.name} AS (${mergeRollup(tier.table, params.length + 1)})`);
    params.push(
      textArray(tierAggregates.map((a) => a.host)),
      textArray(tierAggregates.map((a) => a.series)),
      numberArray(tierAggregates.map((a) => a.bucketMs)),
      numberArray(tierAggregates.map((a) => a.samples)),
      numberArray(tierAggregates.map((a) => a.sum)),
      numberArray(tierAggregates.map((a) => a.min)),
      numberArray(tierAggregates.map((a) => a.max)),
    );
  }
  const hosts = upsertHosts(params.length + 1);
  params.push(
    textArray([...spans.keys()]),
    [...spans.values()].map((span) => span.first),
    [...spans.values()].map((span) => span.last),
  );
  return { sql: merges.length === 0 ? hosts : `WITH ${merges.join(', ')}${hosts}`, params };
}

/**
 * A section as stored in `metrics_snapshots`: as it was, except `processes`, whose top lists go
 * to `process_ticks` (kept a shorter time) and are stored here empty, counts only.
 */
export function storedSection(snapshot: Snapshot, section: SeriesSection): unknown {
  const value = snapshot[section];
  if (section !== 'processes' || !snapshot.processes?.available) return value;
  return { ...snapshot.processes, top: [], topByCpu: [], topByMemory: [], topByIo: [] };
}

/** `snapshot` as {@link readSnapshots} gives it back. */
export function asStored(snapshot: Snapshot): Snapshot {
  const processes = storedSection(snapshot, 'processes') as Snapshot['processes'];
  return processes === undefined ? snapshot : { ...snapshot, processes };
}

const key = (host: string, section: string, tsMs: number) => `${host}\u0000${section}\u0000${tsMs}`;

/**
 * What a write takes from one snapshot, made when the snapshot is queued: the batch writer
 * holds this until its flush (up to 10 s) instead of the snapshot, so the snapshot's sections
 * die young rather than being promoted to the old generation with everything they hold
 * (bench/RESULTS.md, bench/footprint).
 */
export interface QueuedSnapshot {
  readonly host: string;
  readonly timestamp: string;
  readonly tsMs: number;
  readonly seq: number;
  readonly intervalMs: number;
  /** The stored sections it has (an older agent may lack optional ones), in stored order. */
  readonly sections: readonly SeriesSection[];
  /** Each section's JSON as COPY text (as stored: `processes` without its top lists). */
  readonly json: readonly string[];
  /**
   * The numbers the rollups count: `values[j]` of series `nodes[j]`, section `i`'s from
   * `ends[i - 1]` (0 for the first) to `ends[i]`. `nodes` is shared with the host's previous
   * snapshot when its series are the same (nearly always).
   */
  readonly nodes: readonly SeriesNode[];
  readonly values: Float64Array;
  readonly ends: readonly number[];
  /** Its process tick, if it has one. */
  readonly tick: ProcessTick | null;
}

// Scratch space for queueSnapshot, and each host's last series list (to share it).
const scratchNodes: SeriesNode[] = [];
const scratchValues: number[] = [];
const lastNodes = new Map<string, readonly SeriesNode[]>();

/** The host's previous series list when `nodes` holds the same series, else a copy of `nodes`. */
function sharedNodes(host: string, nodes: readonly SeriesNode[]): readonly SeriesNode[] {
  const last = lastNodes.get(host);
  if (last?.length === nodes.length) {
    let i = 0;
    while (i < nodes.length && last[i] === nodes[i]) i++;
    if (i === nodes.length) return last;
  }
  // Bounded: a store fed by a huge fleet only shares less.
  if (lastNodes.size >= 10_000) lastNodes.clear();
  const copy = nodes.slice();
  lastNodes.set(host, copy);
  return copy;
}

/** What a write takes from `snapshot` (see {@link QueuedSnapshot}). */
export function queueSnapshot(snapshot: Snapshot): QueuedSnapshot {
  const sections: SeriesSection[] = [];
  const json: string[] = [];
  const ends: number[] = [];
  scratchNodes.length = 0;
  scratchValues.length = 0;
  for (const section of STORED_SECTIONS) {
    // An optional section an older agent does not send is no row at all.
    if (snapshot[section] === undefined) continue;
    sections.push(section);
    json.push(copyJson(snapshot, section));
    sectionSeries(snapshot, section, scratchNodes, scratchValues);
    ends.push(scratchValues.length);
  }
  return {
    host: snapshot.host,
    timestamp: snapshot.timestamp,
    tsMs: Date.parse(snapshot.timestamp),
    seq: snapshot.seq,
    intervalMs: snapshot.intervalMs,
    sections: sections.length === STORED_SECTIONS.length ? STORED_SECTIONS : sections,
    json,
    nodes: sharedNodes(snapshot.host, scratchNodes),
    values: new Float64Array(scratchValues),
    ends,
    tick: processTickOf(snapshot),
  };
}

/** One row of `metrics_snapshots` (section `i` of `row`) as a line of COPY text. */
const lineOf = (row: QueuedSnapshot, i: number) =>
  `${copyText(row.host)}\t${row.timestamp}\t${row.sections[i]}\t${row.json[i]}` +
  `\t${row.seq}\t${row.intervalMs}\n`;

/** Counts section `i` of `row` into `rollups`. */
const addRow = (rollups: RollupAccumulator, row: QueuedSnapshot, i: number) =>
  rollups.addSeries(
    row.host,
    row.tsMs,
    row.nodes,
    row.values,
    i === 0 ? 0 : row.ends[i - 1]!,
    row.ends[i]!,
  );

/**
 * Whether two snapshots of a batch share a host and timestamp (nearly never): checked by
 * timestamp, not by key, which spares a string for each of the batch's ~7,000 rows.
 */
function repeatsTimestamp(snapshots: readonly { host: string; timestamp: string }[]): boolean {
  const seen = new Map<string, Set<number>>();
  for (const snapshot of snapshots) {
    let times = seen.get(snapshot.host);
    if (!times) seen.set(snapshot.host, (times = new Set()));
    const tsMs = Date.parse(snapshot.timestamp);
    if (times.has(tsMs)) return true;
    times.add(tsMs);
  }
  return false;
}

/**
 * For a batch that offers a key (host, section, timestamp) more than once, the index of the
 * snapshot whose offer is stored: the last.
 */
function lastOffers(rows: readonly QueuedSnapshot[]): Map<string, number> {
  const last = new Map<string, number>();
  rows.forEach((row, i) => {
    for (const section of row.sections) last.set(key(row.host, section, row.tsMs), i);
  });
  return last;
}

/** The rows a prepared batch offers, each key once (its last offer), in batch order. */
function* offeredRows(
  prepared: Pick<PreparedSnapshots, 'rows' | 'lastOffers'>,
): Generator<{ row: QueuedSnapshot; section: number; key: string }> {
  const { rows, lastOffers: last } = prepared;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    for (let s = 0; s < row.sections.length; s++) {
      const k = key(row.host, row.sections[s]!, row.tsMs);
      if (last === null || last.get(k) === i) yield { row, section: s, key: k };
    }
  }
}

/**
 * A batch made ready for the database — its COPY text and rollup aggregates — by
 * {@link prepareSnapshots}, before any statement runs.
 */
export interface PreparedSnapshots {
  readonly rows: readonly QueuedSnapshot[];
  readonly tiers: readonly Tier[];
  /** Rows offered, each key once: a snapshot offered twice in one batch is stored once. */
  readonly rowCount: number;
  /** See {@link lastOffers}: null when no key repeats within the batch. */
  readonly lastOffers: ReadonlyMap<string, number> | null;
  /** Every row's line, for the usual case where none is stored yet. */
  readonly text: string;
  /** The rollups of every row, for the usual case where none is stored yet. */
  readonly aggregates: Map<Tier, Aggregate[]>;
  /** Those rollups' merge and the hosts' upsert, for the same case. */
  readonly merge: Statement;
  readonly spans: HostSpans;
  readonly processTicks: PreparedProcessTicks;
  readonly minMs: number;
  readonly maxMs: number;
}

/** How many snapshots {@link prepareSnapshots} handles between two turns of the event loop. */
const PREPARE_SLICE = 50;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Serializes a batch for {@link writePrepared} and folds it into rollup aggregates: the work
 * of a write that needs no database. Large batches are done a slice at a time, letting the
 * event loop run between slices, so preparing the next batch while the previous one is being
 * written (the batch writer does, for a backlog) overlaps that write instead of delaying it.
 * A key offered twice is stored (and counted in the rollups) once, as its last offer.
 */
export function prepareSnapshots(
  snapshots: readonly Snapshot[],
  tiers: readonly Tier[] = TIERS,
): Promise<PreparedSnapshots> {
  return prepareBatch(snapshots, queueSnapshot, tiers);
}

/** {@link prepareSnapshots} of snapshots queued already ({@link queueSnapshot}). */
export function prepareQueued(
  rows: readonly QueuedSnapshot[],
  tiers: readonly Tier[] = TIERS,
): Promise<PreparedSnapshots> {
  return prepareBatch(rows, (row) => row, tiers);
}

async function prepareBatch<T extends { host: string; timestamp: string }>(
  items: readonly T[],
  rowOf: (item: T) => QueuedSnapshot,
  tiers: readonly Tier[],
): Promise<PreparedSnapshots> {
  // A repeat within the batch: only the last offer is stored, and only its numbers count.
  const all = repeatsTimestamp(items) ? items.map(rowOf) : null;
  const last = all && lastOffers(all);
  const rows: QueuedSnapshot[] = [];
  const rollups = createRollupAccumulator(tiers);
  const ticks = createProcessTickSerializer();
  const spans: HostSpans = new Map();
  // Each slice's lines joined at once: a string of its own, instead of ~7,000 short-lived
  // pieces kept alive (and copied by every scavenge, then promoted) until the batch is written.
  const chunks: string[] = [];
  let lines: string[] = [];
  let rowCount = 0;
  let minMs = Infinity;
  let maxMs = -Infinity;
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % PREPARE_SLICE === 0) {
      chunks.push(lines.join(''));
      lines = [];
      await yieldToEventLoop();
    }
    const row = all ? all[i]! : rowOf(items[i]!);
    rows.push(row);
    minMs = Math.min(minMs, row.tsMs);
    maxMs = Math.max(maxMs, row.tsMs);
    widenSpan(spans, row);
    ticks.add(row, row.tick);
    for (let s = 0; s < row.sections.length; s++) {
      if (last !== null && last.get(key(row.host, row.sections[s]!, row.tsMs)) !== i) continue;
      lines.push(lineOf(row, s));
      addRow(rollups, row, s);
      rowCount += 1;
    }
  }
  chunks.push(lines.join(''));
  const aggregates = rollups.result();
  return {
    rows,
    tiers,
    rowCount,
    lastOffers: last,
    text: chunks.join(''),
    aggregates,
    merge: mergeStatement(aggregates, spans),
    spans,
    processTicks: ticks.result(),
    minMs,
    maxMs,
  };
}

/**
 * Stores snapshots — one row per section per snapshot — and merges their values into the
 * rollup tiers, all in one transaction. Idempotent: rows already stored are skipped, and only
 * the rows this call inserted reach the rollups, so a retry after a lost COMMIT acknowledgement
 * changes nothing.
 */
export async function writeSnapshots(
  db: Database,
  snapshots: readonly Snapshot[],
  tiers: readonly Tier[] = TIERS,
  options: WriteOptions = {},
): Promise<WriteResult> {
  // An empty batch writes nothing (writePrepared), without a transaction.
  return writePrepared(db, await prepareSnapshots(snapshots, tiers), options);
}

/** {@link writeSnapshots} of snapshots queued already ({@link queueSnapshot}). */
export async function writeQueued(
  db: Database,
  rows: readonly QueuedSnapshot[],
  tiers: readonly Tier[] = TIERS,
  options: WriteOptions = {},
): Promise<WriteResult> {
  // An empty batch writes nothing (writePrepared), without a transaction.
  return writePrepared(db, await prepareQueued(rows, tiers), options);
}

export interface WriteOptions {
  /**
   * The process tiers' lists as this process last wrote them, for a database no other process
   * writes (PGlite): the lists of the buckets the batch falls in are then taken from it rather
   * than read back from the database (see {@link ProcessListCache}).
   */
  processLists?: ProcessListCache | undefined;
  /**
   * The batch writer's `overlap`: resolves once the previous batch is committed, rejects if it
   * was not. The write COPYs its raw rows meanwhile, on its own connection, and only then
   * waits: the process ticks, the rollup merges (whose rows the previous batch may hold
   * locked) and the COMMIT come after, so batches commit in order and the row locks are
   * always taken in batch order (no deadlock). A key the previous batch stores as well makes
   * this COPY wait for it and then fail on the unique key: rolled back, and the write done
   * again at once finds the key stored.
   */
  afterPrevious?: (() => Promise<void>) | undefined;
}

/** SQLSTATE unique_violation: the batch's COPY met a key already stored. */
const isUniqueViolation = (err: unknown) =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '23505';

/**
 * {@link writeSnapshots} of a batch already prepared by {@link prepareSnapshots}. The batch is
 * first written as new, without looking its keys up: nearly every batch is. Should one of its
 * keys be stored already (a batch retried after its COMMIT's acknowledgement was lost, or
 * another writer of the same keys), the COPY fails on the unique key, everything rolls back,
 * and the write is done again at once, looking the keys up first and skipping those stored.
 */
export async function writePrepared(
  db: Database,
  prepared: PreparedSnapshots,
  options: WriteOptions = {},
): Promise<WriteResult> {
  try {
    return await writeOnce(db, prepared, options, false);
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    return writeOnce(db, prepared, options, true);
  }
}

async function writeOnce(
  db: Database,
  prepared: PreparedSnapshots,
  { afterPrevious, processLists }: WriteOptions,
  lookUp: boolean,
): Promise<WriteResult> {
  const { rows, tiers, rowCount, minMs, maxMs, spans } = prepared;
  if (rows.length === 0) {
    await afterPrevious?.();
    return { rows: 0, inserted: 0, rollupRows: 0 };
  }
  const hosts = lookUp ? [...new Set(rows.map((row) => row.host))] : [];
  // The lists this write stores, kept only where they can stand in for a read-back (PGlite).
  const written = processLists ? new Map<string, string>() : undefined;
  const write = db.transaction(async (tx) => {
    const stored = lookUp
      ? await tx.query<{ host: string; metric_type: string; ts_ms: number }>(EXISTING_KEYS, [
          hosts,
          STORED_SECTIONS,
          minMs,
          maxMs,
        ])
      : [];
    // Without a retried batch (nearly always) everything prepared goes in as it is.
    let inserted = rowCount;
    let { text, aggregates, merge } = prepared;
    if (stored.length > 0) {
      const skip = new Set(stored.map((row) => key(row.host, row.metric_type, row.ts_ms)));
      const fresh = [...offeredRows(prepared)].filter((row) => !skip.has(row.key));
      inserted = fresh.length;
      text = fresh.map((row) => lineOf(row.row, row.section)).join('');
      const rollups = createRollupAccumulator(tiers);
      for (const { row, section } of fresh) addRow(rollups, row, section);
      aggregates = rollups.result();
      merge = mergeStatement(aggregates, spans);
    }
    // A concurrent writer of the same keys makes this fail on the unique key; the whole
    // transaction rolls back and the retry finds those keys stored.
    if (inserted > 0) await tx.copyFrom('metrics_snapshots', RAW_COLUMNS, text);
    if (afterPrevious) await afterPrevious();
    // The per-tick top processes, and their per-minute and per-hour top lists.
    await writeProcessTicks(tx, [], prepared.processTicks, {
      cached: processLists?.lists(),
      written,
    });
    await tx.query(merge.sql, merge.params);
    let rollupRows = 0;
    for (const tierAggregates of aggregates.values()) rollupRows += tierAggregates.length;
    return { rows: rowCount, inserted, rollupRows };
  });
  if (!processLists || !written) return write;
  try {
    const result = await write;
    processLists.committed(written);
    return result;
  } catch (err) {
    processLists.clear();
    throw err;
  }
}

/** Merges per-bucket aggregates into a rollup tier: sums added, min and max widened. */
export async function mergeAggregates(
  tx: Queryable,
  tier: Tier,
  aggregates: Aggregate[],
): Promise<number> {
  if (aggregates.length === 0) return 0;
  await tx.query(mergeRollup(tier.table), [
    aggregates.map((a) => a.host),
    aggregates.map((a) => a.series),
    aggregates.map((a) => a.bucketMs),
    aggregates.map((a) => a.samples),
    aggregates.map((a) => a.sum),
    aggregates.map((a) => a.min),
    aggregates.map((a) => a.max),
  ]);
  return aggregates.length;
}

/**
 * The stored snapshots of `host` after `after` (exclusive), oldest first, at most `limit`,
 * put back together from their rows — for `resume` when memory no longer holds them, a page
 * at a time. A snapshot missing a section (a partial write can't happen, but rows may be
 * pruned) is skipped. `options` bound the statement (the socket's signal, a timeout).
 */
export async function readSnapshots(
  db: Queryable,
  host: string,
  after: string,
  limit: number,
  options?: QueryOptions,
): Promise<Snapshot[]> {
  const rows = await db.query<{
    ts: Date;
    seq: number | null;
    interval_ms: number | null;
    sections: Record<string, unknown>;
  }>(
    `SELECT ts, max(seq) AS seq, max(interval_ms) AS interval_ms,
            jsonb_object_agg(metric_type, metric_data) AS sections
     FROM metrics_snapshots
     WHERE host = $1 AND ts > $2 AND metric_type <> 'app' AND ts IN (
       SELECT DISTINCT ts FROM metrics_snapshots
       WHERE host = $1 AND metric_type = 'cpu' AND ts > $2 ORDER BY ts LIMIT $3)
     GROUP BY ts ORDER BY ts`,
    [host, after, limit],
    options,
  );
  const snapshots: Snapshot[] = [];
  for (const row of rows) {
    if (!STORED_SECTIONS.every((s) => s in row.sections || isOptionalSection(s))) continue;
    snapshots.push({
      type: 'snapshot',
      host,
      seq: row.seq ?? 1,
      timestamp: row.ts.toISOString(),
      intervalMs: row.interval_ms ?? 1000,
      ...(row.sections as Pick<Snapshot, SeriesSection>),
    });
  }
  return snapshots;
}
