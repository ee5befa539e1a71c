// bench/fleet: what one more monitored host costs the API, as the fleet grows.
//
// One API, started as a real process (`ROLE=api`, `SAMPLING=off`: it samples nothing itself
// and serves what comes over Redis), on PostgreSQL (a fresh database on the local server) and
// Redis (under a REDIS_PREFIX of the run's own, deleted at the end), with no dashboard open:
// the cost of receiving, checking and holding each host. Beside it, simulated agents — 0, then 1, 10 and 50 — do each second what `ROLE=agent`
// does: publish the host's snapshot through the same Redis bus code (channel, latest key,
// envelope) and queue it for a batch writer that stores it with `writeSnapshots` (the
// simulator's own connection pool; the API never writes what it receives). Snapshots come
// from bench/snapshots.ts (the contracts' example, its numbers varied), one host name each.
//
// For each fleet size, after a warm-up (new agents first publish 15 minutes of their past, so
// the API's per-host resume rings are full, as on a fleet that has been up a while): the API's CPU (utime + stime from /proc) over the
// window, its mean RSS over it, and the rows stored per second (raw rows whose timestamp
// falls in the window, counted once the writers have flushed). Per-host figures are the slope
// from the smallest fleet to each larger one.
//
// Then resume latency: a dashboard socket asks the largest fleet's first host for its last 14
// minutes (`resume`, answered from the API's ring), five times; the time from asking to the
// newest of them arriving, and how many came.
//
// `--api-dir` runs the API of another checkout (its apps/api), so a change can be measured
// against the version before it on the same machine, e.g. a worktree of main.
//
//   npm run bench:fleet -- [--hosts 0,1,10,50] [--seconds 60] [--warmup 30] [--prefill 900]
//                          [--database-url URL] [--redis-url URL] [--api-dir DIR]
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import pg from 'pg';
import pino from 'pino';
import { createBatchWriter, type BatchWriter } from '../apps/api/src/storage/batch-writer.js';
import { createPostgresDatabase } from '../apps/api/src/storage/db.js';
import {
  prepareSnapshots,
  writePrepared,
  writeSnapshots,
  type PreparedSnapshots,
} from '../apps/api/src/storage/metrics-store.js';
import { createRedisBus, REDIS_PUBLISHER_OPTIONS } from '../apps/api/src/stream/redis-bus.js';
import { createSnapshotGenerator, type SnapshotGenerator } from './snapshots.js';

const USAGE = `usage: npm run bench:fleet -- [--hosts 0,1,10,50] [--seconds 60] [--warmup 30]
       [--prefill 900] [--database-url URL] [--redis-url URL] [--api-dir DIR]`;
const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '0,1,10,50' },
    seconds: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '30' },
    prefill: { type: 'string', default: '900' },
    'database-url': { type: 'string' },
    'redis-url': { type: 'string' },
    'api-dir': { type: 'string' },
  },
});
const fail = () => {
  console.error(USAGE);
  process.exit(2);
};
const fleets = (values.hosts ?? '')
  .split(',')
  .map(Number)
  .sort((a, b) => a - b);
if (fleets.length === 0 || fleets.some((n) => !Number.isInteger(n) || n < 0)) fail();
const windowS = Number(values.seconds);
const warmupS = Number(values.warmup);
const prefillS = Number(values.prefill);
if (!(windowS > 0) || !(warmupS >= 0) || !Number.isInteger(prefillS) || prefillS < 0) fail();
const databaseUrl =
  values['database-url'] ??
  process.env.TEST_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/test';
const redisUrl = values['redis-url'] ?? 'redis://127.0.0.1:6379';

