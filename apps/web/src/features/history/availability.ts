import { flattenSeries, resolveSeries } from '@livestat/contracts';
import type { Snapshot } from '@livestat/contracts';
import type { SeriesGroup } from './history-view';

/** What the chooser says for a series the host measures nothing of, and gave no reason. */
export const NOT_MEASURED = 'not measured on this host';
/** What it says for a series of a section the host's agent does not send. */
export const NOT_REPORTED = "not reported by this host's agent";

/**
 * Why the series at `path` cannot exist on the host of `snapshot` (its latest), or null when
 * it has a value there: the collector's error when it is unavailable; for a counter it leaves
 * empty, the collector's own reason (hardware performance counters without a PMU, DRAM
 * bandwidth without resctrl or uncore_imc). Unknown without a snapshot: null.
 */
export function seriesUnavailable(path: string, snapshot: Snapshot | undefined): string | null {
  const resolved = resolveSeries(path);
  if (snapshot === undefined || resolved === null) return null;
  const payload = snapshot[resolved.section] as { available?: boolean; error?: string } | undefined;
  // A section added since the host's agent was built (pressure, cgroups) is simply not there.
  if (payload === undefined) return NOT_REPORTED;
  if (payload.available === false) return payload.error ?? NOT_MEASURED;
  if (flattenSeries(resolved.section, payload).has(path)) return null;
  // A cgroup comes and goes (a container stopped, or out of the snapshot's top 20 for now):
  // its past may still be stored.
  if (path.startsWith('cgroups.groups.')) return null;
  if (snapshot.perf.available && resolved.section === 'perf') {
    return snapshot.perf.hardwareUnavailableReason ?? NOT_MEASURED;
  }
  if (snapshot.bandwidth.available && path.startsWith('bandwidth.dram.')) {
    return snapshot.bandwidth.dramUnavailableReason ?? NOT_MEASURED;
  }
  return NOT_MEASURED;
}

/**
 * Why a chart would be empty on this host: the reason of its first series when none of its
 * series can exist there; null when one can, or when nothing is known yet.
 */
export function groupUnavailable(
  group: SeriesGroup,
  snapshot: Snapshot | undefined,
): string | null {
  const reasons = group.series.map((series) => seriesUnavailable(series.path, snapshot));
  return reasons.every((reason) => reason !== null) ? (reasons[0] ?? null) : null;
}

/** For each group that cannot be drawn on this host, by id, why. */
export function unavailableGroups(
  groups: readonly SeriesGroup[],
  snapshot: Snapshot | undefined,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const group of groups) {
    const reason = groupUnavailable(group, snapshot);
    if (reason !== null) out.set(group.id, reason);
  }
  return out;
}

/**
 * The charts a fresh view selects: the default ids less the charts this host cannot draw (IPC
 * without a PMU), which stay in the chooser, unchecked, with their reason.
 */
export function defaultSelection(
  defaults: readonly string[],
  groups: readonly SeriesGroup[],
  snapshot: Snapshot | undefined,
): string[] {
  const unavailable = unavailableGroups(groups, snapshot);
  return defaults.filter((id) => !unavailable.has(id));
}
