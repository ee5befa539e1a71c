import type { CollectorName, CollectorPayloads } from '@livestat/contracts';

/**
 * One collector: a thin reader over the proc root plus pure parsing. `collect()` returns
 * this tick's payload, or throws; the aggregator turns a throw into
 * `{available: false, error}` so one failure never hides the other collectors.
 */
export interface Collector<K extends CollectorName = CollectorName> {
  readonly name: K;
  /**
   * Takes the first counter reading so that the first `collect()` already has a delta.
   * Long-running sources (the perf child) start here.
   */
  prime?(): Promise<void>;
  collect(): Promise<CollectorPayloads[K]>;
  /** Releases what the collector owns (child processes, timers). Safe to call twice. */
  stop?(): Promise<void>;
}

/** What every collector factory receives. */
export interface CollectorDeps {
  /** Root of the proc filesystem, `/proc` in production, a fixture tree in tests. */
  procRoot: string;
  /** Root of sysfs (`/sys`), for the few sources that live there (resctrl, PMU devices). */
  sysRoot: string;
  /**
   * Where the host's root filesystem is mounted, `/` unless livestat runs in a container
   * with the host's `/` mounted read-only elsewhere (node_exporter's `--path.rootfs`): each
   * mount point of the host's mount table is measured at `rootFs` + mount point.
   */
  rootFs?: string;
  /** Monotonic clock in ms; rates divide counter deltas by differences of it. */
  now: () => number;
}

/** A failure a collector can name precisely; `code` is stable for tests and logs. */
export class CollectorError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CollectorError';
  }
}
