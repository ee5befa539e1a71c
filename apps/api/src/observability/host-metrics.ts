import type { Snapshot } from '@livestat/contracts';
import { Counter, Histogram, type Metric, type Registry } from 'prom-client';
import { HOST_COUNTERS, meminfoMetricName, meminfoOf, vmstatOf } from './host-counters.js';
import { HOST_GAUGES, type HostGaugeDef, type HostSample } from './host-gauges.js';

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

/**
 * The label every host series carries: `instance`, the label node_exporter dashboards template
 * on. Prometheus sets its own `instance` (the target scraped) unless the scrape config says
 * `honor_labels: true`, which keeps ours; README.md shows the config.
 */
export const HOST_LABEL = 'instance';

// The meminfo fields every host has had since 3.14: their families exist from the first
// scrape, before any snapshot, as node_exporter's do.
const COMMON_MEMINFO = [
  'MemTotal',
  'MemFree',
  'MemAvailable',
  'Buffers',
  'Shmem',
  'SwapTotal',
  'SwapFree',
];

const MEMINFO_FIELD = /^[A-Za-z][A-Za-z0-9_]*(\([A-Za-z0-9_]+\))?$/;
const VMSTAT_FIELD = /^(oom_kill|pgpg|pswp|pg[a-z0-9_]*fault)[a-z0-9_]*$/;

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
 * process sees on the bus (labelled `instance`: one livestat serves many hosts, where a
 * node_exporter serves one), plus each host's collector durations and failures. Families
 * are filled at scrape time, gauges, counters and untyped as node_exporter types them; a host silent for `staleAfterMs` (by this process's clock, whatever
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
    labelNames: [HOST_LABEL, 'collector'],
    buckets: COLLECTOR_BUCKETS,
    registers: [registry],
    collect: prune,
  });
  const collectorErrors = new Counter({
    name: 'livestat_collector_errors_total',
    help: 'Snapshots in which the collector failed (available: false), by host.',
    labelNames: [HOST_LABEL, 'collector'],
    registers: [registry],
    collect: prune,
  });

  function prune(): void {
    const cutoff = now() - staleAfterMs;
    for (const [host, entry] of held) {
      if (entry.receivedAt >= cutoff) continue;
      held.delete(host);
      for (const collector of entry.collectors) {
        collectorDuration.remove({ [HOST_LABEL]: host, collector });
        collectorErrors.remove({ [HOST_LABEL]: host, collector });
      }
    }
  }

  // prom-client has no untyped metric and no counter one may set, so every host family is a
  // plain object the registry reads as it reads its own: name, help, type and values.
  const families = new Set<string>();
  function family(def: HostGaugeDef): void {
    if (families.has(def.name)) return;
    families.add(def.name);
    const type = def.type ?? 'gauge';
    const values = () => {
      prune();
      const out: { labels: Record<string, string>; value: number }[] = [];
      for (const [host, { snapshot }] of held) {
        for (const [labels, value] of def.samples(snapshot)) {
          out.push({ labels: { ...labels, [HOST_LABEL]: host }, value });
        }
      }
      return out;
    };
    const metric = {
      name: def.name,
      help: def.help,
      type,
      aggregator: 'sum',
      labelNames: [HOST_LABEL, ...def.labelNames],
      get: async () => ({
        name: def.name,
        help: def.help,
        type,
        aggregator: 'sum',
        values: values(),
      }),
      reset: () => undefined,
    };
    registry.registerMetric(metric as unknown as Metric);
  }
  for (const def of [...HOST_GAUGES, ...HOST_COUNTERS]) family(def);

  const fieldSamples =
    (of: (s: Snapshot) => Record<string, number>, field: string) =>
    (s: Snapshot): HostSample[] => {
      const value = of(s)[field];
      return value === undefined ? [] : [[{}, value]];
    };
  // Fields (meminfo) and keys (vmstat) already given a family or refused one: a snapshot's
  // ~60 names are the same every tick, so each is looked at once, not once a second.
  const seenMeminfo = new Set<string>();
  const seenVmstat = new Set<string>();
  function meminfoFamily(field: string): void {
    seenMeminfo.add(field);
    const name = meminfoMetricName(field);
    const suffix = name.slice('node_memory_'.length);
    family({
      name,
      help: `Memory information field ${suffix}.`,
      labelNames: [],
      samples: fieldSamples(meminfoOf, field),
    });
  }
  for (const field of COMMON_MEMINFO) meminfoFamily(field);

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
      // Families for the fields this host reports, as its kernel names them.
      // Only names a kernel could print: an agent on the bus must not mint metric names.
      // (A host without the full map gives only COMMON_MEMINFO's fields, minted above.)
      for (const [field] of (snapshot.memory.available ? snapshot.memory.meminfo : null) ?? []) {
        if (seenMeminfo.has(field)) continue;
        if (MEMINFO_FIELD.test(field)) meminfoFamily(field);
        else seenMeminfo.add(field);
      }
      for (const [key] of (snapshot.bandwidth.available ? snapshot.bandwidth.vmstat : null) ?? []) {
        if (seenVmstat.has(key)) continue;
        seenVmstat.add(key);
        if (!VMSTAT_FIELD.test(key)) continue;
        family({
          name: `node_vmstat_${key}`,
          help: `/proc/vmstat information field ${key}.`,
          type: 'untyped',
          labelNames: [],
          samples: fieldSamples(vmstatOf, key),
        });
      }
      for (const [collector, timing] of Object.entries(snapshot.agent.collectors)) {
        const labels = { [HOST_LABEL]: snapshot.host, collector };
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
