import { PROCESS_COMMAND_MAX, processesMessage, processRow } from '@livestat/contracts';
import { describe, expect, it } from 'vitest';
import { isProcessRow, parseProcessesFrame } from './process-frame';

const row = {
  pid: 4242,
  ppid: 1,
  user: 'www-data',
  name: 'node',
  command: 'node server.js --port 8080',
  state: 'S',
  threads: 11,
  cpuPercent: 12.5,
  rssBytes: 78_643_200,
  readBytesPerSec: 0,
  writeBytesPerSec: null,
  startedAt: '2026-12-05T01:02:03.456Z',
};

// Every field spoiled in the ways a frame can be wrong: the hand-written check must say what
// the contract's zod schema says, value by value.
const BAD_VALUES: Record<keyof typeof row, unknown[]> = {
  pid: [0, -1, 1.5, '42', null, undefined, Number.NaN, Infinity, 2 ** 60],
  ppid: [-1, 0.5, '1', null, undefined],
  user: [1, null, undefined, 'a\u0000b', ''],
  name: [null, 3, 'x\u0000', ''],
  command: [
    '',
    'x'.repeat(PROCESS_COMMAND_MAX),
    'x'.repeat(PROCESS_COMMAND_MAX + 1),
    null,
    'a\u0000',
  ],
  state: ['', 'RS', 'R', 'Z', 1, null],
  threads: [-2, 1.1, null, '3'],
  cpuPercent: [-0.1, 0, 250, Infinity, Number.NaN, '1', null],
  rssBytes: [-1, 1.5, 2 ** 53, null, '1'],
  readBytesPerSec: [null, -1, 1.25, Infinity, '0', undefined],
  writeBytesPerSec: [null, -3, 0, undefined],
  startedAt: [
    '2026-12-05T01:02:03Z',
    '2026-12-05T01:02:03.456+00:00',
    '2026-02-30T00:00:00.000Z',
    '2024-02-29T00:00:00.000Z',
    '2023-02-29T00:00:00.000Z',
    '2026-04-31T00:00:00.000Z',
    '2026-00-10T00:00:00.000Z',
    '2026-13-01T00:00:00.000Z',
    '2026-01-00T00:00:00.000Z',
    '2026-01-01T24:00:00.000Z',
    '2026-01-01T23:60:00.000Z',
    '2026-01-01T23:59:60.000Z',
    '0000-01-01T00:00:00.000Z',
    '0001-01-01T00:00:00.000Z',
    '9999-12-31T23:59:59.999Z',
    'yesterday',
    1_764_000_000_000,
    null,
  ],
};

describe('isProcessRow, the contract checked by hand', () => {
  it('takes a good row', () => {
    expect(isProcessRow(row)).toBe(true);
    expect(processRow.safeParse(row).success).toBe(true);
  });

  it.each(Object.entries(BAD_VALUES))('agrees with the contract on every %s', (field, values) => {
    for (const value of values) {
      const spoiled = { ...row, [field]: value };
      expect([field, value, isProcessRow(spoiled)]).toEqual([
        field,
        value,
        processRow.safeParse(spoiled).success,
      ]);
    }
  });

  it('refuses what is not an object, or misses a field', () => {
    for (const value of [null, [], 'row', 42, undefined]) {
      expect(isProcessRow(value)).toBe(false);
    }
    for (const field of Object.keys(row)) {
      const { [field as keyof typeof row]: _, ...missing } = row;
      expect([field, isProcessRow(missing)]).toEqual([
        field,
        processRow.safeParse(missing).success,
      ]);
    }
  });
});

describe('parseProcessesFrame', () => {
  const frame = {
    type: 'processes',
    host: 'vm-web-01',
    timestamp: '2026-12-05T01:02:04.000Z',
    sort: 'cpu',
    total: 1500,
    ioUnavailableReason: null,
    processes: Array.from({ length: 1000 }, (_, i) => ({ ...row, pid: i + 1 })),
  };

  it('gives the message the contract gives, for a full table', () => {
    expect(parseProcessesFrame(frame)).toEqual(processesMessage.parse(frame));
  });

  it('refuses a frame with one bad row or a bad envelope: null, never a throw', () => {
    const rows = [...frame.processes];
    rows[999] = { ...row, rssBytes: -1 };
    expect(parseProcessesFrame({ ...frame, processes: rows })).toBeNull();
    expect(parseProcessesFrame({ ...frame, sort: 'name' })).toBeNull();
    expect(parseProcessesFrame({ ...frame, processes: 'all' })).toBeNull();
    expect(parseProcessesFrame({ ...frame, host: undefined })).toBeNull();
    expect(parseProcessesFrame(null)).toBeNull();
  });
});
