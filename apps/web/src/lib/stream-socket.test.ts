import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket as WsWebSocket, WebSocketServer } from 'ws';
import type { WebSocket as ServerSocket } from 'ws';
import { SocketOpenError, StreamSocket } from './stream-socket';
import type { SocketConstructor, SocketLike, StreamSocketEvents } from './stream-socket';

const until = (check: () => boolean) => vi.waitUntil(check, { timeout: 5000, interval: 2 });

interface Peer {
  ws: ServerSocket;
  received: string[];
  closed: Promise<number>;
}

let wss: WebSocketServer;
let url = '';
let peers: Peer[] = [];

beforeEach(async () => {
  peers = [];
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/api/ws/metrics`;
  wss.on('connection', (ws) => {
    const peer: Peer = {
      ws,
      received: [],
      closed: new Promise((resolve) => ws.on('close', (code) => resolve(code))),
    };
    ws.on('message', (data) => peer.received.push(String(data)));
    peers.push(peer);
  });
});
afterEach(async () => {
  for (const { ws } of peers) ws.terminate();
  await new Promise((resolve) => wss.close(resolve));
});

/** The events a StreamSocket reported, in order. */
function recorder() {
  const seen: unknown[][] = [];
  const events: StreamSocketEvents = {
    open: () => seen.push(['open']),
    message: (data) => seen.push(['message', data]),
    close: (code, reason, token) => seen.push(['close', code, reason, token]),
  };
  return { seen, events };
}

/** `ws`'s client class, remembering every socket it made. */
function recordingSocket() {
  const made: SocketLike[] = [];
  const Recording = class extends WsWebSocket {
    constructor(address: string) {
      super(address);
      made.push(this as unknown as SocketLike);
    }
  };
  return { made, Socket: Recording as unknown as SocketConstructor };
}

describe('StreamSocket over a real ws server', () => {
  it('reports open and text frames, and sends client messages as JSON', async () => {
    const { seen, events } = recorder();
    const stream = new StreamSocket(WsWebSocket as unknown as SocketConstructor, events);
    stream.open(url, 'token-a');
    expect(stream.isConnecting).toBe(true);
    await until(() => stream.isOpen);
    expect(stream.token).toBe('token-a');
    peers[0]!.ws.send('{"type":"pong","timestamp":"2026-01-01T00:00:00.000Z"}');
    await until(() => seen.length === 2);
    expect(seen).toEqual([
      ['open'],
      ['message', '{"type":"pong","timestamp":"2026-01-01T00:00:00.000Z"}'],
    ]);
    expect(stream.send({ type: 'ping', id: 7 })).toBe(true);
    await until(() => peers[0]!.received.length === 1);
    expect(JSON.parse(peers[0]!.received[0]!)).toEqual({ type: 'ping', id: 7 });
    stream.close();
  });

  it('reports a close it did not ask for, with the token the socket held', async () => {
    const { seen, events } = recorder();
    const stream = new StreamSocket(WsWebSocket as unknown as SocketConstructor, events);
    stream.open(url, 'token-a');
    await until(() => stream.isOpen);
    peers[0]!.ws.close(1011, 'server error');
    await until(() => seen.length === 2);
    expect(seen[1]).toEqual(['close', 1011, 'server error', 'token-a']);
    expect([stream.isOpen, stream.token]).toEqual([false, null]);
  });

  it('closes on purpose with the code given, and reports nothing', async () => {
    const { seen, events } = recorder();
    const stream = new StreamSocket(WsWebSocket as unknown as SocketConstructor, events);
    stream.open(url, 'token-a');
    await until(() => stream.isOpen);
    stream.close(1000, 'leaving the dashboard');
    expect(await peers[0]!.closed).toBe(1000);
    expect(seen).toEqual([['open']]);
    expect(stream.send({ type: 'ping' })).toBe(false);
  });

  it('ignores every event of a socket it replaced', async () => {
    const { seen, events } = recorder();
    const { made, Socket } = recordingSocket();
    const stream = new StreamSocket(Socket, events);
    stream.open(url, 'token-a');
    await until(() => stream.isOpen);
    peers[0]!.ws.terminate();
    await until(() => seen.length === 2);
    stream.open(url, 'token-b');
    await until(() => stream.isOpen);
    expect(seen.map((event) => event[0])).toEqual(['open', 'close', 'open']);

    const old = made[0]!;
    old.onmessage?.({ data: 'late frame' } as MessageEvent);
    old.onclose?.({ code: 1008, reason: 'invalid token' } as CloseEvent);
    old.onopen?.({} as Event);
    expect(seen).toHaveLength(3);
    expect(stream.token).toBe('token-b');
  });

  it('abandons a socket still opening when asked to open another', async () => {
    const { seen, events } = recorder();
    const { made, Socket } = recordingSocket();
    const stream = new StreamSocket(Socket, events);
    stream.open(url, 'token-a');
    stream.open(url, 'token-b');
    await until(() => stream.isOpen);
    expect(made[0]!.readyState).toBeGreaterThanOrEqual(2); // CLOSING or CLOSED
    expect(seen).toEqual([['open']]);
    expect(stream.token).toBe('token-b');
  });

  it('hands the open socket a renewed token', async () => {
    const { events } = recorder();
    const stream = new StreamSocket(WsWebSocket as unknown as SocketConstructor, events);
    expect(stream.renew('token-b')).toBe(false);
    stream.open(url, 'token-a');
    await until(() => stream.isOpen);
    expect(stream.renew('token-b')).toBe(true);
    expect(stream.token).toBe('token-b');
    await until(() => peers[0]!.received.length === 1);
    expect(JSON.parse(peers[0]!.received[0]!)).toEqual({ type: 'auth', token: 'token-b' });
    stream.close();
  });

  it('reports a socket that cannot be made as a failed attempt (1006)', () => {
    const { seen, events } = recorder();
    const stream = new StreamSocket(WsWebSocket as unknown as SocketConstructor, events);
    stream.open('not a url', 'token-a');
    expect(seen).toEqual([['close', 1006, expect.any(String), 'token-a']]);
    expect([stream.isOpen, stream.isConnecting, stream.token]).toEqual([false, false, null]);
  });
});

describe('StreamSocket to a target it must make first (a ticket to buy)', () => {
  /** A target the test settles by hand, recording the signal each call got. */
  function manualTarget() {
    const calls: {
      signal: AbortSignal;
      resolve: (url: string) => void;
      reject: (error: unknown) => void;
    }[] = [];
    const target = (signal: AbortSignal) =>
      new Promise<string>((resolve, reject) => calls.push({ signal, resolve, reject }));
    return { calls, target };
  }

  it('connects once the URL is made, connecting all the while', async () => {
    const { seen, events } = recorder();
    const { made, Socket } = recordingSocket();
    const stream = new StreamSocket(Socket, events);
    const { calls, target } = manualTarget();
    stream.open(target, 'token-a');
    expect([stream.isConnecting, made.length]).toEqual([true, 0]);
    calls[0]!.resolve(`${url}?ticket=t1`);
    await until(() => stream.isOpen);
    expect(seen).toEqual([['open']]);
    expect(stream.token).toBe('token-a');
    stream.close();
  });

  it('reports a target that fails as a close: its code, or 1006', async () => {
    const { seen, events } = recorder();
    const stream = new StreamSocket(WsWebSocket as unknown as SocketConstructor, events);
    const { calls, target } = manualTarget();
    stream.open(target, 'token-a');
    calls[0]!.reject(new SocketOpenError(1008, 'token expired'));
    await until(() => seen.length === 1);
    stream.open(target, 'token-b');
    calls[1]!.reject(new Error('offline'));
    await until(() => seen.length === 2);
    expect(seen).toEqual([
      ['close', 1008, 'token expired', 'token-a'],
      ['close', 1006, 'offline', 'token-b'],
    ]);
    expect([stream.isOpen, stream.isConnecting, stream.token]).toEqual([false, false, null]);
  });

  it('abandons a target still being made on close() or another open(), reporting nothing', async () => {
    const { seen, events } = recorder();
    const { made, Socket } = recordingSocket();
    const stream = new StreamSocket(Socket, events);
    const { calls, target } = manualTarget();
    stream.open(target, 'token-a');
    stream.close(1000, 'leaving the dashboard');
    expect([calls[0]!.signal.aborted, stream.isConnecting]).toEqual([true, false]);
    calls[0]!.resolve(url);

    stream.open(target, 'token-b');
    stream.open(target, 'token-c');
    expect(calls[1]!.signal.aborted).toBe(true);
    calls[1]!.reject(new SocketOpenError(1008, 'invalid token'));
    calls[2]!.resolve(url);
    await until(() => stream.isOpen);
    expect(made).toHaveLength(1);
    expect(seen).toEqual([['open']]);
    expect(stream.token).toBe('token-c');
    stream.close();
  });
});
