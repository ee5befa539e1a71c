/** An ISO time as a short local date and time, or "never" for null. */
export function formatWhen(iso: string | null, locale?: string): string {
  if (iso === null) return 'never';
  return new Date(iso).toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
}
