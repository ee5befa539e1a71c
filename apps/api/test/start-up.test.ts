import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockDataDir } from '../src/storage/data-dir-lock.js';
import { freePort, runTs, startApi, waitForOutput } from './process.js';

// What a newcomer meets first: the configuration reaching the API in every mode (`.env`
// included, the environment winning), and a start-up that fails with one clear line naming
// what to change — a taken port, an unusable DATA_DIR, a database another process holds.

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const SLOW = 60_000;

/** Every file and directory under `root` with its permission bits. */
async function filesModes(root: string): Promise<Map<string, number>> {
  const modes = new Map<string, number>();
  for (const entry of await readdir(root, { recursive: true })) {
    const path = join(root, entry);
    modes.set(path, (await stat(path)).mode & 0o777);
  }
  modes.set(root, (await stat(root)).mode & 0o777);
  return modes;
}

/** The one-line failures: a message, no stack trace. */
function expectOneLine(stderr: string, ...parts: string[]): void {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  for (const part of parts) expect(lines[0]).toContain(part);
  expect(stderr).not.toMatch(/^\s+at /m);
}

describe('start-up', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'livestat-start-up-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it(
    'stops with one line naming PORT when the port is taken',
    async () => {
      const blocker = net.createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const { port } = blocker.address() as net.AddressInfo;
      try {
        const result = await runTs('src/main.ts', [], {
          PORT: String(port),
          DATA_DIR: join(dir, 'taken'),
        });
        expect(result.code).toBe(1);
        expectOneLine(result.stderr, `port ${port}`, 'in use', 'PORT');
      } finally {
        blocker.close();
      }
    },
    SLOW,
  );

  it(
    'stops with one line naming DATA_DIR when it is not a directory',
    async () => {
      const file = join(dir, 'a-file');
      await writeFile(file, 'not a directory');
      const result = await runTs('src/main.ts', [], { PORT: '0', DATA_DIR: file });
      expect(result.code).toBe(1);
      expectOneLine(result.stderr, `DATA_DIR ${file} is not a directory`);
    },
    SLOW,
  );

  it(
    'stops with one line when another process holds the embedded database',
    async () => {
      const dataDir = join(dir, 'held');
      const release = await lockDataDir(join(dataDir, 'pglite'));
      try {
        const result = await runTs('src/main.ts', [], { PORT: '0', DATA_DIR: dataDir });
        expect(result.code).toBe(1);
        expectOneLine(result.stderr, `is in use by process ${process.pid}`, 'DATA_DIR');
      } finally {
        await release();
      }
    },
    SLOW,
  );

  it(
    'reads ENV_FILE (or .env), with the environment winning over it',
    async () => {
      const envFile = join(dir, 'test.env');
      const port = await freePort();
      await writeFile(
        envFile,
        `# as a user writes it\nPORT=${port}\nMETRICS_HOST_NAME=from-file\nDATA_DIR=${join(dir, 'env')}\n`,
      );
      // PORT absent from the environment (undefined is not passed on): the file's applies.
      const api = await startApi({
        ENV_FILE: envFile,
        PORT: undefined,
        METRICS_HOST_NAME: 'from-env',
      });
      try {
        expect(api.url).toBe(`http://127.0.0.1:${port}`);
        const health = (await (await fetch(`${api.url}/api/health`)).json()) as { host: string };
        expect(health.host).toBe('from-env');
        expect(api.output()).toContain(envFile);
        // The database opens beside the first ticks, after the collectors have primed: its
        // files, whose modes are checked below, are all there once health says it is up.
        await expect
          .poll(
            async () =>
              ((await (await fetch(`${api.url}/api/health`)).json()) as { database: string })
                .database,
            { timeout: 30_000, interval: 100 },
          )
          .toBe('up');
      } finally {
        api.child.kill('SIGTERM');
        await api.exited;
      }
      // PGlite's files hold password hashes and the history: owner-only, every one of them.
      const modes = await filesModes(join(dir, 'env'));
      expect(modes.size).toBeGreaterThan(10);
      for (const [path, mode] of modes) expect([path, mode & 0o077]).toEqual([path, 0]);
    },
    SLOW,
  );

  it(
    'passes the environment through `turbo run dev` to the API',
    async () => {
      const port = await freePort();
      const child = spawn(
        join(REPO_ROOT, 'node_modules/.bin/turbo'),
        ['run', 'dev', '--filter=@livestat/api', '--ui=stream'],
        {
          cwd: REPO_ROOT,
          detached: true,
          env: {
            ...process.env,
            ENV_FILE: 'none',
            PORT: String(port),
            DATA_DIR: join(dir, 'turbo'),
            METRICS_HOST_NAME: 'through-turbo',
            ADMIN_PASSWORD: 'through-turbo-password',
          },
        },
      );
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const exited = new Promise((resolve) => child.on('close', resolve));
      try {
        await waitForOutput(
          () => out,
          `"url":"http://127.0.0.1:${port}"`,
          () => '',
          SLOW - 10_000,
        );
        const health = (await (await fetch(`http://127.0.0.1:${port}/api/health`)).json()) as {
          host: string;
        };
        expect(health.host).toBe('through-turbo');
        // In dev the dashboard is Vite's: the log names it, not the API's port.
        await waitForOutput(() => out, 'log in at http://127.0.0.1:5173 (the Vite dev server)');
        const login = await fetch(`http://127.0.0.1:${port}/api/auth/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'admin', password: 'through-turbo-password' }),
        });
        expect(login.status).toBe(200);
      } finally {
        process.kill(-child.pid!, 'SIGTERM');
        await exited;
      }
    },
    SLOW,
  );
});
