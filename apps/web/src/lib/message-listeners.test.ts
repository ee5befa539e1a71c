import { describe, expect, it } from 'vitest';
import { MessageListeners } from './message-listeners';

type Message = { type: 'a'; n: number } | { type: 'b'; text: string };

describe('MessageListeners', () => {
  it('hands each message to the listeners of its type only, until they stop', () => {
    const listeners = new MessageListeners<Message>();
    const seenA: number[] = [];
    const seenB: string[] = [];
    const stopA = listeners.on('a', (m) => seenA.push(m.n));
    listeners.on('b', (m) => seenB.push(m.text));

    expect(listeners.emit({ type: 'a', n: 1 })).toBe(1);
    listeners.emit({ type: 'b', text: 'x' });
    stopA();
    expect(listeners.emit({ type: 'a', n: 2 })).toBe(0);

    expect(seenA).toEqual([1]);
    expect(seenB).toEqual(['x']);
  });

  it('goes on to the next listener when one throws, and reports the error after', () => {
    const listeners = new MessageListeners<Message>();
    const seen: number[] = [];
    const reported: unknown[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (task) => {
      try {
        task();
      } catch (error) {
        reported.push(error);
      }
    };
    try {
      listeners.on('a', () => {
        throw new Error('boom');
      });
      listeners.on('a', (m) => seen.push(m.n));
      listeners.emit({ type: 'a', n: 7 });
    } finally {
      globalThis.queueMicrotask = original;
    }
    expect(seen).toEqual([7]);
    expect(reported).toEqual([new Error('boom')]);
  });
});
