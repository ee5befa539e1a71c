import { CPU_MODES, type Snapshot } from '@livestat/contracts';
import type { HostGaugeDef, HostSample } from './host-gauges.js';

type Available<K extends keyof Snapshot> = Extract<Snapshot[K], { available: true }>;
type Cpu = Available<'cpu'>;

const cpu = (s: Snapshot): Cpu | undefined => (s.cpu.available ? s.cpu : undefined);

/** One sample per item that carries its counters (snapshots of older agents carry none). */
function counterRows<T>(
  items: (s: Snapshot) => Iterable<readonly [Record<string, string>, T]>,
  labelNames: readonly string[],
  rows: readonly (readonly [name: string, help: string, pick: (item: T) => number | undefined])[],
  type: HostGaugeDef['type'] = 'counter',
): HostGaugeDef[] {
  return rows.map(([name, help, pick]) => ({
    name,
    help,
    type,
    labelNames,
    samples: (s) => {
      const samples: HostSample[] = [];
      for (const [labels, item] of items(s)) {
        const value = pick(item);
        if (value !== undefined) samples.push([labels, value]);
      }
      return samples;
    },
  }));
}

const one = (s: Snapshot) => [[{}, s] as const];
const nics = (s: Snapshot) =>
  Object.entries(s.network.available ? s.network.interfaces : {}).flatMap(([device, nic]) =>
    nic.counters ? [[{ device }, nic.counters] as const] : [],
  );
const devices = (s: Snapshot) =>
  Object.entries(s.disk.available ? s.disk.devices : {}).flatMap(([device, dev]) =>
    dev.counters ? [[{ device }, dev.counters] as const] : [],
  );
const coreModes = (s: Snapshot) =>
  (cpu(s)?.cores ?? []).flatMap((core) =>
    (core.seconds ?? []).map(
      (value, i) => [{ cpu: String(core.id), mode: CPU_MODES[i] ?? '' }, value] as const,
    ),
  );

/** node_exporter's mount rows; from `filesystems` for agents older than `mounts`. */
const mounts = (s: Snapshot) => {
  if (!s.disk.available) return [];
  const rows =
    s.disk.mounts ??
    s.disk.filesystems.map(
      (fs) =>
        [
          fs.mountPoint,
          fs.device,
          fs.fsType,
          fs.totalBytes,
          // statfs: used is (blocks − bfree)·bsize, so bfree·bsize is total − used.
          fs.totalBytes - fs.usedBytes,
          fs.availableBytes,
          null,
          null,
        ] as const,
    );
  return rows.map(
    ([mountpoint, device, fstype, ...values]) => [{ device, fstype, mountpoint }, values] as const,
  );
};

/**
 * node_exporter's families that need the kernel's cumulative counters, and those that name
 * the host itself, under node_exporter's names, types, units and labels. `/proc/meminfo`
 * and `/proc/vmstat` families are made per field as hosts report them (`host-metrics.ts`).
 */
