import type { AlertEvent } from '@livestat/contracts';
import { computed, onBeforeUnmount, shallowRef, watch } from 'vue';
import type { ComputedRef, Ref } from 'vue';
import type { SeriesGroup, TimeRange } from '../history/history-view';
import { alertMarkArea } from './alert-marks';
import type { AlertMarkArea } from './alert-marks';
import { alertPeriods } from './alert-periods';
import { useAlertsStore } from './alerts-store';

/** Most transitions asked for one History range. */
const LIMIT = 10_000;

/**
 * The alert areas of the History view's charts, by group id: the host's transitions over the
 * range shown (asked again when either changes), with the live ones and the active list. Empty
 * while the API has no alerts. Computed once per change, so the charts redraw only then.
 */
export function useHistoryAlertMarks(
  host: Ref<string | null>,
  range: Ref<TimeRange | null>,
  groups: Ref<readonly SeriesGroup[]>,
): ComputedRef<ReadonlyMap<string, AlertMarkArea>> {
  const alerts = useAlertsStore();
  const events = shallowRef<readonly AlertEvent[]>([]);
  let controller: AbortController | null = null;

  const stop = watch(
    [host, range, () => alerts.available] as const,
    async ([name, shown, available]) => {
      controller?.abort();
      if (name === null || shown === null || !available) return;
      const own = new AbortController();
      controller = own;
      try {
        const list = await alerts.client.history(
          { host: name, from: shown.from, to: shown.to, limit: LIMIT },
          { signal: own.signal },
        );
        if (!own.signal.aborted) events.value = list;
      } catch {
        // Without history the areas come from the live transitions and the active list.
      }
    },
    { immediate: true },
  );
  onBeforeUnmount(() => {
    stop();
    controller?.abort();
  });

  const periods = computed(() => alertPeriods([...events.value, ...alerts.events], alerts.active));

  return computed(() => {
    const marks = new Map<string, AlertMarkArea>();
    const shown = range.value;
    if (!alerts.available || shown === null) return marks;
    for (const group of groups.value) {
      const area = alertMarkArea(periods.value, {
        host: host.value,
        paths: group.series.map((s) => s.path),
        from: shown.from,
        to: shown.to,
      });
      marks.set(group.id, area);
    }
    return marks;
  });
}
