import { mkdir, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processesMetrics, type ProcessesMetrics } from '@livestat/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAKE_BTIME,
  FAKE_PASSWD,
  fakeProcesses,
  makeTreeDir,
  statLine,
  writeProcess,
  writeProcessTree,
  type FakeProcess,
} from '../../test/process-tree.js';
import { createProcessesCollector, sortedEntries, toProcessRow } from './processes.js';

const FIXTURE = fileURLToPath(
  new URL('../../test/fixtures/proc/processes-debian12-6.18/', import.meta.url),
);

type Available = Extract<ProcessesMetrics, { available: true }>;

let workDir: string | null = null;
afterEach(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
  workDir = null;
});

/** The fields after `comm` of a stat line, split the plain way, for brute-force expectations. */
function fields(statText: string): string[] {
  return statText
    .slice(statText.lastIndexOf(')') + 2)
    .trim()
    .split(' ');
}

describe('processes collector on real /proc files (Linux 6.18)', () => {
  async function collectFixture() {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'livestat-processes-'));
    const proc = path.join(workDir, 'proc');
    await symlink(path.join(FIXTURE, 't0'), proc);
    let clock = 0;
    const collector = createProcessesCollector(
      {
        procRoot: proc,
        sysRoot: '/nonexistent',
        rootFs: path.join(FIXTURE, 'rootfs'),
        now: () => clock,
      },
      { clockTicks: 100, pageSize: 4096 },
    );
    await collector.prime!();
    await unlink(proc);
    await symlink(path.join(FIXTURE, 't1'), proc);
    clock = 1000;
    const section = (await collector.collect()) as Available;
    return { section, table: collector.latestTable()! };
  }

  it('counts every process but the kernel threads, with the zombie', async () => {
    const { section, table } = await collectFixture();
    expect(processesMetrics.parse(section)).toEqual(section);
    expect(table.entries.map((e) => e.pid).sort((a, b) => a - b)).toEqual([
      1, 3061, 3062, 3063, 3064, 3070,
    ]);
    expect(section).toMatchObject({ total: 6, zombie: 1, ioUnavailableReason: null });
    const rows = table.entries.map(toProcessRow);
    expect(rows.find((r) => r.pid === 3070)).toMatchObject({
      state: 'Z',
      command: '',
      rssBytes: 0,
    });
  });

  it('reads names with spaces and parentheses, the owner, and a capped command line', async () => {
    const { table } = await collectFixture();
    const byPid = new Map(table.entries.map((e) => [e.pid, toProcessRow(e)]));
    expect(byPid.get(3061)?.name).toBe('my (odd) name');
    expect(byPid.get(3063)?.name).toBe('busy) R 1 (x');
    expect(byPid.get(3061)?.user).toBe('root');
    const long = await readFile(path.join(FIXTURE, 't0/3064/cmdline'), 'utf8');
    expect(long.length).toBeGreaterThan(1024);
    expect(byPid.get(3064)?.command).toBe(long.replaceAll('\u0000', ' ').slice(0, 1024));
  });

  it('gives CPU % from the utime+stime delta, RSS from pages and start time from btime', async () => {
    const { section, table } = await collectFixture();
    const btime = Number(
      /btime (\d+)/.exec(await readFile(path.join(FIXTURE, 't1/stat'), 'utf8'))![1],
    );
    for (const entry of table.entries) {
      const before = fields(await readFile(path.join(FIXTURE, `t0/${entry.pid}/stat`), 'utf8'));
      const after = fields(await readFile(path.join(FIXTURE, `t1/${entry.pid}/stat`), 'utf8'));
      const ticks = (f: string[]) => Number(f[11]) + Number(f[12]);
      expect(entry.cpuPercent).toBeCloseTo(ticks(after) - ticks(before), 5);
      expect(entry.rssBytes).toBe(Number(after[21]) * 4096);
      expect(entry.threads).toBe(Number(after[17]));
      expect(Date.parse(entry.startedAt)).toBe(btime * 1000 + Number(after[19]) * 10);
    }
    // dd copying /dev/zero is the busiest.
    expect(section.topByCpu[0]).toBe(3063);
  });
});

