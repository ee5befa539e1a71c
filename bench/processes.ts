// bench/processes: what one tick of the processes collector costs with 300, 2,000 and 10,000
// real processes, side by side with psutil's process_iter in the same run, then the 1 Hz cost of
// the whole sampler with 2,000 processes (without the collector, with it reading every process
// every tick, and with idle processes read every `--idle-every` ticks, the default) and the
// snapshot's size with and without the section.
//
// The processes are real: `sleep` children forked by one shell, killed as a group at the end;
// the sampler is measured again with `--busy` of them (2.5 % by default) instead perl loops that
// wake each second and run ~0.5 ms, so the path of processes that run is measured too.
// At each size the contestants (livestat every tick, livestat with idle processes read every
// N ticks, psutil) take turns in batches of 5 ticks, 50 ms apart, so machine noise hits all
// alike; CPU per tick is process.cpuUsage (livestat) and time.process_time
// (bench/processes-psutil.py, Debian's python3-psutil).
//
//   npm run -s bench:processes -- [--ticks N] [--sizes 300,2000,10000] [--sampler-seconds S]
//     [--idle-every N] [--busy FRACTION]
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Snapshot } from '@livestat/contracts';
import pino from 'pino';
import { createAggregator } from '../apps/api/src/collectors/aggregator.js';
import { createCollectors } from '../apps/api/src/collectors/index.js';
import { DEFAULT_IDLE_EVERY_TICKS } from '../apps/api/src/collectors/process-table.js';
import { createProcessesCollector } from '../apps/api/src/collectors/processes.js';
import { createSelfMeter } from '../apps/api/src/collectors/self-meter.js';
import { createSampler } from '../apps/api/src/sampler.js';

const { values } = parseArgs({
  options: {
    ticks: { type: 'string', default: '40' },
    sizes: { type: 'string', default: '300,2000,10000' },
    'sampler-seconds': { type: 'string', default: '30' },
    'idle-every': { type: 'string', default: String(DEFAULT_IDLE_EVERY_TICKS) },
    busy: { type: 'string', default: '0.025' },
  },
});
const idleEvery = Number(values['idle-every']);
const busyFraction = Number(values.busy);
const ticks = Number(values.ticks);
const sizes = values.sizes.split(',').map(Number);
const samplerSeconds = Number(values['sampler-seconds']);
const BATCH = 5;
const logger = pino({ level: 'silent' });
const now = () => performance.now();
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- real processes

const countProcesses = () => readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length;

/** How many children each shell of {@link populate} was asked to start. */
const sleepers = new WeakMap<ChildProcess, number>();

// A child that wakes each second and runs ~0.5 ms (a daemon's timer), without forking.
const WAKER = `perl -e 'while (1) { select(undef, undef, undef, 1); my $x = 0; $x += $_ for 1..10000 }'`;

/**
 * Forks children until /proc lists `total` processes, `busy` of them wakers, the rest
 * sleepers; returns the shell that holds them.
 */
