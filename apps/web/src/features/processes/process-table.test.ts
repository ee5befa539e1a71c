import { describe, expect, it } from 'vitest';
import { processRow } from '../../test/process-rows';
import { NO_VALUE } from '../../lib/format';
import {
  filterProcesses,
  formatWhole,
  ioRate,
  nextOrder,
  processCells,
  serverSortFor,
  sortProcesses,
} from './process-table';
import type { ProcessRow } from '@livestat/contracts';

const row = processRow;

const pids = (rows: readonly ProcessRow[]) => rows.map((r) => r.pid);

const ROWS = [
  row(10, { name: 'nginx', user: 'www-data', cpuPercent: 3, rssBytes: 5e6, threads: 4 }),
  row(2, { name: 'postgres', user: 'postgres', cpuPercent: 55.5, rssBytes: 9e7, state: 'R' }),
  row(300, { name: 'Xorg', user: 'root', cpuPercent: 3, rssBytes: 1e6, readBytesPerSec: 5e5 }),
  row(7, { name: 'sshd', user: 'root', readBytesPerSec: null, writeBytesPerSec: null }),
];

describe('sortProcesses', () => {
  it('sorts by each measure, the busiest first, ties by pid', () => {
    expect(pids(sortProcesses(ROWS, { column: 'cpu', direction: 'desc' }))).toEqual([
      2, 10, 300, 7,
    ]);
    expect(pids(sortProcesses(ROWS, { column: 'memory', direction: 'desc' }))).toEqual([
      2, 10, 7, 300,
    ]);
    expect(pids(sortProcesses(ROWS, { column: 'threads', direction: 'asc' }))).toEqual([
      2, 7, 300, 10,
    ]);
    expect(pids(sortProcesses(ROWS, { column: 'pid', direction: 'asc' }))).toEqual([2, 7, 10, 300]);
  });

  it('sorts words case-insensitively, and numbers inside them by value', () => {
    expect(pids(sortProcesses(ROWS, { column: 'name', direction: 'asc' }))).toEqual([
      10, 2, 7, 300,
    ]);
    const workers = [row(1, { name: 'kworker10' }), row(2, { name: 'kworker9' })];
    expect(pids(sortProcesses(workers, { column: 'name', direction: 'asc' }))).toEqual([2, 1]);
    expect(pids(sortProcesses(ROWS, { column: 'user', direction: 'desc' }))).toEqual([
      10, 7, 300, 2,
    ]);
  });

  it('puts an unreadable I/O last in either direction', () => {
    expect(pids(sortProcesses(ROWS, { column: 'io', direction: 'desc' }))).toEqual([300, 2, 10, 7]);
    expect(pids(sortProcesses(ROWS, { column: 'io', direction: 'asc' }))).toEqual([2, 10, 300, 7]);
  });

  it('leaves the input alone', () => {
    const input = [...ROWS];
    sortProcesses(input, { column: 'pid', direction: 'asc' });
    expect(input).toEqual(ROWS);
  });
});

describe('filterProcesses', () => {
  it('keeps rows whose name, user, command line or pid hold every word', () => {
    expect(pids(filterProcesses(ROWS, 'ROOT'))).toEqual([300, 7]);
    expect(pids(filterProcesses(ROWS, 'proc300 --serve'))).toEqual([300]);
    expect(pids(filterProcesses(ROWS, '  post  '))).toEqual([2]);
    expect(pids(filterProcesses(ROWS, '300'))).toEqual([300]);
    expect(pids(filterProcesses(ROWS, 'root nginx'))).toEqual([]);
  });

  it('keeps everything for an empty filter', () => {
    expect(filterProcesses(ROWS, ' ')).toBe(ROWS);
  });
});

describe('sorting by a header', () => {
  it('starts numbers biggest first and words A to Z, then flips', () => {
    expect(nextOrder({ column: 'cpu', direction: 'desc' }, 'memory')).toEqual({
      column: 'memory',
      direction: 'desc',
    });
    expect(nextOrder({ column: 'cpu', direction: 'desc' }, 'name')).toEqual({
      column: 'name',
      direction: 'asc',
    });
    expect(nextOrder({ column: 'name', direction: 'asc' }, 'name')).toEqual({
      column: 'name',
      direction: 'desc',
    });
  });

  it('asks the server for the top N by CPU, memory or I/O, and keeps its sort otherwise', () => {
    expect(serverSortFor('memory', 'cpu')).toBe('memory');
    expect(serverSortFor('io', 'memory')).toBe('io');
    expect(serverSortFor('name', 'memory')).toBe('memory');
    expect(serverSortFor('pid', 'io')).toBe('io');
  });
});

describe('processCells', () => {
  it('formats a row, its command line for the tooltip', () => {
    expect(
      processCells(
        row(42, {
          name: 'node',
          user: 'alice',
          command: 'node server.js',
          cpuPercent: 187.25,
          rssBytes: 150 * 1024 * 1024,
          readBytesPerSec: 1024,
          writeBytesPerSec: 512,
          state: 'R',
          threads: 11,
        }),
      ),
    ).toEqual({
      pid: 42,
      name: 'node',
      user: 'alice',
      command: 'node server.js',
      cpu: '187.3 %',
      memory: '150 MiB',
      io: '1.50 KiB/s',
      state: 'R',
      stateName: 'running',
      threads: '11',
    });
  });

  it('shows — for an unreadable I/O, and a process without a command line as [name]', () => {
    const cells = processCells(
      row(9, { name: 'kthreadd', command: '', readBytesPerSec: null, writeBytesPerSec: null }),
    );
    expect(cells.io).toBe(NO_VALUE);
    expect(cells.command).toBe('[kthreadd]');
    expect(ioRate({ readBytesPerSec: 100, writeBytesPerSec: null })).toBe(100);
    expect(formatWhole(12_345)).toBe('12,345');
    expect(formatWhole(undefined)).toBe(NO_VALUE);
  });
});
