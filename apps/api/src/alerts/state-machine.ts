import type { AlertComparison, AlertState } from '@livestat/contracts';
import { compare } from './rules.js';

/** Where one (rule, host, series) stands, as stored in `alert_states`. */
export interface AlertStatus {
  state: AlertState;
  /** Epoch ms it entered `state`. */
  since: number;
  /** Epoch ms it last started firing; null when it is not firing. */
  firingSince: number | null;
  /** The value last evaluated. */
  value: number | null;
}

/** What a rule compares, for one evaluation. */
export interface RuleLimits {
  comparison: AlertComparison;
  threshold: number;
  /** Where a firing alert resolves; null resolves where it fired. */
  recoveryThreshold: number | null;
}

/** One evaluation's inputs. */
export interface Observation {
  now: number;
  /** The newest sample. */
  latest: number;
  /** The average over the rule's `for` window. */
  average: number;
  /** Whether the window already spans the whole `for` duration (a fresh one does not). */
  covered: boolean;
}

/** A move from one state to another. */
export interface Transition {
  from: AlertState;
  to: AlertState;
  at: number;
  value: number | null;
}

export const INITIAL_STATUS: AlertStatus = {
  state: 'ok',
  since: 0,
  firingSince: null,
  value: null,
};

/**
 * The alert state machine, pure: ok → pending → firing → resolved (→ pending …).
 *
 * - It fires when the average over the whole `for` window is on the alerting side of the
 *   threshold ("≥ 95 % for 15 m, averaged"); it is pending while the newest sample is there but
 *   the window's average (or the window itself) is not yet.
 * - It resolves, and a pending one returns to ok, only once the value has crossed the recovery
 *   threshold: a value flapping between the two limits holds its state (hysteresis).
 *
 * Returns the new status and the transition made, if any.
 */
export function evaluate(
  status: AlertStatus,
  limits: RuleLimits,
  observation: Observation,
): { status: AlertStatus; transition: Transition | null } {
  const next = nextState(status.state, limits, observation);
  const { now, average } = observation;
  if (next === status.state) {
    return { status: { ...status, value: average }, transition: null };
  }
  return {
    status: {
      state: next,
      since: now,
      firingSince: next === 'firing' ? now : null,
      value: average,
    },
    transition: { from: status.state, to: next, at: now, value: average },
  };
}

/**
 * The state {@link evaluate} moves to, without allocating: the evaluator calls it for every
 * series of every snapshot and builds a transition only when the state changes.
 */
export function nextState(
  state: AlertState,
  limits: RuleLimits,
  observation: Observation,
): AlertState {
  const { latest, average, covered } = observation;
  const { comparison, threshold } = limits;
  const recovery = limits.recoveryThreshold ?? threshold;
  const breaching = covered && compare(comparison, average, threshold);
  switch (state) {
    case 'ok':
    case 'resolved':
      if (breaching) return 'firing';
      return compare(comparison, latest, threshold) ? 'pending' : state;
    case 'pending':
      if (breaching) return 'firing';
      // Back to ok only past the recovery limit, the newest sample and the average alike.
      if (!compare(comparison, latest, recovery) && !compare(comparison, average, recovery)) {
        return 'ok';
      }
      return state;
    case 'firing':
      return compare(comparison, average, recovery) ? state : 'resolved';
  }
}

/**
 * The host-down rule's machine: no window, only silence. Fires once the host has been silent
 * `afterMs`; resolves at its next snapshot.
 */
export function evaluateSilence(
  status: AlertStatus,
  observation: { now: number; lastSeen: number; afterMs: number },
): { status: AlertStatus; transition: Transition | null } {
  const { now, lastSeen, afterMs } = observation;
  const silent = now - lastSeen >= afterMs;
  const seconds = Math.round((now - lastSeen) / 100) / 10;
  let next: AlertState = status.state;
  if (status.state === 'firing') {
    if (!silent) next = 'resolved';
  } else if (silent) next = 'firing';
  if (next === status.state) return { status, transition: null };
  const value = next === 'firing' ? seconds : null;
  return {
    status: { state: next, since: now, firingSince: next === 'firing' ? now : null, value },
    transition: { from: status.state, to: next, at: now, value },
  };
}
