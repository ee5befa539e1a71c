import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { appendFileSync, existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type ConsoleMessage } from 'playwright-core';

const WEB_DIR = fileURLToPath(new URL('..', import.meta.url));
const API_DIR = fileURLToPath(new URL('../../api', import.meta.url));
const BIN = fileURLToPath(new URL('../../../node_modules/.bin/', import.meta.url));

/** Debian's Chromium unless `CHROME_PATH` names another; `npx playwright install` cannot work here. */
export const CHROME_PATH = process.env.CHROME_PATH || '/usr/bin/chromium';
export const CHROME_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/**
 * Whether the browser tests run: with a Chromium they do; without one they are skipped by
 * name, unless `REQUIRE_BROWSER=1` (CI), where the missing browser fails the run.
 */
export function browserAvailable(): boolean {
  if (existsSync(CHROME_PATH)) return true;
  const message = `Chromium not found at ${CHROME_PATH} (set CHROME_PATH, or apt-get install chromium)`;
  if (process.env.REQUIRE_BROWSER === '1') throw new Error(`REQUIRE_BROWSER=1: ${message}`);
  console.warn(`SKIPPING the browser tests: ${message}`);
  // Listed by `npm test` after turbo's summary (scripts/test.mjs), so "successful" cannot hide it.
  const log = process.env.LIVESTAT_SKIP_LOG;
  if (log) appendFileSync(log, `@livestat/web: the browser tests — ${message}\n`);
  return false;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROME_PATH, headless: true, args: CHROME_ARGS });
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: process.env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} exited ${code}:\n${output}`)),
    );
  });
}

/** A production build of the dashboard in a temporary directory, as `npm run build` makes it. */
export async function buildSpa(): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'livestat-web-'));
  await run(
    path.join(BIN, 'vite'),
    ['build', '--outDir', dir, '--emptyOutDir', '--logLevel', 'warn'],
    WEB_DIR,
  );
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface ApiOptions {
  port?: number;
  dataDir: string;
  webDistDir: string;
  jwtSecret: string;
  adminPassword: string;
  /** More environment for the API (`JWT_TTL`, …), over the defaults here. */
  env?: Record<string, string>;
}

export interface ApiProcess {
  url: string;
  port: number;
  child: ChildProcessWithoutNullStreams;
  output(): string;
  /** SIGTERM, and the exit code once it has exited. */
  stop(): Promise<number | null>;
}

/**
 * The API as `npm start` runs it, from source: PGlite under `dataDir`, the built SPA, and the
 * admin `admin`. Resolves once it listens.
 */
export async function startApi(options: ApiOptions): Promise<ApiProcess> {
  const child = spawn(path.join(BIN, 'tsx'), ['--conditions=@livestat/source', 'src/main.ts'], {
    cwd: API_DIR,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'info',
      // A developer's .env at the repository root must not leak into the test.
      ENV_FILE: 'none',
      HOST: '127.0.0.1',
      PORT: String(options.port ?? 0),
      DATA_DIR: options.dataDir,
      WEB_DIST_DIR: options.webDistDir,
      JWT_SECRET: options.jwtSecret,
      ADMIN_USERNAME: 'admin',
      ADMIN_PASSWORD: options.adminPassword,
      SAMPLING_INTERVAL_SECONDS: '1',
      FLUSH_INTERVAL_SECONDS: '1',
      ...options.env,
    },
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the API did not listen:\n${out}`)), 60_000);
    const check = () => {
      const match = /"url":"(http:\/\/[^"]+)"/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the API exited ${code} before listening:\n${out}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * Resolves once `GET /api/health` answers 200 — migrations ran and the admin exists, so a login
 * works and the page logs no 503 of the start-up; rejects with the last status after `timeoutMs`.
 */
export async function waitForHealthy(url: string, timeoutMs = 60_000): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < giveUpAt) {
    const status = await fetch(`${url}/api/health`).then(
      (res) => res.status,
      (error: unknown) => String(error),
    );
    if (status === 200) return;
    last = String(status);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url}/api/health never answered 200 (last: ${last})`);
}

/** An HS256 JWT, for the tokens the API must refuse (a wrong secret, an expired one). */
export function signToken(claims: Record<string, unknown>, secret: string): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/**
 * A console error that is the status card's poll of a degraded API: `/api/health` answers 503
 * when the API is degraded (a loaded machine can make it so for a moment), the card shows it, and
 * Chromium logs every non-2xx fetch as an error. Not a defect of the page.
 */
export function isDegradedHealthPoll(message: ConsoleMessage): boolean {
  return /\/api\/health$/.test(message.location().url) && message.text().includes('status of 503');
}
