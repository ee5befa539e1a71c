// bench/collect: what one tick of collection costs, side by side with psutil and the floor.
//
// Three contestants take turns in one run, in batches whose order rotates, so machine noise hits
// all of them alike:
// - livestat: the aggregator running cpu, memory, network, disk and bandwidth as the sampler
//   does each tick (parse, deltas, statfs, /sys/class/net); CPU per tick from process.cpuUsage.
// - psutil: bench/collect-psutil.py doing the equivalent psutil calls in its own process (Debian's
//   python3-psutil); CPU per tick from time.process_time. Skipped, and said so, when absent.
// - floor: readFileSync of the eight /proc files those collectors read, and nothing else.
// Medians and means of CPU per tick are what to quote (the mean carries the garbage collector).
// The perf child's own CPU is measured afterwards from /proc/<pid>/stat.
//
//   npm run -s bench:collect -- [--iterations N] [--perf-seconds S]
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createAggregator } from '../apps/api/src/collectors/aggregator.js';
import { createCollectors } from '../apps/api/src/collectors/index.js';

const { values } = parseArgs({
  options: {
    iterations: { type: 'string', default: '2000' },
    'perf-seconds': { type: 'string', default: '30' },
  },
});
const iterations = Number(values.iterations);
const perfSeconds = Number(values['perf-seconds']);
if (!Number.isInteger(iterations) || iterations < 20 || !(perfSeconds >= 0)) {
  console.error('usage: npm run bench:collect -- [--iterations N ≥ 20] [--perf-seconds S ≥ 0]');
  process.exit(2);
}

const BATCH = 20;
const WARM_TICKS = 50;
const PROC = '/proc';
const FILES = [
  'stat',
  'loadavg',
  'meminfo',
  'net/dev',
  'diskstats',
  'vmstat',
  'self/mounts',
  'filesystems',
];
const logger = pino({ level: 'silent' });
const now = () => performance.now();

interface Series {
  cpuMs: number[];
  wallMs: number[];
}
const series = (): Series => ({ cpuMs: [], wallMs: [] });

// ---- the psutil side: a long-lived Python process that runs a batch of ticks on request

interface Psutil {
  version: string;
  batch(ticks: number): Promise<number[]>;
  stop(): void;
}

async function startPsutil(python: string): Promise<Psutil | string> {
  const script = fileURLToPath(new URL('./collect-psutil.py', import.meta.url));
  let child: ChildProcessWithoutNullStreams;
  try {
    child = spawn(python, [script, '--serve']);
  } catch (err) {
    return `${python}: ${(err as Error).message}`;
  }
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string | null) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  const closed = new Promise<void>((resolve) => {
    child.on('error', (err) => {
      stderr ||= err.message;
      resolve();
    });
    child.on('close', () => resolve());
  });
  void closed.then(() => waiting.splice(0).forEach((resolve) => resolve(null)));
  const nextLine = () => new Promise<string | null>((resolve) => waiting.push(resolve));
  const ready = await nextLine();
  if (ready === null || !ready.startsWith('ready ')) {
    return (stderr.trim() || `${python} exited before it was ready`).split('\n').at(-1) ?? '';
  }
  return {
    version: ready.slice('ready '.length),
    async batch(ticks) {
      child.stdin.write(`${ticks}\n`);
      const line = await nextLine();
      if (line === null) throw new Error(`psutil process died: ${stderr.trim()}`);
      return line.split(' ').map(Number);
    },
    stop: () => child.kill(),
  };
}

// Debian's python3-psutil installs for /usr/bin/python3; a pyenv or venv python on PATH may
// lack it, so the system one is tried first.
let psutil: Psutil | null = null;
const psutilAbsent: string[] = [];
for (const python of ['/usr/bin/python3', 'python3']) {
  const started = await startPsutil(python);
  if (typeof started !== 'string') {
    psutil = started;
    break;
  }
  psutilAbsent.push(`${python}: ${started}`);
}

// ---- the floor and livestat

function floorTick(): void {
  for (const file of FILES) readFileSync(`${PROC}/${file}`, 'utf8');
}

const procfsNames = ['cpu', 'memory', 'network', 'disk', 'bandwidth'] as const;
const collectors = createCollectors(procfsNames, {
  procRoot: PROC,
  sysRoot: '/sys',
  now,
  intervalMs: 1000,
  logger,
});
const aggregator = createAggregator({ collectors, now, timeoutMs: 5000, logger });
await aggregator.prime();

