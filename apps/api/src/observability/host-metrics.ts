import type { Snapshot } from '@livestat/contracts';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { HOST_GAUGES } from './host-gauges.js';

/** A host that has sent nothing for this long leaves the exposition (its series vanish). */
export const DEFAULT_STALE_AFTER_MS = 60_000;

/**
 * Collector durations run from well under a millisecond (meminfo) to the 2 s timeout. Few
 * buckets: the histogram is per host and collector, and one livestat may serve many hosts.
 */
const COLLECTOR_BUCKETS = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5];

export interface HostMetricsOptions {
  registry: Registry;
  /** Monotonic clock in ms: when a snapshot arrived, and whether a host is stale. */
  now?: () => number;
  staleAfterMs?: number;
}

export interface HostMetrics {
  /**
   * Takes a snapshot from the bus. Only a host's newest counts: one not newer than the
   * snapshot already held for that host is ignored (returns false), so a replayed or late
   * message neither rolls the gauges back nor counts a collector twice.
   */
  observe(snapshot: Snapshot): boolean;
  /** Hosts currently exposed (not stale), sorted. */
  hosts(): string[];
}

interface Held {
  snapshot: Snapshot;
  /** Date.parse(snapshot.timestamp) */
  time: number;
  /** now() when it arrived */
  receivedAt: number;
  /** Collectors with series under this host, to remove when it goes stale. */
  collectors: Set<string>;
}

/**
 * The hosts' own metrics, node_exporter-style, from the newest snapshot of every host this
 * process sees on the bus (labelled `host`: one livestat serves many hosts, where a
 * node_exporter serves one), plus each host's collector durations and failures. Gauges are
 * filled at scrape time; a host silent for `staleAfterMs` (by this process's clock, whatever
 * the host's clock says) is forgotten and its series leave the exposition.
 */
export function createHostMetrics(options: HostMetricsOptions): HostMetrics {
  const { registry } = options;
  const now = options.now ?? (() => performance.now());
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const held = new Map<string, Held>();

  const collectorDuration = new Histogram({
    name: 'livestat_collector_duration_seconds',
    help: 'Time each collector took per snapshot, by host.',
    labelNames: ['host', 'collector'],
    buckets: COLLECTOR_BUCKETS,
    registers: [registry],
    collect: prune,
  });
  const collectorErrors = new Counter({
    name: 'livestat_collector_errors_total',
    help: 'Snapshots in which the collector failed (available: false), by host.',
    labelNames: ['host', 'collector'],
    registers: [registry],
    collect: prune,
  });

  function prune(): void {
    const cutoff = now() - staleAfterMs;
    for (const [host, entry] of held) {
      if (entry.receivedAt >= cutoff) continue;
      held.delete(host);
      for (const collector of entry.collectors) {
        collectorDuration.remove({ host, collector });
        collectorErrors.remove({ host, collector });
      }
    }
  }

  for (const def of HOST_GAUGES) {
    const gauge: Gauge = new Gauge({
      name: def.name,
      help: def.help,
      labelNames: ['host', ...def.labelNames],
      registers: [registry],
      collect() {
        prune();
        gauge.reset();
        for (const [host, { snapshot }] of held) {
          for (const [labels, value] of def.samples(snapshot))
            gauge.set({ ...labels, host }, value);
        }
      },
    });
  }

  return {
    observe(snapshot) {
      prune();
      const time = Date.parse(snapshot.timestamp);
      const current = held.get(snapshot.host);
      if (current && !(time > current.time)) return false;
      const entry: Held = {
        snapshot,
        time,
        receivedAt: now(),
        collectors: current?.collectors ?? new Set(),
      };
      held.set(snapshot.host, entry);
      for (const [collector, timing] of Object.entries(snapshot.agent.collectors)) {
        const labels = { host: snapshot.host, collector };
        entry.collectors.add(collector);
        collectorDuration.observe(labels, timing.durationMs / 1000);
        // Present from the first snapshot, at 0, so rate() and increase() see the first error.
        collectorErrors.inc(labels, timing.ok ? 0 : 1);
      }
      return true;
    },
    hosts() {
      prune();
      return [...held.keys()].sort();
    },
  };
}
