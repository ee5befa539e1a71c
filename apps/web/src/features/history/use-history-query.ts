import type { HistoryResponse } from '@livestat/contracts';
import { computed, markRaw, ref, shallowRef } from 'vue';
import type { Ref } from 'vue';
import { collectedWindow, collectingSince, collectingSinceText, firstDataTime } from './first-data';
import { createHistoryLoader } from './history-loader';
import {
  ZOOM_REFETCH_DELAY_MS,
  formatBucket,
  hasData,
  isZoomed,
  pointsFor,
  presetRange,
  sameRange,
  zoomPercent,
  zoomedRange,
} from './history-view';
import type { HistoryPresetId, TimeRange, ZoomPercent } from './history-view';
import { seriesPaths } from './series-groups';
import type { ChooserGroup } from './series-groups';
import { ApiError, AuthError } from '../../lib/api';
import type { ApiClient, HistoryParams } from '../../lib/api';
import { createOneShotTimer } from '../../lib/backoff';
import type { Clock } from '../../lib/backoff';

/** What the charts draw: an answer with the groups, range and zoom it was asked for. */
export interface Shown {
  response: HistoryResponse;
  groups: readonly ChooserGroup[];
  base: TimeRange;
  visible: TimeRange;
}

/** What the History view's query reads: the API, the clock and its current choices. */
export interface HistoryQueryDeps {
  api: Pick<ApiClient, 'history'>;
  /** Drives the zoom debounce and the presets' "now". */
  clock: Clock;
  host: Readonly<Ref<string | null>>;
  /** The chosen chart groups, and their series paths. */
  chosen: Readonly<Ref<readonly ChooserGroup[]>>;
  paths: Readonly<Ref<readonly string[]>>;
  /** The width a chart has, in pixels: about one bucket is asked for per pixel. */
  chartWidth: () => number;
  /** The range preset the view opens on (a link's); 1 h by default. */
  initialPreset?: HistoryPresetId;
}

/**
 * The History view's range, zoom and answer: a preset or custom range, the zoomed part of it,
 * one load at a time (a newer one, or a zoom, aborts the one in flight), the first answer of a
 * range opened on the part that holds data, and the unzoomed answer kept so "Reset zoom"
 * redraws at once. `stop()` cancels the pending zoom and the load in flight.
 */
