import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  binaryProblem,
  fetchWhenUp,
  parseExposition,
  promtoolComplaints,
  seriesKey,
  startDaemon,
  type Exposition,
  type Sample,
} from './exposition.js';
import { freePort, startApi } from './process.js';

// livestat's /metrics beside Debian's node_exporter on this machine: every family both
// export must have the same type and label names, and the same values within what a second
// between the two scrapes can change. A dashboard built for node_exporter then reads livestat.

const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
const TITLE = 'livestat /metrics beside node_exporter';
const why = binaryProblem(TITLE, NODE_EXPORTER, 'prometheus-node-exporter');
const HOST = 'node-exporter-test';
const MIB = 1024 * 1024;
// prom-client's default Node.js gauges keep the names the usual Node.js dashboards query,
// `_total` and all; promtool's complaint about them is prom-client's, as the camelCase
// meminfo names are node_exporter's.
const PROM_CLIENT_NAMES = /^nodejs_active_(handles|requests|resources)_total /;

/**
 * Instants, not states: the runnable tasks at the moment of reading differ between any two
 * reads, node_exporter's own included (the scrapes themselves run). Type and labels only.
 */
const INSTANT = new Set(['node_procs_running', 'node_procs_blocked']);

function families(e: Exposition, prefix = 'node_'): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>();
  for (const sample of e.samples) {
    if (!sample.name.startsWith(prefix)) continue;
    out.set(sample.name, [...(out.get(sample.name) ?? []), sample]);
  }
  return out;
}

const labelNames = (samples: Sample[]): string =>
  [...new Set(samples.flatMap((s) => Object.keys(s.labels)).filter((k) => k !== 'instance'))]
    .sort()
    .join(',');

/**
 * Why livestat's reading of a series disagrees with node_exporter's, or null. node_exporter
 * was scraped just before (`ne`) and just after (`after`) livestat: the machine is shared and
 * busy, so a gauge may move between scrapes, and livestat's must lie within those two.
 */
function disagreement(
  type: string,
  name: string,
  ne: number,
  after: number,
  ls: number,
  seconds: number,
) {
  if (type === 'counter' || type === 'untyped') {
    // A kernel counter only grows: livestat's reading is at least node_exporter's earlier one,
    // and at most its later one plus rounding (USER_HZ ticks, ms of io time).
    if (ls < ne - 1e-6) return `went back: ${ne} → ${ls}`;
    if (ls > after + Math.max(after * 1e-9, 0.02)) {
      return `ahead of node_exporter's later scrape: ${ls} > ${after} (${seconds.toFixed(1)} s)`;
    }
    return null;
  }
  if (name === 'node_time_seconds')
    return Math.abs(ls - ne) > seconds + 2 ? `${ne} vs ${ls}` : null;
  if (INSTANT.has(name)) return null;
  const low = Math.min(ne, after);
  const high = Math.max(ne, after);
  const tolerance = Math.max(high * 0.03, name.endsWith('_bytes') ? 16 * MIB : 0.5);
  return ls < low - tolerance || ls > high + tolerance ? `${ne}…${after} vs ${ls}` : null;
}