const API_DIR = values['api-dir'] ?? fileURLToPath(new URL('../apps/api/', import.meta.url));
if (!existsSync(join(API_DIR, 'src/main.ts'))) {
  console.error(`--api-dir: no src/main.ts under ${API_DIR}`);
  fail();
}
const TSX_LOADER = fileURLToPath(
  new URL('../node_modules/tsx/dist/esm/index.mjs', import.meta.url),
);
const logger = pino({ level: 'silent' });
const RUN = `${process.pid}${randomBytes(2).toString('hex')}`;
// A namespace of this run's own on the shared Redis (channel and latest keys), as REDIS_PREFIX
// gives each deployment.
const redisPrefix = `livestat-bench-fleet-${RUN}:`;
const TICK = 100; // USER_HZ: /proc's clock ticks per second on Linux
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the database and the API --------------------------------------------------------------
const admin = new pg.Client({ connectionString: databaseUrl });
await admin.connect();
const dbName = `livestat_bench_fleet_${RUN}`;
await admin.query(`CREATE DATABASE ${dbName}`);
const url = new URL(databaseUrl);
url.pathname = `/${dbName}`;
const appUrl = url.toString();
const metricsToken = randomBytes(16).toString('hex');
const adminPassword = randomBytes(12).toString('hex');
const dataDir = await mkdtemp(join(tmpdir(), 'livestat-fleet-'));

// Run from source through tsx's loader in this one node process (no wrapper process), so
// /proc/<pid> is the whole API.
const api = spawn(
  process.execPath,
  ['--import', TSX_LOADER, '--conditions=@livestat/source', 'src/main.ts'],
  {
    cwd: API_DIR,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ENV_FILE: 'none',
      LOG_LEVEL: 'info',
      NODE_ENV: 'production',
      PORT: '0',
      HOST: '127.0.0.1',
      SAMPLING: 'off',
      DATABASE_URL: appUrl,
      REDIS_URL: redisUrl,
      REDIS_PREFIX: redisPrefix,
      DATA_DIR: dataDir,
      JWT_SECRET: randomBytes(32).toString('hex'),
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: adminPassword,
      METRICS_TOKEN: metricsToken,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  },
);
let apiOutput = '';
api.stdout.on('data', (chunk: Buffer) => (apiOutput += chunk.toString()));
api.stderr.on('data', (chunk: Buffer) => (apiOutput += chunk.toString()));
const apiExited = new Promise<number | null>((resolve) => api.on('close', resolve));

async function procStats(pid: number): Promise<{ cpuS: number; rssMb: number }> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at state, field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuS = (Number(fields[11]) + Number(fields[12])) / TICK;
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return { cpuS, rssMb: rssKb / 1024 };
}

const apiUrl = () => /"url":"(http:\/\/[^"]+)"/.exec(apiOutput)?.[1];

/** Resolves once /api/health answers 200 (migrations done, Redis up). */
async function waitHealthy(timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const url = apiUrl();
    if (url) {
      const ok = await fetch(new URL('/api/health', url)).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
    }
    if (Date.now() > deadline) throw new Error(`the API did not become healthy:\n${apiOutput}`);
    await sleep(200);
  }
}

// ---- simulated agents ----------------------------------------------------------------------
const store = createPostgresDatabase({ connectionString: appUrl, logger, max: 4 });

interface Agent {
  host: string;
  generator: SnapshotGenerator;
  bus: ReturnType<typeof createRedisBus>;
  writer: BatchWriter;
  /** The agent's sampling phase within each second, ms. */
  phaseMs: number;
  /** The next second to publish, counted from epochMs + phaseMs. */
  second: number;
  /** The first second that is live rather than prefill: the rows of the past were stored long ago. */
  liveFrom: number;
}
const agents: Agent[] = [];
const epochMs = Math.floor(Date.now() / 1000) * 1000;

/** The second an agent with `phaseMs` is at now. */
const secondNow = (phaseMs: number) => Math.floor((Date.now() - epochMs - phaseMs) / 1000);

