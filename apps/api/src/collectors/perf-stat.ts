import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import {
  PerfIntervalAssembler,
  canonicalEventName,
  describePerfError,
  parsePerfStatLine,
  type PerfInterval,
} from './perf-parse.js';

/** Where `perf` lives on Debian and Ubuntu. */
export const DEFAULT_PERF_PATH = '/usr/bin/perf';

export interface PerfStatOptions {
  perfPath: string;
  intervalMs: number;
  /**
   * Events for `-e` as perf takes them (`cycles`, `uncore_imc/cas_count_read/`); intervals
   * are keyed by their canonical names (`cas_count_read`).
   */
  events: readonly string[];
  /** Monotonic clock in ms. */
  now: () => number;
  logger?: { warn(obj: object, msg: string): void } | undefined;
  /** Restart delays after unexpected exits: doubles from `initialMs`, capped at `maxMs`. */
  restartBackoff?: { initialMs: number; maxMs: number } | undefined;
  /** A child that ran this long before dying counts as healthy: the backoff starts over. */
  healthyAfterMs?: number | undefined;
  /** How long `stop()` waits after SIGTERM before SIGKILL. */
  killGraceMs?: number | undefined;
}

/** What the running (or restarting) child has produced so far. */
export interface PerfStatStatus {
  /** The latest complete interval and when (`now()`) it completed. */
  latest: { interval: PerfInterval; receivedAt: number } | null;
  /** Why the last child ended or could not start; cleared by the next complete interval. */
  failure: string | null;
  /** `now()` when the current (or last) child was spawned, null before the first spawn. */
  startedAt: number | null;
  pid: number | undefined;
  /** How many children were spawned in total. */
  spawns: number;
}

/** The long-running `perf stat` child. */
export interface PerfStatProcess {
  /** Spawns the child unless it is already running or the process was stopped. */
  start(): void;
  status(): PerfStatStatus;
  /**
   * Resolves once a child has completed an interval or failed (exit, spawn error), once the
   * process is stopped, or after `timeoutMs`, whichever comes first; at once if an interval
   * or a failure is already there. Never rejects.
   */
  whenReady(timeoutMs: number): Promise<void>;
  /** Kills the child (SIGTERM, SIGKILL after the grace period), cancels restarts. Idempotent. */
  stop(): Promise<void>;
}

/**
 * `perf stat` arguments: CSV, system-wide, one line per event every `intervalMs`, on stdout
 * (`--log-fd 1`). On its default stderr, which is unbuffered, perf writes each line in about
 * seven pieces (~56 writes a second for eight events, each a wake-up of the API's loop); on
 * stdout it writes each interval in one piece. Its errors still come on stderr.
 */
export function perfStatArgs(intervalMs: number, events: readonly string[]): string[] {
  return ['stat', '-x,', '-I', String(intervalMs), '-a', '--log-fd', '1', '-e', events.join(',')];
}

const MAX_KEPT_ERROR_LINES = 40;

/** The reason a child ended, in the words a dashboard user can act on. */
export function describePerfExit(
  perfPath: string,
  exit: {
    code: number | null;
    signal: NodeJS.Signals | null;
    spawnError: NodeJS.ErrnoException | null;
  },
  stderrLines: readonly string[],
): string {
  const { code, signal, spawnError } = exit;
  if (spawnError?.code === 'ENOENT') {
    return `perf not found: install linux-perf (Debian) / linux-tools (Ubuntu) (no ${perfPath})`;
  }
  if (spawnError !== null)
    return `cannot run ${perfPath}: ${spawnError.code ?? spawnError.message}`;
  if (signal !== null) return `perf stat was killed by ${signal}`;
  const said = describePerfError(stderrLines);
  if (code === 0) return `perf stat exited unexpectedly${said === null ? '' : `: ${said}`}`;
  return `perf stat exited with code ${String(code)}${said === null ? '' : `: ${said}`}`;
}

/**
 * Runs ONE `perf stat -x, -I <ms> -a --log-fd 1 -e <events>` child, parses its output line by line
 * and keeps the latest complete interval. A child that dies unexpectedly is restarted
 * with capped exponential backoff; every timer is unref'd so it never holds the process.
 */