async function measure(into: Series | null, tick: () => unknown): Promise<void> {
  for (let i = 0; i < BATCH; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await tick();
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    into?.cpuMs.push((cpu.user + cpu.system) / 1000);
    into?.wallMs.push(wallMs);
  }
}

const ours = series();
const floor = series();
const theirs = series();
const contestants = ['ours', 'floor', 'psutil'] as const;
// Let the JIT settle before measuring.
for (let i = 0; i < WARM_TICKS / BATCH; i++) {
  await measure(null, () => aggregator.collect());
  await measure(null, floorTick);
}
const rounds = Math.ceil(iterations / BATCH);
for (let round = 0; round < rounds; round++) {
  for (let k = 0; k < contestants.length; k++) {
    const which = contestants[(round + k) % contestants.length];
    if (which === 'ours') await measure(ours, () => aggregator.collect());
    else if (which === 'floor') await measure(floor, floorTick);
    else if (psutil !== null) theirs.cpuMs.push(...(await psutil.batch(BATCH)));
  }
}
await aggregator.stop();
psutil?.stop();

// ---- the perf collector's cost is its child: count that child's CPU over a window at 1 Hz

let perfCpuPercent: number | null = null;
if (perfSeconds > 0) {
  const { createPerfCollector } = await import('../apps/api/src/collectors/perf.js');
  const perf = createPerfCollector(
    { procRoot: PROC, sysRoot: '/sys', now },
    { intervalMs: 1000, logger },
  );
  await perf.prime?.();
  const pid = perf.childStatus()?.pid;
  if (pid !== undefined && pid !== null) {
    const ticks = () => {
      const fields = readFileSync(`${PROC}/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return Number(fields[11]) + Number(fields[12]); // utime + stime, in USER_HZ (100/s)
    };
    const before = ticks();
    await new Promise((resolve) => setTimeout(resolve, perfSeconds * 1000));
    // A tick is 10 ms: ticks × 10 ms over the window, as a share of one core.
    perfCpuPercent = ((ticks() - before) * 10 * 100) / (perfSeconds * 1000);
  }
  await perf.stop?.();
}

// ---- report

const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const quantile = (xs: number[], q: number) => {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
};
const mean = (xs: number[]) => xs.reduce((sum, x) => sum + x, 0) / xs.length;
const cpuRow = (name: string, s: Series) =>
  `${name.padEnd(44)} CPU median ${quantile(s.cpuMs, 0.5).toFixed(3)} ms  mean ${mean(s.cpuMs).toFixed(3)} ms  p95 ${quantile(s.cpuMs, 0.95).toFixed(3)} ms` +
  (s.wallMs.length > 0 ? `   wall median ${quantile(s.wallMs, 0.5).toFixed(3)} ms` : '');
const ratio = (a: Series, b: Series) =>
  `${(quantile(a.cpuMs, 0.5) / quantile(b.cpuMs, 0.5)).toFixed(2)}× (median), ${(mean(a.cpuMs) / mean(b.cpuMs)).toFixed(2)}× (mean)`;

console.log(
  `bench/collect — ${rounds * BATCH} ticks each, in rotating batches of ${BATCH}, ${new Date().toISOString()}`,
);
console.log(cpuRow(`livestat: ${procfsNames.join(', ')}`, ours));
if (psutil !== null) console.log(cpuRow(`${psutil.version}: the same reads`, theirs));
else console.log(`psutil: ABSENT, not compared (${psutilAbsent.join('; ')})`);
console.log(cpuRow('floor: readFileSync of 8 /proc files', floor));
if (psutil !== null) console.log(`CPU per tick, livestat / psutil: ${ratio(ours, theirs)}`);
console.log(`CPU per tick, livestat / floor:  ${ratio(ours, floor)}`);
console.log(
  `at 1 Hz livestat's collection costs ${(mean(ours.cpuMs) / 10).toFixed(3)} % of one core, plus the perf child: ${
    perfSeconds === 0
      ? 'not measured (--perf-seconds 0)'
      : perfCpuPercent === null
        ? 'not running (no permission or no perf)'
        : `${perfCpuPercent.toFixed(2)} % of one core (±${(100 / (perfSeconds * 100)).toFixed(2)} %, ${perfSeconds} s window)`
  }`,
);