describe.skipIf(why !== null && process.env.REQUIRE_SERVICES !== '1')(TITLE, () => {
  let dataDir: string;
  let nodeExporter: ReturnType<typeof startDaemon> | undefined;
  let api: Awaited<ReturnType<typeof startApi>> | undefined;
  let nePort: number;

  beforeAll(async () => {
    if (why !== null) throw new Error(`REQUIRE_SERVICES=1 but ${why}`);
    dataDir = await mkdtemp(path.join(tmpdir(), 'livestat-ne-'));
    nePort = await freePort();
    nodeExporter = startDaemon(NODE_EXPORTER, [`--web.listen-address=127.0.0.1:${nePort}`]);
    api = await startApi({
      DATA_DIR: dataDir,
      METRICS_HOST_NAME: HOST,
      SAMPLING_INTERVAL_SECONDS: '0.25',
    });
    await fetchWhenUp(`http://127.0.0.1:${nePort}/metrics`);
  }, 60_000);

  afterAll(async () => {
    api?.child.kill('SIGTERM');
    await api?.exited;
    await nodeExporter?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('gives every shared family the same type, labels and values', async () => {
    const url = api?.url ?? '';
    // Wait for a snapshot with the counters, so every family is there.
    await expect
      .poll(async () => (await fetchWhenUp(`${url}/metrics`)).includes('node_cpu_seconds_total{'), {
        timeout: 20_000,
      })
      .toBe(true);

    const start = performance.now();
    const ne = parseExposition(await fetchWhenUp(`http://127.0.0.1:${nePort}/metrics`));
    // Two sampling intervals: livestat's newest snapshot is now younger than that scrape.
    await new Promise((resolve) => setTimeout(resolve, 600));
    const lsText = await fetchWhenUp(`${url}/metrics`);
    const neAfter = parseExposition(await fetchWhenUp(`http://127.0.0.1:${nePort}/metrics`));
    const seconds = (performance.now() - start) / 1000;
    const ls = parseExposition(lsText);
    const neLater = new Map(neAfter.samples.map((s) => [seriesKey(s), s.value]));

    const neFamilies = families(ne);
    const lsFamilies = families(ls);
    const shared = [...neFamilies.keys()].filter((name) => lsFamilies.has(name)).sort();
    const problems: string[] = [];
    let seriesCompared = 0;
    for (const name of shared) {
      const type = ne.types.get(name) ?? '?';
      if (ls.types.get(name) !== type)
        problems.push(`${name}: type ${type} vs ${ls.types.get(name)}`);
      const neSamples = neFamilies.get(name) ?? [];
      const lsSamples = (lsFamilies.get(name) ?? []).filter((s) => s.labels.instance === HOST);
      if (labelNames(neSamples) !== labelNames(lsSamples)) {
        problems.push(`${name}: labels ${labelNames(neSamples)} vs ${labelNames(lsSamples)}`);
      }
      const lsByKey = new Map(lsSamples.map((s) => [seriesKey(s, ['instance']), s]));
      for (const sample of neSamples) {
        const other = lsByKey.get(seriesKey(sample));
        if (!other) continue; // a device or mount one lists and the other leaves out
        seriesCompared++;
        const later = neLater.get(seriesKey(sample)) ?? sample.value;
        const why = disagreement(type, name, sample.value, later, other.value, seconds);
        if (why) problems.push(`${seriesKey(sample)}: ${why}`);
      }
    }
    const onlyNe = [...neFamilies.keys()].filter((name) => !lsFamilies.has(name));
    process.stderr.write(
      `node_exporter comparison: ${neFamilies.size} node_exporter families, ${shared.length} shared, ` +
        `${seriesCompared} series compared, ${problems.length} differing\n` +
        `${problems.map((p) => `  differing: ${p}`).join('\n')}\n` +
        `  node_exporter only: ${onlyNe.length} families (${onlyNe.slice(0, 12).join(', ')}…)\n`,
    );
    expect(problems).toEqual([]);
    expect(shared).toEqual(
      expect.arrayContaining([
        'node_cpu_seconds_total',
        'node_network_receive_bytes_total',
        'node_disk_read_bytes_total',
        'node_memory_MemTotal_bytes',
        'node_memory_Active_anon_bytes',
        'node_vmstat_pgfault',
        'node_filesystem_size_bytes',
        'node_boot_time_seconds',
        'node_uname_info',
        'node_context_switches_total',
      ]),
    );
    expect(seriesCompared).toBeGreaterThan(60);
  }, 60_000);

  it('passes promtool check metrics but for the warnings node_exporter’s own names cause', async () => {
    const neComplaints = new Set(
      promtoolComplaints(await fetchWhenUp(`http://127.0.0.1:${nePort}/metrics`)).map((line) =>
        line.replace(/^\S+/, ''),
      ),
    );
    const lsComplaints = promtoolComplaints(await fetchWhenUp(`${api?.url ?? ''}/metrics`));
    expect(lsComplaints.length).toBeGreaterThan(0); // the camelCase meminfo names, as node_exporter's
    // A complaint livestat shares with node_exporter is about a name it shares: the same text
    // after the metric name (node_exporter's list of meminfo fields may differ by kernel).
    const ours = lsComplaints.filter(
      (line) => !neComplaints.has(line.replace(/^\S+/, '')) && !PROM_CLIENT_NAMES.test(line),
    );
    expect(ours).toEqual([]);
  }, 30_000);
});
