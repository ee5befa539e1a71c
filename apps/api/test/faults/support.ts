import { readFileSync } from 'node:fs';
import { healthResponse, loginResponse, type HealthResponse } from '@livestat/contracts';
import type { WebSocket } from 'ws';
import type { Database } from '../../src/storage/db.js';
import { spawnTs } from '../process.js';

// Shared by the fault suites (`npm run test:faults`): the API as a real process whose own pid
// is known (tsx runs it in a child of its own, so `child.pid` is only the wrapper), logins,
// RSS readings, and the row counts every scenario checks. Every API started here is tracked,
// so `stopAllApis()` in an afterAll leaves no process behind when a test fails half-way.

/** The ADMIN_PASSWORD every fault suite starts the API with (the admin is `admin`). */
export const ADMIN_PASSWORD = 'faults-test-password';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** How a process ended: `code` null and `signal` set when a signal killed it. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running API process (see {@link startFaultApi}). */
export interface FaultApi {
  /** http://127.0.0.1:<port> */
  url: string;
  /** The pid of the node process running src/main.ts (not the tsx wrapper). */
  pid: number;
  /** Resolves when the process (and its tsx wrapper) has exited. */
  exited: Promise<Exit>;
  /** Its stdout (pino JSON lines) and stderr so far. */
  output(): string;
  stderr(): string;
  /** The parsed JSON log lines whose `msg` contains `text`. */
  logs(text: string): Record<string, unknown>[];
  /** Resolves once stdout contains `text`; rejects after `timeoutMs` or if the process exits. */
  waitForOutput(text: string, timeoutMs?: number): Promise<void>;
  /**
   * Sends `signal` to the API process itself. For SIGKILL, the processes it had started (the
   * perf collector's `perf stat`) are reaped too, by pid, if they outlive it.
   */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** VmRSS of the API process in kB, or null once it has gone. */
  rssKb(): number | null;
}

const running = new Set<FaultApi>();

/**
 * Starts src/main.ts as a real process (PORT 0, LOG_LEVEL info, ADMIN_PASSWORD set) with `env`
 * on top, and resolves once it listens — or, with `ready` (the default), once its migrations
 * are done and the admin exists ('log in at'), so a login works at once.
 */
export async function startFaultApi(
  env: NodeJS.ProcessEnv,
  options: { ready?: boolean; timeoutMs?: number } = {},
): Promise<FaultApi> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const child = spawnTs('src/main.ts', [], {
    PORT: '0',
    SAMPLING_INTERVAL_SECONDS: '0.2',
    ADMIN_PASSWORD,
    ...env,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let hasExited = false;
  const exited = new Promise<Exit>((resolve) =>
    child.on('close', (code, signal) => {
      hasExited = true;
      resolve({ code, signal });
    }),
  );

  async function waitForOutput(text: string, waitMs = timeoutMs): Promise<void> {
    const giveUpAt = Date.now() + waitMs;
    while (!stdout.includes(text)) {
      if (hasExited) throw new Error(`the API exited before '${text}':\n${stdout}${stderr}`);
      if (Date.now() > giveUpAt) throw new Error(`no '${text}' within ${waitMs} ms in:\n${stdout}`);
      await sleep(25);
    }
  }

  let listening: { url: string; pid: number };
  try {
    await waitForOutput('livestat API listening');
    const line = stdout.split('\n').find((l) => l.includes('livestat API listening')) ?? '';
    const parsed = JSON.parse(line) as { url: string; pid: number };
    listening = { url: parsed.url, pid: parsed.pid };
  } catch (err) {
    // The wrapper's child is the API: killing the wrapper alone would leave it running.
    for (const orphan of child.pid ? childPids(child.pid) : []) killQuietly(orphan);
    child.kill('SIGKILL');
    throw err;
  }
  const { url, pid } = listening;

  const api: FaultApi = {
    url,
    pid,
    exited,
    output: () => stdout,
    stderr: () => stderr,
    logs: (text) => parseLogLines(stdout).filter((l) => String(l.msg ?? '').includes(text)),
    waitForOutput,
    async kill(signal) {
      if (hasExited) return;
      const children = signal === 'SIGKILL' ? childPids(pid) : [];
      try {
        process.kill(pid, signal);
      } catch {
        return; // already gone
      }
      if (children.length > 0) {
        await Promise.race([exited, sleep(10_000)]);
        // Given a moment to notice their parent is gone (a closed pipe), then killed.
        const giveUpAt = Date.now() + 3000;
        while (children.some(isAlive) && Date.now() < giveUpAt) await sleep(100);
        for (const orphan of children.filter(isAlive)) {
          console.log(`reaping pid ${orphan}, left behind by the killed API ${pid}`);
          killQuietly(orphan);
        }
      }
    },
    rssKb: () => readRssKb(pid),
  };
  running.add(api);
  void exited.then(() => running.delete(api));
  if (options.ready !== false) {
    try {
      await waitForOutput('log in at');
    } catch (err) {
      await api.kill('SIGKILL');
      throw err;
    }
  }
  return api;
}

/** SIGKILLs every API still running that {@link startFaultApi} started; for afterAll/afterEach. */
export async function stopAllApis(): Promise<void> {
  const apis = [...running];
  await Promise.all(apis.map((api) => api.kill('SIGKILL')));
  await Promise.all(apis.map((api) => Promise.race([api.exited, sleep(10_000)])));
}

/** Every JSON line of a pino output. */
export function parseLogLines(output: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line still being written
    }
  }
  return lines;
}

