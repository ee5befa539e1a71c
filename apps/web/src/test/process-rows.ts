import type { ProcessRow } from '@livestat/contracts';

/**
 * A row of a process table as the server sends it: a sleeping root process of 1 MiB named
 * `proc<pid>`, I/O read as 0, with `fields` over it.
 */
export function processRow(pid: number, fields: Partial<ProcessRow> = {}): ProcessRow {
  return {
    pid,
    ppid: 1,
    user: 'root',
    name: `proc${pid}`,
    command: `/usr/bin/proc${pid} --serve`,
    state: 'S',
    threads: 1,
    cpuPercent: 0,
    rssBytes: 1 << 20,
    readBytesPerSec: 0,
    writeBytesPerSec: 0,
    startedAt: '2025-03-14T09:00:00.000Z',
    ...fields,
  };
}
