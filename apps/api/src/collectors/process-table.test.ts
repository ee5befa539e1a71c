import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync } from 'node:fs';
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

describe('process reader on the live /proc, with stat descriptors kept between ticks', () => {
  let reader: ProcessReader | null = null;
  afterEach(() => {
    reader?.close();
    reader = null;
  });

  it('keeps one descriptor per process, bounded, and closes them all on close()', () => {
    const before = openFds();
    reader = createProcessReader({ procRoot: '/proc', now: () => performance.now() });
    const table = reader.read();
    const kept = openFds() - before;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(Math.min(table.total + 1, keptStatFdBudget()));
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
