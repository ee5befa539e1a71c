import type { HistoryPoint, HistoryResponse } from '@livestat/contracts';

/**
 * What `GET /api/history` answers for its query string, in one-second raw buckets: each asked
 * series with the points `pointsOf` gives it (none by default).
 */
export function historyAnswer(
  search: URLSearchParams,
  pointsOf: (path: string) => HistoryPoint[] = () => [],
): HistoryResponse {
  return {
    host: search.get('host') ?? 'vm-web-01',
    from: Number(search.get('from')),
    to: Number(search.get('to')),
    bucketMs: 1000,
    tier: 'raw',
    series: Object.fromEntries(search.getAll('series').map((path) => [path, pointsOf(path)])),
  };
}
