// The built dashboard and a stand-in API on one origin, for bench/web: the test API server
// (apps/web/src/test/api-server.ts) speaks the protocol but serves no files, so this serves the
// production build from `dir` (index.html for every path that is not a file, as the API's SPA
// fallback does) and forwards `/api/*` — requests and the WebSocket upgrade — to it untouched.
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket, connect } from 'node:net';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export interface WebServer {
  /** The page's origin, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `dir` on 127.0.0.1 (ephemeral port), forwarding `/api` to `apiUrl` except the GET
 * paths `local` answers itself with JSON (what the stand-in API lacks, such as `/api/health`).
 */
export async function startWebServer(
  dir: string,
  apiUrl: string,
  local: Record<string, () => unknown> = {},
): Promise<WebServer> {
  const api = new URL(apiUrl);
  const apiPort = Number(api.port);
  const root = path.resolve(dir);

  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const answer = req.method === 'GET' ? local[url.pathname] : undefined;
    if (answer !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer()));
      return;
    }
    if (url.pathname.startsWith('/api/')) {
      const forward = request(
        {
          host: api.hostname,
          port: apiPort,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (upstream) => {
          res.writeHead(upstream.statusCode ?? 502, upstream.headers);
          upstream.pipe(res);
        },
      );
      forward.on('error', () => res.writeHead(502).end());
      req.pipe(forward);
      return;
    }
    const file = path.resolve(root, `.${decodeURIComponent(url.pathname)}`);
    const inside = file.startsWith(root + path.sep);
    const serve = async () => {
      try {
        if (!inside || path.extname(file) === '') throw new Error('not a file');
        const body = await readFile(file);
        res.writeHead(200, {
          'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        });
        res.end(body);
      } catch {
        const index = await readFile(path.join(root, 'index.html'));
        res.writeHead(200, { 'content-type': TYPES['.html']!, 'cache-control': 'no-cache' });
        res.end(index);
      }
    };
    void serve().catch(() => res.writeHead(500).end());
  });

  // The upgrade goes through as bytes: the request head as received, then both ways piped.
  http.on('upgrade', (req, socket, head) => {
    const upstream = connect(apiPort, api.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.setNoDelay(true);
    if (socket instanceof Socket) socket.setNoDelay(true);
    const end = () => {
      upstream.destroy();
      socket.destroy();
    };
    upstream.on('error', end);
    upstream.on('close', end);
    socket.on('error', end);
    socket.on('close', end);
  });

  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    async close() {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}
