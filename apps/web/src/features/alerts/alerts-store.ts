import type { ActiveAlert, AlertEvent, AlertMessage, AlertsMessage } from '@livestat/contracts';
import { defineStore } from 'pinia';
import { computed, markRaw, ref, shallowRef, watch } from 'vue';
import { ApiError } from '../../lib/api';
import { createPoller } from '../../lib/poller';
import { useAuthStore } from '../../stores/auth';
import type { AuthStore } from '../../stores/auth';
import { useMetricsStore } from '../../stores/metrics';
import { alertPeriods } from './alert-periods';
import { createAlertsClient } from './alerts-client';
import type { AlertsClient } from './alerts-client';
import { bellState } from './severity';

/** How often `GET /api/alerts` is asked while the socket does not bring the list. */
export const ALERTS_POLL_MS = 10_000;
/** Transitions kept for the charts' areas, the newest. */
export const MAX_EVENTS = 5000;

/** What the alerts store runs on; the app's stores and client by default. */
export interface AlertsStoreDeps {
  useAuth?: () => AuthStore;
  useMetrics?: () => Pick<ReturnType<typeof useMetricsStore>, 'connectionState' | 'listen'>;
  client?: AlertsClient;
  /** '' (the page's origin) by default. */
  baseUrl?: string;
  pollIntervalMs?: number;
}

/**
 * Defines the alerts store; the app uses {@link useAlertsStore}.
 *
 * It holds the active alerts (firing and pending) for the bell and the Firing list: from the
 * dashboard's socket (`alerts` when it opens, `alert` at each transition) while it is open,
 * else from `GET /api/alerts` every {@link ALERTS_POLL_MS}. It also keeps the transitions the
 * charts draw as areas: a host's recent history, then every transition the socket brings.
 */
export function defineAlertsStore(deps: AlertsStoreDeps = {}) {
  return defineStore('alerts', () => {
    const auth = (deps.useAuth ?? useAuthStore)();
    const metrics = (deps.useMetrics ?? useMetricsStore)();
    const client =
      deps.client ??
      createAlertsClient({
        baseUrl: deps.baseUrl,
        getToken: () => auth.token,
        onUnauthorized: (error, used) => auth.rejectToken(used, error.reason),
      });

    const active = shallowRef<readonly ActiveAlert[]>([]);
    /** The API has told the list at least once: until then the bell stays hidden. */
    const available = ref(false);
    /** The open socket brings the list: no polling then. */
    const fromSocket = ref(false);
    /** Why the last poll failed, for the Alerts view; null after a success. */
    const error = ref<string | null>(null);
    /** Transitions known, for the charts: loaded history and the socket's live ones. */
    const events = shallowRef<readonly AlertEvent[]>([]);

    const bell = computed(() => bellState(active.value));
    const periods = computed(() => alertPeriods(events.value, active.value));

    let started = false;
    let stopListening: (() => void)[] = [];
    /** What history has been loaded for the live charts: one host, from a time on. */
    let loaded: { host: string; from: number } | null = null;
    let loading: { host: string; from: number } | null = null;

    const poller = createPoller(async (signal) => {
      try {
        const list = await client.active({ signal });
        if (signal.aborted) return;
        active.value = list;
        available.value = true;
        error.value = null;
      } catch (e) {
        if (signal.aborted) return;
        // A 404 is an API without alerts: the bell stays hidden, saying nothing.
        if (e instanceof ApiError && e.status !== 404) error.value = e.message;
      }
    }, deps.pollIntervalMs ?? ALERTS_POLL_MS);

    function syncPolling(): void {
      const socketBrings = fromSocket.value && metrics.connectionState === 'connected';
      if (started && !socketBrings) poller.start();
      else poller.stop();
    }

    function addEvents(list: readonly AlertEvent[]): void {
      if (list.length === 0) return;
      const byId = new Map(events.value.map((event) => [event.id, event]));
      for (const event of list) byId.set(event.id, event);
      const merged = [...byId.values()].sort((a, b) => a.id - b.id);
      events.value = merged.length > MAX_EVENTS ? merged.slice(-MAX_EVENTS) : merged;
    }

    function onAlerts(message: AlertsMessage): void {
      active.value = message.active;
      available.value = true;
      error.value = null;
      fromSocket.value = true;
      syncPolling();
    }

    function onAlert(message: AlertMessage): void {
      addEvents([message.event]);
      onAlerts({ type: 'alerts', active: message.active });
    }

    /** Starts following the alerts (the header's bell mounts it). A no-op when started. */
    function start(): void {
      if (started) return;
      started = true;
      stopListening = [metrics.listen('alerts', onAlerts), metrics.listen('alert', onAlert)];
      syncPolling();
    }

    /** Stops polling and listening (the session ended). */
    function stop(): void {
      if (!started) return;
      started = false;
      for (const unlisten of stopListening) unlisten();
      stopListening = [];
      poller.stop();
    }

    /** Asks the API for the list now (after a silence was added). */
    async function refresh(): Promise<void> {
      const list = await client.active();
      active.value = list;
      available.value = true;
    }

    /**
     * Makes sure the transitions of `host` from `from` on are known, for the live charts; a
     * range already loaded is not asked again. A failure leaves the areas to the live ones.
     */
    async function loadEvents(host: string, from: number): Promise<void> {
      const covered = (range: { host: string; from: number } | null) =>
        range !== null && range.host === host && range.from <= from;
      if (covered(loaded) || covered(loading)) return;
      const range = { host, from };
      loading = range;
      try {
        const list = await client.history({ host, from });
        if (loading !== range) return;
        addEvents(list);
        loaded = range;
      } catch {
        // The areas still come from the socket's transitions and the active list.
      } finally {
        if (loading === range) loading = null;
      }
    }

    watch(
      () => metrics.connectionState,
      (state) => {
        if (state !== 'connected') fromSocket.value = false;
        syncPolling();
      },
    );

    return {
      active,
      available,
      fromSocket,
      error,
      events,
      bell,
      periods,
      start,
      stop,
      refresh,
      loadEvents,
      client: markRaw(client),
    };
  });
}

/** The app's alerts store. */
export const useAlertsStore = defineAlertsStore();
