// What bench/web's stand-in API sends the dashboard: the storage benches' deterministic
// snapshots (bench/snapshots.ts), widened from the example's small VM to a host with 8 cores,
// four interfaces (two physical, a bridge, loopback) and three disks, and the `/api/history`
// buckets of the same numbers, so the page's backfilled window looks like its live one.
import { SERIES_SECTIONS, flattenSeries } from '@livestat/contracts';
import type { CpuCore, HistoryPoint, HistoryResponse, Snapshot } from '@livestat/contracts';
import { createSnapshotGenerator } from './snapshots.js';

export const CORES = 8;

const round2 = (x: number) => Math.round(x * 100) / 100;
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

// A counter-based hash in [0, 1): the same (stream, second) always gives the same number.
function noise(stream: number, second: number): number {
  let h = (0x5bd1e995 ^ Math.imul(stream, 0x9e3779b1) ^ Math.imul(second, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** Adds cores, interfaces and disks to one of the generator's 2-core VM snapshots. */
function widen(s: Snapshot, second: number): Snapshot {
  const { cpu, network, disk } = s;
  if (!cpu.available || !network.available || !disk.available) return s;

  const base = cpu.cores;
  cpu.cores = Array.from({ length: CORES }, (_, id) => {
    const from = base[id % base.length]!;
    const f = 0.5 + noise(100 + id, second);
    const userPercent = round2(clamp(from.userPercent * f, 0, 100));
    const systemPercent = round2(clamp(from.systemPercent * f, 0, 100 - userPercent));
    const iowaitPercent = round2(
      clamp(from.iowaitPercent * f, 0, 100 - userPercent - systemPercent),
    );
    const usagePercent = round2(userPercent + systemPercent + iowaitPercent);
    return { id, usagePercent, userPercent, systemPercent, iowaitPercent };
  });
  const mean = (pick: (c: CpuCore) => number) =>
    round2(cpu.cores.reduce((sum, c) => sum + pick(c), 0) / CORES);
  cpu.coreCount = CORES;
  cpu.usagePercent = mean((c) => c.usagePercent);
  cpu.userPercent = mean((c) => c.userPercent);
  cpu.systemPercent = mean((c) => c.systemPercent);
  cpu.iowaitPercent = mean((c) => c.iowaitPercent);
  cpu.idlePercent = round2(clamp(100 - cpu.usagePercent - cpu.stealPercent, 0, 100));

  const eth0 = network.interfaces.eth0!;
  const scaled = (factor: number, stream: number) => {
    const f = factor * (0.5 + noise(stream, second));
    return {
      rxBytesPerSec: round2(eth0.rxBytesPerSec * f),
      txBytesPerSec: round2(eth0.txBytesPerSec * f),
      rxPacketsPerSec: round2(eth0.rxPacketsPerSec * f),
      txPacketsPerSec: round2(eth0.txPacketsPerSec * f),
      rxErrorsPerSec: 0,
      txErrorsPerSec: 0,
      rxDropsPerSec: 0,
      txDropsPerSec: 0,
    };
  };
  network.interfaces = {
    eth0,
    eth1: { loopback: false, virtual: false, ...scaled(0.4, 110) },
    docker0: { loopback: false, virtual: true, ...scaled(0.15, 111) },
    lo: network.interfaces.lo!,
  };
  const physical = [eth0, network.interfaces.eth1!];
  for (const key of [
    'rxBytesPerSec',
    'txBytesPerSec',
    'rxPacketsPerSec',
    'txPacketsPerSec',
    'rxDropsPerSec',
  ] as const) {
    network[key] = round2(physical.reduce((sum, i) => sum + i[key], 0));
  }

  const vda = disk.devices.vda!;
  const device = (factor: number, stream: number) => {
    const f = factor * (0.5 + noise(stream, second));
    const readOpsPerSec = round2(vda.readOpsPerSec * f);
    const writeOpsPerSec = round2(vda.writeOpsPerSec * f + 2 * noise(stream + 1, second));
    return {
      virtual: false,
      readBytesPerSec: round2(readOpsPerSec * 16384),
      writeBytesPerSec: round2(writeOpsPerSec * 8192),
      readOpsPerSec,
      writeOpsPerSec,
      busyPercent: round2(clamp(0.2 * writeOpsPerSec + 0.15 * readOpsPerSec, 0, 100)),
    };
  };
  disk.devices = { vda, vdb: device(0.8, 120), vdc: device(0.2, 122) };
  const devices = Object.values(disk.devices);
  for (const key of [
    'readBytesPerSec',
    'writeBytesPerSec',
    'readOpsPerSec',
    'writeOpsPerSec',
  ] as const) {
    disk[key] = round2(devices.reduce((sum, d) => sum + d[key], 0));
  }
  disk.busyPercent = Math.max(...devices.map((d) => d.busyPercent));
  const root = disk.filesystems[0]!;
  const dataUsed = Math.round((2.1e11 + 4e8 * noise(123, Math.floor(second / 60))) / 4096) * 4096;
  disk.filesystems = [
    root,
    {
      mountPoint: '/var/lib/docker',
      device: '/dev/vdb1',
      fsType: 'xfs',
      totalBytes: 536_870_912_000,
      usedBytes: dataUsed,
      availableBytes: 536_870_912_000 - dataUsed,
      usedPercent: round2((100 * dataUsed) / 536_870_912_000),
    },
  ];
  return s;
}

export interface Feed {
  readonly host: string;
  /** The snapshot for `ms` (epoch ms): the numbers of that second, stamped `ms` and `seq`. */
  snapshot(ms: number, seq: number): Snapshot;
  /** What `GET /api/history` answers: one bucket per second of the same numbers. */
  history(search: URLSearchParams): HistoryResponse;
}

/** A feed of `host` whose second 0 is one hour before `nowMs`. */
export function createFeed(host: string, nowMs: number): Feed {
  const startMs = Math.floor(nowMs / 1000) * 1000 - 3_600_000;
  const generator = createSnapshotGenerator({ host, seed: 7, startMs });
  const secondOf = (ms: number) => Math.floor((ms - startMs) / 1000);
  const at = (second: number) => widen(generator.at(second), second);

  // History asks for the same seconds again (each backfill is two requests of ≤ 20 series).
  const flat = new Map<number, Map<string, number>>();
  const valuesAt = (second: number) => {
    let values = flat.get(second);
    if (values === undefined) {
      const s = at(second);
      values = new Map();
      for (const section of SERIES_SECTIONS) {
        for (const [path, value] of flattenSeries(section, s[section])) values.set(path, value);
      }
      flat.set(second, values);
    }
    return values;
  };

  return {
    host,
    snapshot(ms, seq) {
      const s = at(secondOf(ms));
      s.timestamp = new Date(ms).toISOString();
      s.seq = seq;
      return s;
    },
    history(search) {
      const from = Number(search.get('from'));
      const to = Number(search.get('to'));
      const points = Number(search.get('points') ?? 500);
      const bucketMs = Math.max(1000, Math.ceil((to - from) / points / 1000) * 1000);
      const series: Record<string, HistoryPoint[]> = {};
      for (const path of search.getAll('series')) series[path] = [];
      for (let t = Math.ceil(from / bucketMs) * bucketMs; t < to; t += bucketMs) {
        const values = valuesAt(secondOf(t));
        for (const [path, list] of Object.entries(series)) {
          const value = values.get(path);
          list.push(value === undefined ? [t, null, null, null] : [t, value, value, value]);
        }
      }
      return { host, from, to, bucketMs, tier: 'raw', series };
    },
  };
}
