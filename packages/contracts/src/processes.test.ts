import { describe, expect, it } from 'vitest';
import type { z } from 'zod/mini';
import { exampleSnapshot } from './examples.js';
import { clientMessage, MAX_CLIENT_FRAME_BYTES, serverMessage } from './messages.js';
import {
  PROCESS_COMMAND_MAX,
  PROCESS_WATCH_MAX_LIMIT,
  processesMetrics,
  processRow,
  type ProcessRow,
} from './processes.js';
import { processesTopQuery, processesTopResponse } from './rest.js';
import { flattenSeries, resolveSeries } from './series.js';

function failurePaths(result: z.core.util.SafeParseResult<unknown>): string[] {
  expect(result.success).toBe(false);
  return result.error?.issues.map((issue) => issue.path.map(String).join('.')) ?? [];
}

const row: ProcessRow = {
  pid: 4242,
  ppid: 1,
  user: 'www-data',
  name: 'nginx',
  command: 'nginx: worker process',
  state: 'S',
  threads: 1,
  cpuPercent: 6.5,
  rssBytes: 12582912,
  readBytesPerSec: 0,
  writeBytesPerSec: 4096,
  startedAt: '2025-03-14T08:00:01.230Z',
};

describe('processes section', () => {
  const section = exampleSnapshot.processes;

  it('lists each process once in `top` and names the top five of each order by pid', () => {
    const pids = new Set(section.top.map((p) => p.pid));
    expect(pids.size).toBe(section.top.length);
    for (const order of [section.topByCpu, section.topByMemory, section.topByIo]) {
      for (const pid of order) expect(pids.has(pid)).toBe(true);
    }
  });

  it('rejects a top list longer than five and a summary without its I/O figure', () => {
    const six = { ...section, topByCpu: [1, 2, 3, 4, 5, 6] };
    expect(failurePaths(processesMetrics.safeParse(six))).toEqual(['topByCpu']);
    const { ioBytesPerSec: _io, ...noIo } = section.top[0]!;
    const top = [noIo, ...section.top.slice(1)];
    expect(failurePaths(processesMetrics.safeParse({ ...section, top }))).toEqual([
      'top.0.ioBytesPerSec',
    ]);
  });

  it('takes null I/O with its reason, once for the section', () => {
    const noIo = {
      ...section,
      ioUnavailableReason: 'permission denied reading /proc/<pid>/io (not root)',
      top: section.top.map((p) => ({ ...p, ioBytesPerSec: null })),
      topByIo: [],
    };
    expect(processesMetrics.parse(noIo)).toEqual(noIo);
  });

  it('gives history the counts as series, and no series per process', () => {
    const paths = [...flattenSeries('processes', section).keys()];
    expect(paths.sort()).toEqual([
      'processes.blocked',
      'processes.running',
      'processes.threads',
      'processes.total',
      'processes.zombie',
    ]);
    for (const path of paths) expect(resolveSeries(path)?.section).toBe('processes');
  });
});

describe('processRow', () => {
  it('accepts a row and one whose I/O is unreadable', () => {
    expect(processRow.parse(row)).toEqual(row);
    const noIo = { ...row, readBytesPerSec: null, writeBytesPerSec: null };
    expect(processRow.parse(noIo)).toEqual(noIo);
  });

  it.each([
    ['pid 0', { pid: 0 }, 'pid'],
    ['a two-character state', { state: 'SS' }, 'state'],
    ['a negative CPU %', { cpuPercent: -1 }, 'cpuPercent'],
    ['a command past the cap', { command: 'x'.repeat(PROCESS_COMMAND_MAX + 1) }, 'command'],
    ['a start time without ms', { startedAt: '2025-03-14T08:00:01Z' }, 'startedAt'],
  ])('rejects %s', (_label, patch, path) => {
    expect(failurePaths(processRow.safeParse({ ...row, ...patch }))).toEqual([path]);
  });

  it('allows more than 100 % CPU: a process with several busy threads uses several cores', () => {
    expect(processRow.parse({ ...row, cpuPercent: 187.5 }).cpuPercent).toBe(187.5);
  });
});

