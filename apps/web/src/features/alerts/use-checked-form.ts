import { computed, ref } from 'vue';
import type { ComputedRef } from 'vue';
import { ApiError } from '../../lib/api';
import { messageOf, serverErrors } from './form-errors';
import type { Checked, FieldErrors } from './form-errors';

/** What a form built on {@link useCheckedForm} is given. */
export interface CheckedFormOptions<T, R> {
  /** The form checked with the contract's schema, recomputed as the user types. */
  checked: ComputedRef<Checked<T>>;
  /** The fields a 400 may name (`threshold`, `config.url`). */
  fields: () => readonly string[];
  /** Sends the checked body; its answer goes to `saved`. */
  submit: (data: T) => Promise<R>;
  saved: (answer: R) => void;
}

/**
 * A form checked with the contract's zod schema as the API checks it: nothing is shown until the
 * first save, then each field's message follows what is typed; a 400 from the API goes on the
 * field it names (until that field is edited), anything else under the form.
 */
export function useCheckedForm<T, R>(options: CheckedFormOptions<T, R>) {
  const tried = ref(false);
  const server = ref<FieldErrors>({});
  const formError = ref<string | null>(null);
  const saving = ref(false);

  const errors = computed<FieldErrors>(() => {
    const checked = options.checked.value;
    return { ...(tried.value && !checked.ok ? checked.errors : {}), ...server.value };
  });

  /** The user changed `field`: the API's word on it no longer holds. */
  function edited(field: string): void {
    if (!(field in server.value)) return;
    const { [field]: _, ...rest } = server.value;
    server.value = rest;
  }

  async function save(): Promise<void> {
    tried.value = true;
    formError.value = null;
    const result = options.checked.value;
    if (!result.ok) return;
    saving.value = true;
    try {
      options.saved(await options.submit(result.data));
    } catch (error) {
      if (error instanceof ApiError && error.status === 400) {
        const split = serverErrors(error.message, options.fields());
        server.value = split.fields;
        formError.value = split.form;
      } else {
        formError.value = messageOf(error);
      }
    } finally {
      saving.value = false;
    }
  }

  /** Forgets what was shown (after a form is reset for the next entry). */
  function reset(): void {
    tried.value = false;
    server.value = {};
    formError.value = null;
  }

  return { errors, formError, saving, edited, save, reset };
}
