import {
  SERIES_PATTERNS,
  SERIES_SECTIONS,
  type SeriesSection,
  type Snapshot,
} from '@livestat/contracts';

/** A rollup tier: its table, bucket width and how long its rows are kept. */
export interface Tier {
  name: '1m' | '1h';
  table: 'metrics_rollup_1m' | 'metrics_rollup_1h';
  bucketMs: number;
  retentionMs: number;
}

const DAY_MS = 86_400_000;

/** The rollup tiers, finest first. Raw rows are kept `RETENTION_DAYS`; rollups far longer. */
export const TIERS: readonly Tier[] = [
  { name: '1m', table: 'metrics_rollup_1m', bucketMs: 60_000, retentionMs: 90 * DAY_MS },
  { name: '1h', table: 'metrics_rollup_1h', bucketMs: 3_600_000, retentionMs: 730 * DAY_MS },
];

/** avg/min/max of one series in one bucket, as sums so buckets merge exactly. */
export interface Aggregate {
  host: string;
  series: string;
  bucketMs: number;
  samples: number;
  sum: number;
  min: number;
  max: number;
}

/** Accumulates snapshot sections into rollup aggregates, a few at a time. */
export interface RollupAccumulator {
  /** Counts the numbers of one section of one snapshot. */
  add(snapshot: Snapshot, section: SeriesSection): void;
  /**
   * Counts numbers already taken from a section ({@link sectionSeries}): `values[i]` of the
   * series `nodes[i]`, for `i` in [from, to).
   */
  addSeries(
    host: string,
    tsMs: number,
    nodes: readonly SeriesNode[],
    values: ArrayLike<number>,
    from: number,
    to: number,
  ): void;
  /** The aggregates of everything added, per tier, ready to merge into the tier tables. */
  result(): Map<Tier, Aggregate[]>;
}

// Arrays whose elements are series, and the field that names each element (`cores` by `id`),
// as the contracts' series catalogue has them.
const ARRAY_KEYS: ReadonlyMap<string, string> = new Map(
  SERIES_PATTERNS.flatMap(({ steps }) =>
    steps.flatMap((step, i) => {
      const before = steps[i - 1];
      return step.kind === 'element' && before?.kind === 'field' ? [[before.name, step.by]] : [];
    }),
  ) as [string, string][],
);

/**
 * A series path, built once: every snapshot repeats the same few hundred paths, and
 * concatenating them afresh for each value (then hashing the new string for a map) was most of
 * the aggregation's time (bench/ingest). `id` indexes an accumulator's memory of the aggregate
 * each series fed last, so the values of a bucket's next snapshot reach their aggregate without
 * a map lookup.
 */
export interface SeriesNode {
  readonly path: string;
  readonly id: number;
  readonly children: Map<string | number, SeriesNode>;
}

/**
 * The series paths seen, one tree per section, shared by every snapshot queued for writing (a
 * queued snapshot holds its numbers against these nodes, not paths of its own). Started afresh
 * past {@link MAX_SERIES_NODES} (series come and go with containers, disks, interfaces):
 * nodes already handed out stay valid, only no longer shared with newer ones.
 */
let seriesRoots = new Map<string, SeriesNode>();
let seriesNodes = 0;
const MAX_SERIES_NODES = 100_000;
// Never reused, even by a new tree: an accumulator may meet nodes of both.
let nextSeriesId = 0;

const seriesNode = (path: string): SeriesNode => {
  seriesNodes += 1;
  return { path, id: nextSeriesId++, children: new Map() };
};

const childOf = (node: SeriesNode, key: string | number) => {
  let child = node.children.get(key);
  if (child === undefined) node.children.set(key, (child = seriesNode(`${node.path}.${key}`)));
  return child;
};

function sectionRoot(section: string): SeriesNode {
  if (seriesNodes > MAX_SERIES_NODES) {
    seriesRoots = new Map();
    seriesNodes = 0;
  }
  let root = seriesRoots.get(section);
  if (!root) seriesRoots.set(section, (root = seriesNode(section)));
  return root;
}

/**
 * Calls `visit` with every finite number of a section's payload and its series path — the
 * pairs `flattenSeries` returns, without building a map of them.
 */
function walkSeries(
  value: unknown,
  node: SeriesNode,
  field: string | undefined,
  skip: string | undefined,
  visit: (node: SeriesNode, value: number) => void,
): void {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) visit(node, value);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    const by = field === undefined ? undefined : ARRAY_KEYS.get(field);
    if (by === undefined) return;
    for (const element of value) {
      const name = (element as Record<string, unknown> | null)?.[by];
      if (typeof name === 'string' || typeof name === 'number') {
        walkSeries(element, childOf(node, name), undefined, by, visit);
      }
    }
    return;
  }
  const record = value as Record<string, unknown>;
  // for…in rather than Object.keys: no array per object (snapshots are plain JSON data).
  for (const key in record) {
    if (key !== skip) walkSeries(record[key], childOf(node, key), key, undefined, visit);
  }
}

/**
 * Appends a section's numbers and their series to `nodes` and `values` (what the rollups count
 * of it), for a snapshot queued for writing that should not hold the section itself.
 */
export function sectionSeries(
  snapshot: Snapshot,
  section: SeriesSection,
  nodes: SeriesNode[],
  values: number[],
): void {
  walkSeries(snapshot[section], sectionRoot(section), undefined, undefined, (node, value) => {
    nodes.push(node);
    values.push(value);
  });
}

