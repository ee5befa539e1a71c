import net from 'node:net';
import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defaultClientConditions, defaultServerConditions, loadEnv } from 'vite';
import type { ProxyOptions } from 'vite';
import { defineConfig } from 'vitest/config';

const WEB_DIR = fileURLToPath(new URL('.', import.meta.url));
// The API reads `.env` here too (see the README): one file configures both.
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Stops the dev server with one line naming the variable: no stack for a setup mistake. */
function fail(message: string): never {
  process.stderr.write(`livestat web: ${message}\n`);
  process.exit(1);
}

/** A port variable (`PORT`, `WEB_PORT`), or its default. */
function portOf(env: Record<string, string>, name: string, fallback: number): number {
  const text = env[name]?.trim();
  if (!text) return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    fail(`${name} must be a port number between 1 and 65535, got "${text}"`);
  }
  return port;
}

/** Resolves once `port` is known free on 127.0.0.1; a taken one ends the dev server with one line. */
async function ensureFree(port: number, name: string): Promise<void> {
  const probe = net.createServer();
  const error = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    probe.once('error', resolve);
    probe.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(null));
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (error?.code === 'EADDRINUSE') {
    fail(`port ${port} is in use: stop the process that holds it, or set ${name} to a free port`);
  }
}

/**
 * Where `/api` goes: `VITE_API_PROXY_TARGET`, else the API on this machine at `PORT`, so moving
 * the API moves the proxy with it. Checked here so a typo stops the dev server naming it.
 */
function apiTarget(env: Record<string, string>): string {
  const value = env.VITE_API_PROXY_TARGET?.trim();
  if (!value) return `http://127.0.0.1:${portOf(env, 'PORT', 8000)}`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`VITE_API_PROXY_TARGET must be an http(s) URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`VITE_API_PROXY_TARGET must be an http(s) URL, got "${value}"`);
  }
  return value;
}

export default defineConfig(async ({ mode, command }) => {
  // The environment wins over the repository's `.env`, which wins over apps/web's own files.
  const env = { ...loadEnv(mode, WEB_DIR, 'VITE_'), ...loadEnv(mode, REPO_ROOT, '') };
  const webPort = portOf(env, 'WEB_PORT', 5173);
  // Vitest loads this file too, and serves nothing on the port.
  if (command === 'serve' && !process.env.VITEST) await ensureFree(webPort, 'WEB_PORT');
  // `ws: true` carries the WebSocket upgrade of /api/ws/metrics through the same proxy.
  // `xfwd: true` appends the browser's address to X-Forwarded-For (on the upgrade too): the API
  // believes its loopback peer for that one hop, so the login rate limit counts per browser,
  // not once for every client of the dev server.
  const proxy: Record<string, ProxyOptions> = {
    '/api': { target: apiTarget(env), changeOrigin: true, ws: true, xfwd: true },
  };

  return {
    // Every component here, and vue-echarts, is written with `setup`: Vue's Options API
    // (data, methods, computed, watch and lifecycle options, mixins) is left out of the build.
    plugins: [vue({ features: { optionsAPI: false } })],
    resolve: {
      // Setting conditions replaces Vite's defaults (Vite 6+), so they are spread back in;
      // '@livestat/source' makes @livestat/contracts resolve to its TypeScript source.
      conditions: ['@livestat/source', ...defaultClientConditions],
    },
    ssr: {
      resolve: {
        conditions: ['@livestat/source', ...defaultServerConditions],
        externalConditions: ['@livestat/source'],
      },
    },
    server: { host: '127.0.0.1', port: webPort, strictPort: true, proxy },
    preview: { host: '127.0.0.1', port: 4173, strictPort: true, proxy },
    test: {
      // e2e/: Chromium against the real API (playwright-core; see e2e/harness.ts).
      include: ['src/**/*.test.ts', 'e2e/**/*.test.ts'],
      environment: 'node',
    },
  };
});
