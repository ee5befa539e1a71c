import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cancelDraw, drawAfterPanels } from './chart-frames';

// Animation frames by hand: `frame()` runs the callbacks asked for before it, as a browser does.
let callbacks = new Map<number, () => void>();
let nextId = 1;
function frame(): void {
  const due = callbacks;
  callbacks = new Map();
  for (const callback of due.values()) callback();
}

describe('drawAfterPanels', () => {
  beforeEach(() => {
    callbacks = new Map();
    globalThis.requestAnimationFrame = (callback: FrameRequestCallback) => {
      const id = nextId++;
      callbacks.set(id, () => callback(0));
      return id;
    };
    globalThis.cancelAnimationFrame = (id: number) => void callbacks.delete(id);
  });
  afterEach(() => {
    // Whatever a test left queued is dropped with its frames.
    callbacks = new Map();
  });

  it("draws every queued chart together in the frame after the panels', the last draw of each", () => {
    const drawn: string[] = [];
    const a = {};
    const b = {};
    drawAfterPanels(a, () => drawn.push('a1'));
    drawAfterPanels(b, () => drawn.push('b'));
    drawAfterPanels(a, () => drawn.push('a2'));
    frame();
    expect(drawn).toEqual([]);
    frame();
    expect(drawn).toEqual(['a2', 'b']);
    frame();
    expect(drawn).toEqual(['a2', 'b']);
    expect(callbacks.size).toBe(0);

    // The next change starts over: the panels' frame first again.
    drawAfterPanels(b, () => drawn.push('b2'));
    frame();
    expect(drawn).toHaveLength(2);
    frame();
    expect(drawn).toEqual(['a2', 'b', 'b2']);
  });

  it('forgets a cancelled chart, and asks for no frame once nothing is queued', () => {
    const drawn: string[] = [];
    const a = {};
    const b = {};
    drawAfterPanels(a, () => drawn.push('a'));
    drawAfterPanels(b, () => drawn.push('b'));
    cancelDraw(a);
    frame();
    frame();
    expect(drawn).toEqual(['b']);

    drawAfterPanels(a, () => drawn.push('a'));
    cancelDraw(a);
    expect(callbacks.size).toBe(0);
    frame();
    frame();
    expect(drawn).toEqual(['b']);
  });
});
