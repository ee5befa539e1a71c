import { readFileSync } from 'node:fs';
import type { Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HOST_COUNTERS } from './host-counters.js';
import { HOST_GAUGES } from './host-gauges.js';
import { createHostMetrics } from './host-metrics.js';

type Labels = Record<string, string | number>;

/** Every sample of one metric as prom-client reports it (`metricName` set for histogram lines). */
async function samplesOf(registry: Registry, name: string) {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  return (await metric.get()).values.map((v) => ({
    name: (v as { metricName?: string }).metricName ?? name,
    labels: v.labels as Labels,
    value: v.value,
  }));
}

/** The value of the sample with exactly these labels, or undefined when there is none. */
async function valueOf(registry: Registry, name: string, named: Labels, line = name) {
  // The tests name the host; the exposition labels it `instance`, as node_exporter's targets.
  const { host, ...rest } = named;
  const labels = host === undefined ? rest : { ...rest, instance: host };
  const samples = await samplesOf(registry, name);
  const sameLabels = (l: Labels) =>
    Object.keys(l).length === Object.keys(labels).length &&
    Object.entries(labels).every(([k, v]) => String(l[k]) === String(v));
  return samples.find((s) => s.name === line && sameLabels(s.labels))?.value;
}

async function hostsIn(registry: Registry, name: string): Promise<string[]> {
  const hosts = new Set((await samplesOf(registry, name)).map((s) => String(s.labels.instance)));
  return [...hosts].sort();
}

const at = (iso: string) => ({ timestamp: iso });
const T0 = '2030-01-01T00:00:00.000Z';
const T1 = '2030-01-01T00:00:01.000Z';

function setup(clock = { now: 0 }) {
  const registry = new Registry();
  const hosts = createHostMetrics({ registry, now: () => clock.now, staleAfterMs: 60_000 });
  return { registry, hosts, clock };
}

