// bench/cgroups: the cgroups collector's CPU per tick with 50 and 500 cgroups, beside the same
// files read bare.
//
// Three contestants take turns in one run, in batches whose order rotates, so machine noise
// hits all alike:
// - livestat: the cgroups collector's collect() as it runs in production — CPU and memory usage
//   read every tick from descriptors kept open (pread at offset 0), the slow-moving files
//   (memory.max, memory.stat, io.stat, pids.current, *.pressure) every 10 ticks, a tenth of
//   the cgroups each tick; parsing, rates, top-N and the full table included. The 10 s walk is
//   left to its own schedule (the clock advances 1 s a tick).
// - every file: the same collector reading every file every tick with open/read/close (how it
//   read before descriptors were kept and the slow files staggered).
// - bare: readFileSync of every file of every cgroup once, and nothing else — the baseline.
// - floor: one pread each of the two files read every tick (CPU and memory usage) from
//   descriptors kept open, and nothing else: what no reader of every cgroup's CPU and memory
//   each tick can go below on this machine.
//
// Trees: by default v2 trees that test/cgroup-tree.ts writes on the local disk (docker, podman,
// kubepods, systemd and session cgroups, files in the kernel's formats); a regular file read
// from offset 0 through a kept descriptor is read again like a cgroupfs one, so the kept
// descriptors work on them too. With --real, cgroups are made with mkdir in this machine's own
// hierarchy (v1 controllers cpu, cpuacct, memory, blkio, pids, and the unified tree's PSI on a
// hybrid host; needs root) under `livestat-bench-<pid>/` and removed at the end.
// CPU per tick from process.cpuUsage; medians are what to quote.
//
//   npm run -s bench:cgroups -- [--ticks N] [--real]
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmdirSync,
  rmSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createCgroupsCollector } from '../apps/api/src/collectors/cgroups.js';
import { parseCgroupMounts, V1_CONTROLLERS } from '../apps/api/src/collectors/cgroup-mounts.js';
import { containerId, manyCgroups, writeV2Host } from '../apps/api/test/cgroup-tree.js';

const { values } = parseArgs({
  options: { ticks: { type: 'string', default: '300' }, real: { type: 'boolean', default: false } },
});
const ticks = Number(values.ticks);
if (!Number.isInteger(ticks) || ticks < 10) throw new Error('--ticks must be an integer ≥ 10');

const V2_FILES = [
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
const V1_FILES: [string, string][] = [
  ['cpuacct', 'cpuacct.usage'],
  ['cpu', 'cpu.stat'],
  ['memory', 'memory.usage_in_bytes'],
  ['memory', 'memory.limit_in_bytes'],
  ['memory', 'memory.stat'],
  ['blkio', 'blkio.throttle.io_service_bytes'],
  ['blkio', 'blkio.throttle.io_serviced'],
  ['pids', 'pids.current'],
];
const PSI_FILES = ['cpu.pressure', 'memory.pressure', 'io.pressure'];

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

interface Tree {
  procRoot: string;
  sysRoot: string;
  /** Every file the collector reads for cgroup `id`, for the bare baseline. */
  filesOf(id: string): string[];
  /** The files of cgroup `id` read every tick (CPU and memory usage). */
  tickFilesOf(id: string): string[];
  remove(): void;
}

/** A v2 fixture tree of `count` cgroups on the local disk. */
function fixtureTree(dir: string, count: number): Tree {
  const roots = writeV2Host(path.join(dir, String(count)), manyCgroups(count));
  return {
    ...roots,
    filesOf: (id) => V2_FILES.map((name) => path.join(roots.cgroupRoot, id, name)),
    tickFilesOf: (id) => V2_FILES.slice(0, 2).map((name) => path.join(roots.cgroupRoot, id, name)),
    remove: () => rmSync(path.join(dir, String(count)), { recursive: true, force: true }),
  };
}

/** `count` cgroups made in this machine's own v1 (or hybrid) hierarchy. */
function realTree(count: number): Tree {
  const mounts = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'), '/sys');
  if (mounts.layout === 'v2') throw new Error('--real measures a v1 or hybrid host; this is v2');
  const parent = `livestat-bench-${process.pid}`;
  const roots = [
    ...new Set([
      ...V1_CONTROLLERS.map((c) => mounts.v1[c]).filter((r): r is string => r !== undefined),
      ...(mounts.unified === null ? [] : [mounts.unified]),
    ]),
  ];
  const ids = Array.from({ length: count }, (_, i) => `${parent}/${containerId(i)}`);
  const made: string[] = [];
  const remove = () => {
    for (const dir of made.reverse()) rmdirSync(dir);
    made.length = 0;
  };
  try {
    for (const root of roots) {
      mkdirSync(path.join(root, parent));
      made.push(path.join(root, parent));
      for (const id of ids) {
        mkdirSync(path.join(root, id));
        made.push(path.join(root, id));
      }
    }
  } catch (err) {
    remove();
    throw new Error(`cannot make cgroups under ${roots.join(', ')} (needs root)`, { cause: err });
  }
  return {
    procRoot: '/proc',
    sysRoot: '/sys',
    filesOf: (id) =>
      [
        ...V1_FILES.map(([controller, name]) =>
          mounts.v1[controller as (typeof V1_CONTROLLERS)[number]] === undefined
            ? ''
            : path.join(mounts.v1[controller as (typeof V1_CONTROLLERS)[number]]!, id, name),
        ),
        ...(mounts.unified === null ? [] : PSI_FILES.map((f) => path.join(mounts.unified!, id, f))),
      ].filter((file) => file !== '' && existsSync(file)),
    tickFilesOf: (id) =>
      [
        path.join(mounts.v1.cpuacct ?? '/nonexistent', id, 'cpuacct.usage'),
        path.join(mounts.v1.memory ?? '/nonexistent', id, 'memory.usage_in_bytes'),
      ].filter((file) => existsSync(file)),
    remove,
  };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'livestat-bench-cgroups-'));
