import type { Snapshot } from '@livestat/contracts';
import { ref } from 'vue';
import { AuthError } from '../../lib/api';
import type { ApiClient } from '../../lib/api';
import { createOneShotTimer } from '../../lib/backoff';
import type { Clock, Random } from '../../lib/backoff';
import type { StreamSocket } from '../../lib/stream-socket';
import { BACKFILL_SERIES, backfillRequests, backfillSeriesFor } from './live-series';
import type { LiveSeries } from './live-series';
import { WindowFill } from './window-fill';

/** How long after `busy` a refused `resume` is asked again (plus up to as much jitter). */
export const RESUME_RETRY_MS = 1000;
/** A `resume` that has sent nothing for this long is given up, and history fills the rest. */
export const RESUME_STALL_MS = 15_000;

/** What the filler works on: the store's window, socket and REST client, and its state. */
export interface LiveWindowFillerDeps {
  live: LiveSeries;
  stream: Pick<StreamSocket, 'isOpen' | 'send'>;
  api: Pick<ApiClient, 'history'>;
  clock: Clock;
  random: Random;
  /** The host whose window is shown, if any. */
  selectedHost: () => string | null;
  /** The newest snapshot held of a host. */
  latest: (host: string) => Snapshot | undefined;
  hasToken: () => boolean;
  /** What a history backfill asks for; by default every series the panels chart. */
  backfillSeries?: readonly string[];
  /** The window gained points. */
  changed: () => void;
  /** A backfill failed, in words. */
  failed: (message: string) => void;
}

/**
 * Fills the selected host's live window. Over the socket with `resume` — every snapshot, at
 * the sampling resolution, through the same path as live ones, so every series a panel can
 * draw is filled; one resume at a time, a `busy` one asked again after a jittered pause, a
 * stalled one given up. From `GET /api/history` in averaged buckets only while the socket is
 * down, or when a resume could not be answered; buckets only go where live samples are missing.
 */
export function createLiveWindowFiller(deps: LiveWindowFillerDeps) {
  const { live, stream, api, clock, random } = deps;
  /** A resume or a history backfill is under way. */
  const backfilling = ref(false);
  /** Per host, the newest snapshot the open socket delivered: the end of the window to fill. */
  const socketNewest = new Map<string, number>();
  /** What of the selected host's window `resume` still has to fill. */
  const fill = new WindowFill();
  const resumeTimer = createOneShotTimer(clock);
  /** A `busy` resume waits for its retry: nothing else is asked meanwhile. */
  let retryWaiting = false;
  let backfillController: AbortController | null = null;

  /** Asks the socket to `resume` the part of the selected host's window not yet held. */
  function fillWindow(): void {
    const host = deps.selectedHost();
    const anchor = host === null ? undefined : socketNewest.get(host);
    if (host === null || anchor === undefined || !stream.isOpen || retryWaiting) return;
    const plan = fill.next(anchor, live.windowMs);
    if (plan === null) return;
    backfilling.value = true;
    stream.send({ type: 'resume', host, after: new Date(plan.after).toISOString() });
    resumeTimer.schedule(RESUME_STALL_MS, onResumeStalled);
  }

  function resumeEnded(): void {
    resumeTimer.cancel();
    backfilling.value = false;
    // A longer window picked meanwhile is filled now.
    fillWindow();
  }

  function onResumeStalled(): void {
    fill.abandon();
    resumeEnded();
    // What never came is drawn from history rather than left as a hole.
    void backfill();
  }

  /** The server refused or failed a request; `code` says which. */
  function onError(code: string | undefined): void {
    if (!fill.inFlight) return;
    if (code === 'busy') {
      // The server does this user's reads a few at a time: ask again shortly.
      fill.busy();
      retryWaiting = true;
      resumeTimer.schedule(RESUME_RETRY_MS * (1 + random()), () => {
        retryWaiting = false;
        fillWindow();
      });
      return;
    }
    if (code === 'resume_failed') onResumeStalled();
  }

  /** A snapshot of `host` at `time` came over the socket. */
  function streamed(host: string, time: number): void {
    if (!(time <= (socketNewest.get(host) ?? Number.NEGATIVE_INFINITY))) {
      socketNewest.set(host, time);
    }
  }

  /** A streamed snapshot at `time` went into the selected host's window. */
  function streamedShown(time: number): void {
    if (fill.received(time)) resumeEnded();
    else if (fill.inFlight) resumeTimer.schedule(RESUME_STALL_MS, onResumeStalled);
    else fillWindow();
  }

  /** The socket closed: what it was resuming is asked again on the next one. */
  function socketClosed(): void {
    socketNewest.clear();
    fill.disconnected();
    resumeTimer.cancel();
    retryWaiting = false;
    backfilling.value = false;
  }

  /** Another host is shown: its window starts over. */
  function hostChanged(): void {
    fill.reset();
    resumeTimer.cancel();
    retryWaiting = false;
    backfilling.value = false;
  }

  /** A longer window was picked: what it adds is to be filled. */
  function widened(): void {
    fill.widen();
    fillOrBackfill();
  }

  /** Fills the selected host's window from history (see {@link createLiveWindowFiller}). */
  async function backfill(): Promise<void> {
    const host = deps.selectedHost();
    const backfillSeries =
      deps.backfillSeries ??
      (host === null ? BACKFILL_SERIES : backfillSeriesFor(deps.latest(host)));
    if (host === null || !deps.hasToken() || backfillSeries.length === 0) return;
    backfillController?.abort();
    const controller = new AbortController();
    backfillController = controller;
    backfilling.value = true;
    const requests = backfillRequests(host, backfillSeries, live, clock.now());
    try {
      const answers = await Promise.all(
        requests.map((request) => api.history(request, { signal: controller.signal })),
      );
      if (controller.signal.aborted || host !== deps.selectedHost()) return;
      let stored = 0;
      for (const answer of answers) stored += live.addHistory(answer);
      if (stored > 0) deps.changed();
    } catch (error) {
      // A refused token has already ended the session; an aborted backfill was superseded.
      if (controller.signal.aborted || error instanceof AuthError) return;
      deps.failed(`history: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      if (backfillController === controller) {
        backfillController = null;
        backfilling.value = false;
      }
    }
  }

  /** Fills the window over the socket when it is open, else from history. */
  function fillOrBackfill(): void {
    if (stream.isOpen) fillWindow();
    else void backfill();
  }

  /** Stops the resume timer and aborts the backfill in flight (leaving the dashboard). */
  function stop(): void {
    socketClosed();
    backfillController?.abort();
  }

  return {
    backfilling,
    backfill,
    fillOrBackfill,
    onError,
    streamed,
    streamedShown,
    socketClosed,
    hostChanged,
    widened,
    stop,
  };
}

/** The live-window filler the metrics store runs. */
export type LiveWindowFiller = ReturnType<typeof createLiveWindowFiller>;