const loadavg = (lastPid: number) => `0.10 0.20 0.30 1/120 ${lastPid}\n`;

const ioPages = (p: FakeProcess) => (p.pid % 37 === 0 ? 0 : p.pid % 11);

describe('processes collector on a hand-built tree', () => {
  // Idle processes are read every tick here unless a test says otherwise.
  async function setUp(processes: FakeProcess[], listOnNewPid = false, idleEveryTicks = 1) {
    workDir = makeTreeDir();
    const proc = path.join(workDir, 'proc');
    await writeProcessTree(proc, processes);
    if (listOnNewPid) await writeFile(path.join(proc, 'loadavg'), loadavg(500));
    const rootFs = path.join(workDir, 'rootfs');
    await mkdir(path.join(rootFs, 'etc'), { recursive: true });
    await writeFile(path.join(rootFs, 'etc/passwd'), FAKE_PASSWD);
    let clock = 0;
    const collector = createProcessesCollector(
      { procRoot: proc, sysRoot: '/nonexistent', rootFs, now: () => clock },
      { clockTicks: 100, pageSize: 4096, listOnNewPid, idleEveryTicks },
    );
    await collector.prime!();
    const collect = async () => {
      clock += 1000;
      return (await collector.collect()) as Available;
    };
    return {
      proc,
      collector,
      collect,
      async tick(next: FakeProcess[]) {
        await writeProcessTree(proc, next);
        return collect();
      },
    };
  }

  it('matches a brute-force count and ranking of 2,000 processes', async () => {
    const t0 = fakeProcesses(2000);
    // In the second second each process used (pid % 37) ticks and, if it ran, read (pid % 11)
    // pages: one that did not run cannot have read.
    const t1 = t0.map((p) => ({
      ...p,
      cpuTicks: p.cpuTicks + (p.pid % 37),
      readBytes: p.readBytes! + ioPages(p) * 4096,
    }));
    const { collector, tick } = await setUp(t0);
    const section = await tick(t1);
    const user = t1.filter((p) => p.pid !== 2 && p.ppid !== 2);
    expect(section).toMatchObject({
      total: 2000,
      running: user.filter((p) => p.state === 'R').length,
      blocked: user.filter((p) => p.state === 'D').length,
      zombie: user.filter((p) => p.state === 'Z').length,
      threads: user.reduce((sum, p) => sum + p.threads, 0),
    });
    const rank = (key: (p: FakeProcess) => number) =>
      [...user]
        .sort((a, b) => key(b) - key(a) || a.pid - b.pid)
        .slice(0, 5)
        .map((p) => p.pid);
    expect(section.topByCpu).toEqual(rank((p) => p.pid % 37));
    expect(section.topByMemory).toEqual(rank((p) => p.rssPages));
    expect(section.topByIo).toEqual(rank(ioPages));
    expect(section.top.length).toBeLessThanOrEqual(15);
    // The full table a watcher gets, sorted, agrees with the same brute force.
    const table = collector.latestTable()!;
    expect(sortedEntries(table.entries, 'memory', 100).map((e) => e.pid)).toEqual(
      [...user]
        .sort((a, b) => b.rssPages - a.rssPages || a.pid - b.pid)
        .slice(0, 100)
        .map((p) => p.pid),
    );
    const users = new Map(table.entries.map((e) => [e.pid, e.user]));
    expect(users.get(1)).toBe('root');
    expect(user.filter((p) => p.uid === 1000).every((p) => users.get(p.pid) === 'alice')).toBe(
      true,
    );
    expect(user.filter((p) => p.uid === 1001).every((p) => users.get(p.pid) === '1001')).toBe(true);
    const started = table.entries.find((e) => e.pid === 1)!.startedAt;
    expect(Date.parse(started)).toBe(FAKE_BTIME * 1000 + 500 * 10);
  });

  it('treats a reused pid as a new process: new name, no CPU carried over', async () => {
    const t0 = fakeProcesses(20);
    const reused = t0[10]!;
    const t1 = t0.map((p) =>
      p === reused
        ? {
            ...p,
            comm: 'newcomer',
            startTicks: p.startTicks + 9000,
            cpuTicks: p.cpuTicks + 500,
            argv: ['newcomer'],
          }
        : p,
    );
    const { collector, tick } = await setUp(t0);
    await tick(t1);
    const entry = collector.latestTable()!.entries.find((e) => e.pid === reused.pid)!;
    expect(toProcessRow(entry)).toMatchObject({
      name: 'newcomer',
      command: 'newcomer',
      cpuPercent: 0,
    });
    expect(Date.parse(entry.startedAt)).toBe(FAKE_BTIME * 1000 + (reused.startTicks + 9000) * 10);
    // From the next tick on its own CPU counts.
    const t2 = t1.map((p) => (p.pid === reused.pid ? { ...p, cpuTicks: p.cpuTicks + 50 } : p));
    await tick(t2);
    expect(collector.latestTable()!.entries.find((e) => e.pid === reused.pid)!.cpuPercent).toBe(50);
  });

  it("reads a sleeping process's io at least every 10 s, so its bytes count late, not never", async () => {
    const t0 = fakeProcesses(5);
    const sleeper = t0[3]!;
    // Counted though the process shows no CPU (it ran for less than a clock tick).
    const t1 = t0.map((p) => (p === sleeper ? { ...p, readBytes: p.readBytes! + 90_000 } : p));
    const { collector, tick, collect } = await setUp(t0);
    await tick(t1);
    const rate = () =>
      collector.latestTable()!.entries.find((e) => e.pid === sleeper.pid)!.readBytesPerSec;
    expect(rate()).toBe(0);
    for (let i = 0; i < 8; i++) await collect();
    expect(rate()).toBe(0);
    await collect();
    // Read again 10 s after the last read: the 90,000 bytes over those 10 s.
    expect(rate()).toBe(9000);
  });

  it('lists the proc root again only when a pid was created, or 10 s on', async () => {
    const t0 = fakeProcesses(10);
    const { proc, collect, collector } = await setUp(t0, true);
    const newcomer: FakeProcess = { ...t0.at(-1)!, pid: 900, comm: 'newcomer', startTicks: 9000 };
    const pids = (section: Available) => section.total;
    // A new process in the tree, but loadavg's last pid stands: not listed, so not seen
    // (a real kernel hands out a pid for every new process).
    writeProcess(proc, newcomer);
    const user = t0.filter((p) => p.ppid !== 2 && p.pid !== 2).length;
    expect(pids(await collect())).toBe(user);
    // A process that exited is gone without a listing: its stat is read and missing.
    await rm(path.join(proc, String(t0.at(-2)!.pid)), { recursive: true });
    expect(pids(await collect())).toBe(user - 1);
    // The last pid moved: listed, the newcomer is there.
    await writeFile(path.join(proc, 'loadavg'), loadavg(900));
    const section = await collect();
    expect(pids(section)).toBe(user);
    expect(collector.latestTable()!.entries.map((e) => e.name)).toContain('newcomer');
    // Without new pids, a listing still happens every 10 s: a second newcomer shows by then.
    writeProcess(proc, { ...newcomer, pid: 901, comm: 'late' });
    for (let i = 0; i < 9; i++) expect(pids(await collect())).toBe(user);
    expect(pids(await collect())).toBe(user + 1);
  });

  it('looks up the few pids handed out since the last tick, without listing', async () => {
    const t0 = fakeProcesses(10);
    const { proc, collect, collector } = await setUp(t0, true);
    const user = t0.filter((p) => p.ppid !== 2 && p.pid !== 2).length;
    const names = () => collector.latestTable()!.entries.map((e) => e.name);
    const base = t0.at(-1)!;
    // Pids 501–520 were handed out: 505 is a process; 510 a thread of pid 1 (its own
    // /proc/510 answers, though no listing shows it); the rest are gone already.
    writeProcess(proc, { ...base, pid: 505, comm: 'fresh', startTicks: 9000 });
    writeProcess(proc, { ...base, pid: 510, comm: 'a-thread', startTicks: 9001 });
    await writeFile(
      path.join(proc, '510/status'),
      'Name:\ta-thread\nTgid:\t1\nPid:\t510\nUid:\t0\n',
    );
    // Not listed: a process in the tree under a pid that was not handed out is not seen.
    writeProcess(proc, { ...base, pid: 700, comm: 'unlisted', startTicks: 9002 });
    await writeFile(path.join(proc, 'loadavg'), loadavg(520));
    const section = await collect();
    expect(section.total).toBe(user + 1);
    expect(names()).toContain('fresh');
    expect(names()).not.toContain('a-thread');
    // 530 handed out, its task not shown yet (a fork under way): looked for once more.
    await writeFile(path.join(proc, 'loadavg'), loadavg(530));
    expect((await collect()).total).toBe(user + 1);
    writeProcess(proc, { ...base, pid: 530, comm: 'forking', startTicks: 9003 });
    expect((await collect()).total).toBe(user + 2);
    expect(names()).toContain('forking');
    expect(names()).not.toContain('unlisted');
  });

  it('lists the proc root every tick when loadavg cannot be read', async () => {
    const t0 = fakeProcesses(10);
    const { proc, tick } = await setUp(t0, true);
    await rm(path.join(proc, 'loadavg'));
    const newcomer: FakeProcess = { ...t0.at(-1)!, pid: 900, comm: 'newcomer', startTicks: 9000 };
    const user = t0.filter((p) => p.ppid !== 2 && p.pid !== 2).length;
    expect((await tick([...t0, newcomer])).total).toBe(user + 1);
  });

  it('skips a process that vanished mid-read, without an error', async () => {
    const t0 = fakeProcesses(10);
    const { proc, collect } = await setUp(t0);
    // Listed, but one's stat is gone and the other's reads empty: both exited meanwhile.
    const [gone, half] = [t0[6]!, t0[7]!];
    await rm(path.join(proc, String(gone.pid), 'stat'));
    await writeFile(path.join(proc, String(half.pid), 'stat'), '');
    const section = await collect();
    expect(section.total).toBe(t0.filter((p) => p.ppid !== 2 && p.pid !== 2).length - 2);
    expect(section.top.map((p) => p.pid)).not.toContain(gone.pid);
  });

  describe('with idle processes read every 4th tick', () => {
    // fakeProcesses: i = 4 and 8 are single-threaded sleepers (pids 112, 124); i = 6 sleeps
    // with 3 threads (pid 118). Ticks are numbered from 1 (the prime); an idle process is read
    // on the ticks where (tick + pid) % 4 is 0: pids 112 and 124 on ticks 4, 8, 12...
    const SLEEPER = 112;
    const change = (processes: FakeProcess[], pid: number, to: Partial<FakeProcess>) =>
      processes.map((p) => (p.pid === pid ? { ...p, ...to } : p));

    /** A tree rewritten (and so listed) each tick. */
    async function idleSetUp() {
      let tree = fakeProcesses(10);
      const setup = await setUp(tree, false, 4);
      const entry = (pid: number) => {
        const found = setup.collector.latestTable()!.entries.find((e) => e.pid === pid);
        return found ? { ...found } : undefined;
      };
      /** Changes `pid` in the tree (or nothing) and ticks once. */
      const tick = (pid?: number, to: Partial<FakeProcess> = {}) => {
        if (pid !== undefined) tree = change(tree, pid, to);
        return setup.tick(tree);
      };
      // Tick 2: read once more with nothing moved, so idle from then on.
      await tick();
      expect(entry(SLEEPER)!.idle).toBe(true);
      return { tick, entry };
    }

    it('skips an idle process between its turns, then averages its CPU over them', async () => {
      const { tick, entry } = await idleSetUp();
      await tick(); // 3: skipped
      expect(entry(SLEEPER)!.checkedMs).toBe(1000);
      await tick(); // 4: read, nothing moved
      const lastRead = entry(SLEEPER)!;
      expect(lastRead).toMatchObject({ checkedMs: 3000, idle: true });
      // Right after a read it runs 0.4 s and grows, unseen on ticks 5-7.
      await tick(SLEEPER, { cpuTicks: lastRead.cpuTicks + 40, rssPages: 9999 });
      for (let i = 0; i < 3; i++) {
        expect(entry(SLEEPER)).toMatchObject({
          cpuPercent: 0,
          rssBytes: lastRead.rssBytes,
          checkedMs: 3000,
        });
        if (i < 2) await tick();
      }
      await tick(); // 8: its turn, 4 s after the last read
      // 0.4 s of CPU over those 4 s, not all in one second.
      expect(entry(SLEEPER)).toMatchObject({
        cpuPercent: 10,
        cpuSpanMs: 4000,
        rssBytes: 9999 * 4096,
        idle: false,
        checkedMs: 7000,
      });
      // It ran, so it is read the next tick, which finds it idle again.
      await tick();
      expect(entry(SLEEPER)).toMatchObject({ cpuPercent: 0, cpuSpanMs: 1000, idle: true });
      expect(entry(SLEEPER)!.checkedMs).toBe(8000);
    });

    it('reads a process every tick once it runs (state R), however little', async () => {
      const { tick, entry } = await idleSetUp();
      await tick(SLEEPER, { state: 'R' }); // 3: skipped
      expect(entry(SLEEPER)!.state).toBe('S');
      await tick(); // 4: its turn
      expect(entry(SLEEPER)).toMatchObject({ state: 'R', idle: false });
      // From then on each tick, with or without CPU.
      for (let i = 0; i < 6; i++) {
        const before = entry(SLEEPER)!;
        await tick(SLEEPER, { cpuTicks: before.cpuTicks + (i % 2) * 7, rssPages: 200 + i });
        expect(entry(SLEEPER)).toMatchObject({
          checkedMs: before.checkedMs + 1000,
          cpuPercent: (i % 2) * 7,
          rssBytes: (200 + i) * 4096,
        });
      }
      // Asleep again with no CPU: idle once more.
      await tick(SLEEPER, { state: 'S' });
      expect(entry(SLEEPER)!.idle).toBe(true);
    });

    it('reads a multi-threaded sleeper every tick (its leader says nothing of its threads)', async () => {
      const { tick, entry } = await idleSetUp();
      expect(entry(118)).toMatchObject({ state: 'S', threads: 3, cpuPercent: 0, idle: false });
      for (let i = 0; i < 5; i++) {
        await tick(118, { rssPages: 300 + i });
        expect(entry(118)!.rssBytes).toBe((300 + i) * 4096);
      }
    });

    it('notices an idle process that exited or became a zombie by its turn when not listing', async () => {
      const t0 = fakeProcesses(10);
      const { proc, collect, collector } = await setUp(t0, true, 4);
      const has = (pid: number) => collector.latestTable()!.entries.some((e) => e.pid === pid);
      const before = await collect(); // 2: both idle from now on
      await collect(); // 3
      await collect(); // 4: read
      // The last pid stands, so /proc is not listed: 124 exits (reaped), 112 leaves a zombie.
      await rm(path.join(proc, '124'), { recursive: true });
      const sleeper = t0.find((p) => p.pid === SLEEPER)!;
      await writeFile(
        path.join(proc, String(SLEEPER), 'stat'),
        statLine({ ...sleeper, state: 'Z', cpuTicks: sleeper.cpuTicks + 1 }),
      );
      for (let tick = 5; tick <= 7; tick++) {
        const section = await collect();
        expect([section.total, section.zombie, has(124)]).toEqual([
          before.total,
          before.zombie,
          true,
        ]);
      }
      const section = await collect(); // 8: their turn
      expect([section.total, section.zombie, has(124)]).toEqual([
        before.total - 1,
        before.zombie + 1,
        false,
      ]);
    });
  });

  it('reports null I/O with one reason when the kernel has no io files', async () => {
    const t0 = fakeProcesses(10).map((p) => ({ ...p, readBytes: null, writeBytes: null }));
    const { collector, tick } = await setUp(t0);
    const section = await tick(t0);
    expect(section.ioUnavailableReason).toBe(
      '/proc/<pid>/io not found (kernel without task I/O accounting)',
    );
    expect(section.topByIo).toEqual([]);
    expect(section.top.every((p) => p.ioBytesPerSec === null)).toBe(true);
    const row = toProcessRow(collector.latestTable()!.entries[0]!);
    expect([row.readBytesPerSec, row.writeBytesPerSec]).toEqual([null, null]);
  });
});
