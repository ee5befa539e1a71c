import type { HistoryPoint } from '@livestat/contracts';
import { describe, expect, it } from 'vitest';
import { csvField, fileNamePart, fileNameTime, historyCsv, historyCsvFileName, toCsv } from './csv';

describe('csvField', () => {
  it('leaves plain text and numbers as they are', () => {
    expect(csvField('cpu.usagePercent avg')).toBe('cpu.usagePercent avg');
    expect(csvField(12.5)).toBe('12.5');
    expect(csvField(0)).toBe('0');
    expect(csvField(-3)).toBe('-3');
  });

  it('quotes a field holding a comma, a quote or a line break, doubling inner quotes', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
  });

  it('writes nothing for null, undefined and non-finite numbers', () => {
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(Number.NaN)).toBe('');
    expect(csvField(Number.POSITIVE_INFINITY)).toBe('');
  });
});

describe('toCsv', () => {
  it('joins fields with commas and ends every record with CRLF', () => {
    expect(
      toCsv([
        ['a', 'b,c'],
        [1, null],
      ]),
    ).toBe('a,"b,c"\r\n1,\r\n');
  });
});

describe('historyCsv', () => {
  const t0 = Date.UTC(2025, 0, 2, 3, 4, 0);
  const cpu: HistoryPoint[] = [
    [t0, 10, 5, 20],
    [t0 + 60_000, null, null, null],
    [t0 + 120_000, 12.5, 12, 13],
  ];
  const rx: HistoryPoint[] = [
    [t0, 1000, 900, 1100],
    [t0 + 60_000, 2000, 1500, 2500],
  ];

  it('has a header of avg, min and max per series and one ISO 8601 UTC row per bucket', () => {
    const text = historyCsv([
      { name: 'cpu.usagePercent', points: cpu },
      { name: 'network.rxBytesPerSec', points: rx },
    ]);
    expect(text.split('\r\n')).toEqual([
      'time,cpu.usagePercent avg,cpu.usagePercent min,cpu.usagePercent max,' +
        'network.rxBytesPerSec avg,network.rxBytesPerSec min,network.rxBytesPerSec max',
      '2025-01-02T03:04:00.000Z,10,5,20,1000,900,1100',
      // A null bucket, and a series with no bucket at that time, are empty cells.
      '2025-01-02T03:05:00.000Z,,,,2000,1500,2500',
      '2025-01-02T03:06:00.000Z,12.5,12,13,,,',
      '',
    ]);
  });

  it('quotes a series name that needs it', () => {
    const text = historyCsv([{ name: 'network.interfaces.we,ird.rxBytesPerSec', points: [] }]);
    expect(text).toBe(
      'time,"network.interfaces.we,ird.rxBytesPerSec avg","network.interfaces.we,ird.rxBytesPerSec min",' +
        '"network.interfaces.we,ird.rxBytesPerSec max"\r\n',
    );
  });

  it('keeps only the buckets overlapping the range shown', () => {
    const text = historyCsv([{ name: 'cpu.usagePercent', points: cpu }], {
      // From inside the first bucket to the start of the third, which is left out.
      from: t0 + 30_000,
      to: t0 + 120_000,
      bucketMs: 60_000,
    });
    const rows = text.trimEnd().split('\r\n');
    expect(rows.map((row) => row.split(',')[0])).toEqual([
      'time',
      '2025-01-02T03:04:00.000Z',
      '2025-01-02T03:05:00.000Z',
    ]);
  });

  it('is only the header when nothing is charted', () => {
    expect(historyCsv([])).toBe('time\r\n');
  });
});

describe('file names', () => {
  it('names the download after the host and the range, in UTC without colons', () => {
    const from = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
    const to = Date.UTC(2025, 0, 2, 4, 4, 5);
    expect(historyCsvFileName('vm-web-01', from, to)).toBe(
      'livestat-vm-web-01-20250102T030405Z-20250102T040405Z.csv',
    );
    expect(fileNameTime(0)).toBe('19700101T000000Z');
  });

  it('replaces characters a file system may refuse', () => {
    expect(fileNamePart('a/b\\c:d e')).toBe('a_b_c_d_e');
    expect(fileNamePart('host.example_1-2')).toBe('host.example_1-2');
  });
});
