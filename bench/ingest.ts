// bench/ingest: rows/s of the batch writer replaying a backlog, side by side with its floor.
//
// Workload: `--hours` of one-second snapshots of one host (24 h = 86,400 snapshots = 604,800
// rows, one per section), generated before any clock starts. Baseline: `psql \copy` of exactly
// the rows livestat stores (host, ts, metric_type, metric_data, seq, interval_ms) from a file
// written once: the fastest way into the same table with the same indexes. Ours: the batch
// writer, everything enqueued at once and drained by close(), as after a long outage; once
// with the rollup tiers (what livestat runs) and once with none (`writeSnapshots(db, batch,
// [])`), so the cost of the rollups shows on its own. Every contender gets a fresh database;
// the contenders alternate order run by run so drift hits them all; medians and their ratios
// are what to quote. writer-sequential is the writer without overlapping writes (on PostgreSQL
// livestat COPYs a backlog's next batch on a second connection while the previous one merges
// its rollups and commits), so what the overlap buys shows in every run. writer-serial is the writer without its pipeline (each batch serialized
// only once the previous one is stored), so what pipelining buys shows in every run.
// Every snapshot livestat stores was first published on the bus, which serialized it then
// (live, before any outage): the workload is published once before the clocks start, and the
// writer reuses each section's published text. writer-unpublished is the same writer given
// the same snapshots as bare objects (not published: every section serialized again), so
// what the reuse buys shows in every run too.
// PGlite (the embedded default) replays the same workload through the same writer.
// Besides wall time, each PostgreSQL contender reports the CPU of its client (Node, or psql)
// and of its server backends (from /proc): on a shared machine the wall rates swing, the CPU
// spent much less.
//
//   npm run bench:ingest -- [--hours 24] [--runs 3] [--pglite-hours H] [--pglite-runs N]
//                            [--pglite-memory] [--database-url URL] [--max-batch 1000]
//                            [--only writer,writer-sequential]   (`\copy` always runs)
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Snapshot } from '@livestat/contracts';
import pg from 'pg';
import pino from 'pino';
import { createBatchWriter } from '../apps/api/src/storage/batch-writer.js';
import {
  createPgliteDatabase,
  createPostgresDatabase,
  type Database,
} from '../apps/api/src/storage/db.js';
import {
  prepareSnapshots,
  writePrepared,
  type PreparedSnapshots,
  writeSnapshots,
} from '../apps/api/src/storage/metrics-store.js';
import { migrate } from '../apps/api/src/storage/migrate.js';
import { STORED_SECTIONS, TIERS, type Tier } from '../apps/api/src/storage/rollup.js';
import { toBusMessage } from '../apps/api/src/stream/bus.js';
import { createSnapshotGenerator } from './snapshots.js';

const USAGE = `usage: npm run bench:ingest -- [--hours 24] [--runs 3] [--pglite-hours H]
       [--pglite-runs N] [--pglite-memory] [--database-url URL] [--max-batch 1000]
       [--only writer,writer-sequential,...]`;
const { values } = parseArgs({
  options: {
    hours: { type: 'string', default: '24' },
    runs: { type: 'string', default: '3' },
    'pglite-hours': { type: 'string' },
    'pglite-runs': { type: 'string' },
    'pglite-memory': { type: 'boolean', default: false },
    'database-url': { type: 'string' },
    'max-batch': { type: 'string', default: '1000' },
    only: { type: 'string' },
  },
});
const positive = (text: string | undefined, fallback: number, zeroOk = false) => {
  const n = text === undefined ? fallback : Number(text);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !zeroOk)) {
    console.error(USAGE);
    process.exit(2);
  }
  return n;
};
const hours = positive(values.hours, 24);
const runs = Math.round(positive(values.runs, 3));
const pgliteHours = Math.min(hours, positive(values['pglite-hours'], hours));
const pgliteRuns = Math.round(positive(values['pglite-runs'], runs, true)); // 0 skips PGlite
const maxBatch = Math.round(positive(values['max-batch'], 1000));
// Which writer contenders to run besides `\copy` (all by default), comma-separated.
const only = values.only?.split(',');
const databaseUrl =
  values['database-url'] ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';

