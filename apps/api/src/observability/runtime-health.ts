import { HEALTH_LIMITS } from '@livestat/contracts';
import type { EventLoopLag } from './event-loop.js';

/**
 * When the process's own rhythm counts as abnormal (shared with the dashboard, which marks the
 * same figures):
 * - any skipped tick: a skipped tick is a snapshot lost for good, and a healthy sampler at any
 *   interval skips none, so even one in the last minute is worth an operator's look;
 * - lag p99 over 200 ms: sustained lateness of a fifth of the default 1 s interval makes
 *   charts stutter and heartbeats late, while GC pauses and a busy collector stay far below it;
 * - one delay over 1 s: the loop stood still for a whole default interval, so nothing streamed,
 *   no heartbeat went out and no request was answered for that long.
 */
export const RUNTIME_HEALTH_LIMITS = HEALTH_LIMITS;

export interface RuntimeHealthInput {
  /** This process's sampler, or undefined when it does not sample (`SAMPLING=off`). */
  sampler?: { skippedTicksLastMinute: number };
  eventLoop: EventLoopLag;
}

function ms(value: number): string {
  return value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

/**
 * Why the process's own rhythm is abnormal, as short sentences for `/api/health`'s `reasons`
 * and the dashboard: none when it is sound.
 */
export function runtimeHealthReasons(
  input: RuntimeHealthInput,
  limits: typeof RUNTIME_HEALTH_LIMITS = RUNTIME_HEALTH_LIMITS,
): string[] {
  const reasons: string[] = [];
  const skipped = input.sampler?.skippedTicksLastMinute ?? 0;
  if (skipped > limits.maxSkippedTicksLastMinute) {
    reasons.push(
      `sampler skipped ${skipped} tick${skipped === 1 ? '' : 's'} in the last minute (snapshots lost)`,
    );
  }
  const { lagMs, maxLagMs } = input.eventLoop;
  if (lagMs > limits.maxLagMs) {
    reasons.push(`event-loop lag p99 ${ms(lagMs)} (over ${ms(limits.maxLagMs)})`);
  }
  if (maxLagMs > limits.maxStallMs) {
    reasons.push(`event loop stalled for ${ms(maxLagMs)} in the last minute`);
  }
  return reasons;
}
