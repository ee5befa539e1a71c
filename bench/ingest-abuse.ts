// bench/ingest-abuse: what hostile or broken applications do to a running livestat, and whether
// the host's snapshot stream keeps its rhythm meanwhile. Not a speed contest: a record of how
// each abuse is answered and of the stream's tick gaps and the API's memory during it.
//
// A real API process (PGlite in a temporary DATA_DIR, 1 s sampling, StatsD on a free port;
// apps/api/test/process.ts starts it as the tests do) and
// a WebSocket client reading its snapshots. Phases, each `--seconds` long (the stream is
// measured over the whole phase; the abuse runs from its start until it is done or the phase
// ends): idle; wrong credentials at /v1/metrics, 100 each (none, an admin's and a viewer's
// session token, a made-up API token); bodies past the 4 MiB limit (declared length and chunked); gzip bombs
// (1 GiB of zeros, ~1 MiB compressed); 10,000 series in one OTLP request, from 10 services;
// malformed protobuf; a StatsD flood from a worker thread (valid lines of ever-new series, and
// junk). Per phase: HTTP answers by status, the snapshots' tick gaps (from their timestamps,
// the sampler's own schedule) and arrival gaps at the socket, ticks lost (whole intervals
// missing between tick times), and the peak RSS of the API's process tree.
//
//   npm run bench:ingest-abuse -- [--seconds 6]
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { createGzip } from 'node:zlib';
import WebSocket from 'ws';
import { encodeOtlpRequest } from '../apps/api/src/ingest/otlp-codec.js';
import { startApi } from '../apps/api/test/process.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '6' } } });
const PHASE_MS = Number(values.seconds) * 1000;
const password = randomBytes(12).toString('hex');
const dataDir = await mkdtemp(join(tmpdir(), 'livestat-abuse-'));
const api = await startApi({
  NODE_ENV: 'production',
  HOST: '127.0.0.1',
  SAMPLING_INTERVAL_SECONDS: '1',
  DATA_DIR: dataDir,
  JWT_SECRET: randomBytes(32).toString('hex'),
  ADMIN_USERNAME: 'admin',
  ADMIN_PASSWORD: password,
});
const base = api.url;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
// Ready once the first admin exists and StatsD has bound its port (STATSD_PORT=0: a free one).
while (!api.output().includes('log in at') || !/"statsdPort":\d+/.test(api.output())) {
  if (api.child.exitCode !== null) throw new Error(`API exited:\n${api.output()}`);
  await sleep(100);
}
const statsdPort = Number(/"statsdPort":(\d+)/.exec(api.output())![1]);

/** RSS of a process and its descendants (tsx runs the API in a child node process), MB. */
async function treeRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  let mb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  for (const child of children.split(' ').filter(Boolean)) mb += await treeRssMb(Number(child));
  return mb;
}

async function login(username: string, pass: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: pass }),
  });
  if (!res.ok) throw new Error(`login ${username}: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}

async function post(path: string, jwt: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${jwt}` },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

const adminJwt = await login('admin', password);
const viewerPassword = randomBytes(12).toString('hex');
await post('/api/users', adminJwt, {
  username: 'viewer',
  password: viewerPassword,
  role: 'viewer',
});
const viewerJwt = await login('viewer', viewerPassword);
const { token: ingestToken } = (await post('/api/tokens', adminJwt, {
  name: 'abuse',
  scope: 'ingest',
})) as { token: string };

// The stream: every snapshot's seq, tick time and arrival time.
interface Seen {
  seq: number;
  tick: number;
  arrived: number;
}
const seen: Seen[] = [];
const ws = new WebSocket(
  `${base.replace('http', 'ws')}/api/ws/metrics?token=${encodeURIComponent(adminJwt)}`,
);
ws.on('message', (data: Buffer) => {
  const message = JSON.parse(data.toString()) as { type: string; seq?: number; timestamp?: string };
  if (message.type !== 'snapshot') return;
  seen.push({ seq: message.seq!, tick: Date.parse(message.timestamp!), arrived: Date.now() });
});
await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));

// The API's memory, sampled every 100 ms.
let peakRssMb = 0;
const rssTimer = setInterval(() => {
  void treeRssMb(api.child.pid!).then((mb) => (peakRssMb = Math.max(peakRssMb, mb)));
}, 100);

type Statuses = Record<string, number>;
const count = (statuses: Statuses, key: string | number) => {
  statuses[key] = (statuses[key] ?? 0) + 1;
};

