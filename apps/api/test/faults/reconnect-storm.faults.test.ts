import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { healthResponse } from '@livestat/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnTs } from '../process.js';
import { login, startFaultApi, stopAllApis, type FaultApi } from './support.js';

// Fault: the API restarted under 1,000 connected clients. A swarm of WebSocket
// clients in a process of its own (storm-clients.ts) reconnects with the dashboard's policy
// (apps/web/src/lib/backoff.ts: 1 s doubling to 30 s, 10 attempts) — once with its full
// jitter, once without (every delay at its ceiling). The API is SIGTERMed (clients get 1001)
// and started again on the same port; every client must be back, with a snapshot, within 60 s
// of the restart. The peak reconnect rate of the two runs shows what the jitter buys.
//
// Needs ~2,100 file descriptors (1,000 sockets on each side): run with `ulimit -n 20000`.

const CLIENTS = 1000;
const RECONNECT_LIMIT_MS = 60_000;
const WINDOW_MS = 100;
const MIN_OPEN_FILES = 4096;
const JWT_SECRET = 'storm-fault-test-secret-that-is-long-enough-0123456789';

/** The soft RLIMIT_NOFILE of this process (inherited by its children); null off Linux. */
function openFilesLimit(): number | null {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(
      readFileSync('/proc/self/limits', 'utf8'),
    );
    if (!match?.[1]) return null;
    return match[1] === 'unlimited' ? Infinity : Number(match[1]);
  } catch {
    return null;
  }
}

/** A TCP port free right now on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** When the API logged that it listens (its stream server attached), epoch ms. */
function listeningAt(api: FaultApi): number {
  const time = api.logs('livestat API listening')[0]?.time;
  const at = typeof time === 'string' ? Date.parse(time) : NaN;
  if (!Number.isFinite(at)) throw new Error(`no listening time in:\n${api.output()}`);
  return at;
}

/** storm-clients.ts's record of one client (epoch ms). */
interface ClientRecord {
  droppedAt: number | null;
  dropCode: number | null;
  attempts: number;
  reopenedAt: number | null;
  snapshotAt: number | null;
}
type SwarmEvent =
  | { event: 'connected'; clients: number; ms: number }
  | { event: 'progress'; reconnected: number }
  | { event: 'done'; clients: ClientRecord[]; attempts: number[] }
  | { event: 'fatal'; error: string };

/** The client swarm as a child process, and its events as they come. */
function startSwarm(url: string, token: string, jitter: boolean) {
  const child = spawnTs('test/faults/storm-clients.ts', [], {
    STORM_URL: `${url.replace(/^http/, 'ws')}/api/ws/metrics`,
    STORM_TOKEN: token,
    STORM_CLIENTS: String(CLIENTS),
    STORM_JITTER: jitter ? '1' : '0',
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const events: SwarmEvent[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    events.push(JSON.parse(line) as SwarmEvent);
    for (const waiter of waiters) waiter();
  });
  void exited.then(() => {
    for (const waiter of waiters) waiter();
  });

  /** Resolves with the first event named `name`; rejects on 'fatal', an exit or the deadline. */
  function next<N extends SwarmEvent['event']>(
    name: N,
    timeoutMs: number,
  ): Promise<Extract<SwarmEvent, { event: N }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        settle();
        reject(new Error(`no '${name}' from the client swarm within ${timeoutMs} ms\n${stderr}`));
      }, timeoutMs);
      const settle = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      function check(): void {
        const fatal = events.find((e) => e.event === 'fatal');
        const found = events.find((e) => e.event === name);
        if (fatal && fatal.event === 'fatal') {
          settle();
          reject(new Error(`client swarm: ${fatal.error}`));
        } else if (found) {
          settle();
          resolve(found as Extract<SwarmEvent, { event: N }>);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          settle();
          reject(new Error(`the client swarm exited before '${name}':\n${stderr}`));
        }
      }
      waiters.add(check);
      check();
    });
  }
  return {
    next,
    exited,
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}

/** The most `times` in any window of `windowMs`, expressed per second. */
function peakRate(times: readonly number[], windowMs = WINDOW_MS): number {
  const sorted = [...times].sort((x, y) => x - y);
  let peak = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while ((sorted[j] as number) - (sorted[i] as number) >= windowMs) i++;
    peak = Math.max(peak, j - i + 1);
  }
  return (peak * 1000) / windowMs;
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

interface RunFigures {
  run: string;
  /** From the first 1001 to the restarted API listening. */
  downMs: number;
  peakReconnectsPerS: number;
  peakAttemptsPerS: number;
  /** From the restart to each client's reopen. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** From the restart to the last client's first snapshot. */
  maxSnapshotMs: number;
  attemptsPerClient: number;
}

