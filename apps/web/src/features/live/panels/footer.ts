import type { AgentMetrics } from '@livestat/contracts';
import { NO_VALUE, formatBytes, formatDecimal, formatPercent } from '../../../lib/format';

/** The value at quantile `q` (0–1) of ascending `sorted`, by nearest rank. */
export function quantile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** The sample-to-screen latency as the footer says it: `median 7 ms · p99 12 ms`. */
export function latencySummary(latencies: readonly number[]): string {
  if (latencies.length === 0) return NO_VALUE;
  const sorted = [...latencies].sort((a, b) => a - b);
  const ms = (v: number | undefined) => `${Math.round(v ?? 0)} ms`;
  return `median ${ms(quantile(sorted, 0.5))} · p99 ${ms(quantile(sorted, 0.99))}`;
}

/** The sampler's own cost: `0.8 % CPU · 75.0 MiB RSS · 3.4 ms per tick`. */
export function agentSummary(agent: AgentMetrics): string {
  return (
    `${formatPercent(agent.cpuPercent)} CPU · ${formatBytes(agent.rssBytes)} RSS · ` +
    `${formatDecimal(agent.collectDurationMs, 1)} ms per tick`
  );
}
