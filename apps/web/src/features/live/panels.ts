import { resolveSeries } from '@livestat/contracts';
import type {
  AgentMetrics,
  BandwidthMetrics,
  CpuMetrics,
  DiskMetrics,
  MemoryMetrics,
  NetworkMetrics,
  PerfMetrics,
  Snapshot,
} from '@livestat/contracts';
import type { ChartLine, ChartSpec } from './chart-options';
import {
  NO_VALUE,
  formatByteRate,
  formatBytes,
  formatCount,
  formatDecimal,
  formatMaybeBytes,
  formatPercent,
  formatRate,
} from '../../lib/format';

/** A collector's payload when it measured: the `available: true` side of its union. */
export type Available<T> = Extract<T, { available: true }>;
export type CpuData = Available<CpuMetrics>;
export type MemoryData = Available<MemoryMetrics>;
export type NetworkData = Available<NetworkMetrics>;
export type DiskData = Available<DiskMetrics>;
export type PerfData = Available<PerfMetrics>;
export type BandwidthData = Available<BandwidthMetrics>;

/** One headline figure of a panel: `key` is its `data-value` hook, `text` what it shows. */
export interface Figure {
  key: string;
  label: string;
  text: string;
  /** A longer explanation, for a tooltip. */
  title?: string;
  /** Takes two columns (a figure of several numbers). */
  wide?: boolean;
}

/** A chart a panel can show; a panel with several offers a picker. */
export interface ChartView extends ChartSpec {
  id: string;
  label: string;
}

/** A panel's payload split three ways: nothing yet, the collector's error, or its data. */
export type PanelState<T> =
  { kind: 'waiting' } | { kind: 'unavailable'; error: string } | { kind: 'ok'; data: T };

/** Which of the three a collector's payload (or its absence, before the first snapshot) is. */
export function panelState<T extends { available: boolean }>(
  payload: T | undefined,
): PanelState<Extract<T, { available: true }>> {
  if (payload === undefined) return { kind: 'waiting' };
  if (!payload.available) {
    const error = (payload as unknown as { error?: unknown }).error;
    return { kind: 'unavailable', error: typeof error === 'string' ? error : 'unavailable' };
  }
  return { kind: 'ok', data: payload as Extract<T, { available: true }> };
}

/** What a panel says when its collector could not measure: `Disk unavailable — <why>`. */
export function unavailableText(title: string, error: string): string {
  return `${title} unavailable — ${error}`;
}

/** The data of a collector that measured, else undefined (its figures then show `—`). */
export function availableData<T extends { available: boolean }>(
  payload: T | undefined,
): Extract<T, { available: true }> | undefined {
  const state = panelState(payload);
  return state.kind === 'ok' ? state.data : undefined;
}

/** The view `id` names, or the first one when it is gone (hardware counters went away). */
export function pickView<V extends { id: string }>(views: readonly V[], id: string): V | undefined {
  return views.find((view) => view.id === id) ?? views[0];
}

const fig = (key: string, label: string, text: string, title?: string): Figure =>
  title === undefined ? { key, label, text } : { key, label, text, title };

// ---- CPU -------------------------------------------------------------------------------

export function cpuFigures(cpu: CpuData | undefined): Figure[] {
  const load =
    cpu === undefined
      ? NO_VALUE
      : [cpu.load1, cpu.load5, cpu.load15].map((v) => formatDecimal(v)).join(' · ');
  return [
    fig('usagePercent', 'Total', formatPercent(cpu?.usagePercent)),
    fig('userPercent', 'User', formatPercent(cpu?.userPercent)),
    fig('systemPercent', 'System', formatPercent(cpu?.systemPercent)),
    fig('iowaitPercent', 'I/O wait', formatPercent(cpu?.iowaitPercent)),
    fig('stealPercent', 'Steal', formatPercent(cpu?.stealPercent)),
    {
      ...fig('loadAverage', 'Load 1 · 5 · 15', load, 'Load average over 1, 5 and 15 minutes'),
      wide: true,
    },
    fig('contextSwitchesPerSec', 'Ctx switches', formatRate(cpu?.contextSwitchesPerSec)),
  ];
}

/** One core's current usage, for the per-core bars. */
export interface CoreBar {
  id: number;
  label: string;
  percent: number;
  text: string;
}

export function coreBars(cpu: CpuData | undefined): CoreBar[] {
  if (cpu === undefined) return [];
  return [...cpu.cores]
    .sort((a, b) => a.id - b.id)
    .map((core) => ({
      id: core.id,
      label: `CPU ${core.id}`,
      percent: Math.min(100, Math.max(0, core.usagePercent)),
      text: formatPercent(core.usagePercent, 0),
    }));
}

