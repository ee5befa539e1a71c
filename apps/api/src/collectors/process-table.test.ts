import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createProcessReader,
  keptStatFdBudget,
  MAX_KEPT_STAT_FDS,
  type ProcessReader,
} from './process-table.js';

// The kept `stat` descriptors only exist on a real procfs (fixture trees are read by path), so
// these run against this machine's /proc with real child processes.

const openFds = () => readdirSync('/proc/self/fd').length;
const pidsInProc = () => readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Waits (5 s at most) until `check()` holds. */
const until = async (check: () => boolean) => {
  const giveUpAt = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > giveUpAt) throw new Error('timed out waiting');
    await pause(20);
  }
};
/** utime + stime of `pid`, from its `stat`. */
const cpuTicksOf = (pid: number) => {
  const after = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)!.split(' ');
  return Number(after[11]) + Number(after[12]);
};

describe('process reader on the live /proc, with stat descriptors kept between ticks', () => {
  let reader: ProcessReader | null = null;
  afterEach(() => {
    reader?.close();
    reader = null;
  });

  it('keeps one descriptor per process, bounded, and closes them all on close()', () => {
    const before = openFds();
    reader = createProcessReader({ procRoot: '/proc', now: () => performance.now() });
    reader.read();
    const kept = openFds() - before;
    expect(kept).toBeGreaterThan(0);
    // One per process or kernel thread (a few may have started since the count).
    expect(kept).toBeLessThanOrEqual(Math.min(pidsInProc() + 5, keptStatFdBudget()));
    reader.read();
    expect(openFds() - before).toBeLessThanOrEqual(kept + 2);
    reader.close();
    expect(openFds()).toBe(before);
  });

  it('sees a child start, run and exit through its kept descriptor, without an error', async () => {
    reader = createProcessReader({ procRoot: '/proc', now: () => performance.now() });
    reader.read();
    const child = spawn(
      process.execPath,
      ['-e', 'const end = Date.now() + 400; while (Date.now() < end);'],
      {
        stdio: 'ignore',
      },
    );
    await once(child, 'spawn');
    const pid = child.pid!;
    expect(reader.read().entries.some((e) => e.pid === pid)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 250));
    const busy = reader.read().entries.find((e) => e.pid === pid);
    expect(busy?.cpuPercent).toBeGreaterThan(0);
    await once(child, 'exit');
    // Reaped: its kept descriptor answers ESRCH, and the pid is gone from the listing.
    const after = reader.read();
    expect(after.entries.some((e) => e.pid === pid)).toBe(false);
  });
  it('takes the new name and command line of a process that exec()s under the same pid', async () => {
    reader = createProcessReader({ procRoot: '/proc', now: () => performance.now() });
    const child = spawn('/bin/sh', ['-c', 'read line; exec sleep 30'], {
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    await once(child, 'spawn');
    const pid = child.pid!;
    try {
      await until(() => stateOf(pid).startsWith('S'));
      const before = reader.read().entries.find((e) => e.pid === pid);
      expect(before).toMatchObject({ name: 'sh', command: '/bin/sh -c read line; exec sleep 30' });
      child.stdin!.end('go\n');
      await until(() => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep');
      // Read within PROCESS_IDLE_EVERY_TICKS ticks at worst (it ran, so at the next one here).
      let after;
      for (let tick = 0; tick < 4 && after?.name !== 'sleep'; tick++) {
        await pause(50);
        after = reader.read().entries.find((e) => e.pid === pid);
      }
      expect(after).toMatchObject({ pid, name: 'sleep', command: 'sleep 30' });
      expect(after!.startedAt).toBe(before!.startedAt);
    } finally {
      child.kill();
    }
  });
});

describe('the kept-descriptor budget', () => {
  it('is a quarter of the soft open-files limit, at most MAX_KEPT_STAT_FDS, 0 when unknown', async () => {
    const { mkdtemp, rm, writeFile } = await import('node:fs/promises');
    const dir = await mkdtemp('/tmp/livestat-limits-');
    const limits = (soft: string) =>
      `Limit                     Soft Limit           Hard Limit           Units\n` +
      `Max open files            ${soft}                 1048576              files\n`;
    const at = async (soft: string) => {
      await writeFile(`${dir}/limits`, limits(soft));
      return keptStatFdBudget(`${dir}/limits`);
    };
    expect(await at('1024')).toBe(256);
    expect(await at('1048576')).toBe(MAX_KEPT_STAT_FDS);
    expect(await at('unlimited')).toBe(MAX_KEPT_STAT_FDS);
    expect(keptStatFdBudget(`${dir}/missing`)).toBe(0);
    await rm(dir, { recursive: true });
  });
});

describe('a sleeping single-threaded process, told by its schedstat', () => {
  it('is not read while it sleeps, and its CPU counts in the tick it ran, exactly', async () => {
    let clock = 0;
    const reader = createProcessReader({
      procRoot: '/proc',
      now: () => clock,
      clockTicks: 100,
      idleEveryTicks: 1,
    });
    // dash: one thread. It sleeps until told, burns CPU in a loop, then sleeps again.
    const child = spawn(
      'sh',
      ['-c', 'read go; i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; sleep 30'],
      { stdio: ['pipe', 'ignore', 'ignore'] },
    );
    try {
      await once(child, 'spawn');
      const pid = child.pid!;
      // `spawn` resolves at exec: the shell may still be starting (loading, parsing) and using
      // CPU. Wait until it is asleep in `read` with its run time standing, as the ticks below
      // assume (on a loaded machine it once still ran between them).
      let runNs = runTimeOf(pid);
      for (let i = 0; i < 100; i++) {
        await pause(50);
        const now = runTimeOf(pid);
        if (now === runNs && /^S/.test(stateOf(pid))) break;
        runNs = now;
      }
      const entryOf = (table: ReturnType<ProcessReader['read']>) =>
        table.entries.find((e) => e.pid === pid);
      reader.read(); // new: identified, its schedstat kept
      clock = 100;
      reader.read(); // its stat read once more, with the run time read just before it
      expect(entryOf(reader.read())?.schedFd).toBeGreaterThanOrEqual(0);
      clock = 200;
      const statReadMs = entryOf(reader.read())!.statReadMs;
      clock = 300;
      // It sleeps (in `read`): only schedstat is read, nothing of it moved. (Entries are
      // reused from tick to tick: copied.)
      const asleep = { ...entryOf(reader.read())! };
      expect(asleep.statReadMs).toBe(statReadMs);
      expect(asleep.cpuPercent).toBe(0);
      // Wait until the loop ran and it sleeps again in `sleep 30`, its CPU time standing.
      child.stdin!.write('go\n');
      let ticks = cpuTicksOf(pid);
      for (let i = 0; i < 100; i++) {
        await pause(200);
        const now = cpuTicksOf(pid);
        if (now === ticks && now > asleep.cpuTicks && /^S/.test(stateOf(pid))) break;
        ticks = now;
      }
      clock = 1300;
      const ran = { ...entryOf(reader.read())! };
      expect(ran.statReadMs).toBe(1300);
      expect(ran.cpuTicks).toBe(cpuTicksOf(pid));
      expect(ran.cpuTicks).toBeGreaterThan(asleep.cpuTicks);
      // The ticks it used over the one second since the last tick: 1/100 s each, 1 %.
      expect(ran.cpuPercent).toBe(ran.cpuTicks - asleep.cpuTicks);
    } finally {
      child.kill('SIGKILL');
      reader.close();
    }
  });
});

const stateOf = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)!;
const runTimeOf = (pid: number) => readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0];
