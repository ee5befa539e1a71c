/** The lengths a silence is offered for. */
export const SILENCE_PRESETS = [
  { minutes: 15, label: '15 minutes' },
  { minutes: 60, label: '1 hour' },
  { minutes: 240, label: '4 hours' },
  { minutes: 1440, label: '1 day' },
  { minutes: 10_080, label: '1 week' },
] as const;

/** The fields a silence's 400 can name. */
export const SILENCE_FIELDS = ['ruleId', 'host', 'until', 'reason'] as const;

/** A silence form: blank rule or host means "every". */
export interface SilenceDraft {
  ruleId: string;
  host: string;
  minutes: number;
  reason: string;
}

/** The request body of the form at `now`: it lasts `minutes` from now. */
export function silenceBody(draft: SilenceDraft, now: number): Record<string, unknown> {
  return {
    ruleId: draft.ruleId === '' ? null : draft.ruleId,
    host: draft.host === '' ? null : draft.host,
    until: new Date(now + draft.minutes * 60_000).toISOString(),
    reason: draft.reason,
  };
}
