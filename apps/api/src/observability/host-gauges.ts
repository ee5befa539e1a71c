import type { Snapshot } from '@livestat/contracts';

/** Labels of one sample beyond `instance`, and its value. */
export type HostSample = readonly [labels: Record<string, string>, value: number];

/**
 * One host family: its name, help, type (gauge unless said), labels beyond `instance`, and
 * the samples it takes from a host's newest snapshot (none when the collector behind it is
 * unavailable).
 */
export interface HostGaugeDef {
  name: string;
  help: string;
  /** `untyped` where node_exporter says so (its vmstat counters). */
  type?: 'gauge' | 'counter' | 'untyped';
  labelNames: readonly string[];
  samples: (snapshot: Snapshot) => HostSample[];
}

type Available<K extends keyof Snapshot> = Extract<Snapshot[K], { available: true }>;
type Cpu = Available<'cpu'>;
type Memory = Available<'memory'>;
type Device = Available<'disk'>['devices'][string];
type Perf = Available<'perf'>;
type Bandwidth = Available<'bandwidth'>;
type Agent = Snapshot['agent'];

/** Keys of T whose values are numbers (or null where the collector cannot measure). */
type NumericKey<T> = { [K in keyof T]: T[K] extends number | null ? K : never }[keyof T];
/** A gauge: [name, help, the field it reads, a divisor (percent → ratio, ms → s)]. */
type Row<T> = readonly [name: string, help: string, field: NumericKey<T>, divisor?: number];

const PERCENT = 100;
const MS = 1000;
const bool = (value: boolean): string => (value ? 'true' : 'false');
// 12 significant digits: 4.48 / 100 is 0.0448, not 0.044800000000000006, on the wire.
const scaled = (value: number, divisor: number): number =>
  divisor === 1 ? value : Number((value / divisor).toPrecision(12));

/** One value per host from a section of the snapshot; nothing when it is unavailable or null. */
function perHost<T>(pick: (s: Snapshot) => T | undefined, rows: readonly Row<T>[]): HostGaugeDef[] {
  return rows.map(([name, help, field, divisor = 1]) => ({
    name,
    help,
    labelNames: [],
    samples: (s) => {
      const section = pick(s);
      const value = section?.[field] as number | null | undefined;
      return value === null || value === undefined ? [] : [[{}, scaled(value, divisor)]];
    },
  }));
}

/**
 * One value per item of a section (interface, device, core, filesystem), labelled by the
 * item's labels; an item whose field is null (not measurable there) is left out, not 0.
 */
function perItem<T>(
  items: (s: Snapshot) => Iterable<readonly [Record<string, string>, T]>,
  labelNames: readonly string[],
  rows: readonly Row<T>[],
): HostGaugeDef[] {
  return rows.map(([name, help, field, divisor = 1]) => ({
    name,
    help,
    labelNames,
    samples: (s) => {
      const samples: HostSample[] = [];
      for (const [labels, item] of items(s)) {
        const value = item[field] as number | null;
        if (value !== null) samples.push([labels, scaled(value, divisor)]);
      }
      return samples;
    },
  }));
}

const cpu = (s: Snapshot): Cpu | undefined => (s.cpu.available ? s.cpu : undefined);
const memory = (s: Snapshot): Memory | undefined => (s.memory.available ? s.memory : undefined);
const perf = (s: Snapshot): Perf | undefined => (s.perf.available ? s.perf : undefined);
const bandwidth = (s: Snapshot): Bandwidth | undefined =>
  s.bandwidth.available ? s.bandwidth : undefined;

const nics = (s: Snapshot) =>
  Object.entries(s.network.available ? s.network.interfaces : {}).map(
    ([device, nic]) => [{ device, virtual: bool(nic.virtual) }, nic] as const,
  );
const devices = (s: Snapshot) =>
  Object.entries(s.disk.available ? s.disk.devices : {}).map(
    ([device, dev]) => [{ device, virtual: bool(dev.virtual) }, dev] as const,
  );
const cores = (s: Snapshot) =>
  (cpu(s)?.cores ?? []).map((core) => [{ cpu: String(core.id) }, core] as const);
const CPU_MODES = ['user', 'nice', 'system', 'iowait', 'irq', 'softirq', 'steal', 'idle'] as const;
const cpuModes = (s: Snapshot) => {
  const c = cpu(s);
  return c ? CPU_MODES.map((mode) => [{ mode }, { ratio: c[`${mode}Percent`] }] as const) : [];
};
const dram = (s: Snapshot) => {
  const d = bandwidth(s)?.dram;
  return d ? [[{ source: d.source }, d] as const] : [];
};
const collectors = (s: Snapshot) =>
  Object.entries(s.agent.collectors).map(
    ([collector, timing]) => [{ collector }, { up: Number(timing.ok) }] as const,
  );

