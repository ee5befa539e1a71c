import type { WebSocket } from 'ws';

export interface HeartbeatOptions {
  intervalMs: number;
  /** The sockets to ping on each beat (the broadcaster's registry). */
  sockets: () => Iterable<WebSocket>;
  /** Called for a socket that has not answered the previous ping, just before it is terminated. */
  onTimeout?: (socket: WebSocket) => void;
}

export interface Heartbeat {
  /** Starts tracking a socket's pongs; it is pinged from the next beat on. */
  watch(socket: WebSocket): void;
  /** Clears the timer. */
  stop(): void;
}

/**
 * Liveness: every `intervalMs` each socket is pinged, and one that has not answered
 * the previous ping is terminated — a half-open TCP connection (a phone that lost its network)
 * otherwise holds its buffers until the kernel gives up, which can take hours.
 * One timer for every socket, not one per socket.
 */
export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  const { intervalMs, sockets, onTimeout } = options;
  if (!(intervalMs > 0)) throw new RangeError(`intervalMs must be positive (got ${intervalMs})`);
  // Sockets pinged and not yet answered; weak, so a socket gone from the registry is forgotten.
  const awaiting = new WeakSet<WebSocket>();

  const timer = setInterval(() => {
    for (const socket of sockets()) {
      if (socket.readyState !== socket.OPEN) continue;
      if (awaiting.has(socket)) {
        onTimeout?.(socket);
        socket.terminate();
        continue;
      }
      awaiting.add(socket);
      socket.ping();
    }
  }, intervalMs);
  // The sockets keep the process alive, not their heartbeat.
  timer.unref();

  return {
    watch(socket) {
      socket.on('pong', () => awaiting.delete(socket));
    },
    stop() {
      clearInterval(timer);
    },
  };
}
