import { mkdtemp, rm, symlink, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pressureMetrics } from '@livestat/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import {
  computePressureMetrics,
  createPressureCollector,
  parsePsi,
  PSI_MISSING,
  readPressure,
} from './pressure.js';
import { CollectorError } from './types.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/proc/', import.meta.url));
const PSI = `${fixtures}psi-6.18`;
const NO_PSI = `${fixtures}debian12-vm-6.18/t0`;

const CPU_OLD_KERNEL = 'some avg10=1.50 avg60=0.80 avg300=0.20 total=2000000\n';

describe('parsePsi', () => {
  it('reads some and full, averages in % and the total in µs', () => {
    const text =
      'some avg10=0.26 avg60=0.99 avg300=0.64 total=4747124\n' +
      'full avg10=0.16 avg60=0.11 avg300=0.19 total=2628601\n';
    expect(parsePsi(text, '/proc/pressure/io')).toEqual({
      some: { avg10: 0.26, avg60: 0.99, avg300: 0.64, totalUs: 4747124 },
      full: { avg10: 0.16, avg60: 0.11, avg300: 0.19, totalUs: 2628601 },
    });
  });

  it('gives full null for a cpu file of a kernel before 5.13', () => {
    expect(parsePsi(CPU_OLD_KERNEL, '/proc/pressure/cpu').full).toBeNull();
  });

  it('names the file that has no some line', () => {
    expect(() => parsePsi('', '/proc/pressure/memory')).toThrow(
      /\/proc\/pressure\/memory: no "some"/,
    );
  });
});

describe('computePressureMetrics', () => {
  const reading = (total: number) =>
    parsePsi(CPU_OLD_KERNEL.replace('2000000', String(total)), 'x');
  const host = (total: number) => ({ cpu: reading(total), memory: reading(0), io: reading(0) });

  it('turns the total µs delta into stall ms per second of real elapsed time', () => {
    // 250 ms of stall over 500 ms of wall time: 500 ms/s.
    const metrics = computePressureMetrics(host(1_000_000), host(1_250_000), 500);
    expect(metrics.cpu.some.stallMsPerSec).toBe(500);
    expect(metrics.cpu.full).toBeNull();
    expect(metrics.memory.some.stallMsPerSec).toBe(0);
    expect(pressureMetrics.parse(metrics)).toEqual(metrics);
  });

  it('reads a counter that went backwards as a reset, not a negative stall', () => {
    expect(computePressureMetrics(host(9_000_000), host(10), 1000).cpu.some.stallMsPerSec).toBe(0);
  });
});

describe('readPressure and the collector', () => {
  let dir: string | null = null;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = null;
  });

  it('reads the files captured on a 6.18 kernel', () => {
    const t0 = readPressure(`${PSI}/t0`);
    expect(t0.cpu.some.totalUs).toBe(137962013);
    expect(t0.cpu.full).toEqual({ avg10: 0, avg60: 0, avg300: 0, totalUs: 0 });
    expect(t0.io.full?.totalUs).toBe(2741370);
  });

  it('reports the stall of the captured second, from real readings 1 s apart', async () => {
    // The collector reads through a symlink flipped from t0 to t1, as the golden test does.
    dir = await mkdtemp(path.join(os.tmpdir(), 'livestat-psi-'));
    const root = path.join(dir, 'proc');
    await symlink(`${PSI}/t0`, root);
    let clock = 0;
    const collector = createPressureCollector({
      procRoot: root,
      sysRoot: '/nonexistent',
      now: () => clock,
    });
    await collector.prime?.();
    await unlink(root);
    await symlink(`${PSI}/t1`, root);
    clock = 1000;
    const metrics = await collector.collect();
    expect(pressureMetrics.parse(metrics)).toEqual(metrics);
    if (!metrics.available) throw new Error(metrics.error);
    // 138607062 − 137962013 µs = 645.049 ms of CPU stall in that second.
    expect(metrics.cpu.some.stallMsPerSec).toBe(645.05);
    expect(metrics.cpu.some.avg10).toBe(48.29);
    expect(metrics.io.some.stallMsPerSec).toBe(0);
    expect(metrics.memory.full).toEqual({ avg10: 0, avg60: 0, avg300: 0, stallMsPerSec: 0 });
  });

  it('says PSI is missing on a kernel without /proc/pressure, every tick', async () => {
    expect(() => readPressure(NO_PSI)).toThrow(CollectorError);
    const collector = createPressureCollector({
      procRoot: NO_PSI,
      sysRoot: '/nonexistent',
      now: () => 0,
    });
    await collector.prime?.();
    expect(await collector.collect()).toEqual({ available: false, error: PSI_MISSING });
    expect(await collector.collect()).toEqual({ available: false, error: PSI_MISSING });
  });
});