/**
 * Every host gauge, from a host's newest snapshot. node_exporter's names where the value is
 * the very same quantity (node_load1, node_procs_running); the kernel's counters, meminfo
 * and filesystems are node_exporter's families in `host-counters.ts`. Rates over the last
 * interval are `livestat_*_per_second` gauges — never a `_total` made up from a rate;
 * percentages become 0–1 `_ratio`s, Prometheus' base unit. README.md in this folder has the
 * table.
 */
export const HOST_GAUGES: readonly HostGaugeDef[] = [
  {
    name: 'livestat_host_last_snapshot_timestamp_seconds',
    help: 'Time of the newest snapshot of the host (Unix seconds).',
    labelNames: [],
    samples: (s) => [[{}, Date.parse(s.timestamp) / 1000]],
  },

  // cpu: /proc/loadavg and /proc/stat
  ...perHost(cpu, [
    ['node_load1', '1m load average.', 'load1'],
    ['node_load5', '5m load average.', 'load5'],
    ['node_load15', '15m load average.', 'load15'],
    ['node_procs_running', 'Number of processes in runnable state.', 'processesRunning'],
    ['node_procs_blocked', 'Processes blocked waiting for I/O to complete.', 'processesBlocked'],
    ['livestat_cpu_cores', 'Number of CPU cores.', 'coreCount'],
    ['livestat_cpu_busy_ratio', 'Share of CPU time not idle (0–1).', 'usagePercent', PERCENT],
    [
      'livestat_context_switches_per_second',
      'Context switches per second.',
      'contextSwitchesPerSec',
    ],
    ['livestat_interrupts_per_second', 'Interrupts per second.', 'interruptsPerSec'],
  ]),
  ...perItem(
    cpuModes,
    ['mode'],
    [['livestat_cpu_mode_ratio', 'Share of CPU time in each mode (0–1).', 'ratio', PERCENT]],
  ),
  ...perItem(
    cores,
    ['cpu'],
    [
      [
        'livestat_cpu_core_busy_ratio',
        'Share of one core’s time not idle (0–1).',
        'usagePercent',
        PERCENT,
      ],
    ],
  ),

  // memory: /proc/meminfo
  ...perHost(memory, [
    ['livestat_memory_cached_bytes', 'Page cache: meminfo Cached + SReclaimable.', 'cachedBytes'],
    ['livestat_memory_used_bytes', 'Used: total − free − buffers − cached.', 'usedBytes'],
    ['livestat_memory_used_ratio', 'Share of memory not available (0–1).', 'usedPercent', PERCENT],
    ['livestat_swap_used_bytes', 'Swap in use: SwapTotal − SwapFree.', 'swapUsedBytes'],
  ]),

  // network: /proc/net/dev, per interface
  ...perItem(
    nics,
    ['device', 'virtual'],
    [
      ['livestat_network_receive_bytes_per_second', 'Bytes received per second.', 'rxBytesPerSec'],
      ['livestat_network_transmit_bytes_per_second', 'Bytes sent per second.', 'txBytesPerSec'],
      [
        'livestat_network_receive_packets_per_second',
        'Packets received per second.',
        'rxPacketsPerSec',
      ],
      [
        'livestat_network_transmit_packets_per_second',
        'Packets sent per second.',
        'txPacketsPerSec',
      ],
      ['livestat_network_receive_errs_per_second', 'Receive errors per second.', 'rxErrorsPerSec'],
      [
        'livestat_network_transmit_errs_per_second',
        'Transmit errors per second.',
        'txErrorsPerSec',
      ],
      ['livestat_network_receive_drop_per_second', 'Inbound drops per second.', 'rxDropsPerSec'],
      ['livestat_network_transmit_drop_per_second', 'Outbound drops per second.', 'txDropsPerSec'],
    ],
  ),

  // disk: /proc/diskstats (whole devices) and statfs
  ...perItem<Device>(
    devices,
    ['device', 'virtual'],
    [
      ['livestat_disk_read_bytes_per_second', 'Bytes read per second.', 'readBytesPerSec'],
      ['livestat_disk_written_bytes_per_second', 'Bytes written per second.', 'writeBytesPerSec'],
      ['livestat_disk_reads_completed_per_second', 'Reads completed per second.', 'readOpsPerSec'],
      [
        'livestat_disk_writes_completed_per_second',
        'Writes completed per second.',
        'writeOpsPerSec',
      ],
      ['livestat_disk_busy_ratio', 'Share of time busy with I/O (0–1).', 'busyPercent', PERCENT],
    ],
  ),
  // perf: perf stat; a counter perf cannot count here (null) is left out
  {
    name: 'livestat_perf_hardware_available',
    help: '1 when hardware performance counters count here, else 0.',
    labelNames: [],
    samples: (s) => {
      const p = perf(s);
      return p ? [[{}, Number(p.hardwareAvailable)]] : [];
    },
  },
  ...perHost(perf, [
    ['livestat_perf_cycles_per_second', 'CPU cycles per second.', 'cyclesPerSec'],
    ['livestat_perf_instructions_per_second', 'Instructions per second.', 'instructionsPerSec'],
    ['livestat_perf_instructions_per_cycle', 'Instructions per cycle.', 'ipc'],
    [
      'livestat_perf_cache_references_per_second',
      'Cache references per second.',
      'cacheReferencesPerSec',
    ],
    ['livestat_perf_cache_misses_per_second', 'Cache misses per second.', 'cacheMissesPerSec'],
    [
      'livestat_perf_cache_miss_ratio',
      'Cache misses per reference (0–1).',
      'cacheMissPercent',
      PERCENT,
    ],
    ['livestat_perf_branch_misses_per_second', 'Branch misses per second.', 'branchMissesPerSec'],
    [
      'livestat_perf_context_switches_per_second',
      'Context switches per second.',
      'contextSwitchesPerSec',
    ],
    [
      'livestat_perf_cpu_migrations_per_second',
      'CPU migrations per second.',
      'cpuMigrationsPerSec',
    ],
    ['livestat_perf_page_faults_per_second', 'Page faults per second.', 'pageFaultsPerSec'],
  ]),

  // bandwidth: /proc/vmstat, and resctrl or uncore_imc
  ...perHost(bandwidth, [
    [
      'livestat_vmstat_page_in_bytes_per_second',
      'pgpgin as bytes per second.',
      'pageInBytesPerSec',
    ],
    [
      'livestat_vmstat_page_out_bytes_per_second',
      'pgpgout as bytes per second.',
      'pageOutBytesPerSec',
    ],
    ['livestat_vmstat_swap_in_pages_per_second', 'pswpin per second.', 'swapInPagesPerSec'],
    ['livestat_vmstat_swap_out_pages_per_second', 'pswpout per second.', 'swapOutPagesPerSec'],
    [
      'livestat_vmstat_swap_in_bytes_per_second',
      'Bytes swapped in per second.',
      'swapInBytesPerSec',
    ],
    [
      'livestat_vmstat_swap_out_bytes_per_second',
      'Bytes swapped out per second.',
      'swapOutBytesPerSec',
    ],
    ['livestat_vmstat_page_faults_per_second', 'pgfault per second.', 'pageFaultsPerSec'],
    ['livestat_vmstat_major_faults_per_second', 'pgmajfault per second.', 'majorFaultsPerSec'],
  ]),
  ...perItem(
    dram,
    ['source'],
    [
      ['livestat_dram_read_bytes_per_second', 'DRAM bytes read per second.', 'readBytesPerSec'],
      [
        'livestat_dram_write_bytes_per_second',
        'DRAM bytes written per second.',
        'writeBytesPerSec',
      ],
      [
        'livestat_dram_bytes_per_second',
        'DRAM bytes read + written per second.',
        'totalBytesPerSec',
      ],
    ],
  ),

  // agent: the sampler's own cost on that host
  ...perHost<Agent>(
    (s) => s.agent,
    [
      [
        'livestat_agent_cpu_ratio',
        'Sampler CPU seconds per second (1 = one core).',
        'cpuPercent',
        PERCENT,
      ],
      ['livestat_agent_resident_memory_bytes', 'Sampler resident memory.', 'rssBytes'],
      ['livestat_agent_heap_used_bytes', 'Sampler V8 heap in use.', 'heapUsedBytes'],
      [
        'livestat_agent_collect_duration_seconds',
        'Newest tick’s collection time.',
        'collectDurationMs',
        MS,
      ],
    ],
  ),
  ...perItem(
    collectors,
    ['collector'],
    [
      [
        'livestat_collector_up',
        '1: the collector produced data in the newest snapshot; 0: it failed.',
        'up',
      ],
    ],
  ),
];
