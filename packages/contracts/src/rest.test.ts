import { describe, expect, it } from 'vitest';
import type { z } from 'zod/mini';
import { exampleSnapshot } from './examples.js';
import {
  errorResponse,
  healthResponse,
  HISTORY_DEFAULT_POINTS,
  HISTORY_MAX_POINTS,
  HISTORY_MAX_SERIES,
  historyQuery,
  historyResponse,
  hostsResponse,
  latestSnapshotsResponse,
  loginRequest,
  loginResponse,
  meResponse,
} from './rest.js';

/** The dotted paths of the issues of a failed parse; fails the test if the parse succeeded. */
function failurePaths(result: z.core.util.SafeParseResult<unknown>): string[] {
  expect(result.success).toBe(false);
  return result.error?.issues.map((issue) => issue.path.map(String).join('.')) ?? [];
}

const user = { id: 1, username: 'admin', role: 'admin' };

describe('loginRequest', () => {
  it('trims the username but never the password', () => {
    expect(loginRequest.parse({ username: '  admin\t', password: ' s3cret ' })).toEqual({
      username: 'admin',
      password: ' s3cret ',
    });
  });

  it('rejects a blank username or an empty password, naming the field', () => {
    expect(failurePaths(loginRequest.safeParse({ username: '   ', password: 'x' }))).toEqual([
      'username',
    ]);
    expect(failurePaths(loginRequest.safeParse({ username: 'admin', password: '' }))).toEqual([
      'password',
    ]);
    expect(failurePaths(loginRequest.safeParse({ username: 'admin' }))).toEqual(['password']);
    expect(failurePaths(loginRequest.safeParse({ username: 7, password: 'x' }))).toEqual([
      'username',
    ]);
  });

  it('limits the username to 64 characters after trimming and the password to 1024', () => {
    const name64 = 'u'.repeat(64);
    expect(loginRequest.parse({ username: ` ${name64} `, password: 'p'.repeat(1024) })).toEqual({
      username: name64,
      password: 'p'.repeat(1024),
    });
    expect(failurePaths(loginRequest.safeParse({ username: `${name64}u`, password: 'x' }))).toEqual(
      ['username'],
    );
    const longPassword = { username: 'admin', password: 'p'.repeat(1025) };
    expect(failurePaths(loginRequest.safeParse(longPassword))).toEqual(['password']);
  });
});

describe('loginResponse and meResponse', () => {
  const answer = { token: 'h.p.s', expiresAt: '2025-03-14T21:26:53.589Z', user };

  it('accepts a token, its expiry and the public user', () => {
    expect(loginResponse.parse(answer)).toEqual(answer);
    expect(meResponse.parse({ user: { ...user, role: 'viewer' } }).user.role).toBe('viewer');
  });

  it('rejects an unknown role, an expiry that is not ISO UTC, an empty token and id 0', () => {
    const root = { ...answer, user: { ...user, role: 'root' } };
    expect(failurePaths(loginResponse.safeParse(root))).toEqual(['user.role']);
    const epoch = { ...answer, expiresAt: 1741987613589 };
    expect(failurePaths(loginResponse.safeParse(epoch))).toEqual(['expiresAt']);
    expect(failurePaths(loginResponse.safeParse({ ...answer, token: '' }))).toEqual(['token']);
    const noId = { ...answer, user: { ...user, id: 0 } };
    expect(failurePaths(loginResponse.safeParse(noId))).toEqual(['user.id']);
  });

  it('does not carry a password hash through', () => {
    const leaky = { ...answer, user: { ...user, passwordHash: '$argon2id$...' } };
    expect(loginResponse.parse(leaky).user).toEqual(user);
  });
});

describe('hostsResponse and latestSnapshotsResponse', () => {
  it('accepts the host list and the latest snapshots', () => {
    const hosts = { hosts: [{ name: 'vm-web-01', lastSeen: exampleSnapshot.timestamp }] };
    expect(hostsResponse.parse(hosts)).toEqual(hosts);
    expect(latestSnapshotsResponse.parse({ snapshots: [exampleSnapshot] })).toEqual({
      snapshots: [exampleSnapshot],
    });
  });

  it('rejects a latest list holding an invalid snapshot, at its index', () => {
    const bad = { ...exampleSnapshot, timestamp: '2025-03-14T09:26:53Z' };
    const result = latestSnapshotsResponse.safeParse({ snapshots: [exampleSnapshot, bad] });
    expect(failurePaths(result)).toEqual(['snapshots.1.timestamp']);
  });
});

