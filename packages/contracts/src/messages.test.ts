import { describe, expect, it } from 'vitest';
import type { z } from 'zod/mini';
import { exampleSnapshot, makeExampleSnapshot } from './examples.js';
import { CLOSE_CODES, clientMessage, MAX_CLIENT_FRAME_BYTES, serverMessage } from './messages.js';

/** The dotted paths of the issues of a failed parse; fails the test if the parse succeeded. */
function failurePaths(result: z.core.util.SafeParseResult<unknown>): string[] {
  expect(result.success).toBe(false);
  return result.error?.issues.map((issue) => issue.path.map(String).join('.')) ?? [];
}

const now = '2025-03-14T09:26:54.012Z';

describe('serverMessage', () => {
  it('accepts a snapshot and narrows to it by type', () => {
    const parsed = serverMessage.parse(exampleSnapshot);
    expect(parsed).toEqual(exampleSnapshot);
    expect(parsed.type === 'snapshot' && parsed.seq).toBe(42);
  });

  it('rejects a snapshot with a bad field, naming it', () => {
    const bad = { ...makeExampleSnapshot(), seq: 0 };
    expect(failurePaths(serverMessage.safeParse(bad))).toEqual(['seq']);
  });

  it.each([
    ['without an id', { type: 'pong', timestamp: now }],
    ['echoing a numeric id', { type: 'pong', id: 7, timestamp: now }],
    ['echoing a string id', { type: 'pong', id: 'probe-1', timestamp: now }],
  ])('accepts a pong %s', (_label, message) => {
    expect(serverMessage.parse(message)).toEqual(message);
  });

  it('rejects a pong without a timestamp or with one lacking milliseconds', () => {
    expect(failurePaths(serverMessage.safeParse({ type: 'pong', id: 1 }))).toEqual(['timestamp']);
    const noMs = { type: 'pong', timestamp: '2025-03-14T09:26:54Z' };
    expect(failurePaths(serverMessage.safeParse(noMs))).toEqual(['timestamp']);
  });

  it('accepts an error with and without a code', () => {
    const withCode = { type: 'error', error: 'invalid JSON', code: 'bad_json', timestamp: now };
    const plain = { type: 'error', error: 'unknown message type', timestamp: now };
    expect(serverMessage.parse(withCode)).toEqual(withCode);
    expect(serverMessage.parse(plain)).toEqual(plain);
  });

  it('rejects an error without text or without a timestamp', () => {
    expect(
      failurePaths(serverMessage.safeParse({ type: 'error', error: '', timestamp: now })),
    ).toEqual(['error']);
    expect(failurePaths(serverMessage.safeParse({ type: 'error', error: 'x' }))).toEqual([
      'timestamp',
    ]);
  });

  it('accepts a hosts list, empty or not', () => {
    const hosts = {
      type: 'hosts',
      hosts: [
        { name: 'vm-web-01', lastSeen: now },
        { name: 'vm-db-02', lastSeen: '2025-03-14T09:20:00.000Z' },
      ],
    };
    expect(serverMessage.parse(hosts)).toEqual(hosts);
    expect(serverMessage.parse({ type: 'hosts', hosts: [] })).toEqual({ type: 'hosts', hosts: [] });
  });

  it('rejects a host without a name or with a lastSeen that is not ISO UTC', () => {
    const noName = { type: 'hosts', hosts: [{ name: '', lastSeen: now }] };
    expect(failurePaths(serverMessage.safeParse(noName))).toEqual(['hosts.0.name']);
    const epoch = { type: 'hosts', hosts: [{ name: 'a', lastSeen: 1741944414012 }] };
    expect(failurePaths(serverMessage.safeParse(epoch))).toEqual(['hosts.0.lastSeen']);
    expect(failurePaths(serverMessage.safeParse({ type: 'hosts' }))).toEqual(['hosts']);
  });

  it('rejects an unknown type and a client message', () => {
    expect(failurePaths(serverMessage.safeParse({ type: 'hello' }))).toEqual(['type']);
    expect(failurePaths(serverMessage.safeParse({ type: 'ping' }))).toEqual(['type']);
  });
});

