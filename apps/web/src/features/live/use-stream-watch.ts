import { markRaw, onScopeDispose, shallowRef, watch } from 'vue';
import type { ShallowRef } from 'vue';
import type { WatchMessage, WatchSpec, WatchedMessage } from '../../lib/stream-watches';
import { useMetricsStore } from '../../stores/metrics';

/**
 * The latest answer to a full-table watch on the dashboard's socket (every cgroup, every
 * process), for as long as `spec` returns one: a new spec (another host, another sort) ends the
 * old watch and starts the new one, null (the panel collapsed) ends it, and so does the
 * component's unmount. The answer held is cleared with each change, so it is always the spec's.
 */
export function useStreamWatch<M extends WatchedMessage, W extends WatchMessage = WatchMessage>(
  spec: () => WatchSpec<W> | null,
): ShallowRef<M | null> {
  const metrics = useMetricsStore();
  const latest: ShallowRef<M | null> = shallowRef(null);
  let stop: (() => void) | null = null;

  // Compared as text, so a getter that builds a fresh object each time does not re-watch.
  const key = () => {
    const current = spec();
    return current === null ? '' : JSON.stringify(current);
  };
  watch(
    key,
    (text) => {
      stop?.();
      stop = null;
      latest.value = null;
      if (text === '') return;
      const current = JSON.parse(text) as WatchSpec<W>;
      stop = metrics.watchStream<W, M>(current, (message) => {
        latest.value = markRaw(message);
      });
    },
    { immediate: true },
  );
  onScopeDispose(() => {
    stop?.();
    stop = null;
  });
  return latest;
}
