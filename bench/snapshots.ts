// Deterministic one-second snapshots of one host for the storage benchmarks.
//
// Each snapshot starts from the contracts' example (a 2-core VM with eth0, lo, vda and an ext4
// root, no PMU: ~3.1 KB of JSON, the shape of this VM's own snapshots) and varies its numbers
// plausibly: a daily cycle, slow drifts, per-second noise and rare spikes, rounded to two
// decimals as the collectors do. Every value is a pure function of (seed, second), so any
// stretch of a month can be generated on its own, in any order, and always the same.
import type { Snapshot } from '@livestat/contracts';
import { makeExampleSnapshot } from '@livestat/contracts/examples';

/** Which host, which seed, and the time of second 0. */
export interface SnapshotSource {
  host: string;
  seed: number;
  /** Epoch ms of the snapshot at second 0. */
  startMs: number;
}

// A counter-based PRNG (a murmur3-style finaliser over seed, stream and counter): random access
// by second, unlike a sequential generator that would have to replay a month to reach its end.
function hash(seed: number, stream: number, counter: number): number {
  let h = (seed ^ Math.imul(stream, 0x9e3779b1) ^ Math.imul(counter, 0x85ebca77)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** A generator of the snapshots of one host, second by second. */
export interface SnapshotGenerator {
  /** The snapshot taken `second` seconds after `startMs`. */
  at(second: number): Snapshot;
  /** `count` consecutive snapshots from `fromSecond`, in arrays of at most `size`. */
  batches(fromSecond: number, count: number, size: number): Generator<Snapshot[]>;
}

/** Snapshots of `source.host`, one a second from `source.startMs`, the same for the same seed. */
export function createSnapshotGenerator(source: SnapshotSource): SnapshotGenerator {
  const { seed } = source;
  const noise = (stream: number, second: number) => hash(seed, stream, second);
  // Value noise: smooth between random knots `period` seconds apart, for drifts and bursts.
  const smooth = (stream: number, second: number, period: number) => {
    const k = Math.floor(second / period);
    const f = second / period - k;
    const s = f * f * (3 - 2 * f);
    return noise(stream + 1000, k) * (1 - s) + noise(stream + 1000, k + 1) * s;
  };
  // Roughly normal (Irwin–Hall of three), mean 0, sd ≈ 0.5.
  const jitter = (stream: number, second: number) =>
    noise(stream, second) + noise(stream + 500, second) + noise(stream + 700, second) - 1.5;

  function at(second: number): Snapshot {
    const ms = source.startMs + second * 1000;
    const s = makeExampleSnapshot({
      host: source.host,
      seq: second + 1,
      timestamp: new Date(ms).toISOString(),
    });
    // Busiest mid-afternoon UTC, quietest before dawn.
    const hour = (ms % 86_400_000) / 3_600_000;
    const day = 0.5 - 0.5 * Math.cos((2 * Math.PI * (hour - 3)) / 24);
    const busy = clamp(day * 0.7 + smooth(1, second, 600) * 0.3, 0, 1);
    const spike = noise(2, second) < 0.002; // a one-second spike every ~8 minutes

    s.cpu.cores = s.cpu.cores.map((core, i) => {
      const usage = spike
        ? 90 + noise(10 + i, second) * 10
        : clamp(2 + 40 * busy + 8 * jitter(20 + i, second), 0.5, 100);
      const iowaitPercent = round2(clamp(0.3 + jitter(30 + i, second), 0, usage * 0.2));
      const systemPercent = round2(usage * (0.2 + 0.1 * noise(40 + i, second)));
      const userPercent = round2(Math.max(0, usage - systemPercent - iowaitPercent));
      const usagePercent = round2(userPercent + systemPercent + iowaitPercent);
      return { ...core, usagePercent, userPercent, systemPercent, iowaitPercent };
    });
    const mean = (pick: (c: (typeof s.cpu.cores)[number]) => number) =>
      round2(s.cpu.cores.reduce((sum, c) => sum + pick(c), 0) / s.cpu.cores.length);
    s.cpu.usagePercent = mean((c) => c.usagePercent);
    s.cpu.userPercent = mean((c) => c.userPercent);
    s.cpu.systemPercent = mean((c) => c.systemPercent);
    s.cpu.iowaitPercent = mean((c) => c.iowaitPercent);
    s.cpu.softirqPercent = round2(clamp(0.3 * busy + 0.2 * jitter(50, second), 0, 5));
    s.cpu.stealPercent = round2(clamp(0.4 + 0.3 * jitter(51, second), 0, 5));
    s.cpu.idlePercent = round2(100 - s.cpu.usagePercent);
    s.cpu.load1 = round2(0.1 + 1.6 * busy + 0.2 * noise(52, second));
    s.cpu.load5 = round2(0.1 + 1.4 * busy);
    s.cpu.load15 = round2(0.1 + 1.2 * smooth(1, second - 600, 600) * 0.3 + 1.2 * day * 0.7);
    s.cpu.contextSwitchesPerSec = round2(900 + 3000 * busy + 300 * jitter(53, second));
    s.cpu.interruptsPerSec = round2(600 + 1500 * busy + 150 * jitter(54, second));
    s.cpu.processesRunning = 1 + Math.floor(3 * busy * noise(55, second) + (spike ? 2 : 0));
    s.cpu.processesBlocked = noise(56, second) < 0.03 ? 1 : 0;

    const m = s.memory;
    const used = Math.round((m.totalBytes * (0.22 + 0.12 * smooth(3, second, 3600))) / 4096) * 4096;
    m.cachedBytes = Math.round((1.3e9 + 4e8 * smooth(4, second, 7200)) / 4096) * 4096;
    m.buffersBytes = Math.round((9e7 + 1e7 * smooth(5, second, 7200)) / 4096) * 4096;
    m.usedBytes = used;
    m.freeBytes = m.totalBytes - used - m.cachedBytes - m.buffersBytes;
    m.availableBytes = m.freeBytes + Math.round((m.cachedBytes * 0.9) / 4096) * 4096;
    m.usedPercent = round2(100 * (1 - m.availableBytes / m.totalBytes));

    // Traffic comes in bursts: a smooth base scaled by an occasional multiplier.
    const burst = noise(6, Math.floor(second / 20)) < 0.05 ? 20 + 80 * noise(7, second) : 1;
    const rx = round2((2000 + 40_000 * busy) * (0.5 + noise(8, second)) * burst);
    const tx = round2((800 + 15_000 * busy) * (0.5 + noise(9, second)) * burst);
    const rxPackets = round2(rx / (350 + 100 * noise(10, second)));
    const txPackets = round2(tx / (150 + 50 * noise(11, second)));
    const eth0 = s.network.interfaces.eth0;
    Object.assign(eth0, {
      rxBytesPerSec: rx,
      txBytesPerSec: tx,
      rxPacketsPerSec: rxPackets,
      txPacketsPerSec: txPackets,
      rxDropsPerSec: noise(12, second) < 0.001 ? 1 : 0,
    });
    const loBytes = round2(500 + 3000 * noise(13, second));
    const loPackets = round2(loBytes / 160);
    Object.assign(s.network.interfaces.lo, {
      rxBytesPerSec: loBytes,
      txBytesPerSec: loBytes,
      rxPacketsPerSec: loPackets,
      txPacketsPerSec: loPackets,
    });
    Object.assign(s.network, {
      rxBytesPerSec: rx,
      txBytesPerSec: tx,
      rxPacketsPerSec: rxPackets,
      txPacketsPerSec: txPackets,
      rxDropsPerSec: eth0.rxDropsPerSec,
    });

    // Mostly small writes (journal, logs), now and then a read burst from a cold cache.
    const reading = noise(14, Math.floor(second / 30)) < 0.04;
    const readOps = reading ? round2(50 + 400 * noise(15, second)) : 0;
    const writeOps = round2(clamp(3 + 10 * busy + 4 * jitter(16, second), 0, 1e4));
    const vda = {
      virtual: false as const,
      readBytesPerSec: round2(readOps * (8192 + 4096 * Math.floor(8 * noise(17, second)))),
      writeBytesPerSec: round2(writeOps * (4096 + 4096 * Math.floor(6 * noise(18, second)))),
      readOpsPerSec: readOps,
      writeOpsPerSec: writeOps,
      busyPercent: round2(clamp(0.2 * writeOps + 0.15 * readOps, 0, 100)),
    };
    s.disk.devices.vda = vda;
    const { virtual: _virtual, ...totals } = vda;
    Object.assign(s.disk, totals);
    const fs = s.disk.filesystems[0]!;
    // The root fills by ~50 MB a day; logrotate gives some back each midnight.
    fs.usedBytes =
      Math.round((9.6e9 + 5.8e2 * (second % 86_400) + 2e7 * smooth(19, second, 900)) / 4096) * 4096;
    fs.availableBytes = fs.totalBytes - fs.usedBytes - 2_077_741_056;
    fs.usedPercent = round2((100 * fs.usedBytes) / (fs.usedBytes + fs.availableBytes));

    const p = s.perf;
    p.contextSwitchesPerSec = round2(
      s.cpu.contextSwitchesPerSec * (0.95 + 0.05 * noise(20, second)),
    );
    p.cpuMigrationsPerSec = round2(5 + 20 * busy * noise(21, second));
    p.pageFaultsPerSec = round2(200 + 800 * busy * noise(22, second) + (spike ? 30_000 : 0));
    p.perfIntervalMs = round2(1000 + 1.5 * noise(23, second));

    const b = s.bandwidth;
    b.pageInBytesPerSec = round2(vda.readBytesPerSec * (1 + 0.01 * noise(24, second)));
    b.pageOutBytesPerSec = round2(vda.writeBytesPerSec * (0.5 + 0.1 * noise(25, second)));
    b.pageFaultsPerSec = round2(p.pageFaultsPerSec * (1.1 + 0.1 * noise(26, second)));
    b.majorFaultsPerSec = reading ? round2(readOps / 20) : 0;

    const a = s.agent;
    a.cpuPercent = round2(0.3 + 0.6 * noise(27, second));
    a.rssBytes = Math.round((7.6e7 + 8e6 * smooth(28, second, 1800)) / 4096) * 4096;
    a.heapUsedBytes = Math.round(1.8e7 + 1e7 * noise(29, Math.floor(second / 15)));
    let total = 0;
    for (const [i, timing] of Object.values(a.collectors).entries()) {
      timing.durationMs = round2(timing.durationMs * (0.7 + 0.8 * noise(30 + i, second)));
      total += timing.durationMs;
    }
    a.collectDurationMs = round2(total + 0.3 * noise(37, second));
    return s;
  }

  return {
    at,
    *batches(fromSecond, count, size) {
      for (let first = fromSecond; first < fromSecond + count; first += size) {
        const batch: Snapshot[] = [];
        const end = Math.min(fromSecond + count, first + size);
        for (let second = first; second < end; second++) batch.push(at(second));
        yield batch;
      }
    },
  };
}