/** Whether every bucket of `coarser` is made of whole buckets of `finer`. */
const nests = (finer: Tier, coarser: Tier) =>
  finer.bucketMs < coarser.bucketMs && coarser.bucketMs % finer.bucketMs === 0;

type Buckets = Map<string, Map<number, Map<string, Aggregate>>>;

/**
 * An accumulator for `tiers`. Values are counted into the finest tier only; a coarser tier
 * whose width is a whole multiple of a finer one is merged from that tier's aggregates when
 * the result is taken — exact for sums, counts, min and max, and it touches each value once
 * instead of once per tier (bench/ingest).
 */
export function createRollupAccumulator(tiers: readonly Tier[] = TIERS): RollupAccumulator {
  // For each tier, the finer tier it is derived from, or -1 when it counts values itself.
  const source = tiers.map((tier, t) => {
    for (let f = t - 1; f >= 0; f--) if (nests(tiers[f]!, tier)) return f;
    return -1;
  });
  const counted = tiers.flatMap((_, t) => (source[t] === -1 ? [t] : []));
  // tier → host → bucket → series: nested maps, because building a composite string key for
  // each of ~100 values per section was most of the rollups' cost (bench/ingest).
  const byTier: Buckets[] = tiers.map(() => new Map());

  // Per series (by node id): the bucket it fed last in the counting tier, and the aggregate.
  const lastBucket: (Map<string, Aggregate> | undefined)[] = [];
  const lastAggregate: Aggregate[] = [];

  const bucketOf = (hosts: Buckets, host: string, bucketMs: number) => {
    let buckets = hosts.get(host);
    if (!buckets) hosts.set(host, (buckets = new Map()));
    let bucket = buckets.get(bucketMs);
    if (!bucket) buckets.set(bucketMs, (bucket = new Map()));
    return bucket;
  };

  const count = (
    bucket: Map<string, Aggregate>,
    host: string,
    bucketMs: number,
    node: SeriesNode,
    value: number,
  ) => {
    // The aggregate this series fed last, if that was in this bucket (one tier counts).
    let current = lastBucket[node.id] === bucket ? lastAggregate[node.id] : bucket.get(node.path);
    if (current) {
      current.samples += 1;
      current.sum += value;
      if (value < current.min) current.min = value;
      if (value > current.max) current.max = value;
    } else {
      current = {
        host,
        series: node.path,
        bucketMs,
        samples: 1,
        sum: value,
        min: value,
        max: value,
      };
      bucket.set(node.path, current);
    }
    lastBucket[node.id] = bucket;
    lastAggregate[node.id] = current;
  };

  return {
    add(snapshot, section) {
      const ts = Date.parse(snapshot.timestamp);
      const host = snapshot.host;
      const root = sectionRoot(section);
      for (const t of counted) {
        const bucketMs = ts - (ts % tiers[t]!.bucketMs);
        const bucket = bucketOf(byTier[t]!, host, bucketMs);
        walkSeries(snapshot[section], root, undefined, undefined, (node, value) =>
          count(bucket, host, bucketMs, node, value),
        );
      }
    },
    addSeries(host, ts, nodes, values, from, to) {
      for (const t of counted) {
        const bucketMs = ts - (ts % tiers[t]!.bucketMs);
        const bucket = bucketOf(byTier[t]!, host, bucketMs);
        for (let i = from; i < to; i++) count(bucket, host, bucketMs, nodes[i]!, values[i]!);
      }
    },
    result() {
      const out = new Map<Tier, Aggregate[]>();
      tiers.forEach((tier, t) => {
        const from = source[t]!;
        if (from !== -1) {
          // Finer tiers come first, so `from`'s aggregates are complete by now.
          const hosts: Buckets = byTier[t]!;
          for (const a of out.get(tiers[from]!)!) {
            const bucketMs = a.bucketMs - (a.bucketMs % tier.bucketMs);
            const bucket = bucketOf(hosts, a.host, bucketMs);
            const current = bucket.get(a.series);
            if (current) {
              current.samples += a.samples;
              current.sum += a.sum;
              if (a.min < current.min) current.min = a.min;
              if (a.max > current.max) current.max = a.max;
            } else {
              bucket.set(a.series, { ...a, bucketMs });
            }
          }
        }
        const aggregates: Aggregate[] = [];
        for (const buckets of byTier[t]!.values()) {
          for (const bucket of buckets.values()) {
            for (const aggregate of bucket.values()) aggregates.push(aggregate);
          }
        }
        out.set(tier, aggregates);
      });
      return out;
    },
  };
}

/**
 * Folds snapshot sections into per-(host, series, bucket) aggregates for every tier, ready to
 * merge into the tier tables. `sections` lists which section of which snapshot to count, so a
 * row the database already held (a retried batch) is never counted twice.
 */
export function aggregateSections(
  sections: Iterable<{ snapshot: Snapshot; section: SeriesSection }>,
  tiers: readonly Tier[] = TIERS,
): Map<Tier, Aggregate[]> {
  const accumulator = createRollupAccumulator(tiers);
  for (const { snapshot, section } of sections) accumulator.add(snapshot, section);
  return accumulator.result();
}

/** Every section of a snapshot that is stored as its own row. */
export const STORED_SECTIONS: readonly SeriesSection[] = SERIES_SECTIONS;
