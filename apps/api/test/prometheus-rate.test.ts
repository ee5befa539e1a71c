import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryProblem, fetchWhenUp, startDaemon } from './exposition.js';
import { freePort, startApi } from './process.js';

// Debian's Prometheus scrapes livestat every second for ~30 s while the test sends a burst of
// known size over a loopback TCP socket: rate() of node_network_receive_bytes_total on `lo`,
// integrated over the run, must give the bytes the kernel counted, the burst included. The
// same integral of the old rate gauge is reported beside it (bench/RESULTS.md records both).

const PROMETHEUS = '/usr/bin/prometheus';
const TITLE = 'Prometheus rate() of livestat counters';
const why = binaryProblem(TITLE, PROMETHEUS, 'prometheus');
const HOST = 'prometheus-rate-test';
const BURST_BYTES = 512 * 1024 * 1024;

/** `lo`'s received bytes, as the kernel counts them now. */
async function loReceived(): Promise<number> {
  const text = await readFile('/proc/net/dev', 'utf8');
  const line = text.split('\n').find((l) => l.trim().startsWith('lo:'));
  return Number(line?.split(':')[1]?.trim().split(/\s+/)[0]);
}

/** Sends `bytes` over a fresh loopback TCP connection as fast as it goes. */
async function burst(bytes: number): Promise<void> {
  const server = net.createServer((socket) => socket.resume());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const chunk = Buffer.alloc(1024 * 1024, 7);
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      let sent = 0;
      const pump = (): void => {
        while (sent < bytes) {
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
        socket.end();
      };
      pump();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(why !== null && process.env.REQUIRE_SERVICES !== '1')(TITLE, () => {
  let dir: string;
  let api: Awaited<ReturnType<typeof startApi>> | undefined;
  let prometheus: ReturnType<typeof startDaemon> | undefined;
  let promUrl: string;

  beforeAll(async () => {
    if (why !== null) throw new Error(`REQUIRE_SERVICES=1 but ${why}`);
    dir = await mkdtemp(path.join(tmpdir(), 'livestat-prom-'));
    api = await startApi({
      DATA_DIR: path.join(dir, 'data'),
      METRICS_HOST_NAME: HOST,
      SAMPLING_INTERVAL_SECONDS: '1',
    });
    const target = new URL(api.url).host;
    await writeFile(
      path.join(dir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        'scrape_configs:',
        '  - job_name: livestat',
        '    honor_labels: true',
        `    static_configs: [{ targets: ['${target}'] }]`,
        '',
      ].join('\n'),
    );
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = startDaemon(PROMETHEUS, [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ]);
    await fetchWhenUp(`${promUrl}/-/ready`, 30_000);
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    api?.child.kill('SIGTERM');
    await api?.exited;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function query(expr: string, at: number): Promise<number> {
    const url = `${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}&time=${at}`;
    const body = (await (await fetch(url)).json()) as {
      data: { result: { value: [number, string] }[] };
    };
    return Number(body.data.result[0]?.value[1] ?? NaN);
  }

  it('integrates rate() of lo to the bytes the kernel counted, the burst included', async () => {
    const series = `{device="lo",instance="${HOST}"}`;
    // Scrapes under way with the counters in them before the window opens.
    await expect
      .poll(async () => query(`node_network_receive_bytes_total${series}`, Date.now() / 1000), {
        timeout: 20_000,
        interval: 500,
      })
      .toBeGreaterThan(0);
    await sleep(3000);
    const from = Math.floor(Date.now() / 1000);
    const before = await loReceived();
    await sleep(8000);
    await burst(BURST_BYTES);
    await sleep(10_000);
    const after = await loReceived();
    const to = Math.floor(Date.now() / 1000);
    await sleep(3000); // the last scrapes of the window land
    const window = to - from;

    const counted = after - before;
    expect(counted).toBeGreaterThanOrEqual(BURST_BYTES);
    // ∫ rate dt over the window: rate × window of the counter's range there.
    const viaCounter =
      (await query(`rate(node_network_receive_bytes_total${series}[${window}s])`, to)) * window;
    // The old way: the per-interval rate gauge, sampled at each scrape, averaged over the window.
    const viaGauge =
      (await query(
        `avg_over_time(livestat_network_receive_bytes_per_second${series}[${window}s])`,
        to,
      )) * window;
    process.stderr.write(
      `lo over ${window} s with a ${BURST_BYTES} B burst: kernel ${counted} B, ` +
        `rate(counter) ${Math.round(viaCounter)} B (${((viaCounter / counted - 1) * 100).toFixed(1)} %), ` +
        `avg_over_time(gauge) ${Math.round(viaGauge)} B (${((viaGauge / counted - 1) * 100).toFixed(1)} %)\n`,
    );
    // Prometheus extrapolates rate() to the window's edges; the burst sits well inside, and
    // the rest is the machine's own background loopback traffic at either edge.
    expect(viaCounter / counted).toBeGreaterThan(0.9);
    expect(viaCounter / counted).toBeLessThan(1.1);
  }, 90_000);
});