export function useHistoryQuery(deps: HistoryQueryDeps) {
  const { api, clock, host, chosen, paths, chartWidth, initialPreset = '1h' } = deps;
  const loader = createHistoryLoader(api);
  const zoomTimer = createOneShotTimer(clock);
  const active = ref<HistoryPresetId | 'custom'>(initialPreset);
  /** The preset's or custom range: what "Reset zoom" returns to. */
  const base = ref<TimeRange>(presetRange(initialPreset, clock.now()));
  /** The part of `base` asked for: all of it, or the zoomed window. */
  const visible = ref<TimeRange>({ ...base.value });
  const shown = shallowRef<Shown | null>(null);
  const loading = ref(false);
  const error = ref<string | null>(null);

  /**
   * Whether the next answer for the whole range may open the charts on the part that holds data
   * (a first start): once per range picked, never after the user zoomed or reset the zoom.
   */
  let openOnData = true;
  /** The unzoomed answer, so "Reset zoom" redraws at once. */
  let baseCache: { key: string; shown: Shown } | null = null;

  const zoomed = computed(() => isZoomed(base.value, visible.value));
  const empty = computed(
    () => shown.value !== null && !hasData(shown.value.response, seriesPaths(shown.value.groups)),
  );
  /** "Collecting since HH:MM" when the range reaches back before the first stored data. */
  const since = computed(() => {
    const current = shown.value;
    if (current === null) return null;
    const first = firstDataTime(current.response, seriesPaths(current.groups));
    // Against the range asked for: the view may have opened on the collected part of it.
    const at = collectingSince(current.base, current.response.bucketMs, first);
    return at === null ? null : collectingSinceText(at, clock.now());
  });
  const summary = computed(() => {
    const current = shown.value;
    if (current === null) return '';
    const from = new Date(current.visible.from).toLocaleString();
    const to = new Date(current.visible.to).toLocaleString();
    return `${from} – ${to} · ${formatBucket(current.response.bucketMs)} buckets`;
  });

  async function load(): Promise<void> {
    zoomTimer.cancel();
    const series = paths.value;
    if (series.length === 0) {
      loader.abort();
      loading.value = false;
      shown.value = null;
      return;
    }
    const request: HistoryParams = {
      ...(host.value === null ? {} : { host: host.value }),
      series,
      from: visible.value.from,
      to: visible.value.to,
      points: pointsFor(chartWidth()),
    };
    const asked = { groups: chosen.value, base: { ...base.value }, visible: { ...visible.value } };
    const key = JSON.stringify([request, asked.base]);
    error.value = null;
    if (baseCache?.key === key) {
      loader.abort();
      loading.value = false;
      // Fresh range objects, so each chart resets its zoom window even if nothing else changed.
      shown.value = markRaw({ ...baseCache.shown, visible: { ...baseCache.shown.visible } });
      return;
    }
    loading.value = true;
    try {
      const response = await loader.load(request);
      // Superseded: the newer load owns the state now.
      if (response === null) return;
      const next: Shown = markRaw({ response: markRaw(response), ...asked });
      shown.value = next;
      if (!isZoomed(next.base, next.visible)) baseCache = { key, shown: next };
      loading.value = false;
      const wide = openOnData && !isZoomed(next.base, next.visible);
      openOnData = false;
      const first = wide ? firstDataTime(response, seriesPaths(next.groups)) : null;
      const since = collectingSince(next.base, response.bucketMs, first);
      const window = collectedWindow(next.base, since, response.bucketMs);
      if (window !== null) {
        // Finer buckets over what exists; the slider shows where it sits, Reset zoom the rest.
        visible.value = zoomedRange(next.base, zoomPercent(next.base, window));
        void load();
      }
    } catch (failure) {
      loading.value = false;
      // The session is over and the router is on its way to the login page.
      if (failure instanceof AuthError) return;
      const message = failure instanceof ApiError ? failure.message : String(failure);
      error.value = `Could not load history: ${message}`;
    }
  }

  function pickPreset(id: HistoryPresetId): void {
    openOnData = true;
    active.value = id;
    base.value = presetRange(id, clock.now());
    visible.value = { ...base.value };
    void load();
  }

  function pickCustom(range: TimeRange): void {
    openOnData = true;
    active.value = 'custom';
    base.value = { ...range };
    visible.value = { ...range };
    void load();
  }

  /**
   * A chart's zoom window moved. The answer in flight is for an older window and would snap the
   * chart back, so it is dropped at once; the new window is fetched once zooming pauses.
   */
  function onZoom(zoom: ZoomPercent): void {
    const current = shown.value;
    // A new range is on its way: the charts on screen are about to be replaced.
    if (current === null || !sameRange(current.base, base.value)) return;
    const next = zoomedRange(current.base, zoom);
    if (sameRange(next, visible.value) && zoomTimer.dueAt === null && !loading.value) return;
    loader.abort();
    zoomTimer.schedule(ZOOM_REFETCH_DELAY_MS, () => {
      visible.value = next;
      void load();
    });
  }

  function resetZoom(): void {
    zoomTimer.cancel();
    visible.value = { ...base.value };
    void load();
  }

  function stop(): void {
    zoomTimer.cancel();
    loader.abort();
  }

  return {
    active,
    base,
    visible,
    shown,
    loading,
    error,
    zoomed,
    empty,
    since,
    summary,
    load,
    pickPreset,
    pickCustom,
    onZoom,
    resetZoom,
    stop,
  };
}
