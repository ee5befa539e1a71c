import net from 'node:net';

/**
 * A TCP proxy a test controls, to make a real server unreachable and bring it back: the way
 * storage tests take PostgreSQL away without stopping it.
 */
export interface TcpProxy {
  /** The port clients connect to; the same for the proxy's whole life, across down()/up(). */
  readonly port: number;
  /** `target` (a URL such as a connection string) with its host and port pointed at the proxy. */
  url(target: string): string;
  /**
   * Takes the target away: destroys every piped connection, then either refuses new ones
   * (`'refuse'`, the listener is closed: ECONNREFUSED) or accepts them and never answers
   * (`'blackhole'`, clients wait for their own timeouts). Resolves once that holds.
   */
  down(mode?: 'refuse' | 'blackhole'): Promise<void>;
  /** Forwards again, on the same port. */
  up(): Promise<void>;
  /**
   * Arms a one-shot fault: the next chunk the target sends that contains `bytes` is never
   * delivered, and that connection is destroyed on both sides — e.g. PostgreSQL's COMMIT
   * acknowledgement, so the server committed but the client never hears it. Resolves when it
   * has fired.
   */
  cutReplyContaining(bytes: Buffer): Promise<void>;
  /** Client connections currently piped to the target. */
  connections(): number;
  /** Destroys everything and stops listening for good. */
  close(): Promise<void>;
}

export interface TcpProxyOptions {
  targetHost: string;
  targetPort: number;
  /** 0 (default) picks a free port once; up() after down() reuses it. */
  port?: number;
  host?: string;
}

/** Starts forwarding `host:port` → `targetHost:targetPort`. */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const host = options.host ?? '127.0.0.1';
  const piped = new Set<net.Socket>();
  const held = new Set<net.Socket>();
  let mode: 'up' | 'refuse' | 'blackhole' = 'up';
  let server: net.Server | null = null;
  let port = options.port ?? 0;
  const cuts: { bytes: Buffer; fired: () => void }[] = [];

  function pipe(client: net.Socket): void {
    const upstream = net.connect(options.targetPort, options.targetHost);
    piped.add(client);
    const destroyBoth = () => {
      piped.delete(client);
      client.destroy();
      upstream.destroy();
    };
    // Every socket gets an error listener: resets are the point of this proxy.
    client.on('error', destroyBoth).on('close', destroyBoth);
    upstream.on('error', destroyBoth).on('close', destroyBoth);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      const cut = cuts.findIndex((c) => chunk.includes(c.bytes));
      if (cut >= 0) {
        const [armed] = cuts.splice(cut, 1);
        destroyBoth();
        armed?.fired();
        return;
      }
      // Respect the client's backpressure, as pipe() would.
      if (!client.write(chunk)) {
        upstream.pause();
        client.once('drain', () => upstream.resume());
      }
    });
  }

  function accept(client: net.Socket): void {
    if (mode === 'up') return pipe(client);
    // Blackhole: hold the socket open and silent until the proxy comes back or closes.
    held.add(client);
    client.on('error', () => client.destroy());
    client.on('close', () => held.delete(client));
  }

  async function listen(): Promise<void> {
    const next = net.createServer(accept);
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, host, () => {
        next.off('error', reject);
        resolve();
      });
    });
    next.on('error', () => undefined);
    port = (next.address() as net.AddressInfo).port;
    server = next;
  }

  async function stopListening(): Promise<void> {
    const current = server;
    server = null;
    if (current) await new Promise<void>((resolve) => current.close(() => resolve()));
  }

  function destroyAll(): void {
    for (const socket of [...piped, ...held]) socket.destroy();
    piped.clear();
    held.clear();
  }

  await listen();
  return {
    get port() {
      return port;
    },
    url(target) {
      const url = new URL(target);
      url.hostname = host;
      url.port = String(port);
      return url.toString();
    },
    async down(nextMode = 'refuse') {
      mode = nextMode;
      // Close the listener before destroying, so a client reconnecting at once is refused.
      const stopped = nextMode === 'refuse' ? stopListening() : Promise.resolve();
      destroyAll();
      await stopped;
      if (nextMode === 'blackhole' && !server) await listen();
    },
    async up() {
      destroyAll();
      mode = 'up';
      if (!server) await listen();
    },
    cutReplyContaining(bytes) {
      return new Promise<void>((fired) => cuts.push({ bytes, fired }));
    },
    connections: () => piped.size,
    async close() {
      mode = 'refuse';
      const stopped = stopListening();
      destroyAll();
      await stopped;
    },
  };
}
