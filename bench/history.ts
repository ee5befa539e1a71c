// bench/history: how fast GET /api/history answers over a month of one host, beside the
// naive way to answer it.
//
// Loaded: what a livestat install holds after `--days` (30) of one-second snapshots — rollup
// tiers for every day, raw rows only for the last `--raw-days` (7, RETENTION_DAYS' default).
// The raw days go through `writeSnapshots` (raw rows and rollups, 1000 snapshots a transaction
// as the batch writer drains a backlog). The older days' raw rows would be pruned by retention
// anyway, so they are never written: their rollups come from the same `aggregateSections` and
// the same merge statement `writeSnapshots` uses. Ours: `queryHistory` with six series and 500
// points over 1 h, 24 h, 7 d and 30 d ending at the end of the data. Baseline: the same
// buckets computed by a plain GROUP BY over every raw row in range (where raw rows exist).
// The two alternate query by query; p50/p95 are what to quote.
//
//   npm run bench:history -- [--days 30] [--raw-days 7] [--iterations 50] [--keep]
//        [--baseline-iterations 10] [--pglite-days D] [--pglite-raw-days R] [--skip-pglite]
//        [--database-url URL]
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { HistoryResponse, Snapshot } from '@livestat/contracts';
import pg from 'pg';
import pino from 'pino';
import {
  createPgliteDatabase,
  createPostgresDatabase,
  type Database,
} from '../apps/api/src/storage/db.js';
import { queryHistory } from '../apps/api/src/storage/history.js';
import { mergeAggregates, writeSnapshots } from '../apps/api/src/storage/metrics-store.js';
import { migrate } from '../apps/api/src/storage/migrate.js';
import { aggregateSections, STORED_SECTIONS, TIERS } from '../apps/api/src/storage/rollup.js';
import { createSnapshotGenerator } from './snapshots.js';

const { values } = parseArgs({
  options: {
    days: { type: 'string', default: '30' },
    'raw-days': { type: 'string', default: '7' },
    iterations: { type: 'string', default: '50' },
    warmup: { type: 'string', default: '5' },
    'baseline-iterations': { type: 'string', default: '10' },
    'pglite-days': { type: 'string' },
    'pglite-raw-days': { type: 'string' },
    'skip-pglite': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    'database-url': { type: 'string' },
  },
});
const int = (text: string | undefined, fallback: number, min: number) => {
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isInteger(n) || n < min) {
    console.error(
      'usage: npm run bench:history -- [--days 30] [--raw-days 7] [--iterations 50] [--keep] ...',
    );
    process.exit(2);
  }
  return n;
};
const days = int(values.days, 30, 1);
const rawDays = Math.min(days, int(values['raw-days'], 7, 1));
const iterations = int(values.iterations, 50, 1);
const warmup = int(values.warmup, 5, 0);
const baselineIterations = int(values['baseline-iterations'], 10, 0);
const pgliteDays = int(values['pglite-days'], days, 1);
const pgliteRawDays = Math.min(pgliteDays, int(values['pglite-raw-days'], rawDays, 1));
const databaseUrl =
  values['database-url'] ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';

const logger = pino({ level: 'silent' });
const OUT = fileURLToPath(new URL('./out/', import.meta.url));
const HOST = 'bench-host';
const SEED = 20261121;
const DAY = 86_400_000;
const END_MS = Date.UTC(2026, 10, 21); // "now": the end of the loaded data
const SERIES = [
  'cpu.usagePercent',
  'memory.usedPercent',
  'network.rxBytesPerSec',
  'disk.writeBytesPerSec',
  'bandwidth.pageInBytesPerSec',
  'perf.contextSwitchesPerSec',
];
const RANGES = [
  { name: '1 h', ms: 3_600_000 },
  { name: '24 h', ms: DAY },
  { name: '7 d', ms: 7 * DAY },
  { name: '30 d', ms: 30 * DAY },
];

// ---- loading ---------------------------------------------------------------------------------
interface Load {
  days: number;
  rawDays: number;
}

