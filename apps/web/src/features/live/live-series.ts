import {
  HISTORY_MAX_POINTS,
  HISTORY_MAX_SERIES,
  SERIES_SECTIONS,
  flattenSeries,
} from '@livestat/contracts';
import type { HistoryResponse, Snapshot } from '@livestat/contracts';
import { chartedNames, chartedPaths } from './panels/charted';
import { SeriesRing } from './series-ring';

/** The live windows the dashboard offers, in minutes. */
export const LIVE_WINDOW_MINUTES = [1, 5, 15] as const;
/** One of {@link LIVE_WINDOW_MINUTES}. */
export type LiveWindowMinutes = (typeof LIVE_WINDOW_MINUTES)[number];

/**
 * The fastest sampling a ring is sized for: 0.5 s. A faster one (the API accepts down to 0.1 s)
 * still works, its rings simply hold a shorter span than the window.
 */
export const MIN_SAMPLE_INTERVAL_MS = 500;

/**
 * What the history API backfills while the socket is down, before a snapshot has named the
 * host's cores, interfaces and devices: every fixed-name series a panel charts.
 */
export const BACKFILL_SERIES: readonly string[] = chartedPaths();

/** What the history API backfills for the host of `snapshot`: every series its panels chart. */
export function backfillSeriesFor(snapshot: Snapshot | undefined): string[] {
  return chartedPaths(chartedNames(snapshot));
}

/** How many points a ring needs for `windowMs` at `intervalMs`, with one to spare at each end. */
export function ringCapacity(windowMs: number, intervalMs: number): number {
  return Math.ceil(windowMs / Math.max(intervalMs, MIN_SAMPLE_INTERVAL_MS)) + 2;
}

/** One `GET /api/history` request of a backfill; times in epoch ms. */
export interface BackfillRequest {
  host: string;
  series: string[];
  from: number;
  to: number;
  points: number;
}

/**
 * The history requests that fill `host`'s window ending at `now`: the series in groups the API
 * accepts (at most 20 a request), one bucket per sampling interval (at most 5000).
 */
export function backfillRequests(
  host: string,
  series: readonly string[],
  live: Pick<LiveSeries, 'windowMs' | 'intervalMs'>,
  now: number,
): BackfillRequest[] {
  const points = Math.min(HISTORY_MAX_POINTS, Math.ceil(live.windowMs / live.intervalMs));
  const requests: BackfillRequest[] = [];
  for (let i = 0; i < series.length; i += HISTORY_MAX_SERIES) {
    const group = series.slice(i, i + HISTORY_MAX_SERIES);
    requests.push({ host, series: group, from: now - live.windowMs, to: now, points });
  }
  return requests;
}

/**
 * Every series of one host over the live window: a {@link SeriesRing} per series path
 * (`cpu.usagePercent`, `network.interfaces.eth0.rxBytesPerSec`, …), fed by snapshots and by
 * history buckets. Plain TypeScript: the store keeps it behind `markRaw` and bumps a version
 * counter when it changes, so charts redraw without Vue tracking thousands of numbers.
 */
export class LiveSeries {
  readonly #rings = new Map<string, SeriesRing>();
  #windowMs: number;
  #revision = 0;
  #intervalMs: number;
  #capacity: number;
  /** The newest sample time held, the reference the window is cut from. */
  #newest = Number.NEGATIVE_INFINITY;

  constructor(windowMs: number, intervalMs = 1000) {
    LiveSeries.#check(windowMs, intervalMs);
    this.#windowMs = windowMs;
    this.#intervalMs = intervalMs;
    this.#capacity = ringCapacity(windowMs, intervalMs);
  }