export const HOST_COUNTERS: readonly HostGaugeDef[] = [
  ...counterRows(
    coreModes,
    ['cpu', 'mode'],
    [['node_cpu_seconds_total', 'Seconds the CPUs spent in each mode.', (v) => v]],
  ),
  ...counterRows(
    one,
    [],
    [
      [
        'node_context_switches_total',
        'Total number of context switches.',
        (s) => cpu(s)?.counters?.[0],
      ],
      ['node_intr_total', 'Total number of interrupts serviced.', (s) => cpu(s)?.counters?.[1]],
    ],
  ),
  ...counterRows(
    one,
    [],
    [
      ['node_boot_time_seconds', 'Node boot time, in unixtime.', (s) => cpu(s)?.counters?.[2]],
      [
        'node_time_seconds',
        'System time in seconds since epoch (1970), as of the newest snapshot.',
        (s) => Date.parse(s.timestamp) / 1000,
      ],
    ],
    'gauge',
  ),
  {
    name: 'node_uname_info',
    help: 'Labeled system information as provided by the uname system call.',
    type: 'gauge',
    labelNames: ['sysname', 'release', 'version', 'machine', 'nodename', 'domainname'],
    samples: (s) => {
      const uname = cpu(s)?.uname;
      return uname ? [[{ ...uname }, 1]] : [];
    },
  },
  ...counterRows(
    nics,
    ['device'],
    [
      ['node_network_receive_bytes_total', 'Network device statistic receive_bytes.', (c) => c[0]],
      [
        'node_network_receive_packets_total',
        'Network device statistic receive_packets.',
        (c) => c[1],
      ],
      ['node_network_receive_errs_total', 'Network device statistic receive_errs.', (c) => c[2]],
      ['node_network_receive_drop_total', 'Network device statistic receive_drop.', (c) => c[3]],
      [
        'node_network_transmit_bytes_total',
        'Network device statistic transmit_bytes.',
        (c) => c[4],
      ],
      [
        'node_network_transmit_packets_total',
        'Network device statistic transmit_packets.',
        (c) => c[5],
      ],
      ['node_network_transmit_errs_total', 'Network device statistic transmit_errs.', (c) => c[6]],
      ['node_network_transmit_drop_total', 'Network device statistic transmit_drop.', (c) => c[7]],
    ],
  ),
  ...counterRows(
    devices,
    ['device'],
    [
      [
        'node_disk_reads_completed_total',
        'The total number of reads completed successfully.',
        (c) => c[0],
      ],
      ['node_disk_read_bytes_total', 'The total number of bytes read successfully.', (c) => c[1]],
      [
        'node_disk_writes_completed_total',
        'The total number of writes completed successfully.',
        (c) => c[2],
      ],
      [
        'node_disk_written_bytes_total',
        'The total number of bytes written successfully.',
        (c) => c[3],
      ],
      ['node_disk_io_time_seconds_total', 'Total seconds spent doing I/Os.', (c) => c[4] / 1000],
    ],
  ),
  ...counterRows(
    mounts,
    ['device', 'fstype', 'mountpoint'],
    [
      ['node_filesystem_size_bytes', 'Filesystem size in bytes.', (v) => v[0]],
      ['node_filesystem_free_bytes', 'Filesystem free space in bytes.', (v) => v[1]],
      [
        'node_filesystem_avail_bytes',
        'Filesystem space available to non-root users in bytes.',
        (v) => v[2],
      ],
      ['node_filesystem_files', 'Filesystem total file nodes.', (v) => v[3] ?? undefined],
      ['node_filesystem_files_free', 'Filesystem total free file nodes.', (v) => v[4] ?? undefined],
    ],
    'gauge',
  ),
];

/**
 * node_exporter's name for a `/proc/meminfo` field: `Active(anon)` → `node_memory_Active_anon_bytes`.
 * The kernel prints every field in kB but the `HugePages_*` counts, which keep their name.
 */
export function meminfoMetricName(field: string): string {
  const name = field.replace(/\((.*)\)/, '_$1');
  return field.startsWith('HugePages_') ? `node_memory_${name}` : `node_memory_${name}_bytes`;
}

/** The meminfo fields of a host, or the few its memory section gives when it has no map. */
export function meminfoOf(s: Snapshot): Record<string, number> {
  if (!s.memory.available) return {};
  const m = s.memory;
  if (m.meminfo) return Object.fromEntries(m.meminfo);
  return {
    MemTotal: m.totalBytes,
    MemFree: m.freeBytes,
    MemAvailable: m.availableBytes,
    Buffers: m.buffersBytes,
    Shmem: m.sharedBytes,
    SwapTotal: m.swapTotalBytes,
    SwapFree: m.swapFreeBytes,
  };
}

/** The exported `/proc/vmstat` counters of a host (none from older agents). */
export function vmstatOf(s: Snapshot): Record<string, number> {
  return Object.fromEntries((s.bandwidth.available ? s.bandwidth.vmstat : undefined) ?? []);
}