/** What a loaded database must hold; its hash tells a reusable database from a stale one. */
function expectation(load: Load) {
  const generator = createSnapshotGenerator({ host: HOST, seed: SEED, startMs: 0 });
  const sample = generator.at(0);
  const seriesPerSnapshot = aggregateSections(
    STORED_SECTIONS.map((section) => ({ snapshot: sample, section })),
    [TIERS[0]!],
  ).get(TIERS[0]!)!.length;
  const counts = {
    raw: load.rawDays * 86_400 * STORED_SECTIONS.length,
    rollup1m: load.days * 1440 * seriesPerSnapshot,
    rollup1h: load.days * 24 * seriesPerSnapshot,
  };
  const signature = createHash('sha256')
    .update(JSON.stringify({ ...load, SEED, END_MS, HOST, counts, sample }))
    .digest('hex')
    .slice(0, 16);
  return { counts, signature };
}

async function countRows(db: Database) {
  const [row] = await db.query<{ raw: number; rollup1m: number; rollup1h: number }>(
    `SELECT (SELECT count(*) FROM metrics_snapshots)::int AS raw,
            (SELECT count(*) FROM metrics_rollup_1m)::int AS "rollup1m",
            (SELECT count(*) FROM metrics_rollup_1h)::int AS "rollup1h"`,
  );
  return row!;
}

// The statement writeSnapshots merges rollups with (metrics-store.ts), for days whose raw rows
// are not written.

/**
 * Makes `db` hold `target`: kept as it is when `reusable` (its signature matched) and its row
 * counts are right, else emptied and loaded. Throws when a load ends with the wrong counts.
 */
async function ensureLoaded(
  db: Database,
  target: Load,
  label: string,
  reusable: boolean,
): Promise<void> {
  const { counts } = expectation(target);
  const held = JSON.stringify(await countRows(db));
  if (reusable && held === JSON.stringify(counts)) {
    console.log(`  ${label}: reusing the loaded data (${held})`);
    return;
  }
  await db.exec('TRUNCATE metrics_snapshots, metrics_rollup_1m, metrics_rollup_1h, hosts');
  await load(db, target, label);
  const loaded = JSON.stringify(await countRows(db));
  if (loaded !== JSON.stringify(counts)) {
    throw new Error(`${label}: loaded ${loaded}, expected ${JSON.stringify(counts)}`);
  }
}

async function load(db: Database, { days, rawDays }: Load, label: string): Promise<void> {
  const generator = createSnapshotGenerator({
    host: HOST,
    seed: SEED,
    startMs: END_MS - days * DAY,
  });
  const started = performance.now();
  console.log(`  ${label}: loading ${days} d (the last ${rawDays} d with raw rows)…`);
  for (let day = 0; day < days; day++) {
    if (day >= days - rawDays) {
      for (const batch of generator.batches(day * 86_400, 86_400, 1000)) {
        await writeSnapshots(db, batch);
      }
      continue;
    }
    for (const batch of generator.batches(day * 86_400, 86_400, 3600)) {
      const sections = batch.flatMap((snapshot: Snapshot) =>
        STORED_SECTIONS.map((section) => ({ snapshot, section })),
      );
      await db.transaction(async (tx) => {
        for (const [tier, aggregates] of aggregateSections(sections)) {
          await mergeAggregates(tx, tier, aggregates);
        }
      });
    }
  }
  // Autovacuum would get here on its own in a live install; after a bulk load, do it now so
  // the planner sees real statistics.
  await db.exec('VACUUM ANALYZE');
  const seconds = ((performance.now() - started) / 1000).toFixed(0);
  console.log(`  ${label}: loaded in ${seconds} s, VACUUM ANALYZE included`);
}

// ---- timing ----------------------------------------------------------------------------------
const NAIVE = `
  SELECT ((floor(extract(epoch FROM ts) * 1000)::int8 - $2::int8) / $3::int8)::int AS i,
    avg((metric_data ->> $7)::float8) AS avg, min((metric_data ->> $7)::float8) AS min,
    max((metric_data ->> $7)::float8) AS max
  FROM metrics_snapshots
  WHERE host = $1 AND metric_type = $6
    AND ts >= to_timestamp($4::float8 / 1000) AND ts < to_timestamp($5::float8 / 1000)
  GROUP BY 1 ORDER BY 1`;