  static #check(windowMs: number, intervalMs: number): void {
    if (!(windowMs > 0) || !(intervalMs > 0)) {
      throw new RangeError(
        `windowMs and intervalMs must be positive (got ${windowMs}, ${intervalMs})`,
      );
    }
  }

  get windowMs(): number {
    return this.#windowMs;
  }

  /** The sampling interval the rings are sized for. */
  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Points each ring holds at most. */
  get capacity(): number {
    return this.#capacity;
  }

  /** How many series are held. */
  get size(): number {
    return this.#rings.size;
  }

  /** The ring of one series path, if any point of it is held. */
  get(path: string): SeriesRing | undefined {
    return this.#rings.get(path);
  }

  /** Every series path held. */
  paths(): string[] {
    return [...this.#rings.keys()];
  }

  /**
   * Bumped by every change other than samples appended at the newest time (history filled in,
   * a late sample, the window changed, the host cleared): a chart that skips redraws while the
   * window has moved less than a pixel still redraws at once for these.
   */
  get revision(): number {
    return this.#revision;
  }

  /** The points older than this fall out of the window. */
  get cutoff(): number {
    return this.#newest - this.#windowMs;
  }

  /** Changes the window (and the interval the rings are sized for), keeping what still fits. */
  setWindow(windowMs: number, intervalMs = this.#intervalMs): void {
    LiveSeries.#check(windowMs, intervalMs);
    this.#windowMs = windowMs;
    this.#intervalMs = intervalMs;
    this.#capacity = ringCapacity(windowMs, intervalMs);
    for (const ring of this.#rings.values()) ring.resize(this.#capacity);
    this.#revision += 1;
    this.#sweep();
  }

  /**
   * Adds every numeric value of a snapshot at its timestamp (`flattenSeries` of each section).
   * A snapshot older than the window, or one already held, adds nothing. Returns the number
   * of points stored.
   */
  addSnapshot(snapshot: Snapshot): number {
    const time = Date.parse(snapshot.timestamp);
    if (!Number.isFinite(time)) return 0;
    // Rings are sized by the host's own interval once it is known (5 s sampling needs a fifth
    // of 1 s's points); after that they only grow, so nothing held is ever cut short.
    const interval = Math.max(snapshot.intervalMs, MIN_SAMPLE_INTERVAL_MS);
    if (this.#rings.size === 0 ? interval !== this.#intervalMs : interval < this.#intervalMs) {
      this.setWindow(this.#windowMs, interval);
    }
    if (time < this.cutoff) return 0;
    let stored = 0;
    for (const section of SERIES_SECTIONS) {
      for (const [path, value] of flattenSeries(section, snapshot[section])) {
        if (this.#ring(path).add(time, value)) stored += 1;
      }
    }
    if (stored > 0 && time < this.#newest) this.#revision += 1;
    if (time > this.#newest) {
      this.#newest = time;
      this.#sweep();
    }
    return stored;
  }

  /**
   * Adds values by series path at one time: an application's metrics (`app.<service>.…`), which
   * arrive in `app` messages on the sampler's ticks beside the snapshots. Returns the number of
   * points stored.
   */
  addPoints(time: number, values: ReadonlyMap<string, number>): number {
    if (!Number.isFinite(time) || time < this.cutoff) return 0;
    let stored = 0;
    for (const [path, value] of values) {
      if (this.#ring(path).add(time, value)) stored += 1;
    }
    if (stored > 0 && time < this.#newest) this.#revision += 1;
    if (time > this.#newest) {
      this.#newest = time;
      this.#sweep();
    }
    return stored;
  }

  /**
   * Adds history buckets (`[epochMs, avg, min, max]`, the average drawn) where the live data
   * has nothing in the bucket's span: the window before the first live sample after a page
   * load, or a hole a reconnect left. A bucket overlapping live samples is skipped, so exact
   * samples are never blurred by an average. Returns the number of points stored.
   */
  addHistory(response: HistoryResponse): number {
    let stored = 0;
    let newest = this.#newest;
    for (const [path, points] of Object.entries(response.series)) {
      const existing = this.#rings.get(path);
      for (const [time, avg] of points) {
        if (avg === null) continue;
        if (existing?.hasPointIn(time, time + response.bucketMs)) continue;
        if (this.#ring(path).add(time, avg)) {
          stored += 1;
          if (time > newest) newest = time;
        }
      }
    }
    if (newest > this.#newest) this.#newest = newest;
    if (stored > 0) this.#revision += 1;
    this.#sweep();
    return stored;
  }

  /** Forgets every series (another host was picked). */
  clear(): void {
    this.#rings.clear();
    this.#newest = Number.NEGATIVE_INFINITY;
    this.#revision += 1;
  }

  #ring(path: string): SeriesRing {
    let ring = this.#rings.get(path);
    if (ring === undefined) {
      ring = new SeriesRing(this.#capacity);
      this.#rings.set(path, ring);
    }
    return ring;
  }

  // Cuts every ring to the window and forgets series with nothing left in it (an interface
  // or a disk that went away), so a long-running page does not collect dead series.
  #sweep(): void {
    const cutoff = this.cutoff;
    for (const [path, ring] of this.#rings) {
      ring.dropBefore(cutoff);
      if (ring.length === 0) this.#rings.delete(path);
    }
  }
}
