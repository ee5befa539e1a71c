import type { NotificationPayload } from '../state-store.js';

const WINDOW_BEFORE_MS = 3_600_000;
const WINDOW_AFTER_MS = 900_000;

/** `[FIRING] CPU saturated on vm-web-01`. */
export function notificationTitle({ event }: NotificationPayload): string {
  const what =
    event.to === 'firing'
      ? 'FIRING'
      : event.to === 'resolved'
        ? 'RESOLVED'
        : event.to.toUpperCase();
  return `[${what}] ${event.ruleName} on ${event.host}`;
}

function round(value: number): string {
  return String(Math.round(value * 100) / 100);
}

/** One or two plain sentences: what, where, the value against the threshold, and why it matters. */
export function notificationText(payload: NotificationPayload): string {
  const { event } = payload;
  const measured =
    event.series === ''
      ? event.to === 'firing'
        ? `No snapshot for ${event.value === null ? 'a while' : `${round(event.value)} s`}.`
        : 'Snapshots arrive again.'
      : `${event.series} = ${event.value === null ? 'n/a' : round(event.value)} (threshold ${payload.comparison} ${round(payload.threshold)}).`;
  return [measured, payload.description, `At ${event.at}.`].filter((part) => part !== '').join(' ');
}

/**
 * The dashboard's History view of the series around the event, or null without `PUBLIC_URL`
 * (or for host down, which has no series).
 */
export function chartLink(
  payload: NotificationPayload,
  publicUrl: string | undefined,
): string | null {
  const { event } = payload;
  if (publicUrl === undefined) return null;
  const at = Date.parse(event.at);
  const params = new URLSearchParams({ host: event.host });
  if (event.series !== '') params.set('series', event.series);
  params.set('from', new Date(at - WINDOW_BEFORE_MS).toISOString());
  params.set('to', new Date(at + WINDOW_AFTER_MS).toISOString());
  return `${publicUrl}/history?${params.toString()}`;
}

/** Throws when an HTTP answer is not 2xx, saying only the status (the URL may be a secret). */
export async function expectOk(response: Response): Promise<void> {
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const text = (await response.text().catch(() => '')).slice(0, 200).replace(/\s+/g, ' ');
  throw new Error(`HTTP ${response.status}${text ? `: ${text}` : ''}`);
}

/** POSTs JSON with the dedupe id header, bounded by `timeoutMs`. */
export async function postJson(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body,
    signal: AbortSignal.timeout(timeoutMs),
  });
}
