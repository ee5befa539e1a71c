import type { HistoryResponse } from '@livestat/contracts';
import { historyCsv, historyCsvFileName } from './csv';
import type { TimeRange } from './history-view';

/**
 * Saves CSV text as a file through a link the browser downloads. Each download's object URL
 * is revoked on the next one and by `revoke()` (when the view goes away).
 */
export function createTextDownloader() {
  let csvUrl: string | null = null;
  return {
    /** Downloads `text` as the CSV file `fileName`. */
    save(text: string, fileName: string): void {
      if (csvUrl !== null) URL.revokeObjectURL(csvUrl);
      csvUrl = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
      const link = document.createElement('a');
      link.href = csvUrl;
      link.download = fileName;
      document.body.append(link);
      link.click();
      link.remove();
    },
    revoke(): void {
      if (csvUrl !== null) URL.revokeObjectURL(csvUrl);
      csvUrl = null;
    },
  };
}

/** Saves history answers as CSV files (see {@link createTextDownloader}). */
export function createCsvDownloader() {
  const downloader = createTextDownloader();
  return {
    /** Downloads `series` of `response` over `visible` as one CSV file. */
    download(response: HistoryResponse, series: readonly string[], visible: TimeRange): void {
      const columns = series.map((path) => ({ name: path, points: response.series[path] ?? [] }));
      const text = historyCsv(columns, { ...visible, bucketMs: response.bucketMs });
      downloader.save(text, historyCsvFileName(response.host, visible.from, visible.to));
    },
    revoke: downloader.revoke,
  };
}
