/**
 * A bounded ring of `(time, value)` points for one series, kept in time order, in two
 * `Float64Array`s: a 15-minute window of a few hundred series costs a few MB and no garbage
 * per sample. Never put one inside Vue's reactivity (wrap its owner in `markRaw`).
 */
export class SeriesRing {
  #times: Float64Array;
  #values: Float64Array;
  /** Physical index of the oldest point. */
  #head = 0;
  #length = 0;

  constructor(capacity: number) {
    SeriesRing.#checkCapacity(capacity);
    this.#times = new Float64Array(capacity);
    this.#values = new Float64Array(capacity);
  }

  static #checkCapacity(capacity: number): void {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a whole number ≥ 1, got ${capacity}`);
    }
  }

  /** Most points held; adding to a full ring drops the oldest. */
  get capacity(): number {
    return this.#times.length;
  }

  get length(): number {
    return this.#length;
  }

  #slot(index: number): number {
    return (this.#head + index) % this.#times.length;
  }

  /** The time of the `index`-th oldest point (0 is the oldest). */
  timeAt(index: number): number {
    return this.#times[this.#slot(index)] ?? Number.NaN;
  }

  /** The value of the `index`-th oldest point. */
  valueAt(index: number): number {
    return this.#values[this.#slot(index)] ?? Number.NaN;
  }

  /** The oldest point's time, or undefined when empty. */
  get firstTime(): number | undefined {
    return this.#length === 0 ? undefined : this.timeAt(0);
  }

  /** The newest point's time, or undefined when empty. */
  get lastTime(): number | undefined {
    return this.#length === 0 ? undefined : this.timeAt(this.#length - 1);
  }

  /** The newest point's value, or undefined when empty. */
  get lastValue(): number | undefined {
    return this.#length === 0 ? undefined : this.valueAt(this.#length - 1);
  }

  /** The index of the first point whose time is ≥ `time` (`length` when none is). */
  lowerBound(time: number): number {
    let lo = 0;
    let hi = this.#length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timeAt(mid) < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Whether a point lies in `[from, to)`. */
  hasPointIn(from: number, to: number): boolean {
    const index = this.lowerBound(from);
    return index < this.#length && this.timeAt(index) < to;
  }

  /**
   * Adds a point where its time belongs: appended when it is the newest (every live sample),
   * inserted when older (a resumed snapshot filling a gap). A point whose time is already held
   * is skipped, as is one older than everything in a full ring. Returns whether it was stored.
   */
  add(time: number, value: number): boolean {
    if (!Number.isFinite(time) || !Number.isFinite(value)) return false;
    const capacity = this.#times.length;
    const last = this.lastTime;
    if (last === undefined || time > last) {
      if (this.#length === capacity) {
        this.#head = (this.#head + 1) % capacity;
        this.#length -= 1;
      }
      const slot = this.#slot(this.#length);
      this.#times[slot] = time;
      this.#values[slot] = value;
      this.#length += 1;
      return true;
    }
    let index = this.lowerBound(time);
    if (index < this.#length && this.timeAt(index) === time) return false;
    if (this.#length === capacity) {
      if (index === 0) return false;
      this.#head = (this.#head + 1) % capacity;
      this.#length -= 1;
      index -= 1;
    }
    // Shift the newer points one slot towards the end; gaps are rare and the rings small.
    for (let i = this.#length; i > index; i--) {
      const to = this.#slot(i);
      const from = this.#slot(i - 1);
      this.#times[to] = this.#times[from]!;
      this.#values[to] = this.#values[from]!;
    }
    const slot = this.#slot(index);
    this.#times[slot] = time;
    this.#values[slot] = value;
    this.#length += 1;
    return true;
  }

  /** Drops every point older than `time`; returns how many went. */
  dropBefore(time: number): number {
    const count = this.lowerBound(time);
    if (count === 0) return 0;
    this.#head = this.#slot(count);
    this.#length -= count;
    if (this.#length === 0) this.#head = 0;
    return count;
  }

  /** Changes the capacity, keeping the newest points that fit. */
  resize(capacity: number): void {
    SeriesRing.#checkCapacity(capacity);
    if (capacity === this.#times.length) return;
    const keep = Math.min(this.#length, capacity);
    const skip = this.#length - keep;
    const times = new Float64Array(capacity);
    const values = new Float64Array(capacity);
    for (let i = 0; i < keep; i++) {
      times[i] = this.timeAt(skip + i);
      values[i] = this.valueAt(skip + i);
    }
    this.#times = times;
    this.#values = values;
    this.#head = 0;
    this.#length = keep;
  }

  clear(): void {
    this.#head = 0;
    this.#length = 0;
  }

  /** The points oldest first as `[time, value]` pairs: a fresh array a chart may keep. */
  toPoints(): [number, number][] {
    const points: [number, number][] = new Array(this.#length);
    for (let i = 0; i < this.#length; i++) points[i] = [this.timeAt(i), this.valueAt(i)];
    return points;
  }
}
