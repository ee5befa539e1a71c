/** Most buckets one window keeps, whatever its duration: memory per series is bounded. */
export const WINDOW_BUCKETS = 60;

/**
 * A rolling average over the last `durationMs`, kept as at most {@link WINDOW_BUCKETS} buckets
 * of (sum, count): one sample costs O(1) amortized and the memory is the same for a 30 s
 * rule and a one-day one. The window's edge moves a bucket at a time (1/60 of the duration, or
 * 1 s for windows up to a minute), which is all the precision an alert's "for" needs.
 */
export class RollingWindow {
  readonly durationMs: number;
  private readonly widthMs: number;
  private readonly sums: Float64Array;
  private readonly counts: Uint32Array;
  private head = -Infinity;
  private total = 0;
  private count = 0;
  private first = NaN;
  private last = NaN;

  constructor(durationMs: number) {
    this.durationMs = durationMs;
    const buckets =
      durationMs <= 0
        ? 1
        : durationMs <= 60_000
          ? Math.max(1, Math.ceil(durationMs / 1000))
          : WINDOW_BUCKETS;
    this.widthMs = durationMs <= 0 ? 1 : Math.ceil(durationMs / buckets);
    this.sums = new Float64Array(buckets);
    this.counts = new Uint32Array(buckets);
  }

  /** Adds a sample taken at `at` (epoch ms). A sample older than the window is ignored. */
  add(at: number, value: number): void {
    this.last = value;
    if (this.durationMs <= 0) return;
    const size = this.sums.length;
    const bucket = Math.floor(at / this.widthMs);
    if (bucket > this.head) {
      if (bucket - this.head >= size) {
        // The window moved past everything it held (or holds nothing yet).
        this.sums.fill(0);
        this.counts.fill(0);
        this.total = 0;
        this.count = 0;
      } else {
        // Empty the buckets the window moved onto.
        for (let n = this.head + 1; n <= bucket; n++) {
          const slot = n % size;
          this.total -= this.sums[slot]!;
          this.count -= this.counts[slot]!;
          this.sums[slot] = 0;
          this.counts[slot] = 0;
        }
      }
      this.head = bucket;
      if (this.count === 0) this.first = at;
    } else if (bucket <= this.head - size) {
      return;
    }
    const slot = bucket % size;
    this.sums[slot]! += value;
    this.counts[slot]! += 1;
    this.total += value;
    this.count += 1;
    if (Number.isNaN(this.first)) this.first = at;
  }

  /** The mean of the samples in the window (the newest sample for a zero duration); NaN when empty. */
  average(): number {
    if (this.durationMs <= 0) return this.last;
    return this.count === 0 ? NaN : this.total / this.count;
  }

  /** The newest sample; NaN before the first. */
  latest(): number {
    return this.last;
  }

  /**
   * Whether the samples reach back the whole duration (less one bucket, the edge's
   * precision) without the window having emptied: a fresh window cannot fire a long rule.
   */
  covers(now: number): boolean {
    if (this.durationMs <= 0) return !Number.isNaN(this.last);
    return this.count > 0 && now - this.first >= this.durationMs - this.widthMs;
  }

  /** Forgets every sample (the series vanished, or the rule changed). */
  clear(): void {
    this.sums.fill(0);
    this.counts.fill(0);
    this.head = -Infinity;
    this.total = 0;
    this.count = 0;
    this.first = NaN;
    this.last = NaN;
  }
}
