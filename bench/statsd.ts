// bench/statsd: StatsD lines/s ingested with no loss, livestat beside the reference daemon.
//
// Workload: DogStatsD-free etsy lines of 200 series of a worker (counters, gauges, timers with
// sample rates, sets), generated once, sent as 50-line UDP datagrams on loopback at a fixed
// rate for `--seconds`. Contenders, each a child process pinned to CPU 1 (`taskset`), the
// sender pinned to CPU 0: livestat's StatsD server and aggregator (bench/statsd-livestat.ts,
// flushing every second as the sampler's tick does) and the `statsd` npm daemon (etsy, the
// reference implementation) with no backends, no repeater and a one-hour flush, read through
// its management port (`counters` → statsd.metrics_received). For each contender the rate
// doubles from `--start` until a step loses lines; the last rate with no loss is its figure.
// Contenders alternate run by run; medians and their ratio are what to quote.
//
//   npm run bench:statsd -- [--runs 3] [--seconds 2] [--start 25000] [--max 3200000]
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import dgram from 'node:dgram';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '2' },
    start: { type: 'string', default: '25000' },
    max: { type: 'string', default: '3200000' },
  },
});
const RUNS = Number(values.runs);
const SECONDS = Number(values.seconds);
const START = Number(values.start);
const MAX = Number(values.max);
const LINES_PER_PACKET = 50;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TASKSET = spawnSync('taskset', ['--version']).status === 0;

/** 200 series, every kind, some sampled: the same bytes for both contenders. */
function packets(): Buffer[] {
  const lines: string[] = [];
  for (let i = 0; i < 10_000; i += 1) {
    const s = i % 200;
    switch (s % 4) {
      case 0:
        lines.push(`worker.jobs.${s}:1|c`);
        break;
      case 1:
        lines.push(`worker.queue.${s}:${i % 97}|g`);
        break;
      case 2:
        lines.push(`worker.batch.${s}:${(i % 500) + 0.5}|ms|@0.5`);
        break;
      default:
        lines.push(`worker.users.${s}:u${i % 1000}|s`);
    }
  }
  const out: Buffer[] = [];
  for (let i = 0; i < lines.length; i += LINES_PER_PACKET) {
    out.push(Buffer.from(lines.slice(i, i + LINES_PER_PACKET).join('\n')));
  }
  return out;
}

interface Contender {
  name: string;
  port: number;
  /** Lines the daemon has read since it started. */
  read(): Promise<number>;
  stop(): void;
}

function pinned(cpu: number, command: string, args: string[]): ChildProcessWithoutNullStreams {
  return TASKSET
    ? spawn('taskset', ['-c', String(cpu), command, ...args], { cwd: ROOT })
    : spawn(command, args, { cwd: ROOT });
}

function firstLine(
  child: ChildProcessWithoutNullStreams,
  pattern: RegExp,
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onExit = (code: number | null) => reject(new Error(`exited ${code}: ${text}`));
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const match = pattern.exec(text);
      if (match) {
        child.stdout.off('data', onData);
        child.off('exit', onExit);
        resolve(match);
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });
}

async function startLivestat(): Promise<Contender> {
  const tsx = join(ROOT, 'node_modules/.bin/tsx');
  const child = pinned(1, tsx, ['--conditions=@livestat/source', 'bench/statsd-livestat.ts']);
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const port = Number((await firstLine(child, /port (\d+)\n/))[1]);
  return {
    name: 'livestat',
    port,
    async read() {
      const answer = firstLine(child, /lines (\d+) dropped \d+\n/);
      child.stdin.write('stats\n');
      return Number((await answer)[1]);
    },
    stop: () => child.kill('SIGTERM'),
  };
}

async function startEtsy(port: number, mgmt: number): Promise<Contender> {
  const config = join(tmpdir(), `livestat-bench-statsd-${process.pid}.js`);
  await writeFile(
    config,
    `{ port: ${port}, mgmt_port: ${mgmt}, address: '127.0.0.1', mgmt_address: '127.0.0.1',` +
      ` backends: [], flushInterval: 3600000 }\n`,
  );
  const child = pinned(1, process.execPath, ['node_modules/statsd/stats.js', config]);
  await firstLine(child, /server is up/);
  return {
    name: 'statsd (etsy)',
    port,
    read: () =>
      new Promise((resolve, reject) => {
        const socket = net.connect(mgmt, '127.0.0.1');
        let text = '';
        socket.on('data', (chunk) => {
          text += chunk.toString();
          const match = /'?statsd\.metrics_received'?: (\d+)/.exec(text);
          if (match && text.includes('END')) {
            socket.end();
            resolve(Number(match[1]));
          }
        });
        socket.on('error', reject);
        socket.write('counters\n');
      }),
    stop: () => child.kill('SIGTERM'),
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Sends at `rate` lines/s for SECONDS; returns the lines sent. */
async function send(socket: dgram.Socket, port: number, data: Buffer[], rate: number) {
  const packetsPerMs = rate / LINES_PER_PACKET / 1000;
  const started = performance.now();
  let sent = 0;
  while (performance.now() - started < SECONDS * 1000) {
    const due = Math.floor((performance.now() - started) * packetsPerMs);
    while (sent < due) {
      socket.send(data[sent % data.length]!, port, '127.0.0.1');
      sent += 1;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  return sent * LINES_PER_PACKET;
}

/**
 * The highest rate the contender took without losing a line: doubling from START, then one step
 * halfway between the last good rate and the first lossy one.
 */
async function noLossRate(contender: Contender, data: Buffer[]): Promise<number> {
  const socket = dgram.createSocket({ type: 'udp4', sendBufferSize: 8 * 1024 * 1024 });
  let best = 0;
  try {
    const step = async (rate: number) => {
      const before = await contender.read();
      const sent = await send(socket, contender.port, data, rate);
      await sleep(1000);
      const read = (await contender.read()) - before;
      process.stderr.write(`  ${contender.name} @ ${rate}/s: sent ${sent}, read ${read}\n`);
      return read >= sent;
    };
    let rate = START;
    for (; rate <= MAX; rate *= 2) {
      if (!(await step(rate))) break;
      best = rate;
    }
    if (best > 0 && rate <= MAX && (await step(best * 1.5))) best *= 1.5;
  } finally {
    socket.close();
  }
  return best;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const data = packets();
const results: Record<string, number[]> = { livestat: [], 'statsd (etsy)': [] };
console.log(
  `bench/statsd: ${RUNS} runs, ${SECONDS} s a step, ${LINES_PER_PACKET} lines a datagram, ` +
    `taskset ${TASKSET ? 'on' : 'unavailable'}, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
);
for (let run = 0; run < RUNS; run += 1) {
  const order = run % 2 === 0 ? ['livestat', 'etsy'] : ['etsy', 'livestat'];
  for (const which of order) {
    const contender =
      which === 'livestat' ? await startLivestat() : await startEtsy(28125 + run, 28225 + run);
    try {
      await sleep(500);
      results[contender.name]!.push(await noLossRate(contender, data));
    } finally {
      contender.stop();
    }
  }
  console.log(
    `run ${run + 1}: livestat ${results.livestat!.at(-1)} lines/s, ` +
      `statsd (etsy) ${results['statsd (etsy)']!.at(-1)} lines/s with no loss`,
  );
}
const ours = median(results.livestat!);
const theirs = median(results['statsd (etsy)']!);
console.log(
  `median: livestat ${ours} lines/s, statsd (etsy) ${theirs} lines/s, ratio ${(ours / theirs).toFixed(2)}×`,
);
