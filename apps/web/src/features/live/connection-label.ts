import { DEFAULT_BACKOFF } from '../../lib/backoff';

export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'error';
export type Tone = 'ok' | 'warn' | 'bad' | 'muted';

export interface ConnectionView {
  state: ConnectionState;
  /** Reconnection attempts since the last successful open. */
  attempt: number;
  /** When the next attempt starts (epoch ms), while one is scheduled. */
  nextRetryAt: number | null;
  now: number;
  maxAttempts?: number;
}

/**
 * What the connection badge says: `Connected`, `Connecting…`,
 * `Reconnecting in 4 s — attempt 3/10`, or `Failed` (the badge then offers Retry).
 * A countdown never shows less than 1 s while an attempt is still ahead.
 */
export function connectionLabel(view: ConnectionView): { text: string; tone: Tone } {
  const maxAttempts = view.maxAttempts ?? DEFAULT_BACKOFF.maxAttempts;
  switch (view.state) {
    case 'connected':
      return { text: 'Connected', tone: 'ok' };
    case 'error':
      return { text: 'Failed', tone: 'bad' };
    case 'disconnected':
      return { text: 'Disconnected', tone: 'muted' };
    case 'connecting':
      if (view.nextRetryAt !== null && view.nextRetryAt > view.now) {
        const seconds = Math.max(1, Math.ceil((view.nextRetryAt - view.now) / 1000));
        return {
          text: `Reconnecting in ${seconds} s — attempt ${view.attempt}/${maxAttempts}`,
          tone: 'warn',
        };
      }
      return { text: view.attempt > 0 ? 'Reconnecting…' : 'Connecting…', tone: 'warn' };
  }
}
