// bench/processes-top: p50/p95 of GET /api/processes/top over a real HTTP server on PostgreSQL,
// for ranges of 1 h, 24 h, 7 d and 30 d × by=cpu|memory|io (issue 14's goal: p95 ≤ 100 ms).
//
// A fresh database (bench_proc_<pid>, dropped at the end) holds one host's 30 days: the last
// 48 h (PROCESS_RETENTION_HOURS) as per-tick rows written by the real batch writer
// (writeProcessTicks, which also merges them into the per-minute, per-hour and per-day top
// lists), the days before as per-minute top lists folded into per-hour and per-day ones with
// the writer's own merge (mergeProcessRollups, capped at PROCESS_ROLLUP_TOP).
// The host: 80 long-lived processes (the 10 biggest always in the RSS top 10, 15 busy ones
// taking turns in the CPU top 10, 15 doing I/O) and 2 short-lived jobs a minute that show in
// the CPU top while they run: ~23 processes a tick, ~30 a minute, ~150 an hour before the cap,
// as measured on this machine's real ticks (bench/RESULTS.md).
//
//   npm run -s bench:processes-top -- [--iterations 40] [--warmup 3] [--raw-hours 48] [--days 30]
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { processesTopResponse, type HealthResponse, type Snapshot } from '@livestat/contracts';
import pg from 'pg';
import pino from 'pino';
// For the type of `req.user` the route reads (set by the auth middleware in the real server).
import type {} from '../apps/api/src/auth/require-auth.js';
import { createApp } from '../apps/api/src/http/app.js';
import { createProcessesRouter } from '../apps/api/src/http/processes-route.js';
import { createPostgresDatabase } from '../apps/api/src/storage/db.js';
import { migrate } from '../apps/api/src/storage/migrate.js';
import {
  attachProcessTick,
  mergeProcessRollups,
  mergeRollupRow,
  PROCESS_ROLLUP_TOP,
  writeProcessTicks,
  type ProcessRollupRow,
  type ProcessTickRow,
} from '../apps/api/src/storage/process-ticks.js';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '40' },
    warmup: { type: 'string', default: '3' },
    'raw-hours': { type: 'string', default: '48' },
    days: { type: 'string', default: '30' },
    'database-url': { type: 'string' },
    /** Keep the loaded database (its name is printed) to measure it again with --reuse. */
    keep: { type: 'boolean', default: false },
    reuse: { type: 'string' },
  },
});
const int = (text: string, name: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`--${name}: a whole number ≥ 1, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return n;
};
const iterations = int(values.iterations, 'iterations');
const warmup = int(values.warmup, 'warmup');
const rawHours = int(values['raw-hours'], 'raw-hours');
const days = int(values.days, 'days');
const databaseUrl =
  values['database-url'] ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';

const logger = pino({ level: 'silent' });
const HOST = 'bench-host';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const END_MS = Date.UTC(2026, 10, 21); // "now": the end of the loaded data
const START_MS = END_MS - days * DAY;
const RAW_FROM_MS = END_MS - rawHours * HOUR;

// ---- the host's processes

/** A deterministic PRNG (Park–Miller), so every run loads the same data. */
let seed = 20261205;
const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;

interface Proc {
  pid: number;
  started: number;
  name: string;
  user: string;
  rss: number;
}
const LONG = Array.from({ length: 80 }, (_, i): Proc => ({
  pid: 300 + i * 7,
  started: Math.floor((START_MS - DAY) / 1000),
  name: ['postgres', 'node', 'nginx', 'redis-server', 'java', 'python3', 'sshd', 'cron'][i % 8]!,
  user: ['postgres', 'www-data', 'root', 'redis'][i % 4]!,
  rss: Math.round(2 ** (30 - i / 6)),
}));
const BIGGEST = LONG.slice(0, 10);
const BUSY = LONG.slice(5, 20);
const IO = LONG.slice(12, 27);
/** The two jobs of the minute starting at `minuteMs`: running from :05 and :35 for ~10 s. */
function jobs(minuteMs: number): (Proc & { fromMs: number; toMs: number })[] {
  const n = minuteMs / 60_000;
  return [5_000, 35_000].map((offset, k) => ({
    pid: 10_000 + ((n * 2 + k) % 4_000_000),
    started: Math.floor((minuteMs + offset) / 1000),
    name: k === 0 ? 'backup.sh' : 'logrotate',
    user: 'root',
    rss: 20_000_000,
    fromMs: minuteMs + offset,
    toMs: minuteMs + offset + 10_000,
  }));
}
const pick = <T>(list: readonly T[], n: number) => [...list].sort(() => random() - 0.5).slice(0, n);

/** One tick's stored rows: the union of the top 10 by CPU, by RSS and by I/O. */
function tickRows(tsMs: number): { rows: ProcessTickRow[]; commands: Map<string, string> } {
  const minute = tsMs - (tsMs % 60_000);
  const running = jobs(minute).filter((j) => tsMs >= j.fromMs && tsMs < j.toMs);
  const rows = new Map<number, ProcessTickRow>();
  const add = (p: Proc, cpu: number, io: number | null) => {
    const row = rows.get(p.pid);
    if (row) {
      row[4] = Math.max(row[4], cpu);
      row[6] = io ?? row[6];
    } else rows.set(p.pid, [p.pid, p.started, p.name, p.user, cpu, p.rss, io]);
  };
  for (const p of BIGGEST) add(p, Math.round(random() * 30) / 10, 0);
  for (const p of [...running, ...pick(BUSY, 10 - running.length)]) {
    add(p, Math.round(random() * 900) / 10, Math.round(random() * 1000) * 4096);
  }
  for (const p of pick(IO, 10)) add(p, Math.round(random() * 50) / 10, Math.round(random() * 5e6));
  const commands = new Map<string, string>();
  for (const row of rows.values()) {
    commands.set(`${row[0]}:${row[1]}`, `/usr/bin/${row[2]} --worker ${row[0]}`);
  }
  return { rows: [...rows.values()], commands };
}

/** One minute's top list, as the writer would have folded its 60 ticks. */
function minuteRows(minuteMs: number): ProcessRollupRow[] {
  const rows: ProcessRollupRow[] = [];
  const full = (p: Proc, cpuS: number, io: number): ProcessRollupRow => [
    p.pid,
    p.started,
    p.name,
    p.user,
    cpuS,
    p.rss,
    io,
    minuteMs,
    minuteMs + 59_000,
    60_000,
  ];
  const seen = new Set<number>();
  for (const p of [...BIGGEST, ...BUSY, ...IO]) {
    if (seen.has(p.pid)) continue;
    seen.add(p.pid);
    rows.push(full(p, Math.round(random() * 300) / 10, Math.round(random() * 3e8)));
  }
  for (const j of jobs(minuteMs)) {
    rows.push([j.pid, j.started, j.name, j.user, 9, j.rss, 4e7, j.fromMs, j.toMs - 1000, 10_000]);
  }
  return rows;
}

// ---- loading

async function load(db: ReturnType<typeof createPostgresDatabase>): Promise<void> {
  const started = performance.now();
  // The days before the per-tick rows: per-minute lists, folded into per-hour ones.
  const identity = (r: ProcessRollupRow) => `${r[0]}:${r[1]}:${r[2]}`;
  const commands = new Map<string, [number, number, string]>();
  for (let hourMs = START_MS; hourMs < RAW_FROM_MS; hourMs += HOUR) {
    const minutes: number[] = [];
    const lists: string[] = [];
    const hour = new Map<string, ProcessRollupRow>();
    for (let m = hourMs; m < hourMs + HOUR; m += 60_000) {
      const rows = minuteRows(m);
      minutes.push(m);
      lists.push(JSON.stringify(rows));
      for (const row of rows) {
        const current = hour.get(identity(row));
        if (current) mergeRollupRow(current, row);
        else hour.set(identity(row), [...row] as ProcessRollupRow);
        commands.set(`${row[0]}:${row[1]}`, [
          row[0],
          row[1],
          `/usr/bin/${row[2]} --worker ${row[0]}`,
        ]);
      }
    }
    await db.query(
      `INSERT INTO process_rollup_1m (host, bucket, processes)
       SELECT $1, to_timestamp(b / 1000.0), p FROM unnest($2::float8[], $3::jsonb[]) AS u(b, p)`,
      [HOST, minutes, lists],
    );
    // The hour and its day through the writer's own merge, cut as it cuts them.
    const copy = new Map([...hour].map(([key, row]) => [key, [...row] as ProcessRollupRow]));
    await db.transaction(async (tx) => {
      await mergeProcessRollups(
        tx,
        'process_rollup_1h',
        HOST,
        new Map([[hourMs, hour]]),
        PROCESS_ROLLUP_TOP,
      );
      await mergeProcessRollups(
        tx,
        'process_rollup_1d',
        HOST,
        new Map([[hourMs - (hourMs % DAY), copy]]),
        PROCESS_ROLLUP_TOP,
      );
    });
  }
  const list = [...commands.values()];
  for (let i = 0; i < list.length; i += 20_000) {
    const part = list.slice(i, i + 20_000);
    await db.query(
      `INSERT INTO process_commands (host, pid, started, command, last_seen)
       SELECT $1, * FROM unnest($2::int[], $3::bigint[], $4::text[], $5::timestamptz[])`,
      [
        HOST,
        part.map((c) => c[0]),
        part.map((c) => c[1]),
        part.map((c) => c[2]),
        part.map((c) => new Date(c[1] * 1000).toISOString()),
      ],
    );
  }
  console.log(`  rollups before the last ${rawHours} h loaded in ${secondsSince(started)} s`);
  // The last hours: per-tick rows through the real batch writer, 600 ticks a transaction.
  const rawStarted = performance.now();
  for (let batchMs = RAW_FROM_MS; batchMs < END_MS; batchMs += 600_000) {
    const snapshots: Snapshot[] = [];
    for (let ts = batchMs; ts < Math.min(END_MS, batchMs + 600_000); ts += 1000) {
      const snapshot = {
        host: HOST,
        timestamp: new Date(ts).toISOString(),
        intervalMs: 1000,
      } as Snapshot;
      attachProcessTick(snapshot, tickRows(ts));
      snapshots.push(snapshot);
    }
    await db.transaction((tx) => writeProcessTicks(tx, snapshots));
  }
  console.log(
    `  ${rawHours} h of ticks written by the batch writer in ${secondsSince(rawStarted)} s`,
  );
  await db.exec('VACUUM ANALYZE');
  const [sizes] = await db.query<Record<string, string>>(
    `SELECT (SELECT count(*) FROM process_ticks) AS ticks,
            (SELECT round(avg(jsonb_array_length(processes)), 1) FROM process_ticks) AS per_tick,
            (SELECT count(*) FROM process_rollup_1m) AS minutes,
            (SELECT round(avg(jsonb_array_length(processes)), 1) FROM process_rollup_1m) AS per_minute,
            (SELECT count(*) FROM process_rollup_1h) AS hours,
            (SELECT round(avg(jsonb_array_length(processes)), 1) FROM process_rollup_1h) AS per_hour,
            (SELECT count(*) FROM process_rollup_1d) AS days,
            (SELECT round(avg(jsonb_array_length(processes)), 1) FROM process_rollup_1d) AS per_day,
            (SELECT count(*) FROM process_commands) AS commands`,
  );
  console.log(
    `  loaded: ${sizes!.ticks} ticks (${sizes!.per_tick} processes each), ${sizes!.minutes} ` +
      `per-minute lists (${sizes!.per_minute}), ${sizes!.hours} per-hour lists ` +
      `(${sizes!.per_hour}), ${sizes!.days} per-day lists (${sizes!.per_day}), ` +
      `${sizes!.commands} command lines`,
  );
}

const secondsSince = (t0: number) => ((performance.now() - t0) / 1000).toFixed(0);
const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

// ---- timing the route

async function measure(db: ReturnType<typeof createPostgresDatabase>): Promise<boolean> {
  const app = createApp({
    logger,
    health: () => ({ status: 'ok' }) as HealthResponse,
    routers: [
      createProcessesRouter({
        db: db.lane('read'),
        timeoutMs: 30_000,
        processRetentionMs: rawHours * HOUR,
        now: () => END_MS,
      }),
    ],
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/processes/top`;
  const ranges = [
    { name: '1 h', ms: HOUR },
    { name: '24 h', ms: DAY },
    { name: '7 d', ms: 7 * DAY },
    { name: '30 d', ms: 30 * DAY },
  ].filter((r) => r.ms <= days * DAY);
  console.log(
    `\nGET /api/processes/top over HTTP, limit=10, ${iterations} requests per row after ` +
      `${warmup} warm-up (load ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')})`,
  );
  console.log('range  by      tier  processes  p50 ms   p95 ms   max ms');
  let met = true;
  try {
    for (const range of ranges) {
      for (const by of ['cpu', 'memory', 'io'] as const) {
        const url = `${base}?host=${HOST}&from=${END_MS - range.ms}&to=${END_MS}&by=${by}&limit=10`;
        const times: number[] = [];
        let tier = '';
        let count = 0;
        for (let i = 0; i < warmup + iterations; i++) {
          const t0 = performance.now();
          const res = await fetch(url);
          const body = await res.json();
          const elapsed = performance.now() - t0;
          if (res.status !== 200) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
          const answer = processesTopResponse.parse(body);
          tier = answer.tier;
          count = answer.processes.length;
          if (i >= warmup) times.push(elapsed);
        }
        times.sort((a, b) => a - b);
        const p95 = quantile(times, 0.95);
        met &&= p95 <= 100;
        console.log(
          `${range.name.padEnd(6)} ${by.padEnd(7)} ${tier.padEnd(5)} ${String(count).padEnd(10)} ` +
            `${quantile(times, 0.5).toFixed(1).padEnd(8)} ${p95.toFixed(1).padEnd(8)} ` +
            `${times.at(-1)!.toFixed(1)}`,
        );
      }
    }
  } finally {
    server.close();
  }
  console.log(`goal p95 ≤ 100 ms at every range: ${met ? 'met' : 'NOT met'}`);
  return met;
}

// ---- main

console.log(
  `bench/processes-top — ${new Date().toISOString()}: ${days} d of one host, the last ` +
    `${rawHours} h as per-tick rows`,
);
const admin = new pg.Client({ connectionString: databaseUrl });
await admin.connect();
const name = values.reuse ?? `bench_proc_${process.pid}`;
if (!/^bench_proc_\d+$/.test(name)) {
  console.error(
    `--reuse: a database this bench made (bench_proc_<pid>), got ${JSON.stringify(name)}`,
  );
  process.exit(2);
}
if (values.reuse === undefined) await admin.query(`CREATE DATABASE ${name}`);
const url = new URL(databaseUrl);
url.pathname = `/${name}`;
const db = createPostgresDatabase({
  connectionString: url.toString(),
  logger,
  statementTimeoutMs: 0,
});
let failed = false;
try {
  if (values.reuse === undefined) {
    await migrate(db, logger);
    await load(db);
  }
  await measure(db);
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  await db.close();
  if (values.keep) console.log(`kept ${name}: --reuse ${name} measures it again`);
  else await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}
process.exit(failed ? 1 : 0);
