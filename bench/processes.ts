// bench/processes: what one tick of the processes collector costs with 300, 2,000 and 10,000
// real processes, side by side with psutil's process_iter in the same run, then the 1 Hz cost of
// the whole sampler with 2,000 processes (without the collector, with it as it read before the
// schedstat and loadavg shortcuts, and as it reads now) and the snapshot's size with and without
// the section.
//
// The processes are real: `sleep` children forked by one shell, killed as a group at the end.
// At each size the two contestants take turns in batches of 5 ticks, 50 ms apart, so machine
// noise hits both alike; CPU per tick is process.cpuUsage (livestat) and time.process_time
// (bench/processes-psutil.py, Debian's python3-psutil).
//
//   npm run -s bench:processes -- [--ticks N] [--sizes 300,2000,10000] [--sampler-seconds S]
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Snapshot } from '@livestat/contracts';
import pino from 'pino';
import { createAggregator } from '../apps/api/src/collectors/aggregator.js';
import { createCollectors } from '../apps/api/src/collectors/index.js';
import { createProcessesCollector } from '../apps/api/src/collectors/processes.js';
import { createSelfMeter } from '../apps/api/src/collectors/self-meter.js';
import { createSampler } from '../apps/api/src/sampler.js';

const { values } = parseArgs({
  options: {
    ticks: { type: 'string', default: '40' },
    sizes: { type: 'string', default: '300,2000,10000' },
    'sampler-seconds': { type: 'string', default: '30' },
  },
});
const ticks = Number(values.ticks);
const sizes = values.sizes.split(',').map(Number);
const samplerSeconds = Number(values['sampler-seconds']);
const BATCH = 5;
const logger = pino({ level: 'silent' });
const now = () => performance.now();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- real processes

const countProcesses = () => readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length;

/** Forks sleepers until /proc lists `total` processes; returns the shell that holds them. */
/** How many sleepers each shell of {@link populate} was asked to start. */
const sleepers = new WeakMap<ChildProcess, number>();

async function populate(total: number): Promise<ChildProcess | null> {
  const extra = total - countProcesses();
  if (extra <= 0) return null;
  const shell = spawn(
    'sh',
    ['-c', `i=0; while [ $i -lt ${extra} ]; do sleep 3600 & i=$((i+1)); done; wait`],
    { detached: true, stdio: 'ignore' },
  );
  sleepers.set(shell, extra);
  // At most a minute: sleepers of a bigger size still being reaped when `extra` was counted
  // would otherwise keep the total short of the goal for ever. The figures name the count.
  for (let i = 0; i < 300 && countProcesses() < total - 5; i++) await pause(200);
  return shell;
}

/** Kills the sleepers and waits (at most 30 s) for the kernel to reap them. */
async function depopulate(shell: ChildProcess | null, size: number): Promise<void> {
  if (!shell?.pid) return;
  const before = countProcesses();
  process.kill(-shell.pid, 'SIGKILL');
  const spawned = sleepers.get(shell) ?? size;
  for (let i = 0; i < 150 && countProcesses() > before - spawned * 0.98; i++) await pause(200);
}

// ---- psutil, a long-lived Python process that runs a batch of ticks on request

interface Psutil {
  version: string;
  batch(ticks: number): Promise<number[]>;
  stop(): void;
}

async function startPsutil(): Promise<Psutil | string> {
  const script = fileURLToPath(new URL('./processes-psutil.py', import.meta.url));
  // Debian's python3-psutil is for /usr/bin/python3, not a pyenv python on PATH.
  const child: ChildProcessWithoutNullStreams = spawn('/usr/bin/python3', [script]);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string | null) => void)[] = [];
  lines.on('line', (line) => waiting.shift()?.(line));
  child.on('close', () => waiting.splice(0).forEach((resolve) => resolve(null)));
  const nextLine = () => new Promise<string | null>((resolve) => waiting.push(resolve));
  const ready = await nextLine();
  if (ready === null || !ready.startsWith('ready ')) return stderr.trim() || 'psutil did not start';
  return {
    version: `psutil ${ready.slice('ready '.length)}`,
    async batch(n) {
      child.stdin.write(`${n}\n`);
      const line = await nextLine();
      if (line === null) throw new Error(`psutil died: ${stderr.trim()}`);
      return line.split(' ').map(Number);
    },
    stop: () => child.kill(),
  };
}

// ---- report helpers

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const mean = (xs: number[]) => xs.reduce((sum, x) => sum + x, 0) / xs.length;
const ms = (x: number) => `${x.toFixed(2)} ms`;
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

console.log(
  `bench/processes — ${new Date().toISOString()}, ${ticks} ticks per contestant and size`,
);

// ---- CPU per tick at each size