export function createPerfStatProcess(options: PerfStatOptions): PerfStatProcess {
  const { perfPath, intervalMs, events, now, logger } = options;
  const backoff = options.restartBackoff ?? { initialMs: 1000, maxMs: 30_000 };
  const healthyAfterMs = options.healthyAfterMs ?? 30_000;
  const killGraceMs = options.killGraceMs ?? 2000;
  // perf's lines for one interval arrive within microseconds; once every event has been
  // seen, a short quiet spell means the interval is whole (hybrid CPUs add per-PMU lines).
  // perf reports `uncore_imc/cas_count_read/` as `cas_count_read`: compare canonical names.
  const canonicalEvents = events.map(canonicalEventName);
  const settleMs = Math.min(50, Math.max(1, Math.floor(intervalMs / 4)));

  const status: PerfStatStatus = {
    latest: null,
    failure: null,
    startedAt: null,
    pid: undefined,
    spawns: 0,
  };
  let child: ChildProcess | null = null;
  let childClosed: Promise<void> = Promise.resolve();
  let restartTimer: NodeJS.Timeout | null = null;
  let settleTimer: NodeJS.Timeout | null = null;
  let consecutiveFailures = 0;
  let stopping: Promise<void> | null = null;
  const readyWaiters = new Set<() => void>();

  function wakeWaiters(): void {
    for (const wake of [...readyWaiters]) wake();
  }

  function complete(interval: PerfInterval | null): void {
    if (interval === null || !(interval.lengthS > 0)) return;
    status.latest = { interval, receivedAt: now() };
    status.failure = null;
    wakeWaiters();
  }

  function clearSettle(): void {
    if (settleTimer !== null) clearTimeout(settleTimer);
    settleTimer = null;
  }

  function scheduleRestart(reason: string, details: object): void {
    const ranMs = now() - (status.startedAt ?? now());
    if (ranMs >= healthyAfterMs) consecutiveFailures = 0;
    const delay = Math.min(backoff.maxMs, backoff.initialMs * 2 ** consecutiveFailures);
    consecutiveFailures += 1;
    status.failure = reason;
    logger?.warn({ ...details, restartInMs: delay }, `perf stat ended: ${reason}`);
    restartTimer = setTimeout(spawnChild, delay);
    restartTimer.unref();
    wakeWaiters();
  }

  function spawnChild(): void {
    restartTimer = null;
    if (stopping !== null || child !== null) return;
    const assembler = new PerfIntervalAssembler();
    const errorLines: string[] = [];
    let spawnError: NodeJS.ErrnoException | null = null;
    let ended = false;
    status.startedAt = now();
    status.spawns += 1;
    let proc: ChildProcess;
    try {
      // A clean environment: a user's locale could turn the decimal point into a comma (and
      // break the CSV), and PERF_* variables or a perfconfig could change the output format.
      proc = spawn(perfPath, perfStatArgs(intervalMs, events), {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { LC_ALL: 'C', PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin' },
      });
    } catch (err) {
      // Most spawn failures arrive as 'error' events; a few (bad arguments) throw.
      spawnError = err as NodeJS.ErrnoException;
      const reason = describePerfExit(perfPath, { code: null, signal: null, spawnError }, []);
      scheduleRestart(reason, { perfPath });
      return;
    }
    let markClosed: () => void = () => undefined;
    childClosed = new Promise((resolve) => (markClosed = resolve));
    // The intervals come on stdout, perf's errors (and a stand-in's lines, in tests) on stderr:
    // each stream is read line by line into the same handler.
    const readers = [proc.stdout, proc.stderr].flatMap((input) =>
      input === null ? [] : [createInterface({ input, crlfDelay: Infinity })],
    );
    child = proc;
    status.pid = proc.pid;

    const end = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (ended) return;
      ended = true;
      clearSettle();
      for (const lines of readers) lines.close();
      child = null;
      status.pid = undefined;
      markClosed();
      // The pending interval of a dying perf is partial (it prints one on SIGTERM): dropped.
      if (stopping === null) {
        const reason = describePerfExit(perfPath, { code, signal, spawnError }, errorLines);
        scheduleRestart(reason, { perfPath, code, signal });
      }
    };

    proc.on('error', (err: NodeJS.ErrnoException) => {
      // Spawn failures (ENOENT, EACCES) come here with no pid; a failed kill also does.
      if (proc.pid === undefined) {
        spawnError = err;
        end(null, null);
      } else {
        logger?.warn({ perfPath, err: err.message }, 'perf stat child error');
      }
    });
    proc.on('close', (code, signal) => end(code, signal));

    const onLine = (raw: string): void => {
      if (ended || stopping !== null) return;
      const line = parsePerfStatLine(raw);
      if (line === null) {
        errorLines.push(raw);
        if (errorLines.length > MAX_KEPT_ERROR_LINES) errorLines.shift();
        return;
      }
      complete(assembler.push(line));
      clearSettle();
      if (assembler.pendingHasAll(canonicalEvents)) {
        settleTimer = setTimeout(() => {
          settleTimer = null;
          if (!ended && stopping === null) complete(assembler.flush());
        }, settleMs);
        settleTimer.unref();
      }
    };
    for (const lines of readers) lines.on('line', onLine);
  }

  async function stopChild(): Promise<void> {
    if (restartTimer !== null) clearTimeout(restartTimer);
    restartTimer = null;
    clearSettle();
    const proc = child;
    if (proc === null) return;
    const closed = childClosed;
    proc.kill('SIGTERM');
    const killTimer = setTimeout(() => proc.kill('SIGKILL'), killGraceMs);
    killTimer.unref();
    await closed;
    clearTimeout(killTimer);
  }

  return {
    start() {
      if (stopping === null && child === null && restartTimer === null) spawnChild();
    },
    status: () => ({ ...status }),
    whenReady(timeoutMs) {
      if (status.latest !== null || status.failure !== null || stopping !== null) {
        return Promise.resolve();
      }
      return new Promise((resolve) => {
        const wake = (): void => {
          clearTimeout(timer);
          readyWaiters.delete(wake);
          resolve();
        };
        // Not unref'd, unlike the others: someone awaits it, and it is bounded.
        const timer = setTimeout(wake, timeoutMs);
        readyWaiters.add(wake);
      });
    },
    stop() {
      stopping ??= stopChild();
      wakeWaiters();
      return stopping;
    },
  };
}
