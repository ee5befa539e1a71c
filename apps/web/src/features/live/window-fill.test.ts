import { describe, expect, it } from 'vitest';
import { WindowFill } from './window-fill';

const MIN = 60_000;
const T = 1_700_000_000_000;

/** Feeds `times` as snapshots over the socket; returns whether any ended the resume. */
const feed = (fill: WindowFill, times: number[]) =>
  times.map((time) => fill.received(time)).some(Boolean);

describe('WindowFill', () => {
  it('asks for the whole window on a page load, and nothing more once it has arrived', () => {
    const fill = new WindowFill();
    fill.received(T); // the latest snapshot, sent on connect
    expect(fill.next(T, 5 * MIN)).toEqual({ after: T - 5 * MIN, target: T });
    expect(fill.inFlight).toBe(true);
    // One resume at a time.
    expect(fill.next(T + 1000, 5 * MIN)).toBeNull();
    // A live snapshot sent before the server took the resume does not end it...
    expect(feed(fill, [T + 1000])).toBe(false);
    // ...the resumed one at the target does.
    expect(feed(fill, [T - 2000, T - 1000])).toBe(false);
    expect(feed(fill, [T])).toBe(true);
    expect(fill.inFlight).toBe(false);
    feed(fill, [T + 2000, T + 3000]);
    expect(fill.next(T + 3000, 5 * MIN)).toBeNull();
  });

  it('after a reconnect asks only for the hole since the last snapshot held', () => {
    const fill = new WindowFill();
    fill.next(T, 5 * MIN);
    feed(fill, [T]);
    feed(fill, [T + 1000, T + 2000]);
    fill.disconnected();
    // On the new socket the latest is at T + 9 s: the server sends 3–9.
    expect(fill.next(T + 9000, 5 * MIN)).toEqual({ after: T + 2000, target: T + 9000 });
  });

  it('after a reconnect longer than the window asks for the window only', () => {
    const fill = new WindowFill();
    fill.next(T, MIN);
    feed(fill, [T]);
    fill.disconnected();
    expect(fill.next(T + 10 * MIN, MIN)).toEqual({ after: T + 9 * MIN, target: T + 10 * MIN });
  });

  it('asks for the whole of a longer window, once the resume under way has ended', () => {
    const fill = new WindowFill();
    fill.next(T, MIN);
    fill.widen();
    expect(fill.next(T, 15 * MIN)).toBeNull(); // still one at a time
    feed(fill, [T]);
    expect(fill.next(T + 1000, 15 * MIN)).toEqual({ after: T + 1000 - 15 * MIN, target: T + 1000 });
  });

  it('after busy, carries on from the last snapshot that arrived', () => {
    const fill = new WindowFill();
    fill.next(T, 5 * MIN);
    feed(fill, [T - 60_000, T - 59_000]);
    fill.busy();
    expect(fill.inFlight).toBe(false);
    expect(fill.next(T + 2000, 5 * MIN)).toEqual({ after: T - 59_000, target: T + 2000 });
    expect(feed(fill, [T + 2000])).toBe(true);
    expect(fill.next(T + 2000, 5 * MIN)).toBeNull();
  });

  it('a closed socket ends the resume under way; the next socket asks again', () => {
    const fill = new WindowFill();
    fill.next(T, 5 * MIN);
    fill.disconnected();
    expect(fill.inFlight).toBe(false);
    expect(fill.next(T + 5000, 5 * MIN)).toEqual({ after: T + 5000 - 5 * MIN, target: T + 5000 });
  });

  it('an abandoned resume counts as done, so it is not asked again and again', () => {
    const fill = new WindowFill();
    fill.next(T, 5 * MIN);
    fill.abandon();
    expect(fill.next(T + 1000, 5 * MIN)).toBeNull();
  });

  it('starts over for another host', () => {
    const fill = new WindowFill();
    fill.next(T, 5 * MIN);
    feed(fill, [T]);
    fill.reset();
    expect(fill.next(T + 1000, 5 * MIN)).toEqual({ after: T + 1000 - 5 * MIN, target: T + 1000 });
  });
});