const logger = pino({ level: 'silent' });
const OUT = fileURLToPath(new URL('./out/', import.meta.url));
const HOST = 'bench-host';
const START_MS = Date.UTC(2026, 10, 20);
const count = Math.round(hours * 3600);
const pgliteCount = Math.min(count, Math.round(pgliteHours * 3600));
const rowsOf = (snapshots: number) => snapshots * STORED_SECTIONS.length;

// Fail before generating anything when the server is not there.
const admin = new pg.Client({ connectionString: databaseUrl });
await admin.connect();

// ---- the workload, generated once, before any clock starts -------------------------------
const generator = createSnapshotGenerator({ host: HOST, seed: 20261121, startMs: START_MS });
const snapshots: Snapshot[] = [];
for (const batch of generator.batches(0, count, 3600)) snapshots.push(...batch);
// As the live stream did: the bus serialized each snapshot when it was sampled.
for (const snapshot of snapshots) toBusMessage(snapshot);
// The same snapshots, never published (shallow copies share the sections, not the text).
const unpublished = snapshots.map((snapshot) => ({ ...snapshot }));

// The columns writeSnapshots fills, in its order.
const COPY_COLUMNS = 'host, ts, metric_type, metric_data, seq, interval_ms';

// COPY's text format: tab-separated, with backslashes doubled. JSON.stringify never emits a raw
// tab or newline, so doubling the backslashes is the only escaping these rows need.
await mkdir(OUT, { recursive: true });
const tsvPath = `${OUT}ingest-${process.pid}.tsv`;
const tsvFile = createWriteStream(tsvPath);
let tsvBytes = 0;
for (const snapshot of snapshots) {
  let chunk = '';
  for (const section of STORED_SECTIONS) {
    const json = JSON.stringify(snapshot[section]).replaceAll('\\', '\\\\');
    chunk += `${snapshot.host}\t${snapshot.timestamp}\t${section}\t${json}\t${snapshot.seq}\t${snapshot.intervalMs}\n`;
  }
  tsvBytes += Buffer.byteLength(chunk);
  if (!tsvFile.write(chunk))
    await new Promise<void>((resolve) => tsvFile.once('drain', () => resolve()));
}
await new Promise<void>((resolve, reject) =>
  tsvFile.end((err?: Error | null) => (err ? reject(err) : resolve())),
);

// ---- databases -----------------------------------------------------------------------------
const created = new Set<string>();
const pgliteDirs = new Set<string>();

function urlOf(name: string): string {
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function freshPostgres(): Promise<{ db: Database; url: string; name: string }> {
  const name = `livestat_bench_ingest_${process.pid}_${randomBytes(3).toString('hex')}`;
  await admin.query(`CREATE DATABASE ${name}`);
  created.add(name);
  const url = urlOf(name);
  const db = createPostgresDatabase({ connectionString: url, logger, statementTimeoutMs: 0 });
  await migrate(db, logger);
  // Dirty pages of the previous contender must not be flushed on this one's clock.
  await admin.query('CHECKPOINT');
  return { db, url, name };
}

async function dropPostgres(name: string): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  created.delete(name);
}

async function countRaw(db: Database): Promise<number> {
  const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM metrics_snapshots');
  return row?.n ?? 0;
}

// ---- contenders ----------------------------------------------------------------------------
interface Timing {
  seconds: number;
  /** CPU this Node process spent (JSON, aggregation, driver), in seconds. */
  nodeCpu: number;
  /** CPU of the client process for `\\copy` (psql), in seconds. */
  clientCpu?: number;
  /** CPU of the contender's PostgreSQL backends (not the server's background processes), in seconds. */
  serverCpu?: number;
}

