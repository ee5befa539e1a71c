// bench/footprint: what livestat itself costs the machine it watches, side by side with the peers.
//
// livestat runs as the README's production command runs it (`node apps/api/dist/main.js`, after
// `npm run build`), once with PGlite embedded under a fresh DATA_DIR and once with DATABASE_URL
// naming a fresh database on the local PostgreSQL (whose server is not counted: it is the
// deployment's, not the monitor's). Beside it, where installed, Debian's netdata, glances and
// prometheus-node-exporter, each a child of this bench on a loopback port, each with one client:
// livestat a logged-in WebSocket receiving the stream, netdata a poll of /api/v1/allmetrics
// once a second, glances (its REST server, `-t 1`) a poll of /api/3/all once a second,
// node_exporter a scrape of /metrics once a second.
//
// Per variant: a first start on the fresh DATA_DIR or database (time to the first snapshot,
// peak RSS over the start-up window sampled every 100 ms), stopped; a second, warm start (time
// again), then the peers; all warm up, then `--runs` windows of `--seconds` measure each process
// tree's CPU seconds (utime + stime, and cutime + cstime for children reaped, over every
// descendant in /proc/<pid>/stat) and RSS/PSS (/proc/<pid>/smaps_rollup summed over the tree at
// the window's end). Medians over the windows; ratios are livestat ÷ the peer.
//
// `--probe` adds a breakdown of livestat's memory: its mappings (WebAssembly reservations, heap,
// files, other anonymous) from /proc/<pid>/smaps, and V8 heap and WebAssembly.Memory sizes per
// thread from a preload that writes them to a temporary directory.
//
//   npm run build && npm run -s bench:footprint -- [--seconds 30] [--runs 3] [--warmup 20]
//     [--startup-window 45] [--variants pglite,postgres] [--peers netdata,glances,node-exporter]
//     [--database-url postgres://postgres@127.0.0.1:5432] [--probe] [--malloc-arena-max 2]
//     [--malloc-mmap-threshold 4194304] [--node-options --v8-pool-size=1] [--logins 1]
//     [--ld-preload /usr/lib/x86_64-linux-gnu/libjemalloc.so.2] [--malloc-conf 'dirty_decay_ms:0,muzzy_decay_ms:0']
//     [--baseline apps/api/dist-before]   (another build, measured beside this one)
//     [--baseline-env NAME=value,NAME=]   (the baseline's environment differs: `NAME=` unsets)
//     [--node-args '--flag …'] [--baseline-node-args '--flag …']   (node's options for each)
//     [--ports 9100-9199]   (livestat's, its StatsD's and the peers' ports from this range only)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';

const JEMALLOC_PATH = '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2';
const JEMALLOC = existsSync(JEMALLOC_PATH) ? JEMALLOC_PATH : '';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '30' },
    runs: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '20' },
    'startup-window': { type: 'string', default: '45' },
    variants: { type: 'string', default: 'pglite,postgres' },
    peers: { type: 'string', default: 'netdata,glances,node-exporter' },
    'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432' },
    probe: { type: 'boolean', default: false },
    // The image sets MALLOC_ARENA_MAX=2 (see the Dockerfile); '' starts livestat without it.
    'malloc-arena-max': { type: 'string', default: '2' },
    // The image sets MALLOC_MMAP_THRESHOLD_ too (see the Dockerfile); '' starts without it.
    'malloc-mmap-threshold': { type: 'string', default: '4194304' },
    // The image sets NODE_OPTIONS=--v8-pool-size=1 (see the Dockerfile); '' starts without it.
    'node-options': { type: 'string', default: '--v8-pool-size=1' },
    // The image preloads jemalloc (see the Dockerfile), as does this bench where Debian's
    // libjemalloc2 is installed; '' starts livestat with glibc's malloc.
    'ld-preload': { type: 'string', default: JEMALLOC },
    'malloc-conf': { type: 'string', default: 'dirty_decay_ms:0,muzzy_decay_ms:0' },
    // How many times each livestat's client logs in (each login is an argon2 verify) before
    // it opens its WebSocket; a dashboard user logs in again whenever a token expires.
    logins: { type: 'string', default: '1' },
    // Another build's dist directory (e.g. a copy of apps/api/dist made before a change): started
    // beside livestat, measured in the same windows, its ratio printed as livestat ÷ baseline.
    baseline: { type: 'string', default: '' },
    // Environment variables set (NAME=value) or unset (NAME=) for the baseline only: with
    // `--baseline apps/api/dist` it measures a variable's effect on the same build.
    'baseline-env': { type: 'string', default: '' },
    // node's own options before main.js; the baseline takes --node-args unless given its own.
    'node-args': { type: 'string', default: '' },
    'baseline-node-args': { type: 'string' },
    // Ports from this range only (FIRST-LAST), e.g. a helper's own; '' lets the system pick.
    ports: { type: 'string', default: '' },
  },
});
const seconds = Number(values.seconds);
const runs = Number(values.runs);
const warmup = Number(values.warmup);
const startupWindow = Number(values['startup-window']);
const variants = values.variants.split(',').filter(Boolean);
const logins = Number(values.logins);
const nodeArgs = values['node-args'].split(' ').filter(Boolean);
const baselineNodeArgs = (values['baseline-node-args'] ?? values['node-args'])
  .split(' ')
  .filter(Boolean);
