import {
  clientMessage,
  type ClientMessage,
  type ErrorMessage,
  type HostInfo,
  type HostsMessage,
  type PongMessage,
} from '@livestat/contracts';

/**
 * Stable codes of the `error` messages the socket sends (the `code` field):
 * - `bad_json`: the frame is not JSON text;
 * - `bad_message`: JSON, but not a client message (unknown `type`, wrong fields, binary frame);
 * - `busy`: too many requests still being answered on this socket; this one was dropped;
 * - `resume_failed`: the database could not be read for a `resume`;
 * - `too_many_watches`: a `watch_…` beyond the watches one socket may hold;
 * - `internal`: anything else went wrong answering the message (logged on the server).
 */
export type StreamErrorCode =
  'bad_json' | 'bad_message' | 'busy' | 'resume_failed' | 'too_many_watches' | 'internal';

/** A frame that is not a valid client message, and what to tell the client. */
export class ClientMessageError extends Error {
  constructor(
    readonly code: StreamErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ClientMessageError';
  }
}

const KNOWN_TYPES: ReadonlySet<string> = new Set(
  clientMessage.def.options.flatMap((option) => option.shape.type.def.values),
);

/**
 * Parses one client frame. Throws {@link ClientMessageError}; never echoes more than a short,
 * quoted piece of what the client sent.
 */
export function parseClientFrame(data: Buffer, isBinary: boolean): ClientMessage {
  if (isBinary) throw new ClientMessageError('bad_message', 'binary frames are not accepted');
  let value: unknown;
  try {
    value = JSON.parse(data.toString('utf8'));
  } catch {
    throw new ClientMessageError('bad_json', 'the message is not valid JSON');
  }
  const type =
    typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  if (typeof type !== 'string' || !KNOWN_TYPES.has(type)) {
    const shown = typeof type === 'string' ? ` ${JSON.stringify(type.slice(0, 32))}` : '';
    throw new ClientMessageError(
      'bad_message',
      `unknown message type${shown}; expected one of ${[...KNOWN_TYPES].join(', ')}`,
    );
  }
  const parsed = clientMessage.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : 'message';
    throw new ClientMessageError(
      'bad_message',
      `invalid ${type} message: ${where}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

export function errorMessage(code: StreamErrorCode, error: string): string {
  const message: ErrorMessage = {
    type: 'error',
    error,
    code,
    timestamp: new Date().toISOString(),
  };
  return JSON.stringify(message);
}

export function pongMessage(id: string | number | undefined): string {
  const message: PongMessage = { type: 'pong', timestamp: new Date().toISOString() };
  if (id !== undefined) message.id = id;
  return JSON.stringify(message);
}

export function hostsMessage(hosts: HostInfo[]): string {
  const message: HostsMessage = {
    type: 'hosts',
    hosts: [...hosts].sort((a, b) => a.name.localeCompare(b.name)),
  };
  return JSON.stringify(message);
}