// /proc/<pid>/stat's utime + stime, in clock ticks (100 a second on Linux), as seconds; 0 for a
// process gone (or never there).
function cpuSecondsOf(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The CPU seconds of each backend connected to database `name`, by pid. */
async function backendsOf(name: string): Promise<Map<number, number>> {
  const { rows } = await admin.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [name],
  );
  return new Map(rows.map(({ pid }) => [pid, cpuSecondsOf(pid)]));
}

/** CPU the backends of `after` spent since `before` (a backend new since then: all of its CPU). */
const backendCpu = (before: Map<number, number>, after: Map<number, number>) =>
  [...after].reduce((sum, [pid, cpu]) => sum + cpu - (before.get(pid) ?? 0), 0);

async function timeCopy(url: string): Promise<Timing> {
  // psql reads its commands from a pipe so that it (and its backend) is still there once the
  // COPY is done: their CPU is read then, before psql quits.
  const command = `\\copy metrics_snapshots (${COPY_COLUMNS}) FROM '${tsvPath}'`;
  const started = performance.now();
  const child = spawn('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  const done = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('copy-done')) resolve();
    });
    exited.then((code) => reject(new Error(`psql exited ${code}: ${stderr.trim()}`)), reject);
  });
  child.stdin.write(`SELECT pg_backend_pid();\n${command}\n\\echo copy-done\n`);
  await done;
  const seconds = (performance.now() - started) / 1000;
  const serverCpu = cpuSecondsOf(Number.parseInt(stdout, 10));
  const clientCpu = cpuSecondsOf(child.pid!);
  child.stdin.end('\\q\n');
  const code = await exited;
  if (code !== 0) throw new Error(`psql exited ${code}: ${stderr.trim()}`);
  return { seconds, nodeCpu: 0, clientCpu, serverCpu };
}

async function timeWriter(
  db: Database,
  input: readonly Snapshot[],
  tiers: readonly Tier[],
  pipelined = true,
  /** The PostgreSQL database written, whose backends' CPU to count (none for PGlite). */
  database?: string,
  /** The next batch COPYed beside the previous one's rollups (production on PostgreSQL). */
  overlap = false,
): Promise<Timing> {
  // The production settings (BATCH_SIZE 10, 30 s age) with a buffer large enough for the whole
  // backlog: the writer drains it maxBatch snapshots per transaction.
  const writer = createBatchWriter<PreparedSnapshots>({
    write: (batch, prepared, afterPrevious) =>
      prepared
        ? writePrepared(db, prepared, { afterPrevious })
        : writeSnapshots(db, batch, tiers, { afterPrevious }),
    // The production wiring: the next batch is serialized while the previous one is written.
    prepare: pipelined ? (batch) => prepareSnapshots(batch, tiers) : undefined,
    overlap,
    batchSize: 10,
    flushIntervalMs: 30_000,
    maxBuffered: input.length,
    maxBatch,
    logger,
  });
  const backends0 = database === undefined ? undefined : await backendsOf(database);
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  for (const snapshot of input) writer.enqueue(snapshot);
  const { written, lost } = await writer.close({ timeoutMs: 3_600_000 });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const serverCpu =
    backends0 === undefined ? undefined : backendCpu(backends0, await backendsOf(database!));
  if (written !== input.length || lost !== 0) {
    throw new Error(`writer stored ${written} of ${input.length} snapshots (${lost} lost)`);
  }
  return { seconds, nodeCpu: (cpu.user + cpu.system) / 1e6, serverCpu };
}

type Name =
  | 'copy'
  | 'writer'
  | 'writer-serial'
  | 'writer-sequential'
  | 'writer-unpublished'
  | 'writer-raw'
  | 'pglite'
  | 'pglite-raw';
const results = new Map<Name, Timing[]>();
const record = (name: Name, timing: Timing) =>
  results.set(name, [...(results.get(name) ?? []), timing]);

