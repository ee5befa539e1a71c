/** What a {@link WindowFill} asks the socket for: `{type:'resume', host, after}`. */
export interface ResumePlan {
  /** Epoch ms: the server sends every snapshot strictly after it. */
  after: number;
  /** The snapshot time that ends this resume: the newest one the socket had sent. */
  target: number;
}

interface Fill extends ResumePlan {
  /** Where the filled part starts: `after` of the first resume of this fill. */
  from: number;
  /** The newest resumed snapshot so far: where a retry continues. */
  reached: number;
  /** Sent and not yet answered in full; false while waiting to retry after `busy`. */
  sent: boolean;
}

/**
 * Which part of one host's live window the socket's `resume` still has to fill, at the sampling
 * resolution: on a page load the whole window, after a reconnect the hole since the last
 * snapshot, after a longer window is picked the whole new window. Plain state, no timers: the
 * metrics store sends what {@link WindowFill.next} plans and reports what arrives.
 *
 * One resume at a time: while one is answered, `next` plans nothing. The server answers a
 * resume with the snapshots after `after`, oldest first, up to the newest it holds, so the one
 * at `target` (the newest the socket had sent before the resume went out) ends it; an `error`
 * (`busy`: retry later from the last snapshot received) or a closed socket ends it too.
 */
export class WindowFill {
  /** Everything from here on is held (while `gapless`, up to now); null: nothing filled yet. */
  #filledFrom: number | null = null;
  /** Held without a hole up to here. */
  #upTo: number | null = null;
  /** The stream has run without a break since the window was last filled. */
  #gapless = false;
  #fill: Fill | null = null;

  /** A resume is on its way and not yet answered in full. */
  get inFlight(): boolean {
    return this.#fill?.sent === true;
  }

  /**
   * The resume to send now for a window of `windowMs` ending at `anchor` (the newest snapshot
   * time this socket sent), or null when the window is already full or a resume is under way.
   */
  next(anchor: number, windowMs: number): ResumePlan | null {
    const fill = this.#fill;
    if (fill?.sent) return null;
    if (fill) {
      // After `busy`: carry on from the last snapshot that arrived.
      fill.after = fill.reached;
      fill.target = Math.max(anchor, fill.reached);
      fill.sent = true;
      return fill.after < fill.target ? { after: fill.after, target: fill.target } : this.#done();
    }
    const start = anchor - windowMs;
    let after: number;
    if (this.#filledFrom === null || this.#filledFrom > start) after = start;
    else if (this.#gapless) return null;
    else after = Math.max(this.#upTo ?? start, start);
    if (after >= anchor) {
      this.#gapless = true;
      this.#upTo = Math.max(this.#upTo ?? anchor, anchor);
      return null;
    }
    this.#fill = { from: after, after, target: anchor, reached: after, sent: true };
    return { after, target: anchor };
  }

  /**
   * A snapshot at `time` came over the socket. Returns true when it ended the resume under way.
   */
  received(time: number): boolean {
    const fill = this.#fill;
    if (fill?.sent && time > fill.reached && time <= fill.target) {
      fill.reached = time;
      if (time === fill.target) {
        this.#done();
        return true;
      }
      return false;
    }
    if (this.#gapless && time > (this.#upTo ?? Number.NEGATIVE_INFINITY)) this.#upTo = time;
    return false;
  }

  /** The server refused the resume for now (`busy`): `next` plans the rest. */
  busy(): void {
    if (this.#fill) this.#fill.sent = false;
  }

  /**
   * The resume will not be answered in full (the server could not read it, or it stalled):
   * counted as done, so no resume loops; the caller fills what is missing some other way.
   */
  abandon(): void {
    if (this.#fill) this.#done();
  }

  /** The socket closed: the stream has a hole from the last snapshot on. */
  disconnected(): void {
    this.#fill = null;
    this.#gapless = false;
  }

  /** A longer window was picked: the part before what is held needs filling. */
  widen(): void {
    this.#filledFrom = null;
  }

  /** Another host: nothing of its window is held. */
  reset(): void {
    this.#filledFrom = null;
    this.#upTo = null;
    this.#gapless = false;
    this.#fill = null;
  }

  #done(): null {
    const fill = this.#fill;
    this.#fill = null;
    if (fill === null) return null;
    this.#filledFrom =
      this.#filledFrom === null ? fill.from : Math.min(this.#filledFrom, fill.from);
    this.#upTo = Math.max(this.#upTo ?? fill.target, fill.target);
    this.#gapless = true;
    return null;
  }
}
