import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  FAKE_PASSWD,
  fakeProcesses,
  makeTreeDir,
  writeProcessTree,
  type FakeProcess,
} from '../../test/process-tree.js';
import { createProcessReader, type ProcessReader } from '../collectors/process-table.js';
import { processTick, tickToRollupRow } from './process-ticks.js';

let dir: string | null = null;
const readers: ProcessReader[] = [];
afterEach(() => {
  for (const reader of readers.splice(0)) reader.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

describe('process ticks of a table whose idle processes are read every 4th tick', () => {
  it('store all the CPU and I/O a sleeper used, as a table read every tick does', async () => {
    dir = makeTreeDir();
    const proc = path.join(dir, 'proc');
    mkdirSync(path.join(dir, 'etc'));
    writeFileSync(path.join(dir, 'etc/passwd'), FAKE_PASSWD);
    let clock = 0;
    const reader = (idleEveryTicks: number) => {
      const created = createProcessReader({
        procRoot: proc,
        rootFs: dir!,
        now: () => clock,
        clockTicks: 100,
        pageSize: 4096,
        idleEveryTicks,
      });
      readers.push(created);
      return created;
    };
    let tree = fakeProcesses(10);
    await writeProcessTree(proc, tree);
    const [everyTick, idleEvery4] = [reader(1), reader(4)];
    // pid → [CPU-seconds, I/O bytes] summed over the stored rows, as the rollups sum them.
    const sums = [new Map<number, [number, number]>(), new Map<number, [number, number]>()];
    let sleeperRow: number | null = null;
    for (let tick = 1; tick <= 12; tick++) {
      // Pid 112 sleeps in one thread; after tick 4 (a read of it) it runs 0.4 s and reads
      // 40,960 bytes, seen at tick 8 by the reader of idle processes.
      if (tick === 5) {
        tree = tree.map((p): FakeProcess =>
          p.pid === 112 ? { ...p, cpuTicks: p.cpuTicks + 40, readBytes: p.readBytes! + 40_960 } : p,
        );
      }
      await writeProcessTree(proc, tree);
      for (const [i, r] of [everyTick, idleEvery4].entries()) {
        const table = r.read();
        if (tick === 1) continue;
        for (const row of processTick(table).rows) {
          const [, , , , cpuSeconds, , ioBytes] = tickToRollupRow(row, clock, 1000);
          const sum = sums[i]!.get(row[0]) ?? [0, 0];
          sums[i]!.set(row[0], [sum[0] + cpuSeconds, sum[1] + (ioBytes ?? 0)]);
          if (i === 1 && row[0] === 112 && row[4] > 0) {
            sleeperRow = row[4];
            // Live, its CPU is the average over the 4 s since its last read.
            expect(table.entries.find((e) => e.pid === 112)!.cpuPercent).toBe(10);
          }
        }
      }
      clock += 1000;
    }
    // All 0.4 s in the one tick that saw it: 40 % of that tick.
    expect(sleeperRow).toBe(40);
    // I/O rates are whole bytes/s: over a span of s seconds up to s / 2 bytes are rounded off.
    const [cpu, io] = sums[1]!.get(112)!;
    expect(cpu).toBeCloseTo(0.4, 9);
    expect(Math.abs(io - 40_960)).toBeLessThanOrEqual(5);
    expect([...sums[1]!.keys()].sort()).toEqual([...sums[0]!.keys()].sort());
    for (const [pid, [cpuEvery, ioEvery]] of sums[0]!) {
      const [cpuIdle, ioIdle] = sums[1]!.get(pid)!;
      expect(cpuIdle).toBeCloseTo(cpuEvery, 9);
      expect(Math.abs(ioIdle - ioEvery)).toBeLessThanOrEqual(5);
    }
  });
});
