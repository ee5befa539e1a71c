// bench/fanout: publish-to-receive latency, server CPU and memory per client for N WebSocket
// clients, livestat's stream server side by side with a bare `ws` server that only sends the same
// pre-serialized bytes (the floor for any Node WebSocket fan-out).
//
// Three processes per measurement: this orchestrator, the server (bench/fanout-server.ts) and
// the load generator (bench/fanout-clients.ts), so the clients' work is not charged to the server.
// The two servers alternate for each client count; medians over --runs are what to quote.
//
//   npm run bench:fanout -- [--clients 1000,5000,10000] [--seconds 20] [--runs 1]
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createTokenService } from '../apps/api/src/auth/tokens.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '1000,5000,10000' },
    seconds: { type: 'string', default: '20' },
    runs: { type: 'string', default: '1' },
  },
});
const counts = values.clients.split(',').map(Number);
const seconds = Number(values.seconds);
const runs = Number(values.runs);
if (counts.some((n) => !Number.isInteger(n) || n < 1) || !(seconds >= 3) || !(runs >= 1)) {
  console.error('usage: npm run bench:fanout -- [--clients 1000,5000] [--seconds ≥3] [--runs N]');
  process.exit(2);
}

const SECRET = 'bench-only-secret-0123456789abcdef0123456789';
const token = createTokenService({ secret: SECRET, ttlSeconds: 3600 }).issue({
  id: 1,
  username: 'bench',
  role: 'viewer',
}).token;
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const execArgv = ['--import', 'tsx', '--conditions=@livestat/source'];

interface Stats {
  rss: number;
  heapUsed: number;
  cpu: NodeJS.CpuUsage;
  connections: number;
  payloadBytes: number;
}

function next<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: Record<string, unknown>) => {
      if (key in message) {
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message as T);
      }
    };
    const onExit = (code: number | null) =>
      reject(new Error(`child exited (${code}) before ${key}`));
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

const stats = async (server: ChildProcess) => {
  const reply = next<{ stats: Stats }>(server, 'stats');
  server.send({ cmd: 'stats' });
  return (await reply).stats;
};

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

interface Result {
  mode: string;
  clients: number;
  opened: number;
  p50: number;
  p99: number;
  max: number;
  received: number;
  expected: number;
  cpuPercent: number;
  rssPerClientKb: number;
  payloadBytes: number;
}

async function measure(mode: 'livestat' | 'baseline', clients: number): Promise<Result> {
  const server = fork(here('fanout-server.ts'), [mode], {
    execArgv,
    env: { ...process.env, BENCH_SECRET: SECRET },
  });
  try {
    const { port } = await next<{ port: number }>(server, 'ready');
    const before = await stats(server);
    const path = mode === 'livestat' ? `/api/ws/metrics?token=${token}` : '/';
    const load = fork(
      here('fanout-clients.ts'),
      [`ws://127.0.0.1:${port}${path}`, String(clients)],
      {
        execArgv,
      },
    );
    try {
      const { opened } = await next<{ opened: number }>(load, 'opened');
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const connected = await stats(server);
      load.send({ cmd: 'measure' });
      const cpuStart = connected.cpu;
      const wallStart = performance.now();
      for (let i = 0; i < seconds; i++) {
        server.send({ cmd: 'publish' });
        await next(server, 'published');
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      const after = await stats(server);
      const wallMs = performance.now() - wallStart;
      const reply = next<{ latencies: number[] }>(load, 'latencies');
      load.send({ cmd: 'report' });
      const latencies = (await reply).latencies.sort((a, b) => a - b);
      const cpuMs = (after.cpu.user + after.cpu.system - cpuStart.user - cpuStart.system) / 1000;
      return {
        mode,
        clients,
        opened,
        p50: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        max: latencies.at(-1) ?? Number.NaN,
        received: latencies.length,
        expected: opened * seconds,
        cpuPercent: (cpuMs / wallMs) * 100,
        rssPerClientKb: (connected.rss - before.rss) / 1024 / Math.max(1, opened),
        payloadBytes: after.payloadBytes,
      };
    } finally {
      load.send({ cmd: 'exit' });
      await once(load, 'exit');
    }
  } finally {
    server.kill('SIGKILL');
    await once(server, 'exit').catch(() => undefined);
  }
}

const results: Result[] = [];
for (let run = 0; run < runs; run++) {
  for (const clients of counts) {
    // Alternate which server goes first, so drift in the machine's load hits both alike.
    const order =
      (run + counts.indexOf(clients)) % 2 === 0
        ? (['baseline', 'livestat'] as const)
        : (['livestat', 'baseline'] as const);
    for (const mode of order) {
      const result = await measure(mode, clients);
      results.push(result);
      console.log(
        `${mode.padEnd(8)} clients=${String(clients).padStart(5)} opened=${result.opened} ` +
          `p50=${result.p50}ms p99=${result.p99}ms max=${result.max}ms ` +
          `received=${result.received}/${result.expected} cpu=${result.cpuPercent.toFixed(1)}% ` +
          `rss/client=${result.rssPerClientKb.toFixed(1)}KB payload=${result.payloadBytes}B`,
      );
    }
  }
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? Number.NaN;
};
console.log(
  '\nclients | baseline p50/p99 | livestat p50/p99 | p99 ratio | CPU base→livestat | RSS/client base→livestat',
);
for (const clients of counts) {
  const pick = (mode: string) => results.filter((r) => r.mode === mode && r.clients === clients);
  const base = pick('baseline');
  const ours = pick('livestat');
  const bp99 = median(base.map((r) => r.p99));
  const op99 = median(ours.map((r) => r.p99));
  console.log(
    `${clients} | ${median(base.map((r) => r.p50))}/${bp99} ms | ${median(ours.map((r) => r.p50))}/${op99} ms | ` +
      `${(op99 / Math.max(1, bp99)).toFixed(2)}× | ${median(base.map((r) => r.cpuPercent)).toFixed(1)}%→${median(ours.map((r) => r.cpuPercent)).toFixed(1)}% | ` +
      `${median(base.map((r) => r.rssPerClientKb)).toFixed(1)}→${median(ours.map((r) => r.rssPerClientKb)).toFixed(1)} KB`,
  );
}
