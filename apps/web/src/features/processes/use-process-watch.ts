import type {
  ProcessesMessage,
  ProcessSort,
  UnwatchProcessesMessage,
  WatchProcessesMessage,
} from '@livestat/contracts';
import { computed } from 'vue';
import type { ComputedRef } from 'vue';
import { useStreamWatch } from '../live/use-stream-watch';

/** What a processes watch asks for; `active` false (the panel hidden) watches nothing. */
export interface ProcessWatchInput {
  host: () => string | null;
  active: () => boolean;
  sort: () => ProcessSort;
  limit: () => number;
}

/**
 * The full process table of one host, over the dashboard's one socket (`watch_processes`, see
 * `lib/stream-watches.ts`): watched while `active` and a host is chosen, again after every
 * reconnect; a change of host, sort or limit ends the old watch and starts the new one, and going
 * inactive or unmounting unwatches. A table of another sort or host still on its way after a
 * change is not shown: the top N of one measure never appears under another's heading.
 */
export function useProcessWatch(input: ProcessWatchInput): ComputedRef<ProcessesMessage | null> {
  const latest = useStreamWatch<ProcessesMessage, WatchProcessesMessage | UnwatchProcessesMessage>(
    () => {
      const host = input.host();
      if (!input.active() || host === null) return null;
      return {
        type: 'processes',
        host,
        watch: { type: 'watch_processes', host, sort: input.sort(), limit: input.limit() },
        unwatch: { type: 'unwatch_processes', host },
      };
    },
  );
  // The table on screen stays while a wider watch (a filter, "Show more") is answered.
  let shown: ProcessesMessage | null = null;
  return computed(() => {
    const table = latest.value;
    const host = input.host();
    const sort = input.sort();
    if (table !== null && table.host === host && table.sort === sort) shown = table;
    else if (shown !== null && (shown.host !== host || shown.sort !== sort)) shown = null;
    return shown;
  });
}
