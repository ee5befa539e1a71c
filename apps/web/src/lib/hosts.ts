import type { HostInfo } from '@livestat/contracts';

/**
 * The host list with `incoming` merged in: one entry per name, the later `lastSeen` kept, sorted
 * by name so the host picker does not reorder itself as hosts report. Returns a new array.
 */
export function mergeHosts(known: readonly HostInfo[], incoming: readonly HostInfo[]): HostInfo[] {
  const byName = new Map(known.map((host) => [host.name, host]));
  for (const host of incoming) {
    const seen = byName.get(host.name);
    // ISO 8601 UTC with ms, as the API writes it, sorts as text in time order.
    if (seen === undefined || seen.lastSeen < host.lastSeen) byName.set(host.name, host);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}