async function populate(total: number, busy = 0): Promise<ChildProcess | null> {
  const extra = total - countProcesses();
  if (extra <= 0) return null;
  const wakers = Math.min(extra, busy);
  const shell = spawn(
    'sh',
    [
      '-c',
      `i=0; while [ $i -lt ${extra - wakers} ]; do sleep 3600 & i=$((i+1)); done; ` +
        `i=0; while [ $i -lt ${wakers} ]; do ${WAKER} & i=$((i+1)); done; wait`,
    ],
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
  const deps = { procRoot: '/proc', sysRoot: '/sys', now };
  // Every process every tick (the baseline), and idle ones every `idleEvery` ticks.
  const collectors = [
    createProcessesCollector(deps, { idleEveryTicks: 1 }),
    createProcessesCollector(deps, { idleEveryTicks: idleEvery }),
  ];
  for (const collector of collectors) await collector.prime!();
  const psutil = await startPsutil();
  const ours: number[][] = [[], []];
  const theirs: number[] = [];
  // Warm up: the JIT, and every side's caches of every process.
  for (let i = 0; i < 5; i++) for (const collector of collectors) await collector.collect();
  if (typeof psutil !== 'string') await psutil.batch(2);
  for (let round = 0; ours[0]!.length < ticks; round++) {
    const order = [0, 1, 2].map((k) => (k + round) % 3);
    for (const which of order) {
      if (which === 2) {
        if (typeof psutil !== 'string') theirs.push(...(await psutil.batch(BATCH)));
        continue;
      }
      for (let i = 0; i < BATCH; i++) {
        const cpu0 = process.cpuUsage();
        await collectors[which]!.collect();
        const cpu = process.cpuUsage(cpu0);
        ours[which]!.push((cpu.user + cpu.system) / 1000);
        await pause(50);
      }
    }
  }
  const total = collectors[0]!.latestTable()?.total ?? 0;
  const vsPsutil = (xs: number[]) =>
    typeof psutil === 'string' ? '' : ` (${(median(xs) / median(theirs)).toFixed(2)}× psutil)`;
  console.log(
    `${String(size).padStart(6)} processes (${listed} in /proc, ${total} after kernel threads): ` +
      `livestat every tick median ${ms(median(ours[0]!))} mean ${ms(mean(ours[0]!))}` +
      `${vsPsutil(ours[0]!)}; idle every ${idleEvery} ticks median ${ms(median(ours[1]!))} ` +
      `mean ${ms(mean(ours[1]!))}${vsPsutil(ours[1]!)}` +
      (typeof psutil === 'string'
        ? `; psutil ABSENT (${psutil})`
        : `; ${psutil.version} median ${ms(median(theirs))} mean ${ms(mean(theirs))}`),
  );
  for (const collector of collectors) await collector.stop!();
  if (typeof psutil !== 'string') psutil.stop();
  await depopulate(shell, size - 150);
}

// ---- the whole sampler at 1 Hz with 2,000 processes: without the processes collector, with
// it reading every process every tick, and with idle ones read every `idleEvery` ticks; first
// with 2,000 sleepers, then with `busyFraction` of them waking each second

const base = ['cpu', 'memory', 'network', 'disk', 'bandwidth'] as const;
/** The processes collector's options in each mode; null: without it. */
const MODES = [null, { idleEveryTicks: 1 }, { idleEveryTicks: idleEvery }] as const;
type Mode = 0 | 1 | 2;
const [WITHOUT, EVERY_TICK, SKIPPING] = [0, 1, 2] as const;
async function samplerCost(mode: Mode): Promise<{ percent: number; last: Snapshot }> {
  const deps = { procRoot: '/proc', sysRoot: '/sys', now };
  const collectors = createCollectors([...base], { ...deps, intervalMs: 1000, logger });
  const options = MODES[mode];
  if (options !== null) collectors.push(createProcessesCollector(deps, options));
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

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
for (const busy of new Set([0, Math.round(2000 * busyFraction)])) {
  const shell = await populate(2000, busy);
  // Alternating, twice each, so a change in the machine's load hits all three alike.
  const runs: [number[], number[], number[]] = [[], [], []];
  const lastOf: (Snapshot | null)[] = [null, null, null];
  for (const mode of [0, 1, 2, 2, 1, 0] as const) {
    const result = await samplerCost(mode);
    runs[mode].push(result.percent);
    lastOf[mode] = result.last;
  }
  const last = lastOf[SKIPPING]!;
  const pct = (mode: Mode) => mean(runs[mode]);
  const added = (mode: Mode) => pct(mode) - pct(WITHOUT);
  const total = last.processes?.available ? last.processes.total : NaN;
  const shown = (mode: Mode) =>
    `${pct(mode).toFixed(2)} % (+${added(mode).toFixed(2)} %, ` +
    `${(((added(mode) / 100) * 1e6) / total).toFixed(1)} µs a process a tick)`;
  console.log(
    `sampler at 1 Hz, 2,000 processes (${busy} waking each second), ${samplerSeconds} s × 2 ` +
      `each, mean (load ${loadavg()}): without processes ${pct(WITHOUT).toFixed(2)} % of one ` +
      `core; reading every process every tick ${shown(EVERY_TICK)}; idle ones every ` +
      `${idleEvery} ticks ${shown(SKIPPING)}; added cost ` +
      `${(added(SKIPPING) / added(EVERY_TICK)).toFixed(2)}×; under 1 % of a core: ` +
      `${pct(SKIPPING) < 1 ? 'yes' : 'NO'}`,
  );
  for (const mode of [EVERY_TICK, SKIPPING]) {
    const { processes: section, ...rest } = lastOf[mode]!;
    console.log(
      `snapshot (${mode === SKIPPING ? `idle every ${idleEvery}` : 'every tick'}): ` +
        `${bytes(rest)} B without the processes section, ${bytes(lastOf[mode])} B with it ` +
        `(+${bytes(lastOf[mode]) - bytes(rest)} B; the section alone ${bytes(section)} B)`,
    );
  }
  await depopulate(shell, 1850);
}
process.exit(0);