const baselineEnv = Object.fromEntries(
  values['baseline-env']
    // A comma before NAME= starts the next variable; other commas belong to the value
    // (MALLOC_CONF=narenas:1,dirty_decay_ms:0).
    .split(/,(?=\w+=)/)
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);
const wantedPeers = new Set(values.peers.split(',').filter(Boolean));
if (
  !(seconds >= 5) ||
  !Number.isInteger(runs) ||
  runs < 1 ||
  !(warmup >= 0) ||
  !(startupWindow >= 1) ||
  !Number.isInteger(logins) ||
  logins < 1 ||
  Object.keys(baselineEnv).some((name) => !/^\w+$/.test(name)) ||
  !variants.every((v) => v === 'pglite' || v === 'postgres') ||
  (values.ports !== '' && !/^\d+-\d+$/.test(values.ports))
) {
  console.error(
    'usage: npm run bench:footprint -- [--seconds S ≥ 5] [--runs N ≥ 1] [--warmup S] ' +
      '[--startup-window S] [--variants pglite,postgres] [--peers netdata,glances,node-exporter]',
  );
  process.exit(2);
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = path.join(ROOT, 'apps/api/dist/main.js');
const BASELINE_MAIN = values.baseline ? path.resolve(values.baseline, 'main.js') : null;
const PASSWORD = 'footprint-bench-password';
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;
const MB = 1024 * 1024;

// ---- /proc: process trees, CPU and memory

interface ProcStat {
  ppid: number;
  cpuTicks: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const n = (i: number) => Number(fields[i]);
    return { ppid: n(1), cpuTicks: n(11) + n(12) + n(13) + n(14) };
  } catch {
    return null;
  }
}

/** The root and every live descendant. */
function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat === null) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(pid);
    children.set(stat.ppid, list);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    if (!existsSync(`/proc/${pid}`)) continue;
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) ticks += readStat(pid)?.cpuTicks ?? 0;
  return ticks / CLK_TCK;
}

interface Memory {
  rss: number;
  pss: number;
}

function memory(pids: number[]): Memory {
  const total = { rss: 0, pss: 0 };
  for (const pid of pids) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    } catch {
      continue;
    }
    total.rss += Number(/^Rss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
    total.pss += Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
  }
  return total;
}