for (const size of sizes) {
  const shell = await populate(size);
  const listed = countProcesses();
  const collector = createProcessesCollector({ procRoot: '/proc', sysRoot: '/sys', now });
  await collector.prime!();
  const psutil = await startPsutil();
  const ours: number[] = [];
  const theirs: number[] = [];
  // Warm up: the JIT, and both sides' caches of every process.
  for (let i = 0; i < 5; i++) await collector.collect();
  if (typeof psutil !== 'string') await psutil.batch(2);
  for (let round = 0; ours.length < ticks; round++) {
    const oursFirst = round % 2 === 0;
    for (const which of oursFirst ? ['ours', 'psutil'] : ['psutil', 'ours']) {
      if (which === 'psutil') {
        if (typeof psutil !== 'string') theirs.push(...(await psutil.batch(BATCH)));
        continue;
      }
      for (let i = 0; i < BATCH; i++) {
        const cpu0 = process.cpuUsage();
        await collector.collect();
        const cpu = process.cpuUsage(cpu0);
        ours.push((cpu.user + cpu.system) / 1000);
        await pause(50);
      }
    }
  }
  const total = collector.latestTable()?.total ?? 0;
  console.log(
    `${String(size).padStart(6)} processes (${listed} in /proc, ${total} after kernel threads): ` +
      `livestat median ${ms(median(ours))} mean ${ms(mean(ours))}` +
      (typeof psutil === 'string'
        ? `; psutil ABSENT (${psutil})`
        : `; ${psutil.version} median ${ms(median(theirs))} mean ${ms(mean(theirs))}; ` +
          `livestat / psutil ${(median(ours) / median(theirs)).toFixed(2)}× (median)`),
  );
  if (typeof psutil !== 'string') psutil.stop();
  await depopulate(shell, size - 150);
}

// ---- the whole sampler at 1 Hz with 2,000 processes: without the processes collector, with
// it as before (every `stat` read each tick, /proc listed each tick) and as it is now (a
// sleeping single-threaded process told by its `schedstat`, /proc listed when a pid was made)

const shell = await populate(2000);
const base = ['cpu', 'memory', 'network', 'disk', 'bandwidth'] as const;
const BEFORE = { listOnNewPid: false, useSchedstat: false };
type Mode = 'without' | 'before' | 'now';
async function samplerCost(mode: Mode): Promise<{ percent: number; last: Snapshot }> {
  const deps = { procRoot: '/proc', sysRoot: '/sys', now };
  const collectors = createCollectors([...base], { ...deps, intervalMs: 1000, logger });
  if (mode !== 'without') {
    collectors.push(createProcessesCollector(deps, mode === 'before' ? BEFORE : {}));
  }
  const aggregator = createAggregator({ collectors, now, timeoutMs: 5000, logger });
  const sampler = createSampler({
    host: 'bench',
    intervalMs: 1000,
    aggregator,
    agent: createSelfMeter(),
    logger,
    now,
  });
  let last: Snapshot | null = null;
  // The bus serializes each snapshot once: count that too.
  sampler.subscribe((snapshot) => {
    JSON.stringify(snapshot);
    last = snapshot;
  });
  await sampler.start();
  await pause(3000);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await pause(samplerSeconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;
  await sampler.stop();
  await aggregator.stop();
  return { percent: ((cpu.user + cpu.system) / 1000 / wall) * 100, last: last! };
}
// Alternating, twice each, so a change in the machine's load hits all three alike.
const runs: Record<Mode, number[]> = { without: [], before: [], now: [] };
let withP: { percent: number; last: Snapshot } | null = null;
for (let round = 0; round < 2; round++) {
  for (const mode of ['without', 'before', 'now'] as const) {
    const result = await samplerCost(mode);
    runs[mode].push(result.percent);
    if (mode === 'now') withP = result;
  }
}
const pct = (mode: Mode) => mean(runs[mode]);
const per = (mode: Mode) =>
  (
    (((pct(mode) - pct('without')) / 100) * 1e6) /
    (withP!.last.processes?.available ? withP!.last.processes.total : NaN)
  ).toFixed(1);
console.log(
  `sampler at 1 Hz, 2,000 processes, ${samplerSeconds} s × 2 each, mean (load ${loadavg()}): ` +
    `without processes ${pct('without').toFixed(2)} % of one core; with them as before ` +
    `${pct('before').toFixed(2)} % (+${(pct('before') - pct('without')).toFixed(2)} %, ${per('before')} µs a ` +
    `process a tick); now ${pct('now').toFixed(2)} % (+${(pct('now') - pct('without')).toFixed(2)} %, ` +
    `${per('now')} µs); now / before (added cost) ` +
    `${((pct('now') - pct('without')) / (pct('before') - pct('without'))).toFixed(2)}×`,
);
withP = withP!;
const { processes: section, ...rest } = withP.last;
const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
console.log(
  `snapshot: ${bytes(rest)} B without the processes section, ${bytes(withP.last)} B with it ` +
    `(+${bytes(withP.last) - bytes(rest)} B; the section alone ${bytes(section)} B)`,
);
await depopulate(shell, 1850);
process.exit(0);
