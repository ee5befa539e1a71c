/**
 * The live charts' redraws, in the animation frame after the panels'.
 *
 * A snapshot changes the panels' figures at once (Vue patches them in the message's task, and
 * the next frame paints them) and, most seconds, one to three charts. Drawn in that same
 * frame, the charts' ECharts pipelines (4–10 ms each in bench/web's Chromium) and their
 * canvases' commit held the figures off the screen with them. The charts now draw in the frame
 * after: the figures reach the screen a frame's worth of chart work sooner, the charts one
 * frame (~17 ms) later than before.
 */

/** Each chart's pending draw, by chart: a later one replaces it. */
const queue = new Map<object, () => void>();
let frame = 0;

/** The first frame after the change: the panels'. The charts go to the next. */
function panels(): void {
  frame = requestAnimationFrame(charts);
}

function charts(): void {
  frame = 0;
  const draws = [...queue.values()];
  queue.clear();
  for (const draw of draws) draw();
}

/** Runs `draw` in the animation frame after the next; a draw still queued for `key` is replaced. */
export function drawAfterPanels(key: object, draw: () => void): void {
  queue.set(key, draw);
  if (frame === 0) frame = requestAnimationFrame(panels);
}

/** Drops `key`'s queued draw (its chart is going away). */
export function cancelDraw(key: object): void {
  queue.delete(key);
  if (queue.size === 0 && frame !== 0) {
    cancelAnimationFrame(frame);
    frame = 0;
  }
}
