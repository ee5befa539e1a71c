import { onMounted, ref, shallowRef, type Ref } from 'vue';

/**
 * One admin list of the Settings view (users, tokens): the list as the API last sent it,
 * fetched when the section mounts; the change waiting for its confirmation (one at a time);
 * and `change`, which runs one change the way every section does — the buttons off while it
 * runs, the API's refusal (a 409 for the last admin, a taken name) in its own words in
 * `error`, a notice and the list fetched again once it is done.
 */
export function useAdminList<T, P>(fetchList: () => Promise<T[]>) {
  const items = shallowRef<T[]>([]);
  const loaded = ref(false);
  const error = ref<string | null>(null);
  const notice = ref<string | null>(null);
  const busy = ref(false);
  const pending = ref<P | null>(null) as Ref<P | null>;

  async function load(): Promise<void> {
    try {
      items.value = await fetchList();
    } catch (err) {
      error.value = (err as Error).message;
    } finally {
      loaded.value = true;
    }
  }
  onMounted(load);

  /** Runs `action`; on success says `done`, drops the pending change and fetches the list again. */
  async function change(action: () => Promise<unknown>, done: string | null = null) {
    busy.value = true;
    error.value = null;
    notice.value = null;
    try {
      await action();
      notice.value = done;
      pending.value = null;
      items.value = await fetchList();
      return true;
    } catch (err) {
      error.value = (err as Error).message;
      return false;
    } finally {
      busy.value = false;
    }
  }

  return { items, loaded, error, notice, busy, pending, change };
}
