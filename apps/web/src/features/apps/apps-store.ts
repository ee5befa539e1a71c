import { appsResponse, type AppServiceInfo } from '@livestat/contracts';
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import {
  createApiClient,
  createRequest,
  type ApiClient,
  type ApiClientOptions,
} from '../../lib/api';
import { systemClock, type Clock } from '../../lib/backoff';
import { useAuthStore } from '../../stores/auth';
import { useMetricsStore } from '../../stores/metrics';
import { backfillRequests } from '../live/live-series';
import { chartedPaths, type AppMetricRef } from './app-charts';
import { isPinned, readPins, togglePin, type Pin, type PinStorage } from './pins';
import { servicesOf, type ServiceView } from './services-view';

/** How often the service list (limits, rejections) is fetched again while it is shown. */
export const CATALOGUE_REFRESH_MS = 10_000;

export interface AppsStoreDeps {
  api?: Pick<ApiClient, 'history'>;
  /** The request `GET /api/apps` goes through (`createRequest`). */
  request?: ReturnType<typeof createRequest>;
  storage?: PinStorage | null;
  clock?: Clock;
}

function browserStorage(): PinStorage | null {
  try {
    return typeof localStorage === 'undefined' ? null : localStorage;
  } catch {
    return null;
  }
}

/**
 * Defines the applications store: the selected host's services (from `GET /api/apps` and the
 * live `app` messages the metrics store keeps), its pins, and the backfill of the charted
 * series' live window from `/api/history`. The points themselves live in the metrics store's
 * live window beside the host's, so `LiveChart` draws them like any other series.
 */
export function defineAppsStore(deps: AppsStoreDeps = {}) {
  return defineStore('apps', () => {
    const auth = useAuthStore();
    const metrics = useMetricsStore();
    const clock = deps.clock ?? systemClock;
    const storage = deps.storage !== undefined ? deps.storage : browserStorage();
    const session: ApiClientOptions = {
      getToken: () => auth.token,
      onUnauthorized: (error, used) => auth.rejectToken(used, error.reason),
    };
    const api = deps.api ?? createApiClient(session);
    const request = deps.request ?? createRequest(session);

    const catalogue = shallowRef<readonly AppServiceInfo[]>([]);
    const catalogueHost = ref<string | null>(null);
    const loaded = ref(false);
    const error = ref<string | null>(null);
    const pins = shallowRef<Pin[]>([]);

    const host = computed(() => metrics.selectedHost);
    const services = computed<ServiceView[]>(() => {
      const name = host.value;
      if (name === null) return [];
      return servicesOf(
        catalogueHost.value === name ? catalogue.value : [],
        metrics.latestApp.get(name),
      );
    });

    // Paths whose window was asked of history for this host since it was shown (or reconnected).
    let backfilled = new Set<string>();
    watch(
      host,
      (name) => {
        backfilled = new Set();
        pins.value = name === null ? [] : readPins(storage, name);
      },
      { immediate: true },
    );
    watch(
      () => metrics.connectionState,
      (state) => {
        // A reconnect may have left a hole in the window: ask again for what is charted.
        if (state === 'connected') backfilled = new Set();
      },
    );

    async function loadCatalogue(): Promise<void> {
      const name = host.value;
      if (name === null) return;
      try {
        const answer = await request(`/api/apps?host=${encodeURIComponent(name)}`, appsResponse, {
          auth: true,
        });
        if (name !== host.value) return;
        catalogue.value = answer.services;
        catalogueHost.value = name;
        error.value = null;
      } catch (err) {
        error.value = (err as Error).message;
      } finally {
        loaded.value = true;
      }
    }

    /** Fills the live window of these metrics' charts from history, once per host and socket. */
    async function backfill(refs: readonly AppMetricRef[]): Promise<void> {
      const name = host.value;
      if (name === null) return;
      const wanted = refs.flatMap(chartedPaths).filter((path) => !backfilled.has(path));
      if (wanted.length === 0) return;
      for (const path of wanted) backfilled.add(path);
      const requests = backfillRequests(name, wanted, metrics.series, clock.now());
      await Promise.all(
        requests.map(async (request) => {
          try {
            metrics.addHistory(name, await api.history(request));
          } catch {
            // The live points keep coming; the next visit asks again.
            for (const path of request.series) backfilled.delete(path);
          }
        }),
      );
    }

    function pinned(metric: AppMetricRef): boolean {
      return isPinned(pins.value, { service: metric.service, key: metric.key });
    }

    function togglePinned(metric: AppMetricRef): void {
      const name = host.value;
      if (name === null) return;
      pins.value = togglePin(storage, name, { service: metric.service, key: metric.key });
    }

    /** The pinned metrics of the selected host that it still knows, in pinning order. */
    const pinnedMetrics = computed<AppMetricRef[]>(() => {
      const known = new Map(
        services.value.flatMap((s) => s.metrics.map((m) => [`${m.service}\u0000${m.key}`, m])),
      );
      return pins.value.flatMap((pin) => known.get(`${pin.service}\u0000${pin.key}`) ?? []);
    });

    return {
      services,
      loaded,
      error,
      pins,
      pinnedMetrics,
      loadCatalogue,
      backfill,
      pinned,
      togglePinned,
    };
  });
}

/** The app's applications store. */
export const useAppsStore = defineAppsStore();
