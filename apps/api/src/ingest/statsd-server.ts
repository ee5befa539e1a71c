import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from '../logger.js';
import { UNKNOWN_SERVICE, type AppAggregator } from './app-aggregator.js';
import { parseStatsdPacket } from './statsd-parser.js';

export interface StatsdServerOptions {
  host: string;
  /** 0 picks a free port (tests). */
  port: number;
  aggregator: AppAggregator;
  logger: Logger;
  /** Bytes of packets waiting to be parsed; past it packets are dropped and counted. */
  maxQueuedBytes?: number;
  /** Longest one parsing slice runs before yielding to the event loop (the sampler's ticks). */
  sliceMs?: number;
}

export interface StatsdServerStats {
  packets: number;
  lines: number;
  rejectedLines: number;
  droppedPackets: number;
  queuedBytes: number;
}

/**
 * The StatsD UDP listener. The socket handler only queues the datagram (bounded); parsing and
 * aggregation run in slices of at most `sliceMs` between event-loop turns, so a flood of
 * packets, good or bad, never holds up the sampler's tick.
 */
export function createStatsdServer(options: StatsdServerOptions) {
  const { aggregator, logger } = options;
  const maxQueuedBytes = options.maxQueuedBytes ?? 16 * 1024 * 1024;
  const sliceMs = options.sliceMs ?? 8;
  const queue: Buffer[] = [];
  let head = 0;
  let queuedBytes = 0;
  let draining = false;
  const stats = { packets: 0, lines: 0, rejectedLines: 0, droppedPackets: 0 };
  const onLine = aggregator.statsd;
  const onReject = (reason: string, name: string | null) => {
    stats.rejectedLines += 1;
    // The service a refused line meant, when its name says (`worker.x:abc|c`).
    const dot = name === null ? -1 : name.indexOf('.');
    aggregator.reject(dot > 0 ? name!.slice(0, dot) : UNKNOWN_SERVICE, reason);
  };
  const countLine = (line: Parameters<typeof onLine>[0]) => {
    stats.lines += 1;
    onLine(line);
  };

  function drain(): void {
    const deadline = performance.now() + sliceMs;
    while (head < queue.length) {
      const packet = queue[head]!;
      queue[head] = undefined as unknown as Buffer;
      head += 1;
      queuedBytes -= packet.length;
      parseStatsdPacket(packet.toString('utf8'), countLine, onReject);
      if ((head & 63) === 0 && performance.now() >= deadline) break;
    }
    if (head >= queue.length) {
      queue.length = 0;
      head = 0;
      draining = false;
      return;
    }
    setImmediate(drain);
  }

  const socket = dgram.createSocket({
    type: isIPv6(options.host) ? 'udp6' : 'udp4',
    // A deep kernel buffer rides out bursts between parsing slices (capped by net.core.rmem_max).
    recvBufferSize: 8 * 1024 * 1024,
  });
  socket.on('message', (packet) => {
    stats.packets += 1;
    if (queuedBytes + packet.length > maxQueuedBytes) {
      stats.droppedPackets += 1;
      aggregator.reject(UNKNOWN_SERVICE, 'queue_full');
      return;
    }
    queue.push(packet);
    queuedBytes += packet.length;
    if (!draining) {
      draining = true;
      setImmediate(drain);
    }
  });
  socket.on('error', (err) => logger.error({ err }, 'statsd socket error'));

  return {
    /** Binds; resolves with the port (the chosen one for port 0). */
    start(): Promise<number> {
      return new Promise((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(options.port, options.host, () => {
          socket.off('error', reject);
          resolve(socket.address().port);
        });
      });
    },
    stats(): StatsdServerStats {
      return { ...stats, queuedBytes };
    },
    close(): Promise<void> {
      return new Promise((resolve) => {
        try {
          socket.close(() => resolve());
        } catch {
          resolve(); // never bound
        }
      });
    },
  };
}

export type StatsdServer = ReturnType<typeof createStatsdServer>;
