import { HISTORY_MAX_SERIES } from '@livestat/contracts';
import type { HistoryResponse } from '@livestat/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createApiClient } from '../../lib/api';
import type { ApiClient, HistoryParams, RequestOptions } from '../../lib/api';
import { startTestApiServer } from '../../test/api-server';
import type { TestApiServer } from '../../test/api-server';
import { createHistoryLoader, mergeHistory, seriesChunks } from './history-loader';

let server: TestApiServer;
let api: ApiClient;

beforeAll(async () => {
  server = await startTestApiServer();
  const { token } = server.session();
  api = createApiClient({ baseUrl: server.baseUrl, getToken: () => token });
});

afterAll(async () => {
  await server.close();
});

const paths = (n: number) => Array.from({ length: n }, (_, i) => `cpu.cores.${i}.usagePercent`);

describe('seriesChunks', () => {
  it('splits series into requests of at most HISTORY_MAX_SERIES', () => {
    expect(seriesChunks(paths(HISTORY_MAX_SERIES + 5)).map((c) => c.length)).toEqual([
      HISTORY_MAX_SERIES,
      5,
    ]);
    expect(seriesChunks(paths(3))).toEqual([paths(3)]);
    expect(seriesChunks([])).toEqual([]);
  });
});

describe('mergeHistory', () => {
  it('joins the series of every answer', () => {
    const part = (series: HistoryResponse['series']): HistoryResponse => ({
      host: 'h',
      from: 0,
      to: 10,
      bucketMs: 5,
      tier: 'raw',
      series,
    });
    expect(mergeHistory([part({ a: [[0, 1, 1, 1]] }), part({ b: [] })])).toEqual(
      part({ a: [[0, 1, 1, 1]], b: [] }),
    );
  });
});

describe('createHistoryLoader', () => {
  it('asks the API for every series, in requests it accepts, and merges the answers', async () => {
    const before = server.requests.length;
    const loader = createHistoryLoader(api);
    const series = paths(HISTORY_MAX_SERIES + 2);
    const answer = await loader.load({
      host: 'vm-web-01',
      series,
      from: 1000,
      to: 61_000,
      points: 60,
    });
    const seen = server.requests.slice(before).filter((r) => r.path === '/api/history');
    expect(seen.map((r) => r.search.getAll('series').length)).toEqual([HISTORY_MAX_SERIES, 2]);
    for (const request of seen) {
      expect(request.search.get('host')).toBe('vm-web-01');
      expect(request.search.get('from')).toBe('1000');
      expect(request.search.get('to')).toBe('61000');
      expect(request.search.get('points')).toBe('60');
    }
    expect(Object.keys(answer!.series)).toEqual(series);
  });

  it('rejects with the ApiError of a failed request', async () => {
    const refused = createApiClient({ baseUrl: server.baseUrl, getToken: () => 'not-a-token' });
    await expect(
      createHistoryLoader(refused).load({ series: ['cpu.usagePercent'], from: 0, to: 1 }),
    ).rejects.toBeInstanceOf(ApiError);
  });

  it('aborts the load in flight when a newer one starts, resolving it with null', async () => {
    const signals: AbortSignal[] = [];
    const pending: (() => void)[] = [];
    // Answers only when told to, and honours the signal as the real client does.
    const held: Pick<ApiClient, 'history'> = {
      history: (params: HistoryParams, options?: RequestOptions) =>
        new Promise<HistoryResponse>((resolve, reject) => {
          const signal = options?.signal;
          if (signal) signals.push(signal);
          signal?.addEventListener('abort', () =>
            reject(new ApiError('aborted', 'request aborted')),
          );
          pending.push(() =>
            resolve({
              host: 'h',
              from: params.from,
              to: params.to,
              bucketMs: 1000,
              tier: 'raw',
              series: Object.fromEntries(params.series.map((p) => [p, []])),
            }),
          );
        }),
    };
    const loader = createHistoryLoader(held);
    const first = loader.load({ series: ['cpu.usagePercent'], from: 0, to: 10 });
    const second = loader.load({ series: ['cpu.usagePercent'], from: 5, to: 10 });
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[1]!.aborted).toBe(false);
    pending[1]!();
    await expect(first).resolves.toBeNull();
    await expect(second).resolves.toMatchObject({ from: 5, to: 10 });

    const third = loader.load({ series: ['cpu.usagePercent'], from: 7, to: 10 });
    loader.abort();
    expect(signals[2]!.aborted).toBe(true);
    await expect(third).resolves.toBeNull();
  });
});