/** Resident bytes of one process by kind of mapping, from /proc/<pid>/smaps. */
function mappings(pid: number): Record<string, number> {
  const groups: Record<string, number> = {};
  let kind = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const size = Number.parseInt(head[2] as string, 16) - Number.parseInt(head[1] as string, 16);
      const name = head[3] ?? '';
      // PGlite's WebAssembly.Memory is one anonymous mapping of its whole size (128 MB and up);
      // V8's heap and malloc's arenas come in far smaller pieces.
      if (name === '' && size >= 100 * MB) kind = 'anonymous ≥ 100 MB (WebAssembly.Memory)';
      else if (name === '[heap]') kind = 'malloc heap ([heap])';
      else if (name.startsWith('/'))
        kind = name.includes('node_modules')
          ? 'files: node_modules'
          : 'files: node binary, libraries';
      else if (name === '') kind = 'other anonymous (V8 heaps, malloc arenas, thread stacks)';
      else kind = `other ${name}`;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) groups[kind] = (groups[kind] ?? 0) + Number(rss[1]) * 1024;
  }
  return groups;
}

// ---- small helpers

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
};

// `--ports 9100-9199`: each port taken from that range in turn, the first free one (benches
// run side by side on one machine keep to their own ranges); by default any the system gives.
const portRange = values.ports.split('-').map(Number);
let nextPort = portRange[0] ?? 0;

async function freePort(): Promise<number> {
  for (;;) {
    if (values.ports && nextPort > (portRange[1] ?? 0))
      throw new Error(`--ports ${values.ports}: none free`);
    const server = createServer();
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(values.ports ? nextPort++ : 0, '127.0.0.1', () => resolve(true));
    });
    if (!listening) continue;
    const { port } = server.address() as { port: number };
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
  }
}