async function runPostgres(name: Name): Promise<Timing> {
  const { db, url, name: dbName } = await freshPostgres();
  try {
    const timing =
      name === 'copy'
        ? await timeCopy(url)
        : await timeWriter(
            db,
            name === 'writer-unpublished' ? unpublished : snapshots,
            name === 'writer-raw' ? [] : TIERS,
            name !== 'writer-serial',
            dbName,
            // As livestat runs on PostgreSQL; writer-sequential is the same without it.
            name !== 'writer-sequential',
          );
    const stored = await countRaw(db);
    if (stored !== rowsOf(count)) {
      throw new Error(`${name}: ${stored} raw rows stored, expected ${rowsOf(count)}`);
    }
    return timing;
  } finally {
    await db.close();
    await dropPostgres(dbName);
  }
}

async function runPglite(name: Name): Promise<Timing> {
  const dir = values['pglite-memory']
    ? undefined
    : `${OUT}pglite-ingest-${process.pid}-${randomBytes(3).toString('hex')}`;
  if (dir !== undefined) pgliteDirs.add(dir);
  const db = await createPgliteDatabase(dir);
  try {
    await migrate(db, logger);
    const input = snapshots.slice(0, pgliteCount);
    const timing = await timeWriter(db, input, name === 'pglite' ? TIERS : []);
    const stored = await countRaw(db);
    if (stored !== rowsOf(pgliteCount)) {
      throw new Error(`${name}: ${stored} raw rows stored, expected ${rowsOf(pgliteCount)}`);
    }
    return timing;
  } finally {
    await db.close();
    if (dir !== undefined) {
      await rm(dir, { recursive: true, force: true });
      pgliteDirs.delete(dir);
    }
  }
}

const rate = (rows: number, t: Timing) => rows / t.seconds;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const line = (name: string, rows: number, t: Timing) =>
  `  ${name.padEnd(13)} ${t.seconds.toFixed(2).padStart(8)} s  ${fmt(rate(rows, t)).padStart(8)} rows/s` +
  (t.nodeCpu > 0 ? `   node CPU ${t.nodeCpu.toFixed(2)} s` : '') +
  (t.clientCpu !== undefined ? `   psql CPU ${t.clientCpu.toFixed(2)} s` : '') +
  (t.serverCpu !== undefined ? `   server CPU ${t.serverCpu.toFixed(2)} s` : '') +
  `   load ${loadavg()[0]!.toFixed(1)}`;

