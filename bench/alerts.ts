// bench/alerts: the CPU of one alert evaluation tick, side by side with the sampler's own tick.
//
// One tick of evaluation is what the elected evaluator does each second: every host's snapshot
// through `evaluator.observe` (50 rules each: the four default rules with a series, and 46 more
// over paths and per-device families with `for` from 0 s to 1 h, thresholds set so most stay
// ok, as on a quiet fleet) plus one `checkHosts` (host down). Snapshots come from
// bench/snapshots.ts, one seed per host, made before each tick and not counted. Beside it, in
// alternating batches of the same run, the sampler's tick: the aggregator running cpu, memory,
// network, disk and bandwidth on this machine's /proc, as bench/collect does. CPU per tick from
// process.cpuUsage; medians are what to quote (the mean carries the garbage collector).
//
//   npm run -s bench:alerts -- [--hosts 10,100] [--ticks 600] [--warmup 300]
import { parseArgs } from 'node:util';
import type { AlertRule } from '@livestat/contracts';
import pino from 'pino';
import { createEvaluator } from '../apps/api/src/alerts/evaluator.js';
import { DEFAULT_RULES } from '../apps/api/src/alerts/rules.js';
import { createAggregator } from '../apps/api/src/collectors/aggregator.js';
import { createCollectors } from '../apps/api/src/collectors/index.js';
import { createSnapshotGenerator, type SnapshotGenerator } from './snapshots.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '10,100' },
    ticks: { type: 'string', default: '600' },
    warmup: { type: 'string', default: '300' },
  },
});
const fleets = (values.hosts ?? '').split(',').map(Number);
const ticks = Number(values.ticks);
const warmup = Number(values.warmup);
if (fleets.some((n) => !Number.isInteger(n) || n < 1) || !(ticks >= 20) || !(warmup >= 0)) {
  console.error('usage: npm run -s bench:alerts -- [--hosts 10,100] [--ticks N ≥ 20] [--warmup N]');
  process.exit(2);
}

const BATCH = 10;
const RULES_PER_HOST = 50;
const START_MS = Date.parse('2026-12-01T00:00:00.000Z');

/** 50 rules: the defaults with a series, then paths and families cycling through durations. */
function makeRules(): AlertRule[] {
  const at = new Date(START_MS).toISOString();
  const extra: [string, string, number][] = [
    ['cpu.usagePercent', '>=', 99],
    ['cpu.iowaitPercent', '>=', 50],
    ['cpu.stealPercent', '>=', 30],
    ['cpu.load1', '>', 64],
    ['cpu.load15', '>', 32],
    ['cpu.cores.*.usagePercent', '>=', 99.5],
    ['memory.swapUsedPercent', '>', 80],
    ['memory.usedPercent', '>', 98],
    ['network.rxBytesPerSec', '>', 1e9],
    ['network.txBytesPerSec', '>', 1e9],
    ['network.interfaces.*.rxBytesPerSec', '>', 5e8],
    ['network.interfaces.*.txBytesPerSec', '>', 5e8],
    ['disk.filesystems.*.usedPercent', '>=', 97],
    ['disk.filesystems./.usedPercent', '>=', 95],
  ];
  const durations = [0, 60, 300, 900, 3600];
  const rules: AlertRule[] = DEFAULT_RULES.filter(
    (r) => r.builtin === null || r.builtin === 'host_down',
  ).map((r, i) => ({ ...r, id: `default-${i}`, createdAt: at, updatedAt: at }));
  for (let i = 0; rules.length < RULES_PER_HOST + 1; i++) {
    const [series, comparison, threshold] = extra[i % extra.length]!;
    rules.push({
      id: `rule-${i}`,
      name: `rule ${i}`,
      description: '',
      series,
      hosts: [],
      comparison: comparison as AlertRule['comparison'],
      threshold,
      recoveryThreshold: null,
      forSeconds: durations[i % durations.length]!,
      severity: 'warning',
      enabled: true,
      builtin: null,
      createdAt: at,
      updatedAt: at,
    });
  }
  return rules; // host down + 50 with a series
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};
const p95 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))] ?? NaN;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const cpuMs = (fn: () => unknown) => {
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
};

// ---- the sampler's tick
const logger = pino({ level: 'silent' });
const now = () => performance.now();
const collectors = createCollectors(['cpu', 'memory', 'network', 'disk', 'bandwidth'], {
  procRoot: '/proc',
  sysRoot: '/sys',
  now,
  intervalMs: 1000,
  logger,
});
const aggregator = createAggregator({ collectors, now, timeoutMs: 5000, logger });
await aggregator.prime();
async function collectTick(): Promise<number> {
  const before = process.cpuUsage();
  await aggregator.collect();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

console.log(
  `bench/alerts: ${RULES_PER_HOST} rules per host + host down, ${ticks} measured ticks after ${warmup} warm-up ticks`,
);
console.log(
  '| hosts | evaluation CPU/tick median (mean) / p95 | sampler tick median (mean) | ratio of medians | (rule, host, series) states | transitions |',
);
console.log(
  '| ----- | --------------------------------------- | -------------------------- | ---------------- | --------------------------- | ----------- |',
);
const rules = makeRules();
for (const hosts of fleets) {
  let transitions = 0;
  const evaluator = createEvaluator({ onTransition: () => void transitions++ });
  evaluator.setRules(rules);
  const generators: SnapshotGenerator[] = Array.from({ length: hosts }, (_, i) =>
    createSnapshotGenerator({
      host: `host-${String(i).padStart(3, '0')}`,
      seed: 1000 + i,
      startMs: START_MS,
    }),
  );
  const evaluation: number[] = [];
  const sampler: number[] = [];
  let second = 0;
  const tick = (into: number[] | null) => {
    const snapshots = generators.map((g) => g.at(second));
    const at = START_MS + second * 1000;
    second++;
    const used = cpuMs(() => {
      for (const snapshot of snapshots) evaluator.observe(snapshot);
      evaluator.checkHosts(at);
    });
    into?.push(used);
  };
  for (let i = 0; i < warmup; i++) tick(null);
  for (let round = 0; round < ticks / BATCH; round++) {
    for (let i = 0; i < BATCH; i++) tick(evaluation);
    for (let i = 0; i < BATCH; i++) sampler.push(await collectTick());
  }
  const ratio = median(evaluation) / median(sampler);
  console.log(
    `| ${hosts} | ${median(evaluation).toFixed(3)} (${mean(evaluation).toFixed(3)}) / ${p95(evaluation).toFixed(3)} ms | ${median(sampler).toFixed(3)} (${mean(sampler).toFixed(3)}) ms | ${ratio.toFixed(2)}× | ${evaluator.size()} | ${transitions} |`,
  );
}
await aggregator.stop();