describe('clientMessage', () => {
  it('accepts a ping with or without an id', () => {
    expect(clientMessage.parse({ type: 'ping' })).toEqual({ type: 'ping' });
    expect(clientMessage.parse({ type: 'ping', id: 3 })).toEqual({ type: 'ping', id: 3 });
    expect(clientMessage.parse({ type: 'ping', id: 'abc' })).toEqual({ type: 'ping', id: 'abc' });
  });

  it('rejects a ping id that is fractional, too long or an object', () => {
    expect(failurePaths(clientMessage.safeParse({ type: 'ping', id: 1.5 }))).toEqual(['id']);
    expect(failurePaths(clientMessage.safeParse({ type: 'ping', id: 'x'.repeat(65) }))).toEqual([
      'id',
    ]);
    expect(failurePaths(clientMessage.safeParse({ type: 'ping', id: { a: 1 } }))).toEqual(['id']);
  });

  it('accepts a subscribe to some hosts and to every host (empty list)', () => {
    expect(clientMessage.parse({ type: 'subscribe', hosts: ['vm-web-01', 'vm-db-02'] })).toEqual({
      type: 'subscribe',
      hosts: ['vm-web-01', 'vm-db-02'],
    });
    expect(clientMessage.parse({ type: 'subscribe', hosts: [] })).toEqual({
      type: 'subscribe',
      hosts: [],
    });
  });

  it('rejects a subscribe without a list, with a bare string, an empty name or too many hosts', () => {
    expect(failurePaths(clientMessage.safeParse({ type: 'subscribe' }))).toEqual(['hosts']);
    expect(failurePaths(clientMessage.safeParse({ type: 'subscribe', hosts: 'a' }))).toEqual([
      'hosts',
    ]);
    expect(failurePaths(clientMessage.safeParse({ type: 'subscribe', hosts: ['a', ''] }))).toEqual([
      'hosts.1',
    ]);
    const many = Array.from({ length: 1001 }, (_, i) => `h${i}`);
    expect(failurePaths(clientMessage.safeParse({ type: 'subscribe', hosts: many }))).toEqual([
      'hosts',
    ]);
  });

  it('accepts request_snapshot and drops extra fields', () => {
    expect(clientMessage.parse({ type: 'request_snapshot', host: 'x' })).toEqual({
      type: 'request_snapshot',
    });
  });

  it('accepts an auth with a token, and rejects a missing, empty or oversized one', () => {
    expect(clientMessage.parse({ type: 'auth', token: 'a.b.c' })).toEqual({
      type: 'auth',
      token: 'a.b.c',
    });
    expect(failurePaths(clientMessage.safeParse({ type: 'auth' }))).toEqual(['token']);
    expect(failurePaths(clientMessage.safeParse({ type: 'auth', token: '' }))).toEqual(['token']);
    const huge = { type: 'auth', token: 'x'.repeat(2049) };
    expect(failurePaths(clientMessage.safeParse(huge))).toEqual(['token']);
  });

  it('keeps the largest valid auth message under the frame limit', () => {
    const largest = JSON.stringify({ type: 'auth', token: 'x'.repeat(2048) });
    expect(clientMessage.safeParse(JSON.parse(largest)).success).toBe(true);
    expect(largest.length).toBeLessThan(MAX_CLIENT_FRAME_BYTES);
  });

  it('accepts a resume after a snapshot timestamp', () => {
    const resume = { type: 'resume', host: 'vm-web-01', after: exampleSnapshot.timestamp };
    expect(clientMessage.parse(resume)).toEqual(resume);
  });

  it('rejects a resume without a host or with an `after` that is not ISO UTC with ms', () => {
    expect(failurePaths(clientMessage.safeParse({ type: 'resume', after: now }))).toEqual(['host']);
    const noMs = { type: 'resume', host: 'a', after: '2025-03-14T09:26:53Z' };
    expect(failurePaths(clientMessage.safeParse(noMs))).toEqual(['after']);
    const missing = { type: 'resume', host: 'a' };
    expect(failurePaths(clientMessage.safeParse(missing))).toEqual(['after']);
  });

  it('rejects a NUL in a subscribed host or a resumed one, and a resume from year 0000', () => {
    const subscribe = { type: 'subscribe', hosts: ['vm-web-01', 'vm\u0000db'] };
    expect(failurePaths(clientMessage.safeParse(subscribe))).toEqual(['hosts.1']);
    const host = { type: 'resume', host: 'vm\u0000db', after: now };
    expect(failurePaths(clientMessage.safeParse(host))).toEqual(['host']);
    const year0 = { type: 'resume', host: 'a', after: '0000-01-01T00:00:00.000Z' };
    const result = clientMessage.safeParse(year0);
    expect(failurePaths(result)).toEqual(['after']);
    expect(result.error?.issues[0]?.message).toBe('must be between years 0001 and 9999');
  });

  it.each([
    ['an unknown type', { type: 'unsubscribe', hosts: [] }],
    ['a server type', { type: 'pong', timestamp: now }],
    ['no type', { id: 1 }],
    ['a numeric type', { type: 1 }],
  ])('rejects %s at `type`', (_label, message) => {
    expect(failurePaths(clientMessage.safeParse(message))).toEqual(['type']);
  });

  it.each([
    ['a string', 'ping'],
    ['null', null],
    ['an array', [{ type: 'ping' }]],
  ])('rejects %s as the whole message', (_label, message) => {
    expect(failurePaths(clientMessage.safeParse(message))).toEqual(['']);
  });
});

describe('CLOSE_CODES', () => {
  it('uses the codes the spec names', () => {
    expect(CLOSE_CODES).toEqual({
      normal: 1000,
      goingAway: 1001,
      policyViolation: 1008,
      messageTooBig: 1009,
      tryAgainLater: 1013,
    });
  });
});
