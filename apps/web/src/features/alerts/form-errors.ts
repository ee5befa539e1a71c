/** A message per field of a form, by the field's path (`threshold`, `config.url`). */
export type FieldErrors = Readonly<Record<string, string>>;

/** The slice of a zod error read here: each issue's path and message. */
interface Issues {
  issues: readonly { path: readonly PropertyKey[]; message: string }[];
}

/** The slice of a zod schema read here, so the contract's schemas validate forms as they are. */
export interface FormSchema<T> {
  safeParse(value: unknown): { success: true; data: T } | { success: false; error: Issues };
}

/** A form's value checked with the contract's schema: the data to send, or each field's message. */
export type Checked<T> = { ok: true; data: T } | { ok: false; errors: FieldErrors };

/** The first message of each field (issue path joined by `.`; `body` for the whole value). */
export function issuesByField(error: Issues): FieldErrors {
  const errors: Record<string, string> = {};
  for (const issue of error.issues) {
    const field = issue.path.map(String).join('.') || 'body';
    errors[field] ??= issue.message;
  }
  return errors;
}

/** Checks `value` with `schema` exactly as the API will (the same zod schema). */
export function check<T>(schema: FormSchema<T>, value: unknown): Checked<T> {
  const parsed = schema.safeParse(value);
  return parsed.success
    ? { ok: true, data: parsed.data }
    : { ok: false, errors: issuesByField(parsed.error) };
}

/**
 * A 400's message (`threshold: must be a number; config.url: must be an http:// URL`) split onto
 * the form: each part that names one of `fields` goes beside it, the rest is the form's own.
 */
export function serverErrors(
  message: string,
  fields: readonly string[],
): { fields: FieldErrors; form: string | null } {
  const byField: Record<string, string> = {};
  const rest: string[] = [];
  for (const part of message.split('; ')) {
    const colon = part.indexOf(': ');
    const field = colon === -1 ? '' : part.slice(0, colon);
    if (fields.includes(field)) byField[field] ??= part.slice(colon + 2);
    else rest.push(part);
  }
  return { fields: byField, form: rest.length > 0 ? rest.join('; ') : null };
}

/** What a failed call says, to show under a list or a form. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
