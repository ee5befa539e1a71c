import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defaultClientConditions, defaultServerConditions, loadEnv } from 'vite';
import type { ProxyOptions } from 'vite';
import { defineConfig } from 'vitest/config';

const DEFAULT_API_TARGET = 'http://127.0.0.1:8000';

/** `VITE_API_PROXY_TARGET`, checked here so a typo stops the dev server with a message naming it. */
function apiTarget(env: Record<string, string>): string {
  const value = env.VITE_API_PROXY_TARGET?.trim();
  if (!value) return DEFAULT_API_TARGET;
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

export default defineConfig(({ mode }) => {
  const env = loadEnv(mode, fileURLToPath(new URL('.', import.meta.url)), 'VITE_');
  // `ws: true` carries the WebSocket upgrade of /api/ws/metrics through the same proxy.
  // `xfwd: true` appends the browser's address to X-Forwarded-For (on the upgrade too): the API
  // believes its loopback peer for that one hop, so the login rate limit counts per browser,
  // not once for every client of the dev server.
  const proxy: Record<string, ProxyOptions> = {
    '/api': { target: apiTarget(env), changeOrigin: true, ws: true, xfwd: true },
  };

  return {
    plugins: [vue()],
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
    server: { host: '127.0.0.1', port: 5173, strictPort: true, proxy },
    preview: { host: '127.0.0.1', port: 4173, strictPort: true, proxy },
    test: {
      // e2e/: Chromium against the real API (playwright-core; see e2e/harness.ts).
      include: ['src/**/*.test.ts', 'e2e/**/*.test.ts'],
      environment: 'node',
    },
  };
});
