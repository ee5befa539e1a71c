import { containsNul, hostName, isoTimestamp, type Snapshot } from '@livestat/contracts';
import type { BusMessage } from './bus.js';

// The wire format between processes: one header line naming the format and the sending
// process, then the snapshot JSON exactly as the publisher serialized it — so a receiver
// hands that text to its sockets without parsing and re-serializing an envelope.
const ENVELOPE_VERSION = 'livestat/1';

/** The header line a process puts before each snapshot it publishes. */
export function envelopeHeader(origin: string): string {
  return `${ENVELOPE_VERSION} ${origin}\n`;
}

/**
 * A message received on the channel: the snapshot, `'ours'` when `origin` (this process) sent
 * it, or null when it is not a valid envelope.
 */
export function parseEnvelope(text: string, origin: string): BusMessage | 'ours' | null {
  const newline = text.indexOf('\n');
  if (newline < 0) return null;
  const [version, sender] = text.slice(0, newline).split(' ');
  if (version !== ENVELOPE_VERSION || !sender) return null;
  if (sender === origin) return 'ours';
  return parseSnapshotJson(text.slice(newline + 1));
}

/**
 * A snapshot received as JSON, checked for the fields streaming relies on (host, timestamp,
 * seq) and for what the database refuses (a NUL anywhere, a year outside 0001–9999); null when
 * it is not one. The text is kept as is for the sockets.
 */
export function parseSnapshotJson(json: string): BusMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { type, host, timestamp, seq } = value as Record<string, unknown>;
  if (type !== 'snapshot') return null;
  if (!hostName.safeParse(host).success || !isoTimestamp.safeParse(timestamp).success) return null;
  if (typeof seq !== 'number' || !Number.isFinite(seq)) return null;
  // A host or interface name with a NUL would follow the snapshot into resume answers and
  // into queries on it; refused here, it never reaches a socket or the database.
  if (containsNul(value)) return null;
  return { snapshot: value as Snapshot, json };
}
