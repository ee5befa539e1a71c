import { flattenAppSeries, serverMessage } from '@livestat/contracts';
import type {
  AppMessage,
  ClientMessage,
  HistoryResponse,
  HostInfo,
  ServerMessage,
  Snapshot,
} from '@livestat/contracts';
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowReactive, shallowRef, watch } from 'vue';
import { createApiClient, sessionEndReason, ticketedStream } from '../lib/api';
import type { ApiClient } from '../lib/api';
import { createBackoff, createOneShotTimer, systemClock } from '../lib/backoff';
import type { BackoffOptions, Clock, Random } from '../lib/backoff';
import { mergeHosts } from '../lib/hosts';
import { LiveSeries } from '../features/live/live-series';
import type { LiveWindowMinutes } from '../features/live/live-series';
import { createLiveWindowFiller } from '../features/live/live-window-filler';
import { createPoller } from '../lib/poller';
import { MessageListeners } from '../lib/message-listeners';
import { StreamSocket } from '../lib/stream-socket';
import type { SocketConstructor } from '../lib/stream-socket';
import { StreamWatches } from '../lib/stream-watches';
import type { WatchMessage, WatchSpec, WatchedMessage } from '../lib/stream-watches';
import { parseProcessesFrame } from '../features/processes/process-frame';
import { useAuthStore } from './auth';
import type { AuthStore } from './auth';

/** The connection's four states; `connecting` covers both a socket opening and a retry waiting. */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'error';

/** How often `/api/snapshots/latest` is polled while the socket is down (5 s, as in the README). */
export const POLL_INTERVAL_MS = 5000;
/** Sample-to-screen latencies kept for the footer. */
export const LATENCY_SAMPLES = 120;
/** The live window a fresh page shows, in minutes. */
export const DEFAULT_WINDOW_MINUTES: LiveWindowMinutes = 5;

/** What the metrics store runs on; all optional, the browser's by default. */
export interface MetricsStoreDeps {
  useAuth?: () => AuthStore;
  /** The socket class: the browser's `WebSocket`; tests pass `ws`'s. */
  WebSocket?: SocketConstructor;
  /** '' (the page's origin) by default. */
  baseUrl?: string;
  /** The REST client; by default one on `baseUrl` with the auth store's token. */
  api?: ApiClient;
  /** Drives the reconnect and staleness timers and stamps arrivals. */
  clock?: Clock;
  random?: Random;
  backoff?: Partial<BackoffOptions>;
  pollIntervalMs?: number;
  /** Where `online` is heard: `window` in a browser, none in Node. */
  window?: Pick<EventTarget, 'addEventListener' | 'removeEventListener'> | null;
  /** What a history backfill asks for; by default every series the panels chart. */
  backfillSeries?: readonly string[];
}

/**
 * Defines the metrics store on the given dependencies; the app uses {@link useMetricsStore}.
 *
 * The store owns the one socket: it reconnects per `lib/backoff` and polls the REST
 * fallback while down, keeps the latest snapshot per host, and the selected host's live window
 * as rings of every series — non-reactive, announced through `version`.
 */