describe('host metrics: a snapshot as node_exporter-style gauges', () => {
  it('exposes the example snapshot’s values under node_exporter names, labelled by host', async () => {
    const { registry, hosts } = setup();
    const snapshot = makeExampleSnapshot() as Snapshot;
    expect(hosts.observe(snapshot)).toBe(true);
    const host = 'vm-web-01';

    expect(await valueOf(registry, 'node_load1', { host })).toBe(0.42);
    expect(await valueOf(registry, 'node_load5', { host })).toBe(0.35);
    expect(await valueOf(registry, 'node_load15', { host })).toBe(0.3);
    expect(await valueOf(registry, 'node_procs_running', { host })).toBe(2);
    expect(await valueOf(registry, 'node_memory_MemTotal_bytes', { host })).toBe(4122206208);
    expect(await valueOf(registry, 'node_memory_MemAvailable_bytes', { host })).toBe(2665738240);
    expect(await valueOf(registry, 'node_memory_MemFree_bytes', { host })).toBe(1210548224);
    expect(await valueOf(registry, 'node_memory_Buffers_bytes', { host })).toBe(98566144);
    expect(await valueOf(registry, 'node_memory_SwapTotal_bytes', { host })).toBe(2147479552);
    expect(await valueOf(registry, 'node_memory_SwapFree_bytes', { host })).toBe(2147479552);
    // Cached + SReclaimable is not node_exporter's Cached: it keeps a livestat name.
    expect(await valueOf(registry, 'livestat_memory_cached_bytes', { host })).toBe(1562378240);
    expect(registry.getSingleMetric('node_memory_Cached_bytes')).toBeUndefined();

    const fs = { host, device: '/dev/vda1', mountpoint: '/', fstype: 'ext4' };
    expect(await valueOf(registry, 'node_filesystem_size_bytes', fs)).toBe(41555521536);
    expect(await valueOf(registry, 'node_filesystem_avail_bytes', fs)).toBe(29814104064);
    expect(await valueOf(registry, 'node_filesystem_free_bytes', fs)).toBe(
      41555521536 - 9663676416,
    );

    const eth0 = { host, device: 'eth0', virtual: 'false' };
    const lo = { host, device: 'lo', virtual: 'true' };
    expect(await valueOf(registry, 'livestat_network_receive_bytes_per_second', eth0)).toBe(
      15234.5,
    );
    expect(await valueOf(registry, 'livestat_network_transmit_bytes_per_second', lo)).toBe(1280);
    const vda = { host, device: 'vda', virtual: 'false' };
    expect(await valueOf(registry, 'livestat_disk_written_bytes_per_second', vda)).toBe(98304);
    expect(await valueOf(registry, 'livestat_disk_busy_ratio', vda)).toBe(0.012);

    expect(await valueOf(registry, 'livestat_cpu_busy_ratio', { host })).toBe(0.125);
    expect(await valueOf(registry, 'livestat_cpu_mode_ratio', { host, mode: 'idle' })).toBe(0.87);
    expect(await valueOf(registry, 'livestat_cpu_mode_ratio', { host, mode: 'user' })).toBe(0.08);
    expect(await valueOf(registry, 'livestat_cpu_core_busy_ratio', { host, cpu: '0' })).toBe(0.15);
    expect(await valueOf(registry, 'livestat_context_switches_per_second', { host })).toBe(1843.6);

    // No PMU: hardware counters (null) are absent, not 0; software events are there.
    expect(await valueOf(registry, 'livestat_perf_hardware_available', { host })).toBe(0);
    expect(await samplesOf(registry, 'livestat_perf_cycles_per_second')).toEqual([]);
    expect(await samplesOf(registry, 'livestat_perf_instructions_per_cycle')).toEqual([]);
    expect(await valueOf(registry, 'livestat_perf_page_faults_per_second', { host })).toBe(350);
    expect(await samplesOf(registry, 'livestat_dram_bytes_per_second')).toEqual([]);
    expect(await valueOf(registry, 'livestat_vmstat_page_out_bytes_per_second', { host })).toBe(
      49152,
    );

    expect(await valueOf(registry, 'livestat_agent_resident_memory_bytes', { host })).toBe(
      78643200,
    );
    expect(await valueOf(registry, 'livestat_agent_collect_duration_seconds', { host })).toBe(
      0.0034,
    );
    expect(await valueOf(registry, 'livestat_host_last_snapshot_timestamp_seconds', { host })).toBe(
      Date.parse(snapshot.timestamp) / 1000,
    );
    for (const collector of ['cpu', 'memory', 'network', 'disk', 'perf', 'bandwidth']) {
      expect(await valueOf(registry, 'livestat_collector_up', { host, collector })).toBe(1);
      expect(await valueOf(registry, 'livestat_collector_errors_total', { host, collector })).toBe(
        0,
      );
    }
    const diskTiming = { host, collector: 'disk' };
    expect(
      await valueOf(
        registry,
        'livestat_collector_duration_seconds',
        diskTiming,
        'livestat_collector_duration_seconds_sum',
      ),
    ).toBeCloseTo(0.0019, 10);
  });

  it('shows DRAM bandwidth and hardware counters when the machine has them', async () => {
    const { registry, hosts } = setup();
    const snapshot = makeExampleSnapshot() as Snapshot;
    if (!snapshot.perf.available || !snapshot.bandwidth.available) throw new Error('example');
    Object.assign(snapshot.perf, { hardwareAvailable: true, cyclesPerSec: 2.5e9, ipc: 1.25 });
    snapshot.bandwidth.dram = {
      source: 'uncore_imc',
      readBytesPerSec: 1e9,
      writeBytesPerSec: null,
      totalBytesPerSec: 1.5e9,
    };
    hosts.observe(snapshot);
    const host = snapshot.host;
    expect(await valueOf(registry, 'livestat_perf_hardware_available', { host })).toBe(1);
    expect(await valueOf(registry, 'livestat_perf_cycles_per_second', { host })).toBe(2.5e9);
    expect(await valueOf(registry, 'livestat_perf_instructions_per_cycle', { host })).toBe(1.25);
    const imc = { host, source: 'uncore_imc' };
    expect(await valueOf(registry, 'livestat_dram_read_bytes_per_second', imc)).toBe(1e9);
    expect(await valueOf(registry, 'livestat_dram_bytes_per_second', imc)).toBe(1.5e9);
    // uncore_imc without a write count: absent, not a made-up 0.
    expect(await samplesOf(registry, 'livestat_dram_write_bytes_per_second')).toEqual([]);
  });

  it('leaves out what a failing collector could not measure and counts the failure', async () => {
    const { registry, hosts } = setup();
    const broken = (iso: string): Snapshot => {
      const s = makeExampleSnapshot({ host: 'broken', ...at(iso) }) as Snapshot;
      s.memory = { available: false, error: 'ENOENT: /proc/meminfo' };
      s.agent.collectors.memory = { durationMs: 0.1, ok: false };
      return s;
    };
    hosts.observe(broken(T0));
    hosts.observe(broken(T1));
    hosts.observe(makeExampleSnapshot({ host: 'healthy', ...at(T0) }) as Snapshot);

    expect(await hostsIn(registry, 'node_memory_MemTotal_bytes')).toEqual(['healthy']);
    expect(await hostsIn(registry, 'node_load1')).toEqual(['broken', 'healthy']);
    const memory = { host: 'broken', collector: 'memory' };
    expect(await valueOf(registry, 'livestat_collector_up', memory)).toBe(0);
    expect(await valueOf(registry, 'livestat_collector_errors_total', memory)).toBe(2);
    expect(
      await valueOf(registry, 'livestat_collector_errors_total', { ...memory, host: 'healthy' }),
    ).toBe(0);
  });

  it('keeps the newest snapshot per host: a late or replayed one changes nothing', async () => {
    const { registry, hosts } = setup();
    const newer = makeExampleSnapshot({ host: 'h', ...at(T1) }) as Snapshot;
    if (!newer.cpu.available) throw new Error('example');
    newer.cpu.load1 = 3;
    newer.agent.collectors.cpu = { durationMs: 1, ok: false };
    expect(hosts.observe(newer)).toBe(true);
    expect(hosts.observe(makeExampleSnapshot({ host: 'h', ...at(T0) }) as Snapshot)).toBe(false);
    expect(hosts.observe(newer)).toBe(false);

    expect(await valueOf(registry, 'node_load1', { host: 'h' })).toBe(3);
    const cpu = { host: 'h', collector: 'cpu' };
    expect(await valueOf(registry, 'livestat_collector_errors_total', cpu)).toBe(1);
    expect(
      await valueOf(
        registry,
        'livestat_collector_duration_seconds',
        cpu,
        'livestat_collector_duration_seconds_count',
      ),
    ).toBe(1);
  });

  it('drops a host silent for more than 60 s from every series; it comes back when it sends again', async () => {
    const { registry, hosts, clock } = setup();
    hosts.observe(makeExampleSnapshot({ host: 'gone', ...at(T0) }) as Snapshot);
    clock.now = 30_000;
    hosts.observe(makeExampleSnapshot({ host: 'alive', ...at(T0) }) as Snapshot);

    clock.now = 60_000;
    expect(hosts.hosts()).toEqual(['alive', 'gone']);
    expect(await hostsIn(registry, 'node_load1')).toEqual(['alive', 'gone']);

    clock.now = 60_001;
    expect(hosts.hosts()).toEqual(['alive']);
    for (const name of [
      'node_load1',
      'node_memory_MemTotal_bytes',
      'node_filesystem_size_bytes',
      'livestat_network_receive_bytes_per_second',
      'livestat_collector_up',
      'livestat_collector_errors_total',
      'livestat_collector_duration_seconds',
    ]) {
      expect(await hostsIn(registry, name)).toEqual(['alive']);
    }
    const text = await registry.metrics();
    expect(text).not.toContain('instance="gone"');
    expect(text).toContain('node_load1{instance="alive"} 0.42');

    // Back, even with a clock behind the one it had: a forgotten host starts afresh.
    hosts.observe(
      makeExampleSnapshot({ host: 'gone', ...at('2029-12-31T23:00:00.000Z') }) as Snapshot,
    );
    expect(await hostsIn(registry, 'node_load1')).toEqual(['alive', 'gone']);
    expect(
      await valueOf(registry, 'livestat_collector_errors_total', {
        host: 'gone',
        collector: 'cpu',
      }),
    ).toBe(0);
  });
});