/** Sends `make()` requests, `parallel` at once, until `n` are done or the phase's time is up. */
async function hammer(
  n: number,
  parallel: number,
  until: number,
  make: () => { headers: Record<string, string>; body?: RequestInit['body']; duplex?: 'half' },
): Promise<{ statuses: Statuses; slowestMs: number; detail: string[] }> {
  const statuses: Statuses = {};
  const detail: string[] = [];
  let slowestMs = 0;
  let started = 0;
  async function lane() {
    while (started < n && Date.now() < until) {
      started += 1;
      const t0 = performance.now();
      try {
        const { headers, body, duplex } = make();
        const res = await fetch(`${base}/v1/metrics`, {
          method: 'POST',
          headers,
          body,
          ...(duplex ? { duplex } : {}),
        } as RequestInit);
        const text = await res.text();
        count(statuses, res.status);
        if (detail.length < 1) detail.push(`${res.status} ${text.slice(0, 160)}`);
      } catch (err) {
        count(statuses, `error ${(err as Error).cause ?? (err as Error).message}`.slice(0, 60));
      }
      slowestMs = Math.max(slowestMs, performance.now() - t0);
    }
  }
  await Promise.all(Array.from({ length: parallel }, lane));
  return { statuses, slowestMs, detail };
}

const PROTOBUF = 'application/x-protobuf';
const withToken = (token: string, type = PROTOBUF, more: Record<string, string> = {}) => ({
  'content-type': type,
  authorization: `Bearer ${token}`,
  ...more,
});

/** One gauge per point: `points` series of `service`. */
function otlpBody(service: string, points: number): Uint8Array {
  const now = `${Date.now()}000000`;
  return encodeOtlpRequest({
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'abuse.gauge',
                gauge: {
                  dataPoints: Array.from({ length: points }, (_, i) => ({
                    attributes: [{ key: 'id', value: { stringValue: `s${i}` } }],
                    timeUnixNano: now,
                    asDouble: i,
                  })),
                },
              },
            ],
          },
        ],
      },
    ],
  });
}