async function addAgent(index: number): Promise<void> {
  const host = `fleet-${RUN}-${String(index).padStart(3, '0')}`;
  const bus = createRedisBus({
    publisher: new Redis(redisUrl, REDIS_PUBLISHER_OPTIONS),
    prefix: redisPrefix,
    logger,
  });
  await bus.ready();
  // Hosts sample at their own moment within the second, not all at once.
  const phaseMs = Math.floor(Math.random() * 1000);
  agents.push({
    host,
    generator: createSnapshotGenerator({ host, seed: 1000 + index, startMs: epochMs + phaseMs }),
    bus,
    // An agent's settings: BATCH_SIZE 10, FLUSH_INTERVAL 5 s.
    writer: createBatchWriter<PreparedSnapshots>({
      write: (batch, prepared) =>
        prepared ? writePrepared(store, prepared) : writeSnapshots(store, batch),
      prepare: (batch) => prepareSnapshots(batch),
      batchSize: 10,
      flushIntervalMs: 5000,
      maxBuffered: 10_000,
      logger,
    }),
    phaseMs,
    // The API keeps each host's last 15 minutes for resume: a new agent first publishes that
    // much of its past (during the warm-up), so memory is measured with every ring full, as
    // it is once a host has been up for a while.
    second: secondNow(phaseMs) - prefillS + 1,
    liveFrom: secondNow(phaseMs) + 1,
  });
}

let ticker: NodeJS.Timeout | null = null;
function startTicking(): void {
  ticker = setInterval(() => {
    for (const agent of agents) {
      const second = secondNow(agent.phaseMs);
      // At most 100 a tick per agent, so a prefill is a stream rather than one burst.
      for (let n = 0; agent.second <= second && n < 100; n++) {
        const live = agent.second >= agent.liveFrom;
        const snapshot = agent.generator.at(agent.second++);
        agent.bus.publish(snapshot);
        if (live) agent.writer.enqueue(snapshot);
      }
    }
  }, 50);
}

