import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';

const WEB_DIR = fileURLToPath(new URL('..', import.meta.url));
const API_DIR = fileURLToPath(new URL('../../api', import.meta.url));
const BIN = fileURLToPath(new URL('../../../node_modules/.bin/', import.meta.url));

/** Where the screenshots go (ignored by git); CI keeps them as artefacts of a failure. */
export const SHOTS = fileURLToPath(new URL('../test-results/', import.meta.url));
/** The admin every suite's API creates at its first start. */
export const ADMIN_USERNAME = 'admin';

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
  available ??= findBrowser();
  return available;
}

let available: boolean | undefined;

function findBrowser(): boolean {
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

/** A production build of the dashboard, as {@link buildSpa} makes it. */
export type Spa = Awaited<ReturnType<typeof buildSpa>>;

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

/**
 * The admin's token once the API lets the admin in: migrations ran and the admin exists, so a
 * login in the page works. Not `waitForHealthy`: on a loaded machine health may say degraded
 * (503) for a while when all else works. Rejects with the last status after `timeoutMs`.
 */
export async function waitForAdmin(url: string, password: string, timeoutMs = 60_000) {
  const giveUpAt = Date.now() + timeoutMs;
  for (;;) {
    const answer = await fetch(`${url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: ADMIN_USERNAME, password }),
    }).catch(() => null);
    if (answer?.status === 200) return ((await answer.json()) as { token: string }).token;
    if (Date.now() > giveUpAt)
      throw new Error(`no admin login at ${url} (last: ${answer?.status})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Collects into `errors` what a page logs as an error — console errors and uncaught
 * exceptions — except the status card's poll of a degraded API ({@link isDegradedHealthPoll})
 * and console errors while `expected()` says a test causes them (an outage it made).
 */
export function collectErrors(page: Page, errors: string[], expected = () => false): void {
  page.on('console', (message) => {
    if (message.type() !== 'error' || expected() || isDegradedHealthPoll(message)) return;
    errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
}

/** `describe` and `it` of the browser tests: skipped by name without a Chromium (see above). */
export function describeInBrowser(name: string, fn: () => void): void {
  (browserAvailable() ? describe : describe.skip)(name, fn);
}
export function itInBrowser(name: string, fn: () => Promise<void>, timeout?: number): void {
  (browserAvailable() ? it : it.skip)(name, fn, timeout);
}

export interface BrowserSuiteOptions {
  /** Names the temporary directory and the JWT secret: `cgroups`, `alerts`, … */
  name: string;
  /** Start the API in `beforeAll` (after the build), with this environment over the defaults. */
  api?: { env?: Record<string, string> };
}

/**
 * What every browser test file sets up, made once: a production build of the SPA, a data
 * directory, Chromium, the API (when asked, or later by `startApi`), and their teardown.
 */
export interface BrowserSuite {
  /** The admin's password and the API's JWT secret: made for this suite. */
  readonly password: string;
  readonly jwtSecret: string;
  readonly spa: Spa;
  readonly dataDir: string;
  readonly browser: Browser;
  /** The API started last. */
  readonly api: ApiProcess;
  /** The admin's token from the login that said the API was ready. */
  readonly adminToken: string;
  /**
   * Starts an API on the suite's data directory and build (`port` to take an old one's place),
   * and resolves once the admin can log in. Every API started is stopped after the suite.
   */
  startApi(options?: { port?: number; env?: Record<string, string> }): Promise<ApiProcess>;
  /** Logs in as the admin on `page` at `base` (the API's own URL by default) and waits for Live. */
  logIn(page: Page, base?: string): Promise<void>;
  /** Runs `fn` after the suite, before the browser and the API stop (proxies, child processes). */
  cleanup(fn: () => unknown): void;
}

/**
 * Registers the shared `beforeAll` and `afterAll` of a browser test file (or `describe`) and
 * returns its {@link BrowserSuite}. Does nothing without a Chromium, where the tests are skipped.
 */
export function useBrowserSuite(options: BrowserSuiteOptions): BrowserSuite {
  const password = `${options.name}-browser-password`;
  const jwtSecret = `${options.name}-browser-tests-${randomBytes(24).toString('hex')}`;
  let spa: Spa | undefined;
  let dataDir = '';
  let browser: Browser | undefined;
  let adminToken = '';
  const apis: ApiProcess[] = [];
  const cleanups: (() => unknown)[] = [];
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not there yet (see useBrowserSuite)`);
    return value;
  };

  const suite: BrowserSuite = {
    password,
    jwtSecret,
    get spa() {
      return ready(spa, 'the build');
    },
    get dataDir() {
      return ready(dataDir || undefined, 'the data directory');
    },
    get browser() {
      return ready(browser, 'the browser');
    },
    get api() {
      return ready(apis.at(-1), 'the API');
    },
    get adminToken() {
      return ready(adminToken || undefined, "the admin's token");
    },
    async startApi(start = {}) {
      const api = await startApi({
        port: start.port,
        dataDir: suite.dataDir,
        webDistDir: suite.spa.dir,
        jwtSecret,
        adminPassword: password,
        env: start.env,
      });
      apis.push(api);
      adminToken = await waitForAdmin(api.url, password);
      return api;
    },
    async logIn(page, base = suite.api.url) {
      await page.goto(`${base}/login`);
      await page.fill('#login-username', ADMIN_USERNAME);
      await page.fill('#login-password', password);
      await page.click('button[type=submit]');
      await page.waitForURL((url) => url.pathname === '/');
    },
    cleanup(fn) {
      cleanups.push(fn);
    },
  };

  beforeAll(async () => {
    if (!browserAvailable()) return;
    await mkdir(SHOTS, { recursive: true });
    dataDir = await mkdtemp(path.join(os.tmpdir(), `livestat-e2e-${options.name}-`));
    // Each kept as it comes, so a failure of the other still leaves it to the teardown.
    await Promise.all([
      buildSpa().then((built) => (spa = built)),
      launchBrowser().then((launched) => (browser = launched)),
    ]);
    if (options.api) await suite.startApi({ env: options.api.env });
  }, 180_000);

  afterAll(async () => {
    try {
      for (const fn of cleanups.reverse()) await fn();
    } finally {
      await browser?.close();
      for (const api of apis) await api.stop();
      await spa?.remove();
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    }
  });

  return suite;
}