/** The baseline: the same buckets as `plan`, straight from the raw rows, six queries at once. */
async function naive(db: Database, plan: HistoryResponse, from: number) {
  return Promise.all(
    SERIES.map(async (path) => {
      const [section, field] = path.split('.') as [string, string];
      const params = [HOST, plan.from, plan.bucketMs, from, plan.to, section, field];
      const rows = await db.query<{ i: number; avg: number; min: number; max: number }>(
        NAIVE,
        params,
      );
      return { path, rows };
    }),
  );
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
const speedUp = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)}×`;
const ms = (x: number) => (Number.isNaN(x) ? '—' : `${x.toFixed(1)} ms`);
const UNITS = [
  ['d', DAY],
  ['h', 3_600_000],
  ['min', 60_000],
  ['s', 1000],
] as const;
const bucketName = (b: number) => {
  const [unit, size] = UNITS.find(([, size]) => b % size === 0) ?? ['ms', 1];
  return `${b / size} ${unit}`;
};
const WIDTHS = [6, 5, 8, 8, 26, 30, 15];
const cells = (texts: string[]) => texts.map((text, k) => text.padEnd(WIDTHS[k] ?? 0)).join(' ');

async function measure(db: Database, loaded: Load, label: string): Promise<void> {
  const options = { now: END_MS, rawRetentionMs: loaded.rawDays * DAY };
  console.log(
    `\n${label}: ${SERIES.length} series, 500 points, ${iterations} queries per range after ${warmup} warm-up; ` +
      `naive raw GROUP BY ${baselineIterations}× per range where raw rows exist`,
  );
  const head = 'range,tier,bucket,buckets,livestat p50 / p95,naive raw p50 / p95,speed-up (p50)';
  console.log(cells([...head.split(','), 'answers agree']));
  let goalMet = true;
  for (const range of RANGES.filter((r) => r.ms <= loaded.days * DAY)) {
    const request = {
      host: HOST,
      series: SERIES,
      from: END_MS - range.ms,
      to: END_MS,
      points: 500,
    };
    const ours: number[] = [];
    const base: number[] = [];
    const withBaseline = range.ms <= loaded.rawDays * DAY && baselineIterations > 0;
    let answer: HistoryResponse | undefined;
    for (let i = 0; i < warmup; i++) answer = await queryHistory(db, request, options);
    answer ??= await queryHistory(db, request, options);
    let agree = '—';
    if (withBaseline) {
      const naiveAnswer = await naive(db, answer, request.from); // also its warm-up
      agree = compare(answer, naiveAnswer);
    }
    for (let i = 0; i < iterations; i++) {
      const both = withBaseline && i < baselineIterations;
      for (const which of i % 2 === 0 ? ['ours', 'base'] : ['base', 'ours']) {
        if (which === 'base' && !both) continue;
        const t0 = performance.now();
        if (which === 'ours') await queryHistory(db, request, options);
        else await naive(db, answer, request.from);
        (which === 'ours' ? ours : base).push(performance.now() - t0);
      }
    }
    ours.sort((a, b) => a - b);
    base.sort((a, b) => a - b);
    const p95 = quantile(ours, 0.95);
    if (p95 > 100) goalMet = false;
    const [p50, baseP50] = [quantile(ours, 0.5), quantile(base, 0.5)];
    console.log(
      cells([
        range.name,
        answer.tier,
        bucketName(answer.bucketMs),
        String(Math.ceil((request.to - answer.from) / answer.bucketMs)),
        `${ms(p50)} / ${ms(p95)}`,
        withBaseline
          ? `${ms(baseP50)} / ${ms(quantile(base, 0.95))} (n=${base.length})`
          : 'no raw rows this old',
        withBaseline ? speedUp(baseP50 / p50) : '—',
        agree,
      ]),
    );
  }
  console.log(
    `  every range p95 ≤ 100 ms (the goal, set for PostgreSQL): ${goalMet ? 'yes' : 'NO'}; ` +
      `load average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')} (other processes share this machine)`,
  );
}