/** CPU's charts: the split of total time, each core, and the load average. */
export function cpuViews(coreIds: readonly number[]): ChartView[] {
  return [
    {
      id: 'total',
      label: 'Total',
      unit: 'percent',
      yMax: 100,
      lines: [
        { path: 'cpu.usagePercent', label: 'Total' },
        { path: 'cpu.userPercent', label: 'User' },
        { path: 'cpu.systemPercent', label: 'System' },
        { path: 'cpu.iowaitPercent', label: 'I/O wait' },
      ],
    },
    {
      id: 'cores',
      label: 'Per core',
      unit: 'percent',
      yMax: 100,
      lines: [...coreIds]
        .sort((a, b) => a - b)
        .map((id) => ({ path: `cpu.cores.${id}.usagePercent`, label: `CPU ${id}` })),
    },
    {
      id: 'load',
      label: 'Load',
      unit: 'ratio',
      lines: [
        { path: 'cpu.load1', label: '1 min' },
        { path: 'cpu.load5', label: '5 min' },
        { path: 'cpu.load15', label: '15 min' },
      ],
    },
  ];
}

// ---- Memory ----------------------------------------------------------------------------

export function memoryFigures(memory: MemoryData | undefined): Figure[] {
  const swap =
    memory === undefined
      ? NO_VALUE
      : memory.swapTotalBytes === 0
        ? 'none'
        : `${formatBytes(memory.swapUsedBytes)} / ${formatBytes(memory.swapTotalBytes)}`;
  return [
    fig('usedPercent', 'Usage', formatPercent(memory?.usedPercent), 'Share not available'),
    fig('usedBytes', 'Used', formatMaybeBytes(memory?.usedBytes)),
    fig('availableBytes', 'Available', formatMaybeBytes(memory?.availableBytes)),
    fig('cachedBytes', 'Cached', formatMaybeBytes(memory?.cachedBytes)),
    fig('buffersBytes', 'Buffers', formatMaybeBytes(memory?.buffersBytes)),
    fig('freeBytes', 'Free', formatMaybeBytes(memory?.freeBytes)),
    fig('totalBytes', 'Total', formatMaybeBytes(memory?.totalBytes)),
    fig('swap', 'Swap used', swap),
  ];
}

export const MEMORY_VIEWS: readonly ChartView[] = [
  {
    id: 'usage',
    label: 'Memory',
    unit: 'bytes',
    lines: [
      { path: 'memory.usedBytes', label: 'Used', stack: 'memory' },
      { path: 'memory.buffersBytes', label: 'Buffers', stack: 'memory' },
      { path: 'memory.cachedBytes', label: 'Cached', stack: 'memory' },
      { path: 'memory.freeBytes', label: 'Free', stack: 'memory' },
    ],
  },
  {
    id: 'swap',
    label: 'Swap',
    unit: 'bytes',
    lines: [{ path: 'memory.swapUsedBytes', label: 'Swap used' }],
  },
];

// ---- Network ---------------------------------------------------------------------------

export function networkFigures(network: NetworkData | undefined): Figure[] {
  const sum = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : a + b);
  return [
    fig('rxBytesPerSec', 'Receive', formatByteRate(network?.rxBytesPerSec)),
    fig('txBytesPerSec', 'Send', formatByteRate(network?.txBytesPerSec)),
    fig('rxPacketsPerSec', 'Rx packets', formatRate(network?.rxPacketsPerSec)),
    fig('txPacketsPerSec', 'Tx packets', formatRate(network?.txPacketsPerSec)),
    fig(
      'errorsPerSec',
      'Errors',
      formatRate(sum(network?.rxErrorsPerSec, network?.txErrorsPerSec)),
      'Receive + transmit errors',
    ),
    fig(
      'dropsPerSec',
      'Drops',
      formatRate(sum(network?.rxDropsPerSec, network?.txDropsPerSec)),
      'Receive + transmit drops',
    ),
  ];
}

/** One interface in the per-interface table. */
export interface InterfaceRow {
  name: string;
  kind: 'physical' | 'virtual' | 'loopback';
  rx: string;
  tx: string;
  /** Packets per second in · out: `42.0 · 31.0`. */
  packets: string;
  /** Errors · drops per second, both directions: `0 · 0`. */
  errorsDrops: string;
}

