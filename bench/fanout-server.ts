// bench/fanout: the server side, in its own process, driven by bench/fanout.ts over IPC.
//
//   livestat: the real stream server (createStreamServer) on the in-process bus, tokens checked
//             with the real token service at connect;
//   baseline: a bare `ws` server that sends the same pre-serialized bytes to every client.
//
// IPC in: {cmd: 'publish'} | {cmd: 'stats'}. IPC out: {ready, port} | {published, at} | {stats}.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import pino from 'pino';
import { WebSocketServer } from 'ws';
import { createTokenService } from '../apps/api/src/auth/tokens.js';
import { createLocalBus } from '../apps/api/src/stream/bus.js';
import { createStreamServer } from '../apps/api/src/stream/ws-server.js';

const BENCH_USER = { id: 1, username: 'bench', role: 'viewer' as const };
const secret = process.env.BENCH_SECRET ?? '';

const mode = process.argv[2];
if ((mode !== 'livestat' && mode !== 'baseline') || secret.length < 32) {
  console.error('usage: BENCH_SECRET=<≥32 bytes> fanout-server.ts livestat|baseline');
  process.exit(2);
}
const send = (message: unknown) => process.send?.(message);
const logger = pino({ level: 'silent' });
let seq = 0;

function nextSnapshot() {
  seq += 1;
  return makeExampleSnapshot({ host: 'bench-host', seq, timestamp: new Date().toISOString() });
}

let publish: () => void;
let connections: () => number;
const server = createServer();

if (mode === 'livestat') {
  const tokens = createTokenService({ secret, ttlSeconds: 3600 });
  const bus = createLocalBus();
  const stream = createStreamServer({
    server,
    bus,
    // The token is verified for real; the user lookup (one indexed query per connect) is not
    // part of the broadcast being measured.
    authenticate: (token) => {
      const claims = tokens.verify(token);
      return Promise.resolve({ user: BENCH_USER, expiresAtMs: claims.expiresAtMs });
    },
    corsOrigins: [],
    heartbeatIntervalMs: 30_000,
    maxBufferedBytes: 1024 * 1024,
    resume: () => Promise.resolve([]),
    // The bench user is never removed: every open socket's user still exists.
    users: {
      existing: (ids) => Promise.resolve(new Set(ids)),
      onRemoved: () => () => undefined,
    },
    logger,
  });
  publish = () => bus.publish(nextSnapshot());
  connections = () => stream.connections();
} else {
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (socket) => socket.on('error', () => undefined));
  publish = () => {
    const json = JSON.stringify(nextSnapshot());
    for (const client of wss.clients) client.send(json);
  };
  connections = () => wss.clients.size;
}

server.listen(0, '127.0.0.1', () => {
  send({ ready: true, port: (server.address() as AddressInfo).port });
});

process.on('message', (message: { cmd: string }) => {
  if (message.cmd === 'publish') {
    const at = Date.now();
    publish();
    send({ published: seq, at, ms: Date.now() - at });
  } else if (message.cmd === 'stats') {
    const memory = process.memoryUsage();
    send({
      stats: {
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        cpu: process.cpuUsage(),
        connections: connections(),
        payloadBytes: Buffer.byteLength(JSON.stringify(nextSnapshotPreview())),
      },
    });
  }
});

function nextSnapshotPreview() {
  return makeExampleSnapshot({ host: 'bench-host', seq, timestamp: new Date().toISOString() });
}