let failed = false;
try {
  const [server] = (await admin.query<{ server_version: string }>('SHOW server_version')).rows;
  console.log(
    `bench/ingest — ${hours} h of one-second snapshots: ${fmt(count)} snapshots, ${fmt(rowsOf(count))} rows, ` +
      `${(tsvBytes / 1e6).toFixed(0)} MB as COPY text; PostgreSQL ${server?.server_version ?? '?'}; ` +
      `batch writer maxBatch ${maxBatch}; ${new Date().toISOString()}`,
  );
  const order = (
    [
      'copy',
      'writer',
      'writer-sequential',
      'writer-serial',
      'writer-unpublished',
      'writer-raw',
    ] as Name[]
  ).filter((name) => only === undefined || name === 'copy' || only.includes(name));
  for (let run = 0; run < runs; run++) {
    console.log(`run ${run + 1}/${runs}`);
    for (const name of run % 2 === 0 ? order : [...order].reverse()) {
      const timing = await runPostgres(name);
      record(name, timing);
      console.log(line(name, rowsOf(count), timing));
    }
  }
  const pgliteOrder: Name[] = ['pglite', 'pglite-raw'];
  for (let run = 0; run < pgliteRuns; run++) {
    console.log(
      `PGlite run ${run + 1}/${pgliteRuns} (${values['pglite-memory'] ? 'in memory' : 'data directory on disk'}, ${pgliteHours} h)`,
    );
    for (const name of run % 2 === 0 ? pgliteOrder : [...pgliteOrder].reverse()) {
      const timing = await runPglite(name);
      record(name, timing);
      console.log(line(name, rowsOf(pgliteCount), timing));
    }
  }

  const med = (name: Name, rows: number) =>
    median((results.get(name) ?? []).map((t) => rate(rows, t)));
  // Node and the server take turns (one write at a time), so Node's CPU over the wall time is
  // roughly the share of the replay spent on the client side.
  const cpuOf = (name: Name, pick: (t: Timing) => number | undefined) =>
    median((results.get(name) ?? []).map((t) => pick(t) ?? 0)).toFixed(2);
  const busy = (name: Name) =>
    `Node busy ${(100 * median((results.get(name) ?? []).map((t) => t.nodeCpu / t.seconds))).toFixed(0)} % of the wall; ` +
    `CPU Node ${cpuOf(name, (t) => t.nodeCpu)} s, server ${cpuOf(name, (t) => t.serverCpu)} s`;
  const copy = med('copy', rowsOf(count));
  const writer = med('writer', rowsOf(count));
  const serial = med('writer-serial', rowsOf(count));
  const sequential = med('writer-sequential', rowsOf(count));
  const raw = med('writer-raw', rowsOf(count));
  const bare = med('writer-unpublished', rowsOf(count));
  const lite = med('pglite', rowsOf(pgliteCount));
  const liteRaw = med('pglite-raw', rowsOf(pgliteCount));
  console.log(
    `\nmedians over ${runs} runs (rows/s); load average now ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}:`,
  );
  console.log(
    `  psql \\copy                         ${fmt(copy).padStart(8)}   CPU psql ${cpuOf('copy', (t) => t.clientCpu)} s, server ${cpuOf('copy', (t) => t.serverCpu)} s`,
  );
  console.log(
    `  batch writer, rollups (livestat)   ${fmt(writer).padStart(8)}   ${(writer / copy).toFixed(2)}× of \\copy (goal ≥ 0.70×); ${busy('writer')}`,
  );
  console.log(
    `  batch writer, rollups, no overlap  ${fmt(sequential).padStart(8)}   ${(sequential / copy).toFixed(2)}× of \\copy; overlapping writes add ${(100 * (writer / sequential - 1)).toFixed(0)} %; ${busy('writer-sequential')}`,
  );
  console.log(
    `  batch writer, rollups, no pipeline ${fmt(serial).padStart(8)}   ${(serial / copy).toFixed(2)}× of \\copy; pipelining adds ${(100 * (writer / serial - 1)).toFixed(0)} %; ${busy('writer-serial')}`,
  );
  console.log(
    `  batch writer, rollups, unpublished${fmt(bare).padStart(9)}   ${(bare / copy).toFixed(2)}× of \\copy; reusing the bus's JSON adds ${(100 * (writer / bare - 1)).toFixed(0)} %; ${busy('writer-unpublished')}`,
  );
  console.log(
    `  batch writer, raw rows only        ${fmt(raw).padStart(8)}   ${(raw / copy).toFixed(2)}× of \\copy; rollups cost ${(100 * (1 - writer / raw)).toFixed(0)} % of the raw-only rate; ${busy('writer-raw')}`,
  );
  if (pgliteRuns > 0) {
    const shorter =
      pgliteCount === count
        ? ''
        : ` (PGlite replayed ${pgliteHours} h, PostgreSQL ${hours} h: compared as rates, assuming PGlite keeps its rate over the longer replay)`;
    console.log(
      `  PGlite writer, rollups             ${fmt(lite).padStart(8)}   ${(lite / writer).toFixed(2)}× of PostgreSQL's writer${shorter}`,
    );
    console.log(
      `  PGlite writer, raw rows only       ${fmt(liteRaw).padStart(8)}   ${(liteRaw / raw).toFixed(2)}× of PostgreSQL's raw-only writer`,
    );
  }
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  for (const name of created) await dropPostgres(name).catch(() => undefined);
  await admin.end();
  for (const dir of pgliteDirs) await rm(dir, { recursive: true, force: true });
  await rm(tsvPath, { force: true });
}
if (failed) process.exit(1);
