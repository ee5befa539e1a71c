import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
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
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', ...env },
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
      20_000,
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