function installed(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

/** A child process with its owner: stop() ends it (SIGTERM, then SIGKILL) and what it left. */
interface Owned {
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

function own(command: string, args: string[], env?: NodeJS.ProcessEnv): Owned {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out = (out + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.on('error', (err) => (out += `\n${err.message}`));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    child,
    output: () => out,
    async stop() {
      const left = child.pid === undefined ? [] : tree(child.pid);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
      // Plugins a peer started and did not take down with it.
      for (const pid of left.slice(1)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    },
  };
}

/** Calls `poll` once a second until stopped; counts answers. */
function poller(poll: () => Promise<void>) {
  let ok = 0;
  let failed = 0;
  const timer = setInterval(() => {
    poll().then(
      () => (ok += 1),
      () => (failed += 1),
    );
  }, 1000);
  return {
    counts: () => ({ ok, failed }),
    stop: () => clearInterval(timer),
  };
}

const fetchBody = async (url: string) => {
  const res = await fetch(url);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
};

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`${what}: not ready within ${timeoutMs / 1000} s`);
}

// ---- contestants

interface Contestant {
  name: string;
  pid: number;
  /** Messages or answers its client received, and failures. */
  counts(): { ok: number; failed: number };
  stop(): Promise<void>;
}

const PROBE = `
import v8 from 'node:v8';
import { writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
const memories = [];
WebAssembly.Memory = new Proxy(WebAssembly.Memory, {
  construct(target, args) { const m = Reflect.construct(target, args); memories.push(m); return m; },
});
setInterval(() => {
  const h = v8.getHeapStatistics();
  writeFileSync(process.env.FOOTPRINT_PROBE_DIR + '/' + threadId + '.json', JSON.stringify({
    threadId, usedHeap: h.used_heap_size, totalHeap: h.total_heap_size,
    external: h.external_memory, malloced: h.malloced_memory,
    wasm: memories.map((m) => m.buffer.byteLength),
    process: threadId === 0 ? process.memoryUsage() : undefined,
  }));
}, 1000).unref();
`;

interface Livestat {
  owned: Owned;
  url: string;
  /** Spawn to `/api/health` with sampler.seq ≥ 1, and to status ok or the database up (a login can be served). */
  firstSnapshotMs: number;
  okMs: number;
  /** Peak tree RSS from spawn until stopPeak() (or the window's end), sampled every 100 ms. */
  peakRss(): number;
  probeDir?: string;
}

async function startLivestat(
  variant: string,
  store: string,
  probe: boolean,
  main = MAIN,
  isBaseline = false,
): Promise<Livestat> {
  const port = await freePort();
  // Each its own StatsD port: beside a baseline, the second to start would otherwise find
  // 8125 taken and run without its StatsD listener.
  const statsdPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const probeDir = probe ? mkdtempSync(path.join(tmpdir(), 'footprint-probe-')) : undefined;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    ENV_FILE: 'none',
    HOST: '127.0.0.1',
    PORT: String(port),
    STATSD_PORT: String(statsdPort),
    LOG_LEVEL: 'warn',
    JWT_SECRET: 'footprint-bench-secret-0123456789abcdef',
    ADMIN_USERNAME: 'admin',
    ADMIN_PASSWORD: PASSWORD,
    SAMPLING_INTERVAL_SECONDS: '1',
    ...(values['malloc-arena-max'] ? { MALLOC_ARENA_MAX: values['malloc-arena-max'] } : {}),
    ...(values['malloc-mmap-threshold']
      ? { MALLOC_MMAP_THRESHOLD_: values['malloc-mmap-threshold'] }
      : {}),
    ...(values['node-options'] ? { NODE_OPTIONS: values['node-options'] } : {}),
    ...(values['ld-preload'] ? { LD_PRELOAD: values['ld-preload'] } : {}),
    ...(values['ld-preload'] && values['malloc-conf']
      ? { MALLOC_CONF: values['malloc-conf'] }
      : {}),
    ...(variant === 'pglite' ? { DATA_DIR: store } : { DATABASE_URL: store }),
    ...(probeDir ? { FOOTPRINT_PROBE_DIR: probeDir } : {}),
  };
  if (isBaseline) {
    for (const [name, value] of Object.entries(baselineEnv)) {
      if (value === '') delete env[name];
      else env[name] = value;
    }
  }
  const args = [
    ...(isBaseline ? baselineNodeArgs : nodeArgs),
    ...(probe ? [`--import=data:text/javascript,${encodeURIComponent(PROBE)}`] : []),
    main,
  ];
  const started = performance.now();
  const owned = own(process.execPath, args, env);
  const pid = owned.child.pid as number;
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, memory(tree(pid)).rss);
  }, 100);
  setTimeout(() => clearInterval(sampler), startupWindow * 1000).unref();
  let firstSnapshotMs = NaN;
  let okMs = NaN;
  try {
    await waitFor('livestat', async () => {
      if (owned.child.exitCode !== null) throw new Error(`livestat exited:\n${owned.output()}`);
      const health = (await (await fetch(`${url}/api/health`)).json()) as {
        status: string;
        database: string;
        sampler: { seq: number };
      };
      const at = performance.now() - started;
      if (health.sampler.seq >= 1 && Number.isNaN(firstSnapshotMs)) firstSnapshotMs = at;
      // Degraded counts too when the database is up: on a loaded machine the sampler skips a
      // tick now and then, which keeps the status degraded for a minute, yet logins work.
      const ready = health.status === 'ok' || health.database === 'up';
      if (ready && Number.isNaN(okMs)) okMs = at;
      return !Number.isNaN(firstSnapshotMs) && !Number.isNaN(okMs);
    });
  } catch (err) {
    clearInterval(sampler);
    await owned.stop();
    throw new Error(`${(err as Error).message}\n${owned.output()}`, { cause: err });
  }
  return { owned, url, firstSnapshotMs, okMs, peakRss: () => peak, probeDir };
}