/** Whether livestat's answer and the naive one agree bucket by bucket (floats: 1e-9 relative). */
function compare(
  answer: HistoryResponse,
  naiveAnswer: { path: string; rows: { i: number; avg: number; min: number; max: number }[] }[],
): string {
  let worst = 0;
  let missing = 0;
  for (const { path, rows } of naiveAnswer) {
    const points = answer.series[path] ?? [];
    for (const row of rows) {
      const point = points[row.i];
      if (!point) {
        missing += 1;
        continue;
      }
      [row.avg, row.min, row.max].forEach((expected, k) => {
        const got = point[k + 1];
        if (got === null || got === undefined) missing += 1;
        else worst = Math.max(worst, Math.abs(got - expected) / Math.max(1, Math.abs(expected)));
      });
    }
  }
  return missing === 0 && worst < 1e-9
    ? 'yes'
    : `NO (${missing} missing, max rel. diff ${worst.toExponential(1)})`;
}

// ---- the two backends ------------------------------------------------------------------------
/** Loads `target` into `db` unless it already holds it, then times the queries; closes `db`. */
async function runBackend(
  db: Database,
  target: Load,
  reusable: boolean,
  markLoaded: () => Promise<unknown>,
): Promise<void> {
  const label = db.kind === 'postgres' ? 'PostgreSQL' : 'PGlite';
  try {
    await migrate(db, logger);
    await ensureLoaded(db, target, label, reusable);
    await markLoaded();
    const [about] = await db.query<{ version: string; size: string }>(
      `SELECT current_setting('server_version') AS version,
        pg_size_pretty(pg_database_size(current_database())) AS size`,
    );
    const { counts } = expectation(target);
    const n = (x: number) => x.toLocaleString('en-US');
    await measure(
      db,
      target,
      `${label} ${about?.version ?? ''}${db.kind === 'pglite' ? ' (data directory on disk)' : ''} — ` +
        `${target.days} d of rollups, raw rows for the last ${target.rawDays} d (${n(counts.raw)} raw, ` +
        `${n(counts.rollup1m)} 1-minute, ${n(counts.rollup1h)} 1-hour rows; database ${about?.size})`,
    );
  } finally {
    await db.close();
  }
}

const admin = new pg.Client({ connectionString: databaseUrl });
let failed = false;
try {
  console.log(
    `bench/history — ${new Date().toISOString()}; data ends ${new Date(END_MS).toISOString()} ("now")`,
  );
  await admin.connect();
  // PostgreSQL: a fixed database, marked with the signature of what it holds.
  const name = 'livestat_bench_history';
  const { signature } = expectation({ days, rawDays });
  const [found] = (
    await admin.query<{ comment: string | null }>(
      `SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = $1`,
      [name],
    )
  ).rows;
  if (found && found.comment !== signature) {
    console.log(`  ${name} holds another load; dropping it`);
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
  }
  if (found?.comment !== signature) await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  try {
    await runBackend(
      createPostgresDatabase({ connectionString: url.toString(), logger, statementTimeoutMs: 0 }),
      { days, rawDays },
      found?.comment === signature,
      () => admin.query(`COMMENT ON DATABASE ${name} IS '${signature}'`),
    );
  } finally {
    if (!values.keep) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }

  // PGlite: a fixed data directory, with the signature in a file beside it.
  if (!values['skip-pglite']) {
    const liteLoad = { days: pgliteDays, rawDays: pgliteRawDays };
    const lite = expectation(liteLoad);
    const dir = `${OUT}pglite-history`;
    const stamp = `${dir}.signature`;
    const previous = await readFile(stamp, 'utf8').catch(() => null);
    if (previous !== lite.signature) {
      await rm(stamp, { force: true });
      await rm(dir, { recursive: true, force: true });
    }
    await mkdir(OUT, { recursive: true });
    try {
      await runBackend(await createPgliteDatabase(dir), liteLoad, previous === lite.signature, () =>
        writeFile(stamp, lite.signature),
      );
    } finally {
      if (!values.keep) {
        await rm(dir, { recursive: true, force: true });
        await rm(stamp, { force: true });
      }
    }
  }
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  await admin.end().catch(() => undefined);
}
if (failed) process.exit(1);
