// bench/collect: what one tick of collection costs, side by side with its floor.
//
// Baseline: reading the same /proc files with fs.readFile and doing nothing with them — the
// least any /proc-based collector must spend. Ours: the aggregator running the enabled
// collectors (parse, deltas, statfs, /sys/class/net) as the sampler does each tick.
// The two alternate within one run, so machine noise hits both alike; medians and their ratio
// are what to quote. The perf child's own CPU is measured from /proc/<pid>/stat.
//
//   npm run bench:collect -- [--iterations N]
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createAggregator } from '../apps/api/src/collectors/aggregator.js';
import { createCollectors } from '../apps/api/src/collectors/index.js';

const { values } = parseArgs({ options: { iterations: { type: 'string', default: '2000' } } });
const iterations = Number(values.iterations);
if (!Number.isInteger(iterations) || iterations < 10) {
  console.error('usage: npm run bench:collect -- [--iterations N ≥ 10]');
  process.exit(2);
}

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

async function baseline(): Promise<void> {
  await Promise.all(FILES.map((file) => readFile(`${PROC}/${file}`, 'utf8')));
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

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

const base: number[] = [];
const ours: number[] = [];
let baseCpu = 0;
let oursCpu = 0;
for (let i = 0; i < iterations + 50; i++) {
  const warm = i < 50; // let the JIT settle before measuring
  for (const which of i % 2 === 0 ? ['base', 'ours'] : ['ours', 'base']) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    if (which === 'base') await baseline();
    else await aggregator.collect();
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (warm) continue;
    const cpuMs = (cpu.user + cpu.system) / 1000;
    if (which === 'base') {
      base.push(ms);
      baseCpu += cpuMs;
    } else {
      ours.push(ms);
      oursCpu += cpuMs;
    }
  }
}
await aggregator.stop();

// The perf collector's cost is its child: count that child's CPU over a window at 1 Hz.
const PERF_WINDOW_S = 30;
const { createPerfCollector } = await import('../apps/api/src/collectors/perf.js');
const perf = createPerfCollector(
  { procRoot: PROC, sysRoot: '/sys', now },
  { intervalMs: 1000, logger },
);
await perf.prime?.();
const pid = perf.childStatus()?.pid;
let perfCpuPercent: number | null = null;
if (pid !== undefined && pid !== null) {
  const ticks = async () => {
    const fields = (await readFile(`${PROC}/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ') ?? [];
    return Number(fields[11]) + Number(fields[12]); // utime + stime, in USER_HZ (100/s)
  };
  const before = await ticks();
  await new Promise((resolve) => setTimeout(resolve, PERF_WINDOW_S * 1000));
  // A tick is 10 ms: ticks × 10 ms over the window, as a share of one core.
  perfCpuPercent = (((await ticks()) - before) * 10 * 100) / (PERF_WINDOW_S * 1000);
}
await perf.stop?.();

base.sort((a, b) => a - b);
ours.sort((a, b) => a - b);
const row = (name: string, xs: number[], cpuMs: number) =>
  `${name.padEnd(34)} median ${quantile(xs, 0.5).toFixed(3)} ms   p95 ${quantile(xs, 0.95).toFixed(3)} ms   CPU ${(cpuMs / xs.length).toFixed(3)} ms/tick`;
console.log(`bench/collect — ${iterations} ticks each, alternating, ${new Date().toISOString()}`);
console.log(row('baseline: readFile of 8 /proc files', base, baseCpu));
console.log(row(`livestat: ${procfsNames.join(', ')}`, ours, oursCpu));
console.log(
  `ratio of medians (livestat / baseline): ${(quantile(ours, 0.5) / quantile(base, 0.5)).toFixed(2)}×`,
);
console.log(`CPU per tick ratio: ${(oursCpu / ours.length / (baseCpu / base.length)).toFixed(2)}×`);
console.log(
  `at 1 Hz livestat's collection costs ${(oursCpu / ours.length / 10).toFixed(3)} % of one core, plus the perf child: ${
    perfCpuPercent === null
      ? 'not running (no permission or no perf)'
      : `${perfCpuPercent.toFixed(2)} % of one core (±${(100 / (PERF_WINDOW_S * 100)).toFixed(2)} %, ${PERF_WINDOW_S} s window)`
  }`,
);
