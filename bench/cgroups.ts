// bench/cgroups: the cgroups collector's CPU per tick with 50 and 500 cgroups, beside the same
// files read bare.
//
// Five contestants take turns in one run, in batches whose order rotates, so machine noise
// hits all alike:
// - livestat: the cgroups collector's collect() as it runs in production — CPU and memory usage
//   read from descriptors kept open (pread at offset 0), every tick for a cgroup whose usage
//   moved at its last read, every 10 ticks (staggered) for one that was idle; the slow-moving
//   files (memory.max, memory.stat, io.stat, pids.current, *.pressure) every 10 ticks, a tenth
//   of the cgroups each tick — only the PSI files on two turns of three for a cgroup idle at
//   every read since; parsing, rates, top-N and the full table included. The 10 s walk
//   is left to its own schedule (the clock advances 1 s a tick): the median leaves the ticks
//   that walk out, the mean (also printed) spreads them.
// - every cgroup each tick: the same collector reading every cgroup's CPU and memory every
//   tick and all its slow files on every turn (idleEveryTicks 1), as it did before idle
//   cgroups were read less.
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
// Busy cgroups (--busy F, default 0.1): between ticks, outside the timed region, a fraction F
// of the fixture cgroups use CPU and change memory — their cpu.stat and memory.current are
// rewritten: half of them the same cgroups every tick, half drawn anew each tick (a fixed
// seed) from a pool of 4 × that many (2 F of the cgroups), so cgroups also wake up and go
// idle again; the rest never move. This machine's processes over 30 s (/proc/<pid>/stat,
// with other sessions running): 74 % never used CPU, 4 % nearly every second, 21 % in some
// seconds, ~6 % in a given second — so 10 % (5 % always, 20 % sometimes) is on the busy side.
// --busy 1 makes every cgroup busy every tick (the worst case), --busy 0 leaves every file
// as written (the bench before busy cgroups existed). With --real, the
// busy fraction gets a `sh` each that wakes every 0.3 s (fork + exec of `sleep`): real CPU
// and memory changes in real cgroups, the same ones every tick.
// CPU per tick from process.cpuUsage; medians are what to quote.
//
//   npm run -s bench:cgroups -- [--ticks N] [--real] [--busy F] [--idle-every N]
import { spawn, type ChildProcess } from 'node:child_process';
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
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  createCgroupsCollector,
  DEFAULT_IDLE_EVERY_TICKS,
} from '../apps/api/src/collectors/cgroups.js';
import { parseCgroupMounts, V1_CONTROLLERS } from '../apps/api/src/collectors/cgroup-mounts.js';
import { containerId, manyCgroups, writeV2Host } from '../apps/api/test/cgroup-tree.js';

const { values } = parseArgs({
  options: {
    ticks: { type: 'string', default: '300' },
    real: { type: 'boolean', default: false },
    busy: { type: 'string', default: '0.1' },
    'idle-every': { type: 'string' },
  },
});
const ticks = Number(values.ticks);
if (!Number.isInteger(ticks) || ticks < 10) throw new Error('--ticks must be an integer ≥ 10');
const busyShare = Number(values.busy);
if (!(busyShare >= 0 && busyShare <= 1)) throw new Error('--busy must be a fraction, 0 to 1');
const idleEvery = Number(values['idle-every'] ?? DEFAULT_IDLE_EVERY_TICKS);
if (!Number.isInteger(idleEvery) || idleEvery < 1) throw new Error('--idle-every must be ≥ 1');

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
  /**
   * Makes `busy` use CPU and change memory before tick `tick` (outside the timed region);
   * `always` are the cgroups busy every tick, for trees where only those can be.
   */
  touch(busy: readonly string[], always: readonly string[], tick: number): void;
  remove(): Promise<void>;
}

/** A fixture cgroup used 50 ms of CPU and touched a page more or less since the last tick. */
function touchFixture(cgroupRoot: string, id: string, tick: number): void {
  const cpu = path.join(cgroupRoot, id, 'cpu.stat');
  const text = readFileSync(cpu, 'latin1');
  const usage = Number(/^usage_usec (\d+)/.exec(text)![1]) + 50_000;
  writeFileSync(cpu, text.replace(/^usage_usec \d+/, `usage_usec ${usage}`));
  const memory = path.join(cgroupRoot, id, 'memory.current');
  const bytes = Number(readFileSync(memory, 'latin1')) + (tick % 2 === 0 ? 4096 : -4096);
  writeFileSync(memory, `${bytes}\n`);
}

/** A v2 fixture tree of `count` cgroups on the local disk. */
function fixtureTree(dir: string, count: number): Tree {
  const roots = writeV2Host(path.join(dir, String(count)), manyCgroups(count));
  return {
    ...roots,
    filesOf: (id) => V2_FILES.map((name) => path.join(roots.cgroupRoot, id, name)),
    tickFilesOf: (id) => V2_FILES.slice(0, 2).map((name) => path.join(roots.cgroupRoot, id, name)),
    touch: (busy, _always, tick) => {
      for (const id of busy) touchFixture(roots.cgroupRoot, id, tick);
    },
    remove: async () => rmSync(path.join(dir, String(count)), { recursive: true, force: true }),
  };
}

