import { describe, expect, it } from 'vitest';
import { StreamWatches } from './stream-watches';
import type { WatchMessage, WatchedMessage } from './stream-watches';

/** A registry on a socket that is open while `open` is true, recording what it sent. */
function setup() {
  const state = { open: true, sent: [] as WatchMessage[] };
  const watches = new StreamWatches((message) => {
    if (!state.open) return false;
    state.sent.push(message);
    return true;
  });
  return { state, watches };
}

const spec = (host: string) => ({
  type: 'cgroups',
  host,
  watch: { type: 'watch_cgroups', host },
  unwatch: { type: 'unwatch_cgroups', host },
});

describe('StreamWatches', () => {
  it('sends the watch with the first subscriber and the unwatch with the last', () => {
    const { state, watches } = setup();
    const stopA = watches.add(spec('a'), () => {});
    const stopB = watches.add(spec('a'), () => {});
    expect(state.sent).toEqual([{ type: 'watch_cgroups', host: 'a' }]);
    stopA();
    stopA();
    expect(state.sent).toHaveLength(1);
    stopB();
    expect(state.sent).toEqual([
      { type: 'watch_cgroups', host: 'a' },
      { type: 'unwatch_cgroups', host: 'a' },
    ]);
    expect(watches.size).toBe(0);
  });

  it('asks again for every table still watched when the socket reopens', () => {
    const { state, watches } = setup();
    state.open = false;
    watches.add(spec('a'), () => {});
    watches.add(spec('a'), () => {});
    const stopB = watches.add(spec('b'), () => {});
    stopB();
    expect(state.sent).toEqual([]);
    state.open = true;
    watches.opened();
    expect(state.sent).toEqual([{ type: 'watch_cgroups', host: 'a' }]);
  });

  it('hands each answer to the subscribers of its type and host only', () => {
    const { watches } = setup();
    const seenA: WatchedMessage[] = [];
    const seenB: WatchedMessage[] = [];
    watches.add(spec('a'), (message) => seenA.push(message));
    watches.add(spec('b'), (message) => seenB.push(message));
    expect(watches.deliver({ type: 'cgroups', host: 'a' })).toBe(true);
    expect(watches.deliver({ type: 'processes', host: 'a' })).toBe(false);
    expect(watches.deliver({ type: 'cgroups', host: 'c' })).toBe(false);
    expect(seenA).toEqual([{ type: 'cgroups', host: 'a' }]);
    expect(seenB).toEqual([]);
  });

  it('keeps the table of a host watched when one of two differently asked subscribers leaves', () => {
    const { state, watches } = setup();
    const bySort = (sort: string) => ({
      type: 'processes',
      host: 'a',
      watch: { type: 'watch_processes', host: 'a', sort },
      unwatch: { type: 'unwatch_processes', host: 'a' },
    });
    watches.add(bySort('cpu'), () => {});
    const stopMemory = watches.add(bySort('memory'), () => {});
    stopMemory();
    // The server holds one watch per host: the remaining subscriber's is asked for again.
    expect(state.sent.map((m) => (m as { sort?: string }).sort ?? m.type)).toEqual([
      'cpu',
      'memory',
      'cpu',
    ]);
  });
});
