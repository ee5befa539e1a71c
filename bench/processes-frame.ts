// bench/processes-frame: what checking one `processes` message (a watched host's full table, up
// to 1,000 rows, once a second) costs the dashboard's main thread, side by side in one run:
// JSON.parse alone, the contract's zod schema over the whole message (how every message was
// checked before), and features/processes/process-frame.ts (zod for the envelope, a hand-written
// check of each row, held to the contract by its tests). Node's V8, as in Chromium: the ratio is
// what carries over to a browser, not the milliseconds.
//
//   npm run -s bench:processes-frame -- [--rows 1000] [--iterations 300]
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { serverMessage } from '@livestat/contracts';
import { parseProcessesFrame } from '../apps/web/src/features/processes/process-frame.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000' },
    iterations: { type: 'string', default: '300' },
  },
});
const rows = Number(values.rows);
const iterations = Number(values.iterations);
if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(iterations) || iterations < 1) {
  console.error('--rows and --iterations: whole numbers ≥ 1');
  process.exit(2);
}

const text = JSON.stringify({
  type: 'processes',
  host: 'vm-web-01',
  timestamp: new Date().toISOString(),
  sort: 'cpu',
  total: rows + 500,
  ioUnavailableReason: null,
  processes: Array.from({ length: rows }, (_, i) => ({
    pid: 100 + i,
    ppid: 1,
    user: ['www-data', 'postgres', 'root'][i % 3],
    name: `worker-${i}`,
    command: `/usr/bin/python3 -m worker --id ${i} --queue default`,
    state: i % 50 === 0 ? 'R' : 'S',
    threads: 1 + (i % 8),
    cpuPercent: (i % 37) / 10,
    rssBytes: 1_000_000 + i * 4096,
    readBytesPerSec: i % 5 === 0 ? null : i * 10,
    writeBytesPerSec: i % 5 === 0 ? null : 0,
    startedAt: new Date(1_764_000_000_000 + i * 1000).toISOString(),
  })),
});

const contestants: Record<string, () => unknown> = {
  'JSON.parse alone': () => JSON.parse(text),
  'JSON.parse + zod serverMessage (before)': () => {
    if (!serverMessage.safeParse(JSON.parse(text)).success) throw new Error('refused');
  },
  'JSON.parse + parseProcessesFrame (now)': () => {
    if (parseProcessesFrame(JSON.parse(text)) === null) throw new Error('refused');
  },
};
// Warm-up, then rounds that take turns so the machine's noise hits all alike.
for (const run of Object.values(contestants)) for (let i = 0; i < 30; i++) run();
const times = new Map(Object.keys(contestants).map((name) => [name, [] as number[]]));
for (let i = 0; i < iterations; i++) {
  for (const [name, run] of Object.entries(contestants)) {
    const t0 = performance.now();
    run();
    times.get(name)!.push(performance.now() - t0);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const parseOnly = median(times.get('JSON.parse alone')!);
console.log(
  `bench/processes-frame — ${new Date().toISOString()}, ${rows} rows (${(text.length / 1024).toFixed(0)} KB), ` +
    `${iterations} rounds, load ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
);
for (const [name, xs] of times) {
  const m = median(xs);
  console.log(
    `${name.padEnd(42)} median ${m.toFixed(3)} ms` +
      (name === 'JSON.parse alone' ? '' : `; checking alone ${(m - parseOnly).toFixed(3)} ms`),
  );
}
const before = median(times.get('JSON.parse + zod serverMessage (before)')!) - parseOnly;
const now = median(times.get('JSON.parse + parseProcessesFrame (now)')!) - parseOnly;
console.log(`checking: now / before ${(now / before).toFixed(3)}×`);
