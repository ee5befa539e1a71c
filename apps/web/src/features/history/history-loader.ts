import { HISTORY_MAX_SERIES } from '@livestat/contracts';
import type { HistoryResponse } from '@livestat/contracts';
import type { ApiClient, HistoryParams } from '../../lib/api';

/**
 * Answers of one request split by series, merged back into one: the series of all, the rest
 * (host, buckets, tier) of the first — the same for every part, as each asks the same range and
 * points.
 */
export function mergeHistory(answers: readonly HistoryResponse[]): HistoryResponse {
  const [first, ...rest] = answers;
  if (first === undefined) throw new Error('mergeHistory: no answers');
  const series = { ...first.series };
  for (const answer of rest) Object.assign(series, answer.series);
  return { ...first, series };
}

/** `paths` in requests the API accepts: at most {@link HISTORY_MAX_SERIES} series each. */
export function seriesChunks(paths: readonly string[]): string[][] {
  const chunks: string[][] = [];
  for (let i = 0; i < paths.length; i += HISTORY_MAX_SERIES) {
    chunks.push(paths.slice(i, i + HISTORY_MAX_SERIES));
  }
  return chunks;
}

/** Loads history for the view: one load at a time, a newer one aborting the one in flight. */
export interface HistoryLoader {
  /**
   * Loads `params` (any number of series, split into requests the API accepts). Resolves with
   * the merged answer, or null when a newer load or {@link abort} superseded it; rejects with
   * the {@link import('../../lib/api').ApiError} of a failed request.
   */
  load(params: HistoryParams): Promise<HistoryResponse | null>;
  /** Aborts the load in flight, if any. */
  abort(): void;
}

/** Creates a {@link HistoryLoader} on the API client. */
export function createHistoryLoader(api: Pick<ApiClient, 'history'>): HistoryLoader {
  let current: AbortController | null = null;
  return {
    async load(params) {
      current?.abort();
      const controller = new AbortController();
      current = controller;
      const { signal } = controller;
      try {
        const answers = await Promise.all(
          seriesChunks(params.series).map((series) =>
            api.history({ ...params, series }, { signal }),
          ),
        );
        return signal.aborted ? null : mergeHistory(answers);
      } catch (error) {
        if (signal.aborted) return null;
        // One part failed: the others are no longer wanted.
        controller.abort();
        throw error;
      } finally {
        if (current === controller) current = null;
      }
    },
    abort() {
      current?.abort();
      current = null;
    },
  };
}
