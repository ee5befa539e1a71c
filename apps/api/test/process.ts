import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import net, { type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

/** The api package directory. */
export const API_DIR = fileURLToPath(new URL('..', import.meta.url));
const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts a TypeScript entry point of the api package as a real child process. */
export function spawnTs(
  entry: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): ChildProcessWithoutNullStreams {
  return spawn(TSX, ['--conditions=@livestat/source', entry, ...args], {
    cwd: API_DIR,
    // ENV_FILE=none: a developer's .env at the repository root must not leak into tests.
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: 'info',
      ENV_FILE: 'none',
      // Test processes run side by side: none may take the default StatsD port from another.
      STATSD_PORT: '0',
      ...env,
    },
  });
}

/** Runs an entry point to completion, collecting its output. */
export function runTs(
  entry: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<RunResult> {
  const child = spawnTs(entry, args, env);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts the API and resolves with its URL once it listens; `output()` is its stdout so far. */
export async function startApi(env: NodeJS.ProcessEnv) {
  const child = spawnTs('src/main.ts', [], { PORT: '0', SAMPLING_INTERVAL_SECONDS: '0.2', ...env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no listening line in:\n${stdout}${stderr}`)),
      60_000,
    );
    child.stdout.on('data', () => {
      const match = /"url":"(http:\/\/[^"]+)"/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
  });
  return { child, url, exited, output: () => stdout };
}

/** The `snapshots` count of the 'sampler stopped' line: how many the process produced. */
export function producedSnapshots(stdout: string): number {
  const match = /"snapshots":(\d+)[^\n]*"sampler stopped"/.exec(stdout);
  if (!match?.[1]) throw new Error(`no 'sampler stopped' line in:\n${stdout}`);
  return Number(match[1]);
}

/** A line every agent logs once it samples: host, interval, collectors, where it publishes. */
export const AGENT_START_LINE = 'livestat agent sampling';

/**
 * Starts `ROLE=agent` (sampling every 0.2 s unless `env` says otherwise) and resolves once it
 * logs its start line; `output()` is its stdout so far, `errors()` its stderr.
 */
export async function startAgent(env: NodeJS.ProcessEnv) {
  const child = spawnTs('src/main.ts', [], {
    ROLE: 'agent',
    SAMPLING_INTERVAL_SECONDS: '0.2',
    ...env,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await waitForOutput(
    () => stdout,
    AGENT_START_LINE,
    () => stderr,
  );
  return { child, exited, output: () => stdout, errors: () => stderr };
}

/** Resolves once `output()` contains `text`; rejects after `timeoutMs` showing what it got. */
export async function waitForOutput(
  output: () => string,
  text: string,
  errors: () => string = () => '',
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!output().includes(text)) {
    if (Date.now() > deadline) throw new Error(`no '${text}' in:\n${output()}${errors()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago (listened on, then closed). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** How a TCP connection to 127.0.0.1:`port` ends: `'connected'` or the error code. */
export function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
