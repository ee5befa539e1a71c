import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a {@link JsonServer} answered, its JSON body parsed. */
export interface JsonRequest {
  method: string;
  path: string;
  search: URLSearchParams;
  authorization: string | undefined;
  body: unknown;
}

/** A reply: its status and JSON body (none for a 204). */
export interface JsonReply {
  status: number;
  body?: unknown;
}

export interface JsonServer {
  baseUrl: string;
  /** Every request answered, in order. */
  readonly seen: JsonRequest[];
  close(): Promise<void>;
}

/**
 * A real HTTP server on an ephemeral port of 127.0.0.1 that answers each request with
 * `answer`'s JSON: a feature's REST routes for the component tests. Under happy-dom, whose
 * fetch enforces CORS (the page's origin is not this server's), so every answer carries CORS
 * headers and preflights are answered. (`api-server.ts` cannot load under happy-dom: `ws`
 * resolves to its browser build there.)
 */
export async function startJsonServer(
  answer: (request: JsonRequest) => JsonReply,
): Promise<JsonServer> {
  const seen: JsonRequest[] = [];
  const cors = {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE',
    'access-control-allow-headers': 'authorization, accept, content-type',
  };
  const http = createServer((req, res) => {
    if (req.method === 'OPTIONS') return void res.writeHead(204, cors).end();
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const request: JsonRequest = {
        method: req.method ?? '',
        path: url.pathname,
        search: url.searchParams,
        authorization: req.headers.authorization,
        body: text === '' ? undefined : (JSON.parse(text) as unknown),
      };
      seen.push(request);
      const reply = answer(request);
      if (reply.body === undefined) return void res.writeHead(reply.status, cors).end();
      res
        .writeHead(reply.status, { ...cors, 'content-type': 'application/json' })
        .end(JSON.stringify(reply.body));
    });
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return {
    baseUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    seen,
    // Idle keep-alive sockets are closed at once; a request under way is answered first.
    close: () => new Promise<void>((resolve) => http.close(() => resolve())),
  };
}
