import { describe, expect, it } from 'vitest';
import { bellState } from './severity';
import { activeAlertAt } from './test-data';

describe('bellState', () => {
  it('counts firing alerts, not pending or silenced ones, coloured by the worst', () => {
    const state = bellState([
      activeAlertAt(0, { severity: 'info', host: 'a' }),
      activeAlertAt(0, { severity: 'critical', host: 'b' }),
      activeAlertAt(0, { severity: 'warning', host: 'c' }),
      activeAlertAt(0, { severity: 'critical', host: 'd', state: 'pending', firingSince: null }),
      activeAlertAt(0, { severity: 'critical', host: 'e', silenced: true }),
    ]);
    expect(state).toEqual({ count: 3, severity: 'critical', silenced: 1 });
  });

  it('has no colour when nothing fires', () => {
    expect(bellState([])).toEqual({ count: 0, severity: null, silenced: 0 });
    const pending = activeAlertAt(0, { state: 'pending', firingSince: null });
    expect(bellState([pending])).toEqual({ count: 0, severity: null, silenced: 0 });
  });

  it('takes the worst severity whatever the order', () => {
    const warning = activeAlertAt(0, { severity: 'warning', host: 'a' });
    const info = activeAlertAt(0, { severity: 'info', host: 'b' });
    expect(bellState([warning, info]).severity).toBe('warning');
    expect(bellState([info, warning]).severity).toBe('warning');
  });
});
