import { describe, expect, it } from 'vitest';
import { connectionLabel } from './connection-label';

const NOW = 1_000_000;

describe('connectionLabel', () => {
  it('names the steady states', () => {
    const base = { attempt: 0, nextRetryAt: null, now: NOW };
    expect(connectionLabel({ ...base, state: 'connected' })).toEqual({
      text: 'Connected',
      tone: 'ok',
    });
    expect(connectionLabel({ ...base, state: 'error' })).toEqual({ text: 'Failed', tone: 'bad' });
    expect(connectionLabel({ ...base, state: 'disconnected' }).text).toBe('Disconnected');
    expect(connectionLabel({ ...base, state: 'connecting' }).text).toBe('Connecting…');
  });

  it('counts down to the next attempt in whole seconds, never below 1 s', () => {
    const view = { state: 'connecting' as const, attempt: 3, now: NOW };
    expect(connectionLabel({ ...view, nextRetryAt: NOW + 3200 }).text).toBe(
      'Reconnecting in 4 s — attempt 3/10',
    );
    expect(connectionLabel({ ...view, nextRetryAt: NOW + 1 }).text).toBe(
      'Reconnecting in 1 s — attempt 3/10',
    );
    expect(connectionLabel({ ...view, nextRetryAt: NOW + 30_000, maxAttempts: 5 }).text).toBe(
      'Reconnecting in 30 s — attempt 3/5',
    );
  });

  it('says Reconnecting… once the countdown ran out and the attempt is under way', () => {
    expect(
      connectionLabel({ state: 'connecting', attempt: 2, nextRetryAt: NOW - 5, now: NOW }).text,
    ).toBe('Reconnecting…');
  });
});
