import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { describe, expect, it } from 'vitest';
import { envelopeHeader, parseEnvelope, parseSnapshotJson } from './redis-envelope.js';

const snapshot = makeExampleSnapshot();

describe('parseEnvelope', () => {
  it("hands another process's snapshot on with its text unchanged, and knows its own", () => {
    const json = JSON.stringify(snapshot);
    const text = `${envelopeHeader('agent-1')}${json}`;
    expect(parseEnvelope(text, 'api-1')).toEqual({ snapshot, json });
    expect(parseEnvelope(text, 'agent-1')).toBe('ours');
  });
});

describe('parseSnapshotJson', () => {
  it.each([
    ['a NUL in the host', { ...snapshot, host: 'vm\u0000a' }],
    [
      'a NUL in an interface name',
      {
        ...snapshot,
        network: { ...snapshot.network, interfaces: { 'eth\u00000': { rxBytesPerSec: 1 } } },
      },
    ],
    [
      'a NUL in an unavailable reason',
      { ...snapshot, perf: { available: false, error: 'x\u0000' } },
    ],
    ['a year 0000 timestamp', { ...snapshot, timestamp: '0000-01-01T00:00:00.000Z' }],
    ['a timestamp past year 9999', { ...snapshot, timestamp: '+010000-01-01T00:00:00.000Z' }],
    ['an empty host', { ...snapshot, host: '' }],
  ])('refuses a snapshot with %s, which the database would refuse', (_label, value) => {
    expect(parseSnapshotJson(JSON.stringify(value))).toBeNull();
  });

  it('refuses what is not a snapshot', () => {
    expect(parseSnapshotJson('{')).toBeNull();
    expect(parseSnapshotJson(JSON.stringify({ ...snapshot, type: 'pong' }))).toBeNull();
    expect(parseSnapshotJson(JSON.stringify({ ...snapshot, seq: '1' }))).toBeNull();
  });
});