const seconds = (ms: number) => (ms / 1000).toFixed(2);

function printTable(rows: readonly RunFigures[]): void {
  const header = [
    'run',
    'API down s',
    'peak reconnects/s',
    'peak attempts/s',
    'p50 s',
    'p99 s',
    'max s',
    'last snapshot s',
    'attempts/client',
  ];
  const cells = rows.map((r) => [
    r.run,
    seconds(r.downMs),
    String(r.peakReconnectsPerS),
    String(r.peakAttemptsPerS),
    seconds(r.p50Ms),
    seconds(r.p99Ms),
    seconds(r.maxMs),
    seconds(r.maxSnapshotMs),
    r.attemptsPerClient.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ');
  console.log(
    [
      `reconnect storm: ${CLIENTS} clients, API SIGTERMed and restarted on the same port`,
      `(times from the restart; peaks = most in any ${WINDOW_MS} ms window, per second)`,
      line(header),
      ...cells.map(line),
    ].join('\n'),
  );
}

describe(`API restarted under ${CLIENTS} connected clients`, () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let api: FaultApi;
  let token: string;
  const figures: RunFigures[] = [];

  beforeAll(async () => {
    const limit = openFilesLimit();
    if (limit !== null && limit < MIN_OPEN_FILES) {
      throw new Error(
        `the reconnect storm opens ~${2 * CLIENTS + 100} sockets but the open-files limit is ` +
          `${limit}: run the fault tests with \`ulimit -n 20000\``,
      );
    }
    dataDir = await mkdtemp(join(tmpdir(), 'livestat-storm-'));
    // A fixed port, so that the restarted API is where the clients reconnect to.
    env = {
      PORT: String(await freePort()),
      DATA_DIR: dataDir,
      JWT_SECRET,
      METRICS_HOST_NAME: `storm-${process.pid}`,
      SAMPLING_INTERVAL_SECONDS: '1',
    };
    api = await startFaultApi(env);
    token = await login(api.url);
  });

  afterAll(async () => {
    await stopAllApis();
    await rm(dataDir, { recursive: true, force: true });
    if (figures.length > 0) printTable(figures);
  });

  for (const jitter of [true, false]) {
    const run = jitter ? 'full jitter' : 'no jitter';
    it(`${run}: all ${CLIENTS} clients are back with a snapshot within 60 s of the restart`, async () => {
      const swarm = startSwarm(api.url, token, jitter);
      try {
        await swarm.next('connected', 120_000);
        const before = healthResponse.parse(await (await fetch(`${api.url}/api/health`)).json());
        expect(before.websocketConnections).toBe(CLIENTS);

        // SIGTERM: every socket gets 1001; the API exits 0; started again at once.
        await api.kill('SIGTERM');
        const exit = await api.exited;
        expect(exit, api.stderr()).toEqual({ code: 0, signal: null });
        api = await startFaultApi(env, { ready: false });
        const restartedAt = listeningAt(api);

        const done = await swarm.next('done', RECONNECT_LIMIT_MS + 60_000);
        const clients = done.clients;
        expect(clients).toHaveLength(CLIENTS);
        const dropCodes = new Set(clients.map((c) => c.dropCode));
        expect([...dropCodes]).toEqual([1001]);
        const reopened = clients.map((c) => (c.reopenedAt as number) - restartedAt);
        const snapshot = clients.map((c) => (c.snapshotAt as number) - restartedAt);
        const firstDrop = Math.min(...clients.map((c) => c.droppedAt as number));
        const row: RunFigures = {
          run,
          downMs: restartedAt - firstDrop,
          peakReconnectsPerS: peakRate(clients.map((c) => c.reopenedAt as number)),
          peakAttemptsPerS: peakRate(done.attempts),
          p50Ms: percentile(reopened, 50),
          p99Ms: percentile(reopened, 99),
          maxMs: Math.max(...reopened),
          maxSnapshotMs: Math.max(...snapshot),
          attemptsPerClient: done.attempts.length / CLIENTS,
        };
        figures.push(row);
        console.log(`${run}: ${JSON.stringify(row)}`);
        // Nobody reconnected to the old process, and everyone is back in time.
        expect(Math.min(...reopened)).toBeGreaterThanOrEqual(0);
        expect(row.maxSnapshotMs).toBeLessThanOrEqual(RECONNECT_LIMIT_MS);
        expect(await swarm.exited).toBe(0);
      } finally {
        swarm.stop();
        await swarm.exited;
      }
    }, 300_000);
  }
});