/** VmRSS of `pid` in kB, from /proc/<pid>/status; null when the process is gone. */
export function readRssKb(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Logs in as the admin through POST /api/auth/login and returns the token. */
export async function login(baseUrl: string, password = ADMIN_PASSWORD): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${await res.text()}`);
  return loginResponse.parse(await res.json()).token;
}

/** GET /api/health: the HTTP status (200 ok, 503 degraded) and the parsed body. */
export async function getHealth(
  baseUrl: string,
): Promise<{ status: number; body: HealthResponse }> {
  const res = await fetch(`${baseUrl}/api/health`);
  return { status: res.status, body: healthResponse.parse(await res.json()) };
}

/** The stream URL of an API at `baseUrl`, with the token in the query. */
export const wsUrl = (baseUrl: string, token: string) =>
  `${baseUrl.replace(/^http/, 'ws')}/api/ws/metrics?token=${encodeURIComponent(token)}`;

/** What the database holds for one host. */
export interface StoredCounts {
  /** Distinct snapshot timestamps: the snapshots stored. */
  snapshots: number;
  /** Rows (one per stored section per snapshot). */
  rows: number;
  /** (host, metric_type, ts) keys stored more than once: must be 0. */
  duplicateKeys: number;
  /** Distinct seq values, and their range (one process numbers its snapshots from 1). */
  seqs: number;
  minSeq: number | null;
  maxSeq: number | null;
  /** Distinct metric types (sections) stored. */
  metricTypes: number;
  /** The newest snapshot's timestamp. */
  maxTs: Date | null;
}

/** Counts what `db` holds for `host` (optionally only rows with ts > `after`). */
export async function storedCounts(
  db: Database,
  host: string,
  after?: Date,
): Promise<StoredCounts> {
  const params: unknown[] = [host];
  let where = 'host = $1';
  if (after) {
    params.push(after);
    where += ' AND ts > $2';
  }
  const [counts] = await db.query<Omit<StoredCounts, 'duplicateKeys'>>(
    `SELECT count(DISTINCT ts)::int AS snapshots, count(*)::int AS rows,
       count(DISTINCT seq)::int AS seqs, min(seq)::int AS "minSeq", max(seq)::int AS "maxSeq",
       count(DISTINCT metric_type)::int AS "metricTypes", max(ts) AS "maxTs"
     FROM metrics_snapshots WHERE ${where}`,
    params,
  );
  const [dups] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (
       SELECT 1 FROM metrics_snapshots WHERE ${where}
       GROUP BY host, metric_type, ts HAVING count(*) > 1) AS d`,
    params,
  );
  if (!counts) throw new Error('no counts');
  return { ...counts, duplicateKeys: dups?.n ?? 0 };
}

/** Resolves once `check()` resolves truthy (polled every `everyMs`); rejects after `timeoutMs`. */
export async function pollUntil<T>(
  check: () => Promise<T | undefined | null | false>,
  label: string,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > giveUpAt)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    await sleep(everyMs);
  }
}

/** Summary figures of a series, for the CI log. */
export function summarize(values: readonly number[]): { min: number; max: number; n: number } {
  return {
    min: values.length ? Math.min(...values) : NaN,
    max: values.length ? Math.max(...values) : NaN,
    n: values.length,
  };
}

/** One snapshot as a client received it: its seq and when (performance.now()) it arrived. */
export interface Arrival {
  seq: number;
  at: number;
}

/** Records, from now on, every snapshot of `host` that arrives on `ws`. */
export function recordArrivals(ws: WebSocket, host: string): Arrival[] {
  const arrivals: Arrival[] = [];
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString()) as { type?: string; host?: string; seq?: number };
    if (message.type === 'snapshot' && message.host === host && typeof message.seq === 'number') {
      arrivals.push({ seq: message.seq, at: performance.now() });
    }
  });
  return arrivals;
}

/** The longest wait between consecutive arrivals in [from, to] (ms), counting the edges. */
export function longestGapMs(arrivals: readonly Arrival[], from: number, to: number): number {
  let previous = from;
  let longest = 0;
  for (const { at } of arrivals) {
    if (at < from) continue;
    if (at > to) break;
    longest = Math.max(longest, at - previous);
    previous = at;
  }
  return Math.max(longest, to - previous);
}

/** Seqs missing between the first and the last arrival (a gap in the stream): must be []. */
export function missingSeqs(arrivals: readonly Arrival[]): number[] {
  const seen = new Set(arrivals.map((a) => a.seq));
  const missing: number[] = [];
  const first = arrivals[0]?.seq ?? 0;
  const last = arrivals.at(-1)?.seq ?? 0;
  for (let seq = first; seq <= last; seq++) if (!seen.has(seq)) missing.push(seq);
  return missing;
}