export function defineMetricsStore(deps: MetricsStoreDeps = {}) {
  return defineStore('metrics', () => {
    const auth = (deps.useAuth ?? useAuthStore)();
    const clock = deps.clock ?? systemClock;
    const pollIntervalMs = deps.pollIntervalMs ?? POLL_INTERVAL_MS;
    const events =
      deps.window !== undefined ? deps.window : typeof window === 'undefined' ? null : window;
    const api =
      deps.api ??
      createApiClient({
        baseUrl: deps.baseUrl,
        getToken: () => auth.token,
        onUnauthorized: (error, used) => auth.rejectToken(used, error.reason),
      });

    const connectionState = ref<ConnectionState>('disconnected');
    /** The reconnect attempt under way or waiting (1–10); 0 while connected. */
    const attempt = ref(0);
    /** When the waiting reconnect starts (epoch ms, for "Reconnecting in N s"); else null. */
    const nextRetryAt = ref<number | null>(null);
    /** The last close or error, in words, for a tooltip. */
    const lastError = ref<string | null>(null);
    const polling = ref(false);
    /** Nothing fresh for two intervals of the feed in use (the sampling, or the polling). */
    const stale = ref(false);
    /** When the selected host's newest snapshot arrived (epoch ms). */
    const lastUpdateAt = ref<number | null>(null);
    /** The newest snapshot of each host: replaced whole, never deep-tracked. */
    const latest = shallowReactive(new Map<string, Snapshot>());
    const hosts = shallowRef<readonly HostInfo[]>([]);
    const selectedHost = ref<string | null>(null);
    const windowMinutes = ref<LiveWindowMinutes>(DEFAULT_WINDOW_MINUTES);
    const live = markRaw(new LiveSeries(DEFAULT_WINDOW_MINUTES * 60_000));
    /** The selected host's live window: read it in a computed that also reads `version`. */
    const series = shallowRef(live);
    /** Bumped whenever `series` changed. */
    const version = ref(0);
    /** The newest `app` message of each host: its applications' metrics (features/apps). */
    const latestApp = shallowReactive(new Map<string, AppMessage>());
    /** Recent sample-to-screen latencies in ms (receive time − snapshot timestamp). */
    const latencies = shallowRef<readonly number[]>([]);

    const selectedSnapshot = computed(() =>
      selectedHost.value === null ? undefined : latest.get(selectedHost.value),
    );

    /** Features' own message types (`alert`, `alerts`) go to their listeners: see `listen`. */
    const listeners = new MessageListeners<ServerMessage>();

    let started = false;
    // The one socket. A close asked for (stop) is never reported, hence never retried.
    const stream = new StreamSocket(deps.WebSocket ?? (globalThis.WebSocket as SocketConstructor), {
      open: onOpen,
      message: onMessage,
      close: onClose,
    });
    // The full tables (every cgroup, every process) panels ask for while they show them.
    const watches = new StreamWatches((message) => stream.send(message as ClientMessage));
    const backoff = createBackoff(deps.backoff, deps.random);
    const retryTimer = createOneShotTimer(clock);
    const staleTimer = createOneShotTimer(clock);
    const filler = createLiveWindowFiller({
      live,
      stream,
      api,
      clock,
      random: deps.random ?? Math.random,
      selectedHost: () => selectedHost.value,
      latest: (host) => latest.get(host),
      hasToken: () => auth.token !== null,
      backfillSeries: deps.backfillSeries,
      changed: () => {
        version.value += 1;
      },
      failed: (message) => {
        lastError.value = message;
      },
    });
    const { backfilling, backfill } = filler;

    const poller = createPoller(async (signal) => {
      const snapshots = await api.latestSnapshots({ signal });
      if (signal.aborted) return;
      for (const snapshot of snapshots) ingest(snapshot, false);
    }, pollIntervalMs);

    function setPolling(on: boolean): void {
      if (on) poller.start();
      else poller.stop();
      polling.value = on;
    }

    function connect(): void {
      const token = auth.token;
      if (!started || token === null) return;
      retryTimer.cancel();
      nextRetryAt.value = null;
      connectionState.value = 'connecting';
      // A fresh single-use ticket for every attempt: the token itself never goes in a URL.
      stream.open(ticketedStream(api, deps.baseUrl ?? ''), token);
    }

    function onOpen(): void {
      backoff.opened();
      attempt.value = 0;
      connectionState.value = 'connected';
      lastError.value = null;
      setPolling(false);
      watches.opened();
      // The window is filled once this socket has sent the host's latest snapshot: the
      // window's end is then the server's time, whatever this machine's clock says.
    }

    function onMessage(data: unknown): void {
      if (typeof data !== 'string') return;
      let value: unknown;
      try {
        value = JSON.parse(data);
      } catch {
        return;
      }
      const message = decodeMessage(value);
      if (message === null) return;
      listeners.emit(message);
      if (message.type === 'app') {
        ingestApp(message);
        return;
      }
      // The answer to a watch (`cgroups`, `processes`): a message carrying a host, not a snapshot.
      if (message.type !== 'snapshot' && 'host' in message) {
        watches.deliver(message as WatchedMessage);
        return;
      }
      switch (message.type) {
        case 'snapshot':
          ingest(message, true);
          return;
        case 'hosts':
          hosts.value = mergeHosts(hosts.value, message.hosts);
          return;
        case 'error':
          lastError.value = message.error;
          filler.onError(message.code);
          return;
        case 'pong':
          return;
      }
    }

    function onClose(code: number, reason: string, used: string): void {
      if (!started) return;
      lastError.value = reason ? `closed ${code}: ${reason}` : `closed ${code}`;
      filler.socketClosed();
      const step = backoff.closed(code, reason);
      switch (step.action) {
        case 'auth-failed':
          if (used !== auth.token && auth.token !== null) {
            // The token was renewed meanwhile: the refusal was of the old one.
            connect();
            return;
          }
          auth.rejectToken(used, sessionEndReason(reason));
          stop();
          return;
        case 'closed':
          connectionState.value = 'disconnected';
          attempt.value = 0;
          break;
        case 'give-up':
          connectionState.value = 'error';
          attempt.value = step.attempts;
          break;
        case 'retry':
          connectionState.value = 'connecting';
          attempt.value = step.attempt;
          nextRetryAt.value = retryTimer.schedule(step.delayMs, connect);
          break;
      }
      // The last data stays on screen and keeps coming, every few seconds, over REST.
      setPolling(true);
    }

    function markFresh(intervalMs: number): void {
      stale.value = false;
      const feed = connectionState.value === 'connected' ? intervalMs : pollIntervalMs;
      staleTimer.schedule(2 * feed, () => {
        stale.value = true;
      });
    }

    /** A snapshot from the socket (`streamed`) or from polling. */
    function ingest(snapshot: Snapshot, streamed: boolean): void {
      const receivedAt = clock.now();
      const time = Date.parse(snapshot.timestamp);
      const { host } = snapshot;
      const previous = latest.get(host);
      const newest = previous === undefined || time > Date.parse(previous.timestamp);
      if (streamed) {
        // Only the next sample of a running stream measures latency: the latest-on-connect
        // and resumed snapshots are old by design.
        if (newest && previous !== undefined && snapshot.seq === previous.seq + 1) {
          const next = [...latencies.value, receivedAt - time];
          latencies.value = next.length > LATENCY_SAMPLES ? next.slice(-LATENCY_SAMPLES) : next;
        }
        filler.streamed(host, time);
      }
      if (!hosts.value.some((h) => h.name === host)) {
        hosts.value = mergeHosts(hosts.value, [{ name: host, lastSeen: snapshot.timestamp }]);
      }
      // The first host seen is shown; its window is filled below, once this snapshot is held.
      const first = selectedHost.value === null;
      if (first) showHost(host, false);
      if (newest) {
        latest.set(host, snapshot);
        if (host === selectedHost.value) {
          lastUpdateAt.value = receivedAt;
          markFresh(snapshot.intervalMs);
        }
      }
      if (host === selectedHost.value && live.addSnapshot(snapshot) > 0) version.value += 1;
      if (host !== selectedHost.value) return;
      if (!streamed) {
        if (first) void backfill();
      } else {
        filler.streamedShown(time);
      }
    }

    /** An application's metrics: kept per host, and in the selected host's live window. */
    function ingestApp(message: AppMessage): void {
      latestApp.set(message.host, message);
      if (message.host !== selectedHost.value) return;
      const time = Date.parse(message.timestamp);
      if (live.addPoints(time, flattenAppSeries(message)) > 0) version.value += 1;
    }

    /**
     * Adds `/api/history` buckets of the selected host to its live window where it has nothing:
     * what a feature charting series of its own (applications) backfills with.
     */
    function addHistory(host: string, response: HistoryResponse): void {
      if (host === selectedHost.value && live.addHistory(response) > 0) version.value += 1;
    }

    /** Shows `host`: its live window starts over and is filled. */
    function selectHost(host: string): void {
      showHost(host, true);
    }

    function showHost(host: string, fillNow: boolean): void {
      if (host === selectedHost.value) return;
      selectedHost.value = host;
      live.clear();
      version.value += 1;
      const snapshot = latest.get(host);
      lastUpdateAt.value = null;
      if (snapshot !== undefined) live.addSnapshot(snapshot);
      filler.hostChanged();
      if (fillNow) filler.fillOrBackfill();
    }

    /** Picks the live window; a longer one is backfilled. */
    function setWindow(minutes: LiveWindowMinutes): void {
      if (minutes === windowMinutes.value) return;
      const longer = minutes > windowMinutes.value;
      windowMinutes.value = minutes;
      live.setWindow(minutes * 60_000);
      version.value += 1;
      if (longer) filler.widened();
    }

    async function loadHosts(): Promise<void> {
      try {
        const known = await api.hosts();
        hosts.value = mergeHosts(hosts.value, known);
      } catch {
        // The socket's `hosts` message brings them too.
      }
    }

    function onOnline(): void {
      if (connectionState.value !== 'connected') retry();
    }

    /** Opens the socket (entering the dashboard). Needs a session; a no-op when started. */
    function start(): void {
      if (started || auth.token === null) return;
      started = true;
      backoff.reset();
      attempt.value = 0;
      events?.addEventListener('online', onOnline);
      void loadHosts();
      connect();
    }

    /** Closes the socket with 1000 (leaving the dashboard) and stops every timer. */
    function stop(): void {
      if (!started) return;
      started = false;
      events?.removeEventListener('online', onOnline);
      retryTimer.cancel();
      staleTimer.cancel();
      filler.stop();
      nextRetryAt.value = null;
      setPolling(false);
      stream.close(1000, 'leaving the dashboard');
      connectionState.value = 'disconnected';
      attempt.value = 0;
    }

    /**
     * Asks the server for a full table of one host (`watch_cgroups`) while the returned function
     * is not called: sent now if the socket is open, again after every reconnect; each answer
     * goes to `receive`.
     */
    function watchStream<W extends WatchMessage, M extends WatchedMessage>(
      spec: WatchSpec<W>,
      receive: (message: M) => void,
    ): () => void {
      return watches.add(spec, (message) => receive(message as M));
    }

    /** Tries again now, from attempt 1: the Retry button, or the browser coming back online. */
    function retry(): void {
      if (!started) {
        start();
        return;
      }
      if (stream.isOpen || stream.isConnecting) return;
      backoff.reset();
      attempt.value = 0;
      connect();
    }

    // A new token (a refresh, or a login in this tab) goes to the open socket before the old
    // one runs out; no token means the session ended, and the socket with it.
    watch(
      () => auth.token,
      (token) => {
        if (token === null) {
          stop();
          return;
        }
        if (stream.isOpen && token !== stream.token) stream.renew(token);
      },
      { flush: 'sync' },
    );

    return {
      connectionState,
      attempt,
      nextRetryAt,
      lastError,
      polling,
      stale,
      lastUpdateAt,
      latest,
      hosts,
      selectedHost,
      selectedSnapshot,
      windowMinutes,
      series,
      version,
      latencies,
      latestApp,
      backfilling,
      start,
      stop,
      retry,
      selectHost,
      setWindow,
      backfill,
      addHistory,
      watchStream,
      /** Subscribes to one type of server message (a feature's own); returns the unsubscribe. */
      listen: listeners.on.bind(listeners) as MessageListeners<ServerMessage>['on'],
    };
  });
}

/** The app's metrics store: the browser's WebSocket on the page's origin. */
export const useMetricsStore = defineMetricsStore();

/**
 * A server message as the contract has it, or null when it is not one. A `processes` table (up
 * to 1,000 rows a second) is checked row by row without zod: see features/processes/process-frame.
 */
function decodeMessage(value: unknown): ServerMessage | null {
  if ((value as { type?: unknown } | null)?.type === 'processes') return parseProcessesFrame(value);
  const parsed = serverMessage.safeParse(value);
  return parsed.success ? parsed.data : null;
}