describe('watch messages', () => {
  it('fills in sort cpu and limit 100 when a watch names neither', () => {
    expect(clientMessage.parse({ type: 'watch_processes', host: 'vm-web-01' })).toEqual({
      type: 'watch_processes',
      host: 'vm-web-01',
      sort: 'cpu',
      limit: 100,
    });
  });

  it.each([
    ['an unknown sort', { sort: 'name' }, 'sort'],
    ['limit 0', { limit: 0 }, 'limit'],
    ['a limit past the maximum', { limit: PROCESS_WATCH_MAX_LIMIT + 1 }, 'limit'],
    ['a fractional limit', { limit: 2.5 }, 'limit'],
    ['an empty host', { host: '' }, 'host'],
  ])('rejects a watch with %s, naming the field', (_label, patch, path) => {
    const message = { type: 'watch_processes', host: 'vm-web-01', ...patch };
    expect(failurePaths(clientMessage.safeParse(message))).toEqual([path]);
  });

  it('unwatches one host or, without a host, every one', () => {
    expect(clientMessage.parse({ type: 'unwatch_processes', host: 'a' })).toEqual({
      type: 'unwatch_processes',
      host: 'a',
    });
    expect(clientMessage.parse({ type: 'unwatch_processes' })).toEqual({
      type: 'unwatch_processes',
    });
  });

  it('keeps the largest watch under the frame limit', () => {
    const watch = { type: 'watch_processes', host: 'h'.repeat(253), sort: 'memory', limit: 1000 };
    expect(JSON.stringify(watch).length).toBeLessThan(MAX_CLIENT_FRAME_BYTES);
  });

  it('sends a processes message with the table, narrowed by type', () => {
    const message = {
      type: 'processes',
      host: 'vm-web-01',
      timestamp: exampleSnapshot.timestamp,
      sort: 'io',
      total: 118,
      ioUnavailableReason: null,
      processes: [row],
    };
    const parsed = serverMessage.parse(message);
    expect(parsed).toEqual(message);
    expect(parsed.type === 'processes' && parsed.processes[0]?.name).toBe('nginx');
  });
});

describe('processesTopQuery', () => {
  const base = { host: 'vm-web-01', from: '2025-03-14T00:00:00Z', to: '2025-03-14T01:00:00Z' };

  it('takes a range of 31 days, no more', () => {
    const from = (ms: number) => new Date(Date.parse(base.to) - ms).toISOString();
    const accepts = (ms: number) =>
      processesTopQuery.safeParse({ ...base, from: from(ms) }).success;
    expect(accepts(31 * 86_400_000)).toBe(true);
    expect(accepts(31 * 86_400_000 + 1)).toBe(false);
  });

  it('defaults to the top 10 by CPU, times as epoch ms', () => {
    expect(processesTopQuery.parse(base)).toEqual({
      host: 'vm-web-01',
      from: Date.parse(base.from),
      to: Date.parse(base.to),
      by: 'cpu',
      limit: 10,
    });
  });

  it.each([
    ['no host', { host: undefined }, 'host'],
    ['an unknown measure', { by: 'name' }, 'by'],
    ['limit 51', { limit: '51' }, 'limit'],
    ['limit 0', { limit: '0' }, 'limit'],
    ['from after to', { from: base.to, to: base.from }, 'from'],
    ['a bad to', { to: 'yesterday' }, 'to'],
    ['a range of 32 days', { from: '2025-02-10T01:00:00Z' }, 'from'],
    ['a range of years', { from: '1970-01-01T00:00:00Z' }, 'from'],
  ])('rejects %s, naming the parameter', (_label, patch, path) => {
    expect(failurePaths(processesTopQuery.safeParse({ ...base, ...patch }))).toEqual([path]);
  });
});

describe('processesTopResponse', () => {
  it('accepts an answer, with null I/O where it was not readable', () => {
    const answer = {
      host: 'vm-web-01',
      from: '2025-03-14T00:00:00.000Z',
      to: '2025-03-14T01:00:00.000Z',
      by: 'cpu',
      tier: '1m',
      processes: [
        {
          pid: 4242,
          name: 'stress',
          user: 'root',
          command: 'stress --cpu 1',
          cpuSeconds: 1800,
          avgCpuPercent: 99.5,
          peakRssBytes: 1048576,
          ioBytes: null,
          firstSeen: '2025-03-14T00:29:00.000Z',
          lastSeen: '2025-03-14T00:59:00.000Z',
        },
      ],
    };
    expect(processesTopResponse.parse(answer)).toEqual(answer);
    expect(failurePaths(processesTopResponse.safeParse({ ...answer, tier: '5m' }))).toEqual([
      'tier',
    ]);
  });
});
