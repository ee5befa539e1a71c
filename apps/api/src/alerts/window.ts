/** Most buckets one window keeps, whatever its duration: memory per series is bounded. */
export const WINDOW_BUCKETS = 30;

/**
 * A rolling average over the last `durationMs`, kept as at most {@link WINDOW_BUCKETS} buckets
 * of (sum, count): one sample costs O(1) amortized and the memory is the same for a 30 s
 * rule and a one-day one (≈ 0.5 KB). The window's edge moves a bucket at a time (1/30 of the
 * duration, or 1 s for windows up to 30 s), which is all the precision an alert's "for" needs;
 * sum and count sit side by side in one array, so a sample touches one cache line.
 */
export class RollingWindow {
  readonly durationMs: number;
  private readonly widthMs: number;
  /** Bucket i's sum at 2i, its count at 2i + 1. */
  private readonly buckets: Float64Array;
  private readonly size: number;
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
        : durationMs <= WINDOW_BUCKETS * 1000
          ? Math.max(1, Math.ceil(durationMs / 1000))
          : WINDOW_BUCKETS;
    this.widthMs = durationMs <= 0 ? 1 : Math.ceil(durationMs / buckets);
    this.size = buckets;
    this.buckets = new Float64Array(2 * buckets);
  }

  /** Adds a sample taken at `at` (epoch ms). A sample older than the window is ignored. */
  add(at: number, value: number): void {
    this.last = value;
    this.addSum(at, value, 1);
  }

  /**
   * Adds `count` samples summing to `sum` taken at `at`: a stored rollup bucket, so a window
   * reaching further back than the live stream (after a restart or a change of leader) is full
   * at once. Buckets must come oldest first, before the live samples.
   */
  addSum(at: number, sum: number, count: number): void {
    if (this.durationMs <= 0 || count <= 0) return;
    const size = this.size;
    const b = this.buckets;
    const bucket = Math.floor(at / this.widthMs);
    if (bucket > this.head) {
      if (bucket - this.head >= size) {
        // The window moved past everything it held (or holds nothing yet).
        b.fill(0);
        this.total = 0;
        this.count = 0;
      } else {
        // Empty the buckets the window moved onto.
        for (let n = this.head + 1; n <= bucket; n++) {
          const slot = 2 * (n % size);
          this.total -= b[slot]!;
          this.count -= b[slot + 1]!;
          b[slot] = 0;
          b[slot + 1] = 0;
        }
      }
      this.head = bucket;
      if (this.count === 0) this.first = at;
    } else if (bucket <= this.head - size) {
      return;
    }
    const slot = 2 * (bucket % size);
    b[slot]! += sum;
    b[slot + 1]! += count;
    this.total += sum;
    this.count += count;
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
    this.buckets.fill(0);
    this.head = -Infinity;
    this.total = 0;
    this.count = 0;
    this.first = NaN;
    this.last = NaN;
  }
}