const rows: string[] = [];
try {
  for (const count of [50, 500]) {
    const tree = values.real ? realTree(count) : fixtureTree(dir, count);
    try {
      let clock = 0;
      const deps = { procRoot: tree.procRoot, sysRoot: tree.sysRoot, now: () => clock };
      // Fixture files are regular files: ask for kept descriptors, as cgroupfs gets by default.
      const livestat = createCgroupsCollector(deps, { max: 10_000, keepDescriptors: true });
      const everyFile = createCgroupsCollector(deps, {
        max: 10_000,
        keepDescriptors: false,
        slowEveryTicks: 1,
      });
      await livestat.prime?.();
      await everyFile.prime?.();
      const table = livestat.table()!;
      const files = table.groups.flatMap((row) => tree.filesOf(row.id));
      const tickFds = table.groups
        .flatMap((row) => tree.tickFilesOf(row.id))
        .map((f) => openSync(f, 'r'));
      const buffer = Buffer.allocUnsafe(64 * 1024);
      const times = {
        livestat: [] as number[],
        everyFile: [] as number[],
        bare: [] as number[],
        floor: [] as number[],
      };
      let sink = 0;
      const contestants: [keyof typeof times, () => Promise<void>][] = [
        [
          'livestat',
          async () => {
            await livestat.collect();
          },
        ],
        [
          'everyFile',
          async () => {
            await everyFile.collect();
          },
        ],
        [
          'bare',
          async () => {
            for (const file of files) sink += readFileSync(file, 'utf8').length;
          },
        ],
        [
          'floor',
          async () => {
            for (const fd of tickFds) sink += readSync(fd, buffer, 0, buffer.length, 0);
          },
        ],
      ];
      const batch = 10;
      const warmUp = 20;
      for (let done = 0; done < warmUp + ticks; done += batch) {
        const first = (done / batch) % contestants.length;
        const order = [...contestants.slice(first), ...contestants.slice(0, first)];
        for (let i = 0; i < batch; i++) {
          clock += 1000;
          for (const [name, run] of order) {
            const started = process.cpuUsage();
            await run();
            if (done >= warmUp) times[name].push(cpuMs(started));
          }
        }
      }
      if (sink === 0) throw new Error('read nothing');
      const kept = livestat.keptDescriptors();
      for (const fd of tickFds) closeSync(fd);
      await livestat.stop?.();
      await everyFile.stop?.();
      const l = median(times.livestat);
      const e = median(times.everyFile);
      const b = median(times.bare);
      const f = median(times.floor);
      rows.push(
        `| ${table.groups.length} | ${files.length} | ${kept} | ${l.toFixed(3)} | ${e.toFixed(3)} | ` +
          `${b.toFixed(3)} | ${f.toFixed(3)} | ${(l / b).toFixed(2)}× | ${(e / b).toFixed(2)}× |`,
      );
    } finally {
      tree.remove();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `bench/cgroups — ${values.real ? 'this machine’s own cgroup hierarchy' : 'v2 fixture trees on disk'}, ` +
    `CPU ms per tick, median of ${ticks} ticks each, ${os.cpus().length} CPUs, ` +
    `load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
console.log(
  '| cgroups | files | kept fds | livestat | every file each tick | bare readFileSync | floor: pread CPU+memory | livestat/bare | every file/bare |',
);
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) console.log(row);
