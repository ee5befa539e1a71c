import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

// An echo server stands in for the target: what comes back proves the bytes went through.
let echo: net.Server;
let proxy: TcpProxy;

beforeAll(async () => {
  echo = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  proxy = await startTcpProxy({
    targetHost: '127.0.0.1',
    targetPort: (echo.address() as net.AddressInfo).port,
  });
});

afterAll(async () => {
  await proxy.close();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

/** Connects through the proxy; resolves with the socket, or rejects with the connect error. */
function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxy.port, '127.0.0.1');
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends `text` and resolves with the first reply, or with null if the socket closes first. */
function roundTrip(socket: net.Socket, text: string): Promise<string | null> {
  return new Promise((resolve) => {
    socket.once('data', (chunk: Buffer) => resolve(chunk.toString()));
    socket.once('close', () => resolve(null));
    socket.on('error', () => undefined);
    socket.write(text);
  });
}

const closed = (socket: net.Socket) =>
  new Promise<void>((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once('close', () => resolve());
  });

describe('startTcpProxy', () => {
  it('forwards both ways and counts the piped connection', async () => {
    const socket = await connect();
    expect(await roundTrip(socket, 'ping')).toBe('ping');
    expect(proxy.connections()).toBe(1);
    socket.destroy();
    await closed(socket);
  });

  it('when down, drops live connections and refuses new ones; up() restores the same port', async () => {
    const port = proxy.port;
    const live = await connect();
    expect(await roundTrip(live, 'before')).toBe('before');
    await proxy.down();
    await closed(live);
    expect(proxy.connections()).toBe(0);
    await expect(connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await proxy.up();
    expect(proxy.port).toBe(port);
    const again = await connect();
    expect(await roundTrip(again, 'after')).toBe('after');
    again.destroy();
  });

  it('in blackhole mode accepts connections but forwards nothing', async () => {
    await proxy.down('blackhole');
    const socket = await connect();
    const reply = roundTrip(socket, 'lost');
    expect(proxy.connections()).toBe(0);
    await proxy.up();
    // up() ends held connections: the client sees its socket close, never an echo.
    expect(await reply).toBeNull();
  });

  it('cuts the connection on a reply containing the armed bytes, without delivering it', async () => {
    const socket = await connect();
    const fired = proxy.cutReplyContaining(Buffer.from('COMMIT'));
    expect(await roundTrip(socket, 'SELECT')).toBe('SELECT');
    expect(await roundTrip(socket, 'x COMMIT y')).toBeNull();
    await fired;
    const next = await connect();
    expect(await roundTrip(next, 'COMMIT again')).toBe('COMMIT again');
    next.destroy();
  });
});