describe('host metrics: node_exporter families from the kernel counters', () => {
  it('exposes counters, meminfo and vmstat under node_exporter names and types', async () => {
    const { registry, hosts } = setup();
    const snapshot = makeExampleSnapshot({ host: 'h' }) as Snapshot;
    if (!snapshot.cpu.available || !snapshot.memory.available) throw new Error('example');
    if (!snapshot.network.available || !snapshot.bandwidth.available) throw new Error('example');
    snapshot.cpu.cores[0]!.seconds = [10, 1, 2, 300, 0.5, 0, 0.25, 0];
    snapshot.cpu.counters = [123456, 1000, 1795299327];
    snapshot.memory.meminfo = [
      ['MemTotal', 4096],
      ['Active(anon)', 2048],
      ['HugePages_Total', 2],
    ];
    snapshot.network.interfaces.eth0!.counters = [1e12, 2, 3, 4, 5, 6, 7, 8];
    snapshot.bandwidth.vmstat = [
      ['pgfault', 99],
      ['oom_kill', 1],
    ];
    hosts.observe(snapshot);

    const host = 'h';
    expect(await valueOf(registry, 'node_cpu_seconds_total', { host, cpu: 0, mode: 'idle' })).toBe(
      300,
    );
    expect(await valueOf(registry, 'node_context_switches_total', { host })).toBe(123456);
    expect(await valueOf(registry, 'node_memory_Active_anon_bytes', { host })).toBe(2048);
    expect(await valueOf(registry, 'node_memory_HugePages_Total', { host })).toBe(2);
    expect(await valueOf(registry, 'node_memory_MemTotal_bytes', { host })).toBe(4096);
    expect(
      await valueOf(registry, 'node_network_receive_bytes_total', { host, device: 'eth0' }),
    ).toBe(1e12);
    expect(await valueOf(registry, 'node_vmstat_pgfault', { host })).toBe(99);

    const text = await registry.metrics();
    expect(text).toContain('# TYPE node_cpu_seconds_total counter');
    expect(text).toContain('# TYPE node_network_transmit_drop_total counter');
    expect(text).toContain('# TYPE node_vmstat_oom_kill untyped');
    expect(text).toContain('# TYPE node_memory_Active_anon_bytes gauge');
    // lo carries no counters in this snapshot (an older agent's): no made-up series for it
    expect(text).not.toMatch(/^node_network_receive_bytes_total\{device="lo"/m);
  });

  it('mints no family from a field name no kernel prints', async () => {
    const { registry, hosts } = setup();
    const snapshot = makeExampleSnapshot() as Snapshot;
    if (!snapshot.memory.available) throw new Error('example');
    snapshot.memory.meminfo = [
      ['bad name{x="1"}', 1],
      ['MemTotal', 1],
    ];
    hosts.observe(snapshot);
    expect(await registry.metrics()).not.toContain('bad');
  });
});

describe('host metrics: documentation', () => {
  it('README.md lists every host gauge, and nothing that is not one', () => {
    const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Host metrics'), readme.indexOf('## Service'));
    const documented = new Set(
      [...section.matchAll(/^\| `([a-zA-Z_:][a-zA-Z0-9_:]*)`/gm)].map((match) => match[1]),
    );
    const exported = new Set([...HOST_GAUGES, ...HOST_COUNTERS].map((def) => def.name));
    exported.add('livestat_collector_duration_seconds');
    exported.add('livestat_collector_errors_total');
    expect([...documented].sort()).toEqual([...exported].sort());
  });
});
