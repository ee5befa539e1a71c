import { WebSocket } from 'ws';

// A swarm of WebSocket clients, run as its own process by reconnect-storm.faults.test.ts so
// that the clients' event loop does not share a core with the API's. Each client reconnects
// as the dashboard does (apps/web/src/stores/metrics.ts): `backoff.opened()` on open,
// `backoff.closed(code)` on close, the next attempt after the delay it returns.
//
// Environment: STORM_URL (ws://host:port/api/ws/metrics, no token), STORM_TOKEN (never
// printed), STORM_CLIENTS (default 1000), STORM_JITTER ('1' full jitter as the dashboard;
// '0' the same policy with random = () => 1, i.e. every delay at its ceiling − 1 ms: plain
// exponential backoff).
//
// stdout carries one JSON object per line, for the test to read:
//   {"event":"connected", clients, ms}   every client is open and has had a snapshot
//   {"event":"progress", reconnected}    now and then after the drop
//   {"event":"done", clients:[…], attempts:[…]}  every client dropped, reopened and had a
//                                        snapshot again (epoch-ms times; see ClientRecord)
//   {"event":"fatal", error}             a client gave up, or the process ran out of sockets
// then closes every socket (1000) and exits.

interface ClientRecord {
  /** The first close after the initial snapshot (the server going away), epoch ms. */
  droppedAt: number | null;
  /** The close code of that drop. */
  dropCode: number | null;
  /** Connection attempts made after the drop. */
  attempts: number;
  /** The first open after the drop. */
  reopenedAt: number | null;
  /** The first snapshot after that reopen. */
  snapshotAt: number | null;
}

/** The part of apps/web/src/lib/backoff.ts's `Backoff` the swarm uses. */
interface Backoff {
  opened(): void;
  closed(code: number): { action: 'retry'; attempt: number; delayMs: number } | { action: string };
}
type CreateBackoff = (options: object, random: () => number) => Backoff;

// The dashboard's own reconnect policy (1 s doubling to a 30 s cap, full jitter, 10 attempts),
// imported rather than copied so that the storm measures what browsers really do. Imported by
// URL at run time (tsx compiles it): a static import would put a file of apps/web under this
// package's tsc rootDir, which tsc refuses (TS6059).
const BACKOFF_MODULE = new URL('../../../web/src/lib/backoff.ts', import.meta.url).href;
const { createBackoff } = (await import(BACKOFF_MODULE)) as { createBackoff: CreateBackoff };

const url = process.env.STORM_URL;
const token = process.env.STORM_TOKEN;
const count = Number(process.env.STORM_CLIENTS ?? 1000);
const jitter = process.env.STORM_JITTER !== '0';
if (!url || !token || !Number.isInteger(count) || count < 1) {
  fatal('STORM_URL, STORM_TOKEN and a positive STORM_CLIENTS are required');
}
const target = `${url}?token=${encodeURIComponent(token as string)}`;

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function fatal(error: string): never {
  emit({ event: 'fatal', error });
  process.exit(1);
}

/** Every attempt after a drop, epoch ms: the load the API sees, refused or not. */
const attemptTimes: number[] = [];
let phase: 'connecting' | 'connected' | 'done' = 'connecting';
let initiallyReady = 0;
let reconnected = 0;
const sockets = new Set<WebSocket>();

class StormClient {
  readonly record: ClientRecord = {
    droppedAt: null,
    dropCode: null,
    attempts: 0,
    reopenedAt: null,
    snapshotAt: null,
  };
  private readonly backoff: Backoff = createBackoff({}, jitter ? Math.random : () => 1);
  private hadSnapshot = false;
  private awaitingSnapshot = false;
  private onFirstSnapshot: (() => void) | null = null;

  /** Opens the socket; resolves at the first snapshot (the initial connection only). */
  start(): Promise<void> {
    return new Promise((resolve) => {
      this.onFirstSnapshot = resolve;
      this.open();
    });
  }

  private open(): void {
    if (phase === 'done') return;
    if (this.record.droppedAt !== null) {
      this.record.attempts += 1;
      attemptTimes.push(Date.now());
    }
    const ws = new WebSocket(target, { perMessageDeflate: false });
    sockets.add(ws);
    ws.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EMFILE' || err.code === 'ENFILE') {
        fatal(
          `${err.code}: out of file descriptors with ${sockets.size} sockets open — ` +
            'run the fault tests with `ulimit -n 20000`',
        );
      }
      // Anything else (refused, reset, 503 during shutdown) ends in 'close' and a retry.
    });
    ws.on('open', () => {
      this.backoff.opened();
      this.awaitingSnapshot = true;
      if (this.record.droppedAt !== null && this.record.reopenedAt === null) {
        this.record.reopenedAt = Date.now();
      }
    });
    ws.on('message', (data: Buffer) => {
      // Parsed only until the first snapshot after an open: the rest is load, not evidence.
      if (!this.awaitingSnapshot) return;
      let type: unknown;
      try {
        type = (JSON.parse(data.toString()) as { type?: unknown }).type;
      } catch {
        return;
      }
      if (type !== 'snapshot') return;
      this.awaitingSnapshot = false;
      this.snapshotReceived();
    });
    ws.on('close', (code: number) => {
      sockets.delete(ws);
      this.awaitingSnapshot = false;
      if (phase === 'done') return;
      if (this.hadSnapshot && this.record.droppedAt === null) {
        this.record.droppedAt = Date.now();
        this.record.dropCode = code;
      }
      const step = this.backoff.closed(code);
      if (step.action !== 'retry' || !('delayMs' in step)) {
        fatal(`a client stopped reconnecting: ${JSON.stringify(step)} after close ${code}`);
      }
      setTimeout(() => this.open(), step.delayMs);
    });
  }

  private snapshotReceived(): void {
    if (!this.hadSnapshot) {
      this.hadSnapshot = true;
      initiallyReady += 1;
      this.onFirstSnapshot?.();
      this.onFirstSnapshot = null;
      return;
    }
    if (this.record.reopenedAt !== null && this.record.snapshotAt === null) {
      this.record.snapshotAt = Date.now();
      reconnected += 1;
      if (reconnected % 100 === 0) emit({ event: 'progress', reconnected });
      if (reconnected === count) finish();
    }
  }
}

function finish(): void {
  phase = 'done';
  emit({ event: 'done', clients: clients.map((c) => c.record), attempts: attemptTimes });
  for (const ws of sockets) ws.close(1000);
  // Let the close frames go out, then leave whatever is left.
  setTimeout(() => process.exit(0), 500).unref();
}

process.on('SIGTERM', () => {
  phase = 'done';
  for (const ws of sockets) ws.terminate();
  process.exit(0);
});

const clients = Array.from({ length: count }, () => new StormClient());
const startedAt = Date.now();
// Opened a hundred at a time: the initial connection is set-up, not the storm under test.
for (let i = 0; i < clients.length; i += 100) {
  await Promise.all(clients.slice(i, i + 100).map((client) => client.start()));
}
phase = 'connected';
emit({ event: 'connected', clients: initiallyReady, ms: Date.now() - startedAt });