/** 1 GiB of zeros, gzipped (made once, streamed, so this process never holds the GiB). */
async function gzipBomb(): Promise<Buffer> {
  const zeros = Buffer.alloc(1024 * 1024);
  let left = 1024;
  const source = new Readable({
    read() {
      this.push(left-- > 0 ? zeros : null);
    },
  });
  const chunks: Buffer[] = [];
  for await (const chunk of source.pipe(createGzip({ level: 9 }))) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const bomb = await gzipBomb();
const huge = randomBytes(64 * 1024 * 1024);

/** A StatsD flood from a worker thread, so this process's socket reading is not starved. */
function statsdFlood(ms: number): Promise<{ datagrams: number; lines: number }> {
  const code = `
    const dgram = require('node:dgram');
    const { parentPort, workerData } = require('node:worker_threads');
    const socket = dgram.createSocket('udp4');
    const until = Date.now() + workerData.ms;
    let datagrams = 0, lines = 0, n = 0;
    const junk = Buffer.from(Array.from({ length: 50 }, (_, i) => 'junk' + i + '|||').join('\\n'));
    function burst() {
      if (Date.now() >= until) {
        socket.close();
        parentPort.postMessage({ datagrams, lines });
        return;
      }
      for (let k = 0; k < 100; k += 1) {
        // Valid lines of ever-new series (cardinality), tagged, and junk, alternately.
        const valid = Array.from({ length: 50 }, () => 'flood.m' + (n++) + ':1|c|#k:v' + (n % 1000));
        socket.send(k % 2 ? junk : Buffer.from(valid.join('\\n')), workerData.port, '127.0.0.1');
        datagrams += 1;
        lines += 50;
      }
      setImmediate(burst);
    }
    burst();
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { ms, port: statsdPort } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

interface Phase {
  name: string;
  run: (until: number) => Promise<string>;
}

const describe = (r: Awaited<ReturnType<typeof hammer>>) =>
  `${JSON.stringify(r.statuses)}, slowest ${r.slowestMs.toFixed(0)} ms; e.g. ${r.detail[0] ?? '-'}`;

const phases: Phase[] = [
  { name: 'idle', run: async () => 'nothing sent' },
  {
    name: 'wrong credentials',
    run: async (until) => {
      const body = otlpBody('creds', 10);
      const kinds: [string, Record<string, string>][] = [
        ['none', { 'content-type': PROTOBUF }],
        ['admin session', withToken(adminJwt)],
        ['viewer session', withToken(viewerJwt)],
        ['made-up token', withToken(`lsk_${randomBytes(24).toString('hex')}`)],
      ];
      const out = [];
      for (const [kind, headers] of kinds) {
        const r = await hammer(100, 4, until, () => ({ headers, body }));
        out.push(`${kind}: ${describe(r)}`);
      }
      return out.join('\n    ');
    },
  },
  {
    name: 'bodies past 4 MiB',
    run: async (until) => {
      const half = Date.now() + (until - Date.now()) / 2;
      const declared = await hammer(20, 2, half, () => ({
        headers: withToken(ingestToken),
        body: huge,
      }));
      const chunked = await hammer(20, 2, until, () => ({
        headers: withToken(ingestToken),
        body: Readable.toWeb(Readable.from([huge])) as ReadableStream,
        duplex: 'half',
      }));
      return `64 MiB with length: ${describe(declared)}\n    64 MiB chunked: ${describe(chunked)}`;
    },
  },
  {
    name: 'gzip bombs',
    run: async (until) => {
      const r = await hammer(40, 4, until, () => ({
        headers: withToken(ingestToken, PROTOBUF, { 'content-encoding': 'gzip' }),
        body: bomb,
      }));
      return `${(bomb.length / 1024 / 1024).toFixed(2)} MiB → 1 GiB: ${describe(r)}`;
    },
  },
  {
    name: '10k series per request',
    run: async (until) => {
      const bodies = Array.from({ length: 10 }, (_, s) => otlpBody(`abuser${s}`, 10_000));
      let next = 0;
      const r = await hammer(10, 1, until, () => ({
        headers: withToken(ingestToken),
        body: bodies[next++]!,
      }));
      const apps = (await (
        await fetch(`${base}/api/apps`, { headers: { authorization: `Bearer ${adminJwt}` } })
      ).json()) as {
        services: { name: string; limits: { series: number; refusedSeries: number } }[];
      };
      const held = apps.services
        .filter((s) => s.name.startsWith('abuser'))
        .reduce((n, s) => n + s.limits.series, 0);
      const refused = apps.services
        .filter((s) => s.name.startsWith('abuser'))
        .reduce((n, s) => n + s.limits.refusedSeries, 0);
      return `10 × 10,000 points (${(bodies[0]!.length / 1024).toFixed(0)} KiB each): ${describe(r)}\n    series held ${held}, refused ${refused} (GET /api/apps)`;
    },
  },
  {
    name: 'malformed protobuf',
    run: async (until) => {
      const r = await hammer(2000, 4, until, () => ({
        headers: withToken(ingestToken),
        body: randomBytes(16 * 1024),
      }));
      return `16 KiB of random bytes: ${describe(r)}`;
    },
  },
  {
    name: 'StatsD flood',
    run: async (until) => {
      const sent = await statsdFlood(Math.max(0, until - Date.now() - 500));
      const apps = (await (
        await fetch(`${base}/api/apps`, { headers: { authorization: `Bearer ${adminJwt}` } })
      ).json()) as {
        services: {
          name: string;
          limits: { series: number; refusedSeries: number };
          rejected: Record<string, number>;
        }[];
      };
      const flood = apps.services.find((s) => s.name === 'flood');
      const unknown = apps.services.find((s) => s.name === 'unknown');
      const rate = Math.round(sent.lines / ((PHASE_MS - 500) / 1000));
      return (
        `${sent.datagrams.toLocaleString('en-US')} datagrams, ${sent.lines.toLocaleString('en-US')} lines (~${rate.toLocaleString('en-US')}/s, half junk)\n` +
        `    flood: series ${flood?.limits.series}, refused ${flood?.limits.refusedSeries}, rejected ${JSON.stringify(flood?.rejected)}; junk: ${JSON.stringify(unknown?.rejected)}`
      );
    },
  },
];

const median = (xs: number[]) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

console.log(
  `bench/ingest-abuse — ${new Date().toISOString()}, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}, ${PHASE_MS / 1000} s per phase, 1 s sampling`,
);
const rows: string[] = [];
for (const phase of phases) {
  const start = Date.now();
  const firstIndex = seen.length;
  peakRssMb = 0;
  const result = await phase.run(start + PHASE_MS);
  await sleep(Math.max(0, start + PHASE_MS - Date.now()));
  const during = seen.slice(Math.max(0, firstIndex - 1));
  const tickGaps = during.slice(1).map((s, i) => s.tick - during[i]!.tick);
  const arrivalGaps = during.slice(1).map((s, i) => s.arrived - during[i]!.arrived);
  // A skipped tick takes no seq: count the whole intervals missing between tick times.
  const lost = tickGaps.reduce((n, gap) => n + Math.max(0, Math.round(gap / 1000) - 1), 0);
  console.log(`\n${phase.name}:\n    ${result}`);
  const row =
    `| ${phase.name} | ${tickGaps.length} | ${median(tickGaps)} / ${Math.max(...tickGaps)} | ` +
    `${median(arrivalGaps)} / ${Math.max(...arrivalGaps)} | ${lost} | ${peakRssMb.toFixed(0)} |`;
  rows.push(row);
}
console.log(
  '\n| phase | snapshot gaps | tick gap median / max ms | arrival gap median / max ms | ticks lost | API peak RSS MB |',
);
console.log('|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
const health = await fetch(`${base}/api/health`);
const { reasons } = (await health.json()) as { reasons: string[] };
console.log(
  `\nAPI still answering: /api/health ${health.status} ${JSON.stringify(reasons)}; ` +
    `exit code ${api.child.exitCode ?? 'none (running)'}`,
);

clearInterval(rssTimer);
ws.close();
api.child.kill('SIGTERM');
await api.exited;
await rm(dataDir, { recursive: true, force: true });