/** `count` cgroups made in this machine's own v1 (or hybrid) hierarchy. */
async function realTree(count: number): Promise<Tree> {
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
  const sleepers = new Map<string, ChildProcess>();
  const remove = async () => {
    for (const child of sleepers.values()) {
      // The shell and the `sleep` it runs: a cgroup can only go once no task is left in it.
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
    }
    sleepers.clear();
    for (const dir of made.reverse()) {
      for (let attempt = 0; ; attempt++) {
        try {
          rmdirSync(dir);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || attempt === 50) throw err;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      }
    }
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
    await remove();
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
    touch: (_busy, always) => {
      // Real cgroups cannot be written busy: the first time, a shell that wakes every 0.3 s
      // moves into each of the always-busy ones and stays.
      for (const id of always) {
        if (sleepers.has(id)) continue;
        const child = spawn('sh', ['-c', 'read go; while :; do sleep 0.3; done'], {
          detached: true,
          stdio: ['pipe', 'ignore', 'inherit'],
        });
        for (const controller of V1_CONTROLLERS) {
          const root = mounts.v1[controller];
          if (root !== undefined)
            writeFileSync(path.join(root, id, 'cgroup.procs'), `${child.pid}\n`);
        }
        child.stdin!.end('go\n');
        sleepers.set(id, child);
      }
    },
    remove,
  };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'livestat-bench-cgroups-'));
const rows: string[] = [];
try {
  for (const count of [50, 500]) {
    const tree = values.real ? await realTree(count) : fixtureTree(dir, count);
    try {
      let clock = 0;
      const deps = { procRoot: tree.procRoot, sysRoot: tree.sysRoot, now: () => clock };
      // Fixture files are regular files: ask for kept descriptors, as cgroupfs gets by default.
      const livestat = createCgroupsCollector(deps, {
        max: 10_000,
        keepDescriptors: true,
        idleEveryTicks: idleEvery,
      });
      const everyGroup = createCgroupsCollector(deps, {
        max: 10_000,
        keepDescriptors: true,
        idleEveryTicks: 1,
      });
      const everyFile = createCgroupsCollector(deps, {
        max: 10_000,
        keepDescriptors: false,
        slowEveryTicks: 1,
        idleEveryTicks: 1,
      });
      await livestat.prime?.();
      await everyGroup.prime?.();
      await everyFile.prime?.();
      const table = livestat.table()!;
      // Which cgroups are busy: `always` every tick (spread over the tree), the rest of the
      // busy share drawn anew each tick among the others.
      const ids = table.groups.map((row) => row.id).sort();
      const busyCount = Math.round(busyShare * ids.length);
      const alwaysCount = values.real ? busyCount : Math.ceil(busyCount / 2);
      const stride = alwaysCount === 0 ? 1 : Math.floor(ids.length / alwaysCount);
      const always = ids.filter((_, i) => i % stride === 0).slice(0, alwaysCount);
      let seed = 0x5eed;
      const random = () => {
        seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
        return seed / 2 ** 32;
      };
      /** The first `n` of `from` after shuffling them (in place). */
      const draw = (from: string[], n: number): string[] => {
        for (let i = 0; i < n; i++) {
          const j = i + Math.floor(random() * (from.length - i));
          [from[i], from[j]] = [from[j]!, from[i]!];
        }
        return from.slice(0, n);
      };
      // The occasionally busy: a pool four times the size of each tick's draw; the others
      // never move.
      const drawnCount = busyCount - always.length;
      const pool = draw(
        ids.filter((id) => !always.includes(id)),
        Math.min(ids.length - always.length, 4 * drawnCount),
      );
      const files = table.groups.flatMap((row) => tree.filesOf(row.id));
      const tickFds = table.groups
        .flatMap((row) => tree.tickFilesOf(row.id))
        .map((f) => openSync(f, 'r'));
      const buffer = Buffer.allocUnsafe(64 * 1024);
      const times = {
        livestat: [] as number[],
        everyGroup: [] as number[],
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
          'everyGroup',
          async () => {
            await everyGroup.collect();
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
          tree.touch([...always, ...draw(pool, drawnCount)], always, done + i);
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
      await everyGroup.stop?.();
      await everyFile.stop?.();
      const l = median(times.livestat);
      const mean = times.livestat.reduce((sum, t) => sum + t, 0) / times.livestat.length;
      const g = median(times.everyGroup);
      const e = median(times.everyFile);
      const b = median(times.bare);
      const f = median(times.floor);
      rows.push(
        `| ${table.groups.length} | ${busyCount} | ${files.length} | ${kept} | ${l.toFixed(3)} | ` +
          `${mean.toFixed(3)} | ${g.toFixed(3)} | ${e.toFixed(3)} | ${b.toFixed(3)} | ` +
          `${f.toFixed(3)} | ${(l / b).toFixed(2)}× | ${(l / g).toFixed(2)}× |`,
      );
    } finally {
      await tree.remove();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(
  `bench/cgroups — ${values.real ? 'this machine’s own cgroup hierarchy' : 'v2 fixture trees on disk'}, ` +
    `CPU ms per tick, median of ${ticks} ticks each, busy share ${busyShare}, idle cgroups read every ${idleEvery} ticks, ${os.cpus().length} CPUs, ` +
    `load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
);
console.log(
  '| cgroups | busy a tick | files | kept fds | livestat | livestat mean | every cgroup each tick | every file each tick | bare readFileSync | floor: pread CPU+memory | livestat/bare | livestat/every cgroup |',
);
console.log(
  '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
);
for (const row of rows) console.log(row);