async function livestatClient(live: Livestat): Promise<Contestant> {
  const post = async (route: string, body: unknown, token?: string) => {
    const res = await fetch(`${live.url}${route}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${route}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<Record<string, string>>;
  };
  let token: string | undefined;
  for (let i = 0; i < logins; i++) {
    ({ token } = await post('/api/auth/login', { username: 'admin', password: PASSWORD }));
  }
  const { ticket } = await post('/api/ws/ticket', {}, token);
  const socket = new WebSocket(
    `${live.url.replace('http', 'ws')}/api/ws/metrics?ticket=${encodeURIComponent(ticket ?? '')}`,
  );
  let ok = 0;
  let failed = 0;
  socket.on('message', () => (ok += 1));
  socket.on('error', () => (failed += 1));
  socket.on('close', (code) => {
    if (code !== 1000 && code !== 1005) failed += 1;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  return {
    name: 'livestat',
    pid: live.owned.child.pid as number,
    counts: () => ({ ok, failed }),
    async stop() {
      socket.close(1000);
      await live.owned.stop();
    },
  };
}

async function startPeer(name: string): Promise<Contestant | string> {
  const port = await freePort();
  let owned: Owned;
  let ready: string;
  let poll: string;
  if (name === 'netdata') {
    if (!installed('netdata')) return 'netdata: not installed (apt-get install netdata)';
    owned = own('netdata', ['-D', '-p', String(port), '-i', '127.0.0.1']);
    ready = `http://127.0.0.1:${port}/api/v1/info`;
    poll = `http://127.0.0.1:${port}/api/v1/allmetrics?format=json`;
  } else if (name === 'glances') {
    if (!installed('glances')) return 'glances: not installed (apt-get install glances)';
    owned = own('glances', [
      '-w',
      '--disable-webui',
      '-B',
      '127.0.0.1',
      '-p',
      String(port),
      '-t',
      '1',
    ]);
    ready = `http://127.0.0.1:${port}/api/3/pluginslist`;
    poll = `http://127.0.0.1:${port}/api/3/all`;
  } else if (name === 'node-exporter') {
    if (!installed('prometheus-node-exporter')) {
      return 'node-exporter: not installed (apt-get install prometheus-node-exporter)';
    }
    owned = own('prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${port}`]);
    ready = poll = `http://127.0.0.1:${port}/metrics`;
  } else {
    return `${name}: unknown peer`;
  }
  try {
    await waitFor(name, async () => {
      if (owned.child.exitCode !== null) throw new Error(`${name} exited`);
      return (await fetch(ready)).ok;
    });
  } catch (err) {
    await owned.stop();
    return `${name}: did not start (${(err as Error).message}): ${owned.output().slice(-400)}`;
  }
  const client = poller(() => fetchBody(poll));
  return {
    name,
    pid: owned.child.pid as number,
    counts: client.counts,
    async stop() {
      client.stop();
      await owned.stop();
    },
  };
}

// ---- one variant

interface Window {
  cpu: number;
  rss: number;
  pss: number;
}

async function freshStore(variant: string): Promise<{ store: string; drop(): void }> {
  if (variant === 'pglite') {
    const dir = mkdtempSync(path.join(tmpdir(), 'footprint-data-'));
    return { store: dir, drop: () => rmSync(dir, { recursive: true, force: true }) };
  }
  const name = `footprint_${process.pid}_${Date.now()}`;
  const psql = (sql: string) => {
    const r = spawnSync('psql', [`${values['database-url']}/postgres`, '-qXc', sql]);
    if (r.status !== 0) throw new Error(`psql: ${r.stderr?.toString()}`);
  };
  psql(`CREATE DATABASE ${name}`);
  return { store: `${values['database-url']}/${name}`, drop: () => psql(`DROP DATABASE ${name}`) };
}

function printProbe(live: Livestat, label: string) {
  const pid = live.owned.child.pid as number;
  console.log(`\n  memory breakdown of livestat (${label}, pid ${pid}):`);
  const groups = mappings(pid);
  for (const [kind, bytes] of Object.entries(groups).sort((a, b) => b[1] - a[1])) {
    if (bytes >= MB) console.log(`    ${(bytes / MB).toFixed(1).padStart(7)} MB  ${kind}`);
  }
  if (!live.probeDir) return;
  for (const file of readdirSync(live.probeDir).sort()) {
    const p = JSON.parse(readFileSync(path.join(live.probeDir, file), 'utf8')) as Record<
      string,
      unknown
    >;
    const mb = (v: unknown) => `${((v as number) / MB).toFixed(1)} MB`;
    const thread = p.threadId === 0 ? 'main thread' : `worker ${String(p.threadId)}`;
    console.log(
      `    ${thread}: V8 heap used ${mb(p.usedHeap)} of ${mb(p.totalHeap)}, external ${mb(p.external)}, ` +
        `WebAssembly.Memory ${(p.wasm as number[]).map(mb).join(' + ') || 'none'}`,
    );
    if (p.process) console.log(`    process.memoryUsage(): ${JSON.stringify(p.process)}`);
  }
  rmSync(live.probeDir, { recursive: true, force: true });
}

async function runVariant(variant: string) {
  console.log(
    `\n== livestat with ${variant === 'pglite' ? 'embedded PGlite' : 'DATABASE_URL (PostgreSQL)'}`,
  );
  const stopAll: (() => Promise<void>)[] = [];
  const drops: (() => void)[] = [];
  /** A first start on an empty store (migrations, the admin's hash), stopped; then a warm one. */
  async function startUp(label: string, main: string) {
    const { store, drop } = await freshStore(variant);
    drops.push(drop);
    const isBaseline = label === 'baseline';
    const fresh = await startLivestat(variant, store, false, main, isBaseline);
    await sleep(Math.max(0, startupWindow * 1000 - fresh.firstSnapshotMs));
    const freshPeak = fresh.peakRss();
    const freshSteady = memory(tree(fresh.owned.child.pid as number));
    await fresh.owned.stop();
    console.log(
      `  ${label} fresh start: first snapshot ${fresh.firstSnapshotMs.toFixed(0)} ms, health ok ${fresh.okMs.toFixed(0)} ms; ` +
        `peak RSS over ${startupWindow} s ${(freshPeak / MB).toFixed(0)} MB, at its end ${(freshSteady.rss / MB).toFixed(0)} MB`,
    );
    const probe = values.probe && !isBaseline;
    const warm = await startLivestat(variant, store, probe, main, isBaseline);
    stopAll.push(() => warm.owned.stop());
    console.log(
      `  ${label} warm start: first snapshot ${warm.firstSnapshotMs.toFixed(0)} ms, health ok ${warm.okMs.toFixed(0)} ms`,
    );
    return { fresh, warm, freshPeak };
  }
  try {
    const { fresh, warm, freshPeak } = await startUp('livestat', MAIN);
    const contestants: Contestant[] = [await livestatClient(warm)];
    stopAll[0] = () => (contestants[0] as Contestant).stop();
    let baseline: Awaited<ReturnType<typeof startUp>> | undefined;
    if (BASELINE_MAIN !== null) {
      baseline = await startUp('baseline', BASELINE_MAIN);
      const client = await livestatClient(baseline.warm);
      contestants.push({ ...client, name: 'baseline' });
      stopAll[1] = () => client.stop();
    }
    for (const name of ['netdata', 'glances', 'node-exporter']) {
      if (!wantedPeers.has(name)) continue;
      const peer = await startPeer(name);
      if (typeof peer === 'string') console.log(`  skipped ${peer}`);
      else {
        contestants.push(peer);
        stopAll.push(() => peer.stop());
      }
    }
    await sleep(warmup * 1000);
    const warmPeak = warm.peakRss();

    const windows = new Map<string, Window[]>(contestants.map((c) => [c.name, []]));
    for (let run = 1; run <= runs; run++) {
      const before = contestants.map((c) => cpuSeconds(tree(c.pid)));
      const t0 = performance.now();
      await sleep(seconds * 1000);
      const elapsed = (performance.now() - t0) / 1000;
      contestants.forEach((c, i) => {
        const pids = tree(c.pid);
        const m = memory(pids);
        (windows.get(c.name) as Window[]).push({
          cpu: (cpuSeconds(pids) - (before[i] as number)) / elapsed,
          ...m,
        });
      });
      const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
      console.log(
        `  run ${run}/${runs} (${elapsed.toFixed(1)} s, load ${load}): ` +
          contestants
            .map((c) => {
              const w = (windows.get(c.name) as Window[])[run - 1] as Window;
              return `${c.name} ${(w.cpu * 100).toFixed(2)} % ${(w.pss / MB).toFixed(0)} MB PSS`;
            })
            .join(', '),
      );
    }
    if (values.probe) printProbe(warm, variant);

    const base = windows.get('livestat') as Window[];
    const med = (ws: Window[], k: keyof Window) => median(ws.map((w) => w[k]));
    console.log(
      `\n  medians over ${runs} × ${seconds} s, one client each (livestat ÷ peer: ≤ 1 means livestat is lighter)\n`,
    );
    console.log(
      '  | process tree   | CPU % of a core | RSS MB | PSS MB | CPU livestat ÷ | PSS livestat ÷ | client answers ok/failed |',
    );
    console.log(
      '  | -------------- | --------------- | ------ | ------ | -------------- | -------------- | ------------------------ |',
    );
    for (const c of contestants) {
      const ws = windows.get(c.name) as Window[];
      const ratio = (k: keyof Window) =>
        c.name === 'livestat' ? '—' : `${(med(base, k) / med(ws, k)).toFixed(2)}×`;
      const { ok, failed } = c.counts();
      console.log(
        `  | ${c.name.padEnd(14)} | ${(med(ws, 'cpu') * 100).toFixed(2).padStart(15)} | ` +
          `${(med(ws, 'rss') / MB).toFixed(0).padStart(6)} | ${(med(ws, 'pss') / MB).toFixed(0).padStart(6)} | ` +
          `${ratio('cpu').padStart(14)} | ${ratio('pss').padStart(14)} | ${`${ok}/${failed}`.padStart(24)} |`,
      );
    }
    console.log(
      `\n  livestat start-up: fresh ${fresh.firstSnapshotMs.toFixed(0)} ms, warm ${warm.firstSnapshotMs.toFixed(0)} ms ` +
        `to the first snapshot; peak RSS fresh ${(freshPeak / MB).toFixed(0)} MB, warm ${(warmPeak / MB).toFixed(0)} MB ` +
        `(steady: ${(med(base, 'rss') / MB).toFixed(0)} MB)`,
    );
    if (baseline) {
      const steady = med(windows.get('baseline') as Window[], 'rss');
      console.log(
        `  baseline start-up: fresh ${baseline.fresh.firstSnapshotMs.toFixed(0)} ms, warm ${baseline.warm.firstSnapshotMs.toFixed(0)} ms ` +
          `to the first snapshot; peak RSS fresh ${(baseline.freshPeak / MB).toFixed(0)} MB ` +
          `(steady: ${(steady / MB).toFixed(0)} MB)`,
      );
    }
  } finally {
    for (const stop of stopAll) await stop().catch(() => undefined);
    for (const drop of drops) {
      try {
        drop();
      } catch (err) {
        console.error(`  could not drop the store: ${(err as Error).message}`);
      }
    }
  }
}

for (const main of [MAIN, BASELINE_MAIN]) {
  if (main !== null && !existsSync(main)) {
    console.error(`${main} is missing: run \`npm run build\` first`);
    process.exit(2);
  }
}
console.log(
  `bench/footprint: ${runs} × ${seconds} s after ${warmup} s of warm-up; node ${process.version}; ` +
    `MALLOC_ARENA_MAX=${values['malloc-arena-max'] || '(unset)'}; ` +
    `MALLOC_MMAP_THRESHOLD_=${values['malloc-mmap-threshold'] || '(unset)'}; ` +
    `NODE_OPTIONS=${values['node-options'] || '(unset)'}; ` +
    `LD_PRELOAD=${values['ld-preload'] || '(unset)'}; ` +
    `MALLOC_CONF=${(values['ld-preload'] && values['malloc-conf']) || '(unset)'}; ` +
    `${logins} login(s) a client; ` +
    `node ${nodeArgs.join(' ') || '(no options)'}; ` +
    (BASELINE_MAIN
      ? `baseline ${values.baseline} ${values['baseline-env']} node ${baselineNodeArgs.join(' ') || '(no options)'}; `
      : '') +
    `${new Date().toISOString()}`,
);
for (const variant of variants) await runVariant(variant);