describe('historyQuery', () => {
  const from = '2025-03-14T08:00:00.000Z';
  const to = '2025-03-14T09:00:00.000Z';
  const fromMs = Date.UTC(2025, 2, 14, 8);
  const toMs = Date.UTC(2025, 2, 14, 9);

  it('turns a single series into a list and ISO times into epoch ms, with 500 points by default', () => {
    expect(historyQuery.parse({ series: 'cpu.usagePercent', from, to })).toEqual({
      series: ['cpu.usagePercent'],
      from: fromMs,
      to: toMs,
      points: HISTORY_DEFAULT_POINTS,
    });
    expect(HISTORY_DEFAULT_POINTS).toBe(500);
  });

  it('keeps repeated series in order, with the host and points given', () => {
    const query = {
      host: 'vm-web-01',
      series: ['memory.usedPercent', 'network.interfaces.eth0.rxBytesPerSec', 'agent.cpuPercent'],
      from: String(fromMs),
      to: String(toMs),
      points: '250',
    };
    expect(historyQuery.parse(query)).toEqual({ ...query, from: fromMs, to: toMs, points: 250 });
  });

  it('reads an offset, fractional seconds, a date alone and surrounding spaces', () => {
    const parsed = historyQuery.parse({
      series: 'cpu.usagePercent',
      from: ' 2025-03-14 ',
      to: '2025-03-14T10:00:00.5+02:00',
    });
    expect(parsed.from).toBe(Date.UTC(2025, 2, 14));
    expect(parsed.to).toBe(Date.UTC(2025, 2, 14, 8, 0, 0, 500));
  });

  it.each([1, HISTORY_MAX_POINTS])('accepts points=%i', (points) => {
    expect(
      historyQuery.parse({ series: 'cpu.usagePercent', from, to, points: String(points) }).points,
    ).toBe(points);
  });

  it.each(['0', '5001', '-5', '1.5', 'many', ''])('rejects points=%j at `points`', (points) => {
    expect(
      failurePaths(historyQuery.safeParse({ series: 'cpu.usagePercent', from, to, points })),
    ).toEqual(['points']);
  });

  it.each([
    ['equal', from, from],
    ['reversed', to, from],
  ])('rejects from and to %s at `from`', (_label, f, t) => {
    const result = historyQuery.safeParse({ series: 'cpu.usagePercent', from: f, to: t });
    expect(failurePaths(result)).toEqual(['from']);
    expect(result.error?.issues[0]?.message).toBe('must be before to');
  });

  it.each([
    ['free text that Date.parse would read', 'cpu 2'],
    ['a word', 'yesterday'],
    ['a local time without a zone', '2025-03-14T08:00:00'],
    ['an epoch beyond any Date', '99999999999999999999'],
    ['a negative epoch', '-1'],
    ['an empty value', '  '],
  ])('rejects %s as from, naming `from`', (_label, value) => {
    expect(
      failurePaths(historyQuery.safeParse({ series: 'cpu.usagePercent', from: value, to })),
    ).toEqual(['from']);
  });

  it('rejects a bad or missing to at `to`, without also blaming from', () => {
    expect(
      failurePaths(historyQuery.safeParse({ series: 'cpu.usagePercent', from, to: 'now' })),
    ).toEqual(['to']);
    expect(failurePaths(historyQuery.safeParse({ series: 'cpu.usagePercent', from }))).toEqual([
      'to',
    ]);
  });

  it.each([
    ['no dot', 'cpu'],
    ['an unknown section', 'nosuch.metric'],
    ['upper case', 'CPU.usagePercent'],
    ['an empty segment', 'cpu..usagePercent'],
    ['a trailing dot', 'cpu.usagePercent.'],
    ['a space', 'cpu.usage Percent'],
    ['an empty value', ''],
  ])('rejects a series path with %s at `series`', (_label, series) => {
    const paths = failurePaths(historyQuery.safeParse({ series, from, to }));
    // An empty value breaks both the length and the pattern: every issue must name the parameter.
    expect([...new Set(paths)]).toEqual(['series.0']);
  });

  it('names the bad one among repeated series', () => {
    const series = ['cpu.usagePercent', 'disk.devices.vda.busyPercent', 'bogus'];
    expect(failurePaths(historyQuery.safeParse({ series, from, to }))).toEqual(['series.2']);
  });

  it('rejects no series, an empty list and more than the maximum at `series`', () => {
    expect(failurePaths(historyQuery.safeParse({ from, to }))).toEqual(['series']);
    expect(failurePaths(historyQuery.safeParse({ series: [], from, to }))).toEqual(['series']);
    const many = Array.from(
      { length: HISTORY_MAX_SERIES + 1 },
      (_, i) => `cpu.cores.${i}.usagePercent`,
    );
    expect(failurePaths(historyQuery.safeParse({ series: many, from, to }))).toEqual(['series']);
  });

  it('rejects a repeated or empty host at `host`', () => {
    const twice = { host: ['a', 'b'], series: 'cpu.usagePercent', from, to };
    expect(failurePaths(historyQuery.safeParse(twice))).toEqual(['host']);
    const empty = { host: '', series: 'cpu.usagePercent', from, to };
    expect(failurePaths(historyQuery.safeParse(empty))).toEqual(['host']);
  });

  // PostgreSQL refuses NUL in text ("invalid byte sequence for encoding UTF8: 0x00").
  it('rejects a NUL in the host or in a series path, naming the parameter', () => {
    const host = { host: 'vm\u0000web', series: 'cpu.usagePercent', from, to };
    expect(failurePaths(historyQuery.safeParse(host))).toEqual(['host']);
    const series = ['cpu.usagePercent', 'network.interfaces.eth\u00000.rxBytesPerSec'];
    expect(failurePaths(historyQuery.safeParse({ series, from, to }))).toEqual(['series.1']);
  });

  it.each([
    ['year 0000', '0000-01-01T00:00:00Z'],
    ['year 0000 by its offset', '0001-01-01T00:30:00+01:00'],
    ['an epoch past year 9999', '253402300800000'],
    ['the largest epoch a Date holds', '8640000000000000'],
  ])('rejects %s as from, saying which years are accepted', (_label, value) => {
    const result = historyQuery.safeParse({ series: 'cpu.usagePercent', from: value, to });
    expect(failurePaths(result)).toEqual(['from']);
    expect(result.error?.issues[0]?.message).toBe('must be between years 0001 and 9999');
  });

  it('rejects a date the calendar lacks rather than rolling it into the next month', () => {
    const result = historyQuery.safeParse({ series: 'cpu.usagePercent', from: '2025-02-30', to });
    expect(failurePaths(result)).toEqual(['from']);
    expect(historyQuery.parse({ series: 'cpu.usagePercent', from: '2024-02-29', to }).from).toBe(
      Date.UTC(2024, 1, 29),
    );
  });

  it('accepts the first and last instants of years 0001 to 9999', () => {
    const parsed = historyQuery.parse({
      series: 'cpu.usagePercent',
      from: '0001-01-01T00:00:00Z',
      to: String(Date.UTC(9999, 11, 31, 23, 59, 59, 999)),
    });
    expect(new Date(parsed.from).toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(new Date(parsed.to).toISOString()).toBe('9999-12-31T23:59:59.999Z');
  });
});

describe('historyResponse', () => {
  const answer = {
    host: 'vm-web-01',
    from: 1741939200000,
    to: 1741942800000,
    bucketMs: 60000,
    tier: '1m',
    series: {
      'cpu.usagePercent': [
        [1741939200000, 12.5, 3.1, 40.2],
        [1741939260000, null, null, null],
      ],
    },
  };

  it('accepts buckets of [epochMs, avg, min, max], empty ones as nulls', () => {
    expect(historyResponse.parse(answer)).toEqual(answer);
  });

  it('rejects a bucket of the wrong length, an unknown tier and a zero bucket width', () => {
    const short = { ...answer, series: { 'cpu.usagePercent': [[1741939200000, 12.5]] } };
    expect(failurePaths(historyResponse.safeParse(short))).toEqual(['series.cpu.usagePercent.0']);
    expect(failurePaths(historyResponse.safeParse({ ...answer, tier: '5m' }))).toEqual(['tier']);
    expect(failurePaths(historyResponse.safeParse({ ...answer, bucketMs: 0 }))).toEqual([
      'bucketMs',
    ]);
  });
});

describe('healthResponse', () => {
  const health = {
    status: 'ok',
    version: '0.1.0',
    host: 'vm-web-01',
    uptimeSeconds: 3600.5,
    database: 'up',
    redis: 'not_configured',
    websocketConnections: 3,
    sampler: { seq: 3600, lastSnapshotAt: exampleSnapshot.timestamp },
  };

  it('accepts a healthy answer and one before the first snapshot', () => {
    expect(healthResponse.parse(health)).toEqual(health);
    const starting = { ...health, status: 'degraded', sampler: { seq: 0, lastSnapshotAt: null } };
    expect(healthResponse.parse(starting)).toEqual(starting);
  });

  it('rejects an unknown component status, a negative connection count and a missing sampler', () => {
    expect(failurePaths(healthResponse.safeParse({ ...health, database: 'maybe' }))).toEqual([
      'database',
    ]);
    expect(failurePaths(healthResponse.safeParse({ ...health, websocketConnections: -1 }))).toEqual(
      ['websocketConnections'],
    );
    const { sampler, ...rest } = health;
    expect(sampler.seq).toBe(3600);
    expect(failurePaths(healthResponse.safeParse(rest))).toEqual(['sampler']);
  });
});

describe('errorResponse', () => {
  it('accepts {error} and drops anything else, such as a stack', () => {
    expect(errorResponse.parse({ error: 'invalid token', stack: 'Error: at x.js:1' })).toEqual({
      error: 'invalid token',
    });
  });

  it('rejects an empty or missing error', () => {
    expect(failurePaths(errorResponse.safeParse({ error: '' }))).toEqual(['error']);
    expect(failurePaths(errorResponse.safeParse({ message: 'x' }))).toEqual(['error']);
  });
});