async function rowsBetween(fromMs: number, toMs: number): Promise<number> {
  const [row] = await store.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM metrics_snapshots
     WHERE ts >= to_timestamp($1::float8 / 1000) AND ts < to_timestamp($2::float8 / 1000)`,
    [fromMs, toMs],
  );
  return row?.n ?? 0;
}

/** How many of this run's hosts the API's Prometheus endpoint has gauges for: what it received. */
async function hostsSeen(): Promise<number> {
  const response = await fetch(new URL('/metrics', apiUrl()), {
    headers: { authorization: `Bearer ${metricsToken}` },
  });
  const text = await response.text();
  return new Set(text.match(new RegExp(`instance="fleet-${RUN}-\\d+"`, 'g'))).size;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

/**
 * One `resume` of `host` from `minutes` ago over a dashboard socket: ms from asking until the
 * newest snapshot published before the ask has arrived, and how many snapshots came by then.
 */
async function timeResume(
  token: string,
  agent: Agent,
  minutes: number,
): Promise<{ ms: number; snapshots: number }> {
  const ws = new WebSocket(
    `${apiUrl()!.replace(/^http/, 'ws')}/api/ws/metrics?token=${encodeURIComponent(token)}`,
  );
  try {
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    // The latest snapshots a new socket is sent first come and go before the clock starts.
    await sleep(500);
    const newest = agent.generator.at(agent.second - 1).timestamp;
    const after = new Date(Date.parse(newest) - minutes * 60_000).toISOString();
    let snapshots = 0;
    const started = performance.now();
    const done = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('resume: no answer in 30 s')), 30_000);
      ws.on('message', (data: Buffer) => {
        const message = JSON.parse(data.toString()) as {
          type?: string;
          host?: string;
          timestamp?: string;
        };
        if (message.type !== 'snapshot' || message.host !== agent.host) return;
        const { timestamp = '' } = message;
        if (timestamp <= after || timestamp > newest) return;
        snapshots += 1;
        // The answer is oldest first: the newest one ends it.
        if (timestamp === newest) {
          clearTimeout(timer);
          resolve(performance.now() - started);
        }
      });
    });
    ws.send(JSON.stringify({ type: 'resume', host: agent.host, after }));
    return { ms: await done, snapshots };
  } finally {
    ws.close();
  }
}

interface Result {
  hosts: number;
  cpuPercent: number;
  rssMb: number;
  rowsPerS: number;
}

let failed = false;
const results: Result[] = [];
try {
  await waitHealthy();
  const pid = api.pid!;
  const [server] = (await admin.query<{ server_version: string }>('SHOW server_version')).rows;
  console.log(
    `bench/fleet — one API (SAMPLING=off, PostgreSQL ${server?.server_version ?? '?'}, Redis), ` +
      `fleets of ${fleets.join(', ')} simulated agents at 1 Hz, each first publishing ${prefillS} s of ` +
      `its past; ${warmupS} s warm-up, ${windowS} s window each; ${cpus().length} cores; ${new Date().toISOString()}; ` +
      `API from ${API_DIR}`,
  );
  startTicking();
  for (const size of fleets) {
    while (agents.length < size) await addAgent(agents.length);
    await sleep(warmupS * 1000);
    const before = await procStats(pid);
    const fromMs = Date.now();
    // RSS moves with the garbage collector: its mean over the window, sampled each second.
    const rss: number[] = [];
    while (Date.now() - fromMs < windowS * 1000) {
      await sleep(Math.min(1000, fromMs + windowS * 1000 - Date.now()));
      rss.push((await procStats(pid)).rssMb);
    }
    const toMs = Date.now();
    const after = await procStats(pid);
    // Rows of the window are stored within a batch's age; flush them before counting.
    await Promise.all(agents.map((agent) => agent.writer.flush()));
    const rows = await rowsBetween(fromMs, toMs);
    const seen = await hostsSeen();
    const result: Result = {
      hosts: size,
      cpuPercent: (100 * (after.cpuS - before.cpuS)) / ((toMs - fromMs) / 1000),
      rssMb: rss.reduce((sum, x) => sum + x, 0) / rss.length,
      rowsPerS: rows / ((toMs - fromMs) / 1000),
    };
    results.push(result);
    console.log(
      `  ${String(size).padStart(3)} hosts: API CPU ${result.cpuPercent.toFixed(2).padStart(6)} % of a core, ` +
        `RSS ${result.rssMb.toFixed(1).padStart(6)} MB; database ${result.rowsPerS.toFixed(1).padStart(6)} rows/s ` +
        `(${(result.rowsPerS / Math.max(1, size)).toFixed(2)} per host); the API streams ${seen}`,
    );
  }
  // Resume from the ring, the largest fleet still running.
  const login = await fetch(new URL('/api/auth/login', apiUrl()), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: adminPassword }),
  });
  const { token } = (await login.json()) as { token: string };
  const resumes: { ms: number; snapshots: number }[] = [];
  if (agents[0]) {
    for (let i = 0; i < 5; i++) resumes.push(await timeResume(token, agents[0], 14));
    console.log(
      `  resume of 14 minutes from the ring (${agents.length} hosts): median ` +
        `${median(resumes.map((r) => r.ms)).toFixed(1)} ms for ${median(resumes.map((r) => r.snapshots))} ` +
        `snapshots (each: ${resumes.map((r) => r.ms.toFixed(1)).join(', ')} ms)`,
    );
  }
  const base = results[0]!;
  console.log(`\nper additional host, from ${base.hosts} hosts (goal ≤ 0.3 % of a core, ≤ 2 MB):`);
  for (const r of results.slice(1)) {
    const n = r.hosts - base.hosts;
    console.log(
      `  to ${String(r.hosts).padStart(3)} hosts: ${((r.cpuPercent - base.cpuPercent) / n).toFixed(3)} % of a core, ` +
        `${((r.rssMb - base.rssMb) / n).toFixed(2)} MB`,
    );
  }
  console.log(
    `load average now ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
} catch (err) {
  failed = true;
  console.error(err);
} finally {
  if (ticker) clearInterval(ticker);
  for (const agent of agents) {
    await agent.writer.close({ timeoutMs: 10_000 });
    await agent.bus.close();
  }
  await store.close();
  api.kill('SIGTERM');
  await Promise.race([apiExited, sleep(10_000)]);
  if (api.exitCode === null) api.kill('SIGKILL');
  // Whatever the run left under its prefix (latest keys would expire in 30 s anyway).
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${redisPrefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  await rm(dataDir, { recursive: true, force: true });
}
if (failed) process.exit(1);
