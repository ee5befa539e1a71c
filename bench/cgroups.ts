// bench/cgroups: the cgroups collector's CPU per tick with 50 and 500 cgroups, beside the same
// files read bare.
//
// Two contestants take turns in one run, in batches whose order rotates, so machine noise hits
// both alike, on v2 trees that test/cgroup-tree.ts writes (docker, podman, kubepods, systemd
// and session cgroups, files in the kernel's formats) on the local disk:
// - livestat: the cgroups collector's collect() (reads, parses, rates, top-N, full table); the
//   10 s walk is left to its own schedule, as in production (the clock here advances 1 s a tick).
// - bare: readFileSync of the same nine files per cgroup, and nothing else.
// CPU per tick from process.cpuUsage; medians are what to quote.
//
//   npm run -s bench:cgroups -- [--ticks N]
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createCgroupsCollector } from '../apps/api/src/collectors/cgroups.js';
import { manyCgroups, writeV2Host } from '../apps/api/test/cgroup-tree.js';

const { values } = parseArgs({ options: { ticks: { type: 'string', default: '300' } } });
const ticks = Number(values.ticks);
const FILES = [
  'cpu.stat',
  'memory.current',
  'memory.max',
  'memory.stat',
  'io.stat',
  'pids.current',
  'cpu.pressure',
  'memory.pressure',
  'io.pressure',
];

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

const dir = mkdtempSync(path.join(os.tmpdir(), 'livestat-bench-cgroups-'));
const rows: string[] = [];
try {
  for (const count of [50, 500]) {
    const roots = writeV2Host(path.join(dir, String(count)), manyCgroups(count));
    let clock = 0;
    const collector = createCgroupsCollector({ ...roots, now: () => clock }, { max: 10_000 });
    await collector.prime?.();
    const table = collector.table()!;
    const files = table.groups.flatMap((row) =>
      FILES.map((name) => path.join(roots.cgroupRoot, row.id, name)),
    );
    const livestat: number[] = [];
    const bare: number[] = [];
    let sink = 0;
    const runLivestat = async () => {
      clock += 1000;
      const started = process.cpuUsage();
      await collector.collect();
      livestat.push(cpuMs(started));
    };
    const runBare = () => {
      const started = process.cpuUsage();
      for (const file of files) sink += readFileSync(file, 'utf8').length;
      bare.push(cpuMs(started));
    };
    for (let i = 0; i < 20; i++) {
      await runLivestat();
      runBare();
    }
    livestat.length = 0;
    bare.length = 0;
    const batch = 10;
    for (let done = 0; done < ticks; done += batch) {
      const livestatFirst = (done / batch) % 2 === 0;
      for (let i = 0; i < batch; i++) {
        if (livestatFirst) {
          await runLivestat();
          runBare();
        } else {
          runBare();
          await runLivestat();
        }
      }
    }
    if (sink === 0) throw new Error('read nothing');
    const l = median(livestat);
    const b = median(bare);
    rows.push(
      `| ${String(table.groups.length).padStart(4)} | ${String(files.length).padStart(5)} | ` +
        `${l.toFixed(3)} | ${b.toFixed(3)} | ${(l / b).toFixed(2)}× |`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `bench/cgroups — CPU ms per tick, median of ${ticks} ticks each, ${os.cpus().length} CPUs`,
);
console.log('| cgroups | files | livestat | bare readFileSync | ratio |');
console.log('| ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) console.log(row);
