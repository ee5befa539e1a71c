import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { startModelRouter } from './model-router.js';
import { startQueueWorker } from './queue-worker.js';

// `npm run demo`: against a running `npm run dev`, starts the queue worker (StatsD, no token
// needed) and the model router (OTLP, with an ingest API token), so the Applications view fills
// within seconds. The token comes from LIVESTAT_INGEST_TOKEN, else it is created: through the
// API as the admin (ADMIN_PASSWORD, or asked for on a terminal), else with `npm run tokens`
// (which works while the API runs only on PostgreSQL: the embedded database has one owner).

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const envFile = `${REPO_ROOT}.env`;
// The same .env the API reads; the environment wins.
if (existsSync(envFile)) process.loadEnvFile(envFile);

const env = process.env;
const apiUrl = env.LIVESTAT_URL ?? `http://127.0.0.1:${env.PORT ?? 8000}`;
const statsdHost = env.STATSD_HOST && env.STATSD_HOST !== '0.0.0.0' ? env.STATSD_HOST : '127.0.0.1';
const statsdPort = Number(env.STATSD_PORT ?? 8125);

const say = (line: string) => process.stderr.write(`demo: ${line}\n`);

async function apiIsUp(): Promise<boolean> {
  try {
    return (await fetch(`${apiUrl}/api/health`)).status < 500;
  } catch {
    return false;
  }
}

async function tokenViaApi(password: string): Promise<string | null> {
  const username = env.ADMIN_USERNAME ?? 'admin';
  const login = await fetch(`${apiUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!login.ok) {
    say(`logging in as ${username} failed (HTTP ${login.status})`);
    return null;
  }
  const { token: jwt } = (await login.json()) as { token: string };
  const created = await fetch(`${apiUrl}/api/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
    body: JSON.stringify({
      name: `demo-router-${new Date().toISOString().slice(0, 19)}`,
      scope: 'ingest',
    }),
  });
  if (!created.ok) {
    say(`creating a token failed (HTTP ${created.status})`);
    return null;
  }
  return ((await created.json()) as { token: string }).token;
}

function tokenViaCli(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['run', '--silent', 'tokens', '--', 'create', '--scope', 'ingest', 'demo-router'],
      { cwd: REPO_ROOT, timeout: 60_000 },
      (err, stdout) => resolve(err ? null : stdout.trim() || null),
    );
  });
}

async function ingestToken(): Promise<string | null> {
  if (env.LIVESTAT_INGEST_TOKEN) return env.LIVESTAT_INGEST_TOKEN;
  if (env.ADMIN_PASSWORD) return tokenViaApi(env.ADMIN_PASSWORD);
  if (env.DATABASE_URL) {
    const token = await tokenViaCli();
    if (token) return token;
  }
  if (!process.stdin.isTTY) return null;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const password = await rl.question(
    `password of the livestat admin "${env.ADMIN_USERNAME ?? 'admin'}" (to create an ingest token; empty skips): `,
  );
  rl.close();
  return password ? tokenViaApi(password) : null;
}

if (!(await apiIsUp())) {
  say(
    `no livestat API answers at ${apiUrl}: start it first with \`npm run dev\` (or set LIVESTAT_URL)`,
  );
  process.exit(1);
}

const stops: (() => Promise<void>)[] = [];
stops.push(startQueueWorker({ host: statsdHost, port: statsdPort }));
say(`queue worker → StatsD ${statsdHost}:${statsdPort} (service "worker")`);

const token = await ingestToken();
if (token) {
  stops.push(startModelRouter({ url: apiUrl, token }));
  say(`model router → OTLP ${apiUrl}/v1/metrics (service "router")`);
} else {
  say(
    'no ingest token, so the OTLP router is not started: create one under Settings or with ' +
      '`npm run tokens -- create --scope ingest demo` and run again with LIVESTAT_INGEST_TOKEN=…',
  );
}
say('open the Applications view of the dashboard; Ctrl-C stops the demo');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    void Promise.allSettled(stops.map((stop) => stop())).then(() => process.exit(0));
  });
}