/** Two per-second figures in one table cell, its header saying `/s`. */
const pair = (a: number, b: number) => `${formatCount(a)} · ${formatCount(b)}`;

const KIND_ORDER = { physical: 0, virtual: 1, loopback: 2 } as const;

/** Every interface, physical ones first (those the totals count), then by name. */
export function interfaceRows(network: NetworkData | undefined): InterfaceRow[] {
  if (network === undefined) return [];
  return Object.entries(network.interfaces)
    .map(([name, i]): InterfaceRow => ({
      name,
      kind: i.loopback ? 'loopback' : i.virtual ? 'virtual' : 'physical',
      rx: formatByteRate(i.rxBytesPerSec),
      tx: formatByteRate(i.txBytesPerSec),
      packets: pair(i.rxPacketsPerSec, i.txPacketsPerSec),
      errorsDrops: pair(i.rxErrorsPerSec + i.txErrorsPerSec, i.rxDropsPerSec + i.txDropsPerSec),
    }))
    .sort((a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || a.name.localeCompare(b.name));
}

/** Network's charts, of the totals (`iface` null) or of one interface. */
export function networkViews(iface: string | null): ChartView[] {
  const p = iface === null ? 'network.' : `network.interfaces.${iface}.`;
  return [
    {
      id: 'bytes',
      label: 'Bytes',
      unit: 'byteRate',
      lines: [
        { path: `${p}rxBytesPerSec`, label: 'Receive' },
        { path: `${p}txBytesPerSec`, label: 'Send' },
      ],
    },
    {
      id: 'packets',
      label: 'Packets',
      unit: 'rate',
      lines: [
        { path: `${p}rxPacketsPerSec`, label: 'Rx packets' },
        { path: `${p}txPacketsPerSec`, label: 'Tx packets' },
      ],
    },
    {
      id: 'errors',
      label: 'Errors',
      unit: 'rate',
      lines: [
        { path: `${p}rxErrorsPerSec`, label: 'Rx errors' },
        { path: `${p}txErrorsPerSec`, label: 'Tx errors' },
        { path: `${p}rxDropsPerSec`, label: 'Rx drops' },
        { path: `${p}txDropsPerSec`, label: 'Tx drops' },
      ],
    },
  ];
}

// ---- Disk ------------------------------------------------------------------------------

export function diskFigures(disk: DiskData | undefined): Figure[] {
  return [
    fig('readBytesPerSec', 'Read', formatByteRate(disk?.readBytesPerSec)),
    fig('writeBytesPerSec', 'Write', formatByteRate(disk?.writeBytesPerSec)),
    fig('readOpsPerSec', 'Read ops', formatRate(disk?.readOpsPerSec)),
    fig('writeOpsPerSec', 'Write ops', formatRate(disk?.writeOpsPerSec)),
    fig('busyPercent', 'Busy', formatPercent(disk?.busyPercent), 'The busiest device'),
  ];
}

/** One block device in the per-device table. */
export interface DeviceRow {
  name: string;
  virtual: boolean;
  read: string;
  write: string;
  /** Read · write operations per second: `0 · 6.00`. */
  ops: string;
  busy: string;
}

/** Every whole device, real ones (those the totals count) first, then by name. */
export function deviceRows(disk: DiskData | undefined): DeviceRow[] {
  if (disk === undefined) return [];
  return Object.entries(disk.devices)
    .map(([name, d]) => ({
      name,
      virtual: d.virtual,
      read: formatByteRate(d.readBytesPerSec),
      write: formatByteRate(d.writeBytesPerSec),
      ops: pair(d.readOpsPerSec, d.writeOpsPerSec),
      busy: formatPercent(d.busyPercent),
    }))
    .sort((a, b) => Number(a.virtual) - Number(b.virtual) || a.name.localeCompare(b.name));
}

/** How full a filesystem is, as a tone: warn from 80 %, bad from 90 %. */
export function usageTone(percent: number): 'ok' | 'warn' | 'bad' {
  return percent >= 90 ? 'bad' : percent >= 80 ? 'warn' : 'ok';
}

/** One mounted filesystem in the usage list. */
export interface FilesystemRow {
  mountPoint: string;
  device: string;
  fsType: string;
  /** `9.00 GiB / 38.7 GiB` */
  usage: string;
  percent: number;
  percentText: string;
  tone: 'ok' | 'warn' | 'bad';
  /**
   * Space kept back for root (ext4 reserves 5 % by default), why used + free falls short of
   * the size: `1.94 GiB`; null when there is none worth a mention (under 0.5 % of the size).
   */
  reserved: string | null;
}

/** Blocks the filesystem holds back from unprivileged users: size − used − available. */
function reservedText(fs: { totalBytes: number; usedBytes: number; availableBytes: number }) {
  const reserved = fs.totalBytes - fs.usedBytes - fs.availableBytes;
  return reserved > 0.005 * fs.totalBytes ? formatBytes(reserved) : null;
}

export function filesystemRows(disk: DiskData | undefined): FilesystemRow[] {
  if (disk === undefined) return [];
  return [...disk.filesystems]
    .sort((a, b) => a.mountPoint.localeCompare(b.mountPoint))
    .map((fs) => ({
      mountPoint: fs.mountPoint,
      device: fs.device,
      fsType: fs.fsType,
      usage: `${formatBytes(fs.usedBytes)} / ${formatBytes(fs.totalBytes)}`,
      percent: Math.min(100, Math.max(0, fs.usedPercent)),
      percentText: formatPercent(fs.usedPercent, 0),
      tone: usageTone(fs.usedPercent),
      reserved: reservedText(fs),
    }));
}

/** Disk's charts, of the totals (`device` null) or of one device. */
export function diskViews(device: string | null): ChartView[] {
  const p = device === null ? 'disk.' : `disk.devices.${device}.`;
  return [
    {
      id: 'bytes',
      label: 'Throughput',
      unit: 'byteRate',
      lines: [
        { path: `${p}readBytesPerSec`, label: 'Read' },
        { path: `${p}writeBytesPerSec`, label: 'Write' },
      ],
    },
    {
      id: 'ops',
      label: 'IOPS',
      unit: 'rate',
      lines: [
        { path: `${p}readOpsPerSec`, label: 'Read ops' },
        { path: `${p}writeOpsPerSec`, label: 'Write ops' },
      ],
    },
    {
      id: 'busy',
      label: 'Busy',
      unit: 'percent',
      yMax: 100,
      lines: [{ path: `${p}busyPercent`, label: 'Busy' }],
    },
  ];
}

// ---- Perf ------------------------------------------------------------------------------

/** What the Perf panel says instead of hardware counters, or null when they count. */
export function perfHardwareNotice(perf: PerfMetrics | undefined): string | null {
  if (perf === undefined) return null;
  const why = perf.available ? perf.hardwareUnavailableReason : perf.error;
  if (perf.available && perf.hardwareAvailable) return null;
  return why ? `Hardware performance counters unavailable — ${why}` : HARDWARE_UNAVAILABLE;
}

/** The Perf panel's notice when no reason was given. */
export const HARDWARE_UNAVAILABLE = 'Hardware performance counters unavailable';

const PERF_HARDWARE_FIGURES = (perf: PerfData | undefined): Figure[] => [
  fig('ipc', 'IPC', formatDecimal(perf?.ipc), 'Instructions per cycle'),
  fig('cyclesPerSec', 'Cycles', formatRate(perf?.cyclesPerSec)),
  fig('instructionsPerSec', 'Instructions', formatRate(perf?.instructionsPerSec)),
  fig('cacheMissesPerSec', 'Cache misses', formatRate(perf?.cacheMissesPerSec)),
  fig('cacheMissPercent', 'Cache miss ratio', formatPercent(perf?.cacheMissPercent)),
  fig('branchMissesPerSec', 'Branch misses', formatRate(perf?.branchMissesPerSec)),
];

/**
 * The Perf panel's figures: the hardware counters (left out when the PMU is missing, where the
 * notice says why) and the software events, which count on any machine.
 */
export function perfFigures(perf: PerfData | undefined): Figure[] {
  const hardware = perf === undefined || perf.hardwareAvailable ? PERF_HARDWARE_FIGURES(perf) : [];
  return [
    ...hardware,
    fig('contextSwitchesPerSec', 'Context switches', formatRate(perf?.contextSwitchesPerSec)),
    fig('cpuMigrationsPerSec', 'CPU migrations', formatRate(perf?.cpuMigrationsPerSec)),
    fig('pageFaultsPerSec', 'Page faults', formatRate(perf?.pageFaultsPerSec)),
  ];
}

const PERF_SOFTWARE_VIEW: ChartView = {
  id: 'software',
  label: 'Software',
  unit: 'rate',
  lines: [
    { path: 'perf.contextSwitchesPerSec', label: 'Context switches' },
    { path: 'perf.cpuMigrationsPerSec', label: 'CPU migrations' },
    { path: 'perf.pageFaultsPerSec', label: 'Page faults' },
  ],
};

/** Perf's charts: IPC and the hardware event rates when they count, the software events always. */
export function perfViews(hardware: boolean): ChartView[] {
  if (!hardware) return [PERF_SOFTWARE_VIEW];
  return [
    { id: 'ipc', label: 'IPC', unit: 'ratio', lines: [{ path: 'perf.ipc', label: 'IPC' }] },
    {
      id: 'cycles',
      label: 'Cycles',
      unit: 'rate',
      lines: [
        { path: 'perf.cyclesPerSec', label: 'Cycles' },
        { path: 'perf.instructionsPerSec', label: 'Instructions' },
      ],
    },
    {
      id: 'misses',
      label: 'Misses',
      unit: 'rate',
      lines: [
        { path: 'perf.cacheMissesPerSec', label: 'Cache misses' },
        { path: 'perf.branchMissesPerSec', label: 'Branch misses' },
      ],
    },
    PERF_SOFTWARE_VIEW,
  ];
}

// ---- Bandwidth -------------------------------------------------------------------------

export function bandwidthFigures(bw: BandwidthData | undefined): Figure[] {
  const minor =
    bw === undefined ? undefined : Math.max(0, bw.pageFaultsPerSec - bw.majorFaultsPerSec);
  const figures = [
    fig('pageInBytesPerSec', 'Page in', formatByteRate(bw?.pageInBytesPerSec)),
    fig('pageOutBytesPerSec', 'Page out', formatByteRate(bw?.pageOutBytesPerSec)),
    fig('swapInPagesPerSec', 'Swap in', formatRate(bw?.swapInPagesPerSec, 'pages')),
    fig('swapOutPagesPerSec', 'Swap out', formatRate(bw?.swapOutPagesPerSec, 'pages')),
    fig('minorFaultsPerSec', 'Minor faults', formatRate(minor)),
    fig('majorFaultsPerSec', 'Major faults', formatRate(bw?.majorFaultsPerSec)),
  ];
  const dram = bw?.dram;
  if (dram) {
    const source = dram.source === 'resctrl' ? 'resctrl (mbm_total_bytes)' : 'perf uncore_imc';
    figures.push(
      fig('dramTotalBytesPerSec', 'DRAM', formatByteRate(dram.totalBytesPerSec), source),
      fig('dramReadBytesPerSec', 'DRAM read', formatByteRate(dram.readBytesPerSec)),
      fig('dramWriteBytesPerSec', 'DRAM write', formatByteRate(dram.writeBytesPerSec)),
    );
  }
  return figures;
}

/** Bandwidth's charts; DRAM joins when the machine measures it. */
export function bandwidthViews(dram: boolean): ChartView[] {
  const views: ChartView[] = [
    {
      id: 'paging',
      label: 'Paging',
      unit: 'byteRate',
      lines: [
        { path: 'bandwidth.pageInBytesPerSec', label: 'Page in' },
        { path: 'bandwidth.pageOutBytesPerSec', label: 'Page out' },
      ],
    },
    {
      id: 'swap',
      label: 'Swap',
      unit: 'rate',
      lines: [
        { path: 'bandwidth.swapInPagesPerSec', label: 'Swap in (pages)' },
        { path: 'bandwidth.swapOutPagesPerSec', label: 'Swap out (pages)' },
      ],
    },
    {
      id: 'faults',
      label: 'Faults',
      unit: 'rate',
      lines: [
        { path: 'bandwidth.pageFaultsPerSec', label: 'All faults' },
        { path: 'bandwidth.majorFaultsPerSec', label: 'Major faults' },
      ],
    },
  ];
  if (dram) {
    const lines: ChartLine[] = [
      { path: 'bandwidth.dram.totalBytesPerSec', label: 'DRAM total' },
      { path: 'bandwidth.dram.readBytesPerSec', label: 'DRAM read' },
      { path: 'bandwidth.dram.writeBytesPerSec', label: 'DRAM write' },
    ];
    views.push({ id: 'dram', label: 'DRAM', unit: 'byteRate', lines });
  }
  return views;
}

/** Where the DRAM figure comes from, or why there is none. */
export function dramNote(bw: BandwidthData | undefined): string | null {
  if (bw === undefined) return null;
  if (bw.dram) {
    return bw.dram.source === 'resctrl'
      ? 'DRAM bandwidth from resctrl (mbm_total_bytes)'
      : 'DRAM bandwidth from perf uncore_imc CAS counts';
  }
  return `DRAM bandwidth unavailable${bw.dramUnavailableReason ? ` — ${bw.dramUnavailableReason}` : ''}`;
}

// ---- What the panels chart -------------------------------------------------------------

/** The cores, interfaces and devices a host's detail charts are drawn for. */
export interface ChartedNames {
  cores?: readonly number[];
  interfaces?: readonly string[];
  devices?: readonly string[];
}

/** The dashboard's panels, in the order they are laid out. */
export const PANEL_IDS = ['cpu', 'memory', 'network', 'disk', 'perf', 'bandwidth'] as const;
export type PanelId = (typeof PANEL_IDS)[number];

/** Every chart one panel can show: its own views, and the views of each interface or device. */
export interface PanelCharts {
  panel: PanelId;
  title: string;
  views: ChartView[];
  details: { name: string; views: ChartView[] }[];
}

/**
 * Every chart of every panel for a host with these names, hardware counters and DRAM included:
 * the one list the live window's backfill and the history chooser are derived from, so neither
 * drifts from what the panels draw.
 */
export function panelCharts(names: ChartedNames = {}): PanelCharts[] {
  const details = (list: readonly string[] | undefined, views: (name: string) => ChartView[]) =>
    [...(list ?? [])]
      .sort((a, b) => a.localeCompare(b))
      .map((name) => ({ name, views: views(name) }));
  return [
    { panel: 'cpu', title: 'CPU', views: cpuViews(names.cores ?? []), details: [] },
    { panel: 'memory', title: 'Memory', views: [...MEMORY_VIEWS], details: [] },
    {
      panel: 'network',
      title: 'Network',
      views: networkViews(null),
      details: details(names.interfaces, networkViews),
    },
    {
      panel: 'disk',
      title: 'Disk',
      views: diskViews(null),
      details: details(names.devices, diskViews),
    },
    { panel: 'perf', title: 'Perf', views: perfViews(true), details: [] },
    { panel: 'bandwidth', title: 'Bandwidth', views: bandwidthViews(true), details: [] },
  ];
}

/** The cores, interfaces and devices `snapshot` reports (none before the first snapshot). */
export function chartedNames(snapshot: Snapshot | undefined): ChartedNames {
  if (snapshot === undefined) return {};
  return {
    cores: snapshot.cpu.available ? snapshot.cpu.cores.map((core) => core.id) : [],
    interfaces: snapshot.network.available ? Object.keys(snapshot.network.interfaces) : [],
    devices: snapshot.disk.available ? Object.keys(snapshot.disk.devices) : [],
  };
}

/** Every series path a panel can chart for a host with these names, once each. */
export function chartedPaths(names: ChartedNames = {}): string[] {
  const paths = new Set<string>();
  for (const panel of panelCharts(names)) {
    const views = [...panel.views, ...panel.details.flatMap((detail) => detail.views)];
    for (const view of views) for (const line of view.lines) paths.add(line.path);
  }
  return [...paths];
}

/**
 * Every family of series the panels chart, as the contracts' catalogue names them
 * (`network.interfaces.*.rxBytesPerSec`); a path the catalogue does not know stays as it is.
 */
export const CHARTED_PATTERNS: readonly string[] = [
  ...new Set(
    chartedPaths({ cores: [0], interfaces: ['eth0'], devices: ['sda'] }).map(
      (path) => resolveSeries(path)?.pattern ?? path,
    ),
  ),
];

// ---- Footer ----------------------------------------------------------------------------

/** The value at quantile `q` (0–1) of ascending `sorted`, by nearest rank. */
export function quantile(sorted: readonly number[], q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** The sample-to-screen latency as the footer says it: `median 7 ms · p99 12 ms`. */
export function latencySummary(latencies: readonly number[]): string {
  if (latencies.length === 0) return NO_VALUE;
  const sorted = [...latencies].sort((a, b) => a - b);
  const ms = (v: number | undefined) => `${Math.round(v ?? 0)} ms`;
  return `median ${ms(quantile(sorted, 0.5))} · p99 ${ms(quantile(sorted, 0.99))}`;
}

/** The sampler's own cost: `0.8 % CPU · 75.0 MiB RSS · 3.4 ms per tick`. */
export function agentSummary(agent: AgentMetrics): string {
  return (
    `${formatPercent(agent.cpuPercent)} CPU · ${formatBytes(agent.rssBytes)} RSS · ` +
    `${formatDecimal(agent.collectDurationMs, 1)} ms per tick`
  );
}
