import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from '../src/http/app.js';
import { silentLogger } from './databases.js';
import { describeWithTool } from './tools.js';

// deploy/nginx.conf run by a real nginx (Debian's), with the replicas' names pointed at a
// local stand-in: what a browser, an upstream replica and the access log each see.

const CONF = fileURLToPath(new URL('../../../deploy/nginx.conf', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** nginx -v: "nginx version: nginx/1.22.1" on stderr. */
function nginxVersion(): number[] {
  const { stdout, stderr } = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  const match = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(`${stdout}${stderr}`) ?? [];
  return match.slice(1).map(Number);
}

function versionAtLeast(have: number[], want: number[]): boolean {
  for (let i = 0; i < want.length; i++) {
    if ((have[i] ?? 0) !== want[i]) return (have[i] ?? 0) > want[i]!;
  }
  return true;
}

describeWithTool(
  'nginx',
  'deploy/nginx.conf under a real nginx',
  () => {
    let dir: string;
    let nginx: ChildProcess;
    let base: string;
    let upstream: Server;
    const seen: { url: string; headers: IncomingHttpHeaders; socket: number }[] = [];
    let sockets = 0;
    let apiHeaders: Headers;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'livestat-nginx-'));
      chmodSync(dir, 0o755);
      mkdirSync(join(dir, 'html/assets'), { recursive: true });
      writeFileSync(join(dir, 'html/index.html'), '<!doctype html><title>livestat</title>');
      writeFileSync(join(dir, 'html/assets/app-1234.js'), 'console.log(1)');

      // Both replicas' names lead to one stand-in, so a kept-alive connection is seen as such
      // whichever replica least_conn picks.
      upstream = createServer((req, res) => {
        const socket = req.socket as typeof req.socket & { livestatId?: number };
        socket.livestatId ??= ++sockets;
        seen.push({ url: req.url ?? '', headers: req.headers, socket: socket.livestatId });
        res.setHeader('content-type', 'application/json');
        res.end('{"ok":true}');
      }).listen(0, '127.0.0.1');
      await once(upstream, 'listening');
      const upstreamPort = (upstream.address() as AddressInfo).port;

      let conf = readFileSync(CONF, 'utf8');
      const port = await freePort();
      conf = conf
        .replace('listen 80;', `listen 127.0.0.1:${port};`)
        .replace('root /usr/share/nginx/html;', `root ${dir}/html;`)
        .replace('/var/log/nginx/access.log', `${dir}/access.log`)
        .replace(/\bapi(-2)?:8000\b/g, `127.0.0.1:${upstreamPort}`);
      // `resolve` in an upstream block came to open-source nginx in 1.27.3 (the image's is
      // newer); an older Debian nginx checks the rest without it.
      if (!versionAtLeast(nginxVersion(), [1, 27, 3])) conf = conf.replace(/ resolve\b/g, '');
      writeFileSync(join(dir, 'default.conf'), conf);
      const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']
        .map((name) => `${name}_temp_path ${dir}/${name}_temp;`)
        .join('\n  ');
      writeFileSync(
        join(dir, 'nginx.conf'),
        [
          process.getuid?.() === 0 ? 'user root;' : '',
          'daemon off;',
          'worker_processes 1;',
          `pid ${dir}/nginx.pid;`,
          `error_log ${dir}/error.log;`,
          'events {}',
          `http {\n  ${temp}\n  include ${dir}/default.conf;\n}`,
        ].join('\n'),
      );
      execFileSync('nginx', ['-t', '-q', '-p', dir, '-c', join(dir, 'nginx.conf')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
      base = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 100; i++) {
        if (
          await fetch(`${base}/`).then(
            () => true,
            () => false,
          )
        )
          break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }

      // What the API itself sends (helmet), from its own app.
      const app = createApp({ logger: silentLogger, health: () => ({}) as never });
      const api = app.listen(0, '127.0.0.1');
      await once(api, 'listening');
      apiHeaders = (await fetch(`http://127.0.0.1:${(api.address() as AddressInfo).port}/api/x`))
        .headers;
      await new Promise((resolve) => api.close(resolve));
    });

    afterAll(async () => {
      if (nginx && nginx.exitCode === null) {
        nginx.kill('SIGQUIT');
        await once(nginx, 'exit');
      }
      upstream?.closeAllConnections();
      await new Promise((resolve) => upstream?.close(resolve));
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('serves the dashboard with the security headers the API sends', async () => {
      const generic = new Set(['date', 'etag', 'connection', 'keep-alive', 'x-powered-by']);
      const expected = [...apiHeaders].filter(
        ([name]) =>
          !generic.has(name) && !name.startsWith('content-') && !name.startsWith('ratelimit'),
      );
      expected.push(['content-security-policy', apiHeaders.get('content-security-policy')!]);
      expect(expected.length).toBeGreaterThan(8);
      for (const path of ['/', '/history', '/assets/app-1234.js']) {
        const res = await fetch(`${base}${path}`);
        expect(res.status, path).toBe(200);
        for (const [name, value] of expected)
          expect(res.headers.get(name), `${path} ${name}`).toBe(value);
      }
      expect((await fetch(`${base}/history`)).headers.get('cache-control')).toBe('no-cache');
      expect((await fetch(`${base}/assets/app-1234.js`)).headers.get('cache-control')).toBe(
        'public, max-age=31536000, immutable',
      );
      expect((await fetch(`${base}/assets/gone.js`)).status).toBe(404);
    });

    it('answers /metrics with 404, not the dashboard', async () => {
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('livestat');
    });

    it('forwards the address it saw as X-Forwarded-For, whatever the client claims', async () => {
      seen.length = 0;
      await fetch(`${base}/api/one`, { headers: { 'x-forwarded-for': '198.51.100.7' } });
      expect(seen.map((s) => s.headers['x-forwarded-for'])).toEqual(['127.0.0.1']);
    });

    it('keeps the upstream connection alive between plain requests', async () => {
      seen.length = 0;
      for (let i = 0; i < 3; i++) await (await fetch(`${base}/api/again`)).text();
      expect(seen).toHaveLength(3);
      expect(seen.map((s) => s.headers.connection ?? null)).toEqual([null, null, null]);
      expect(new Set(seen.map((s) => s.socket)).size).toBe(1);
    });

    it('logs the path without its query string (tokens travel in ?token=)', async () => {
      await fetch(`${base}/api/ws/metrics?token=very-secret-token&x=1`);
      // nginx writes the line once the response is done; give it a moment.
      let log = '';
      for (let i = 0; i < 50 && !log.includes('/api/ws/metrics'); i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        log = readFileSync(join(dir, 'access.log'), 'utf8');
      }
      expect(log).toContain('"GET /api/ws/metrics HTTP/1.1"');
      expect(log).not.toContain('very-secret-token');
    });
  },
  ['-v'],
);
