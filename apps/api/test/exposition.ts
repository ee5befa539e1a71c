import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { recordSkip } from './skips.js';

/** One sample of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition: each family's `# TYPE`, and every sample. */
export interface Exposition {
  types: Map<string, string>;
  samples: Sample[];
}

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;

/** Parses the Prometheus text format (0.0.4): enough for node_exporter and livestat. */
export function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      if (name && type) types.set(name, type);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(LABEL)) {
      labels[key ?? ''] = (value ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return { types, samples };
}

/** A sample's identity without the labels named in `except`. */
export function seriesKey(sample: Sample, except: readonly string[] = []): string {
  const labels = Object.entries(sample.labels)
    .filter(([key]) => !except.includes(key))
    .sort(([a], [b]) => (a < b ? -1 : 1));
  return `${sample.name}{${labels.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
}

/**
 * Whether a Debian binary is installed; when it is not, notes the skip loudly — or, under
 * REQUIRE_SERVICES=1, returns the reason for the suite to fail with.
 */
export function binaryProblem(title: string, binary: string, pkg: string): string | null {
  if (existsSync(binary)) return null;
  const why = `${binary} is missing (apt-get install ${pkg})`;
  if (process.env.REQUIRE_SERVICES !== '1') {
    process.stderr.write(`\n!!! SKIPPED "${title}": ${why}\n`);
    recordSkip(title, why);
  }
  return why;
}

/** Starts a long-running binary; `stop()` ends it and waits. */
export function startDaemon(binary: string, args: string[]) {
  const child: ChildProcess = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    child,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Fetches a URL until it answers 200 (a daemon starting up), or throws after `ms`. */
export async function fetchWhenUp(url: string, ms = 20_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return await res.text();
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** `promtool check metrics` of an exposition: its complaints, one a line. */
export function promtoolComplaints(text: string): string[] {
  try {
    execFileSync('promtool', ['check', 'metrics'], { input: text, stdio: 'pipe' });
    return [];
  } catch (err) {
    const out = `${(err as { stdout?: Buffer }).stdout ?? ''}${(err as { stderr?: Buffer }).stderr ?? ''}`;
    return out.split('\n').filter((line) => line.trim() !== '');
  }
}
