import { fileURLToPath } from 'node:url';
import { cpuMetrics } from '@livestat/contracts';
import { describe, expect, it } from 'vitest';
import {
  computeCpuMetrics,
  createCpuCollector,
  parseLoadavg,
  parseProcStat,
  readLoadavg,
  readProcStat,
} from './cpu.js';
import type { CpuSample, Loadavg } from './cpu.js';
import { CollectorError } from './types.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/proc/', import.meta.url));
const DEBIAN = `${fixtures}debian12-vm-6.18`;
const SYNTHETIC = `${fixtures}synthetic-64core-6.8`;

const LOAD: Loadavg = { load1: 0.5, load5: 0.25, load15: 0.1 };

/** A /proc/stat with the given cpu lines (without the `cpu` key) and counters. */
function stat(
  total: string,
  cores: Record<number, string>,
  { ctxt = 1000, intr = 500, running = 2, blocked = 0 } = {},
): string {
  return [
    `cpu  ${total}`,
    ...Object.entries(cores).map(([id, line]) => `cpu${id} ${line}`),
    `intr ${intr} 0 0 17 0 3`,
    `ctxt ${ctxt}`,
    'btime 1795299327',
    'processes 5798',
    `procs_running ${running}`,
    `procs_blocked ${blocked}`,
    'softirq 119460 0 9476 4 4900 55412 0 2 24399 0 25267',
    '',
  ].join('\n');
}

/** Collector deps over a fixture root whose clock returns the given times in turn. */
function deps(procRoot: string, times: number[]) {
  let i = 0;
  return {
    procRoot,
    sysRoot: '/nonexistent-sys',
    now: () => times[Math.min(i++, times.length - 1)] ?? 0,
  };
}

/** Validates a payload against the shared contract and returns it typed. */
function valid(payload: CpuSample): CpuSample {
  expect(cpuMetrics.parse(payload)).toEqual(payload);
  return payload;
}

function expectCode(fn: () => unknown, code: string, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(CollectorError);
  expect((caught as CollectorError).code).toBe(code);
  expect((caught as CollectorError).message).toMatch(message);
}

describe('parseProcStat', () => {
  it('reads the aggregate line, every core and the counters (intr: first number only)', () => {
    const parsed = parseProcStat(
      stat('5090 0 2599 24061 238 0 51 66 0 0', {
        0: '2223 0 1001 12780 7 0 8 32 0 0',
        1: '2866 0 1597 11280 230 0 42 34 0 0',
      }),
    );
    expect(parsed.total).toEqual({
      user: 5090,
      nice: 0,
      system: 2599,
      idle: 24061,
      iowait: 238,
      irq: 0,
      softirq: 51,
      steal: 66,
      guest: 0,
      guestNice: 0,
    });
    expect([...parsed.cores.keys()]).toEqual([0, 1]);
    expect(parsed.cores.get(1)?.iowait).toBe(230);
    expect(parsed).toMatchObject({
      contextSwitches: 1000,
      interrupts: 500,
      processesRunning: 2,
      processesBlocked: 0,
    });
  });

  it('fills the columns an old kernel does not print with 0', () => {
    // Linux 2.4: user nice system idle only.
    const parsed = parseProcStat(stat('100 5 50 845', { 0: '100 5 50 845' }));
    expect(parsed.total).toMatchObject({ user: 100, idle: 845, iowait: 0, steal: 0, guest: 0 });
  });

  it('ignores columns a newer kernel adds after guest_nice', () => {
    const parsed = parseProcStat(
      stat('10 1 2 3 4 5 6 7 8 9 99 98', { 0: '10 1 2 3 4 5 6 7 8 9 99 98' }),
    );
    expect(parsed.total.guestNice).toBe(9);
    expect(Object.keys(parsed.total)).toHaveLength(10);
  });

  it('keeps core ids as numbers, whatever order or gaps the kernel prints (offline cores)', () => {
    const parsed = parseProcStat(stat('3 0 0 3', { 10: '1 0 0 1', 2: '1 0 0 1', 0: '1 0 0 1' }));
    expect([...parsed.cores.keys()].sort((a, b) => a - b)).toEqual([0, 2, 10]);
  });

  it('names what is missing', () => {
    expectCode(
      () => parseProcStat('cpu0 1 2 3 4\nctxt 1\nintr 1\nprocs_running 1\nprocs_blocked 0\n'),
      'missing_field',
      /no aggregate "cpu" line/,
    );
    expectCode(
      () => parseProcStat('cpu 1 2 3 4\nctxt 1\nintr 1\nprocs_running 1\nprocs_blocked 0\n'),
      'missing_field',
      /no per-core "cpuN" lines/,
    );
    expectCode(
      () => parseProcStat(stat('1 2 3 4', { 0: '1 2 3 4' }).replace(/^ctxt.*$/m, '')),
      'missing_field',
      /no "ctxt" line/,
    );
    expectCode(() => parseProcStat(''), 'missing_field', /"cpu"/);
  });

  it('rejects garbage values and truncated cpu lines', () => {
    expectCode(
      () => parseProcStat(stat('1 2 x 4', { 0: '1 2 3 4' })),
      'parse_failed',
      /cpu system is not a non-negative integer \(got "x"\)/,
    );
    expectCode(
      () => parseProcStat(stat('1 2 3 4', { 0: '1 2 3' })),
      'parse_failed',
      /"cpu0" has 3 columns, expected at least 4/,
    );
    expectCode(
      () => parseProcStat(stat('1 2 3 4', { 0: '1 2 3 4' }, { running: -1 })),
      'parse_failed',
      /procs_running/,
    );
    expectCode(() => parseProcStat('\u0000\u0001 binary junk'), 'missing_field', /"cpu"/);
  });
});

describe('parseLoadavg', () => {
  it('reads the three averages', () => {
    expect(parseLoadavg('0.34 0.26 0.11 1/152 5798\n')).toEqual({
      load1: 0.34,
      load5: 0.26,
      load15: 0.11,
    });
    expect(parseLoadavg('112.50 96.07 80.00 65/4096 1234567')).toEqual({
      load1: 112.5,
      load5: 96.07,
      load15: 80,
    });
  });

  it('rejects a truncated or garbled file', () => {
    expectCode(() => parseLoadavg('0.34 0.26'), 'parse_failed', /load average 3/);
    expectCode(() => parseLoadavg(''), 'parse_failed', /load average 1/);
    expectCode(() => parseLoadavg('0.34 -1.00 0.11 1/152 5798'), 'parse_failed', /"-1.00"/);
  });
});

describe('computeCpuMetrics', () => {
  it('gives each state its share of the interval and busy = 100 − idle − iowait', () => {
    // Deltas: user 30 nice 10 system 20 idle 30 iowait 5 irq 1 softirq 2 steal 2 = 100 ticks.
    const before = parseProcStat(stat('100 0 100 100 0 0 0 0 0 0', { 0: '100 0 100 100' }));
    const after = parseProcStat(
      stat('130 10 120 130 5 1 2 2 0 0', { 0: '130 10 120 130 5 1 2 2' }, { ctxt: 3000 }),
    );
    const m = valid(computeCpuMetrics(before, after, LOAD, 2000));
    expect(m).toMatchObject({
      userPercent: 30,
      nicePercent: 10,
      systemPercent: 20,
      idlePercent: 30,
      iowaitPercent: 5,
      irqPercent: 1,
      softirqPercent: 2,
      stealPercent: 2,
      usagePercent: 65,
      coreCount: 1,
      load1: 0.5,
      load5: 0.25,
      load15: 0.1,
      contextSwitchesPerSec: 1000,
      interruptsPerSec: 0,
    });
    expect(m.cores).toMatchObject([
      { id: 0, usagePercent: 65, userPercent: 30, systemPercent: 20, iowaitPercent: 5 },
    ]);
  });

  it('does not count guest time twice: it is already inside user and nice', () => {
    // 80 user ticks of which 60 guest, 20 nice of which 20 guest_nice, 100 idle: 200 ticks.
    const before = parseProcStat(stat('0 0 0 0 0 0 0 0 0 0', { 0: '0 0 0 0 0 0 0 0 0 0' }));
    const after = parseProcStat(
      stat('80 20 0 100 0 0 0 0 60 20', { 0: '80 20 0 100 0 0 0 0 60 20' }),
    );
    const m = valid(computeCpuMetrics(before, after, LOAD, 1000));
    expect(m.userPercent).toBe(40);
    expect(m.nicePercent).toBe(10);
    expect(m.idlePercent).toBe(50);
    expect(m.usagePercent).toBe(50);
  });

  it('reports an idle CPU when two reads fall within one tick', () => {
    const same = parseProcStat(stat('5 1 2 90 2 0 0 0', { 0: '5 1 2 90 2 0 0 0' }));
    const m = valid(computeCpuMetrics(same, same, LOAD, 3));
    expect(m).toMatchObject({
      usagePercent: 0,
      userPercent: 0,
      systemPercent: 0,
      iowaitPercent: 0,
      stealPercent: 0,
      idlePercent: 100,
      contextSwitchesPerSec: 0,
    });
    expect(m.cores[0]?.usagePercent).toBe(0);
  });

  it('clamps a counter that went backwards (iowait quirk) instead of going negative', () => {
    // Core 0: iowait 50 → 40, user +20, idle +80. The backwards delta counts as 0.
    const before = parseProcStat(stat('100 0 0 100 50 0 0 0', { 0: '100 0 0 100 50 0 0 0' }));
    const after = parseProcStat(stat('120 0 0 180 40 0 0 0', { 0: '120 0 0 180 40 0 0 0' }));
    const m = valid(computeCpuMetrics(before, after, LOAD, 1000));
    expect(m.iowaitPercent).toBe(0);
    expect(m.userPercent).toBe(20);
    expect(m.idlePercent).toBe(80);
    expect(m.usagePercent).toBe(20);
    expect(m.cores[0]).toMatchObject({
      id: 0,
      usagePercent: 20,
      userPercent: 20,
      systemPercent: 0,
      iowaitPercent: 0,
    });
  });

  it('drops a core that went offline and shows 0 for one that just came online', () => {
    const before = parseProcStat(
      stat('0 0 0 0', { 0: '0 0 0 0', 1: '0 0 0 0', 2: '0 0 0 0' }, { ctxt: 10 }),
    );
    const after = parseProcStat(
      stat('150 0 0 250', { 0: '50 0 0 50', 2: '100 0 0 0', 3: '900 0 0 100' }, { ctxt: 20 }),
    );
    const m = valid(computeCpuMetrics(before, after, LOAD, 1000));
    expect(m.coreCount).toBe(3);
    expect(m.cores.map((c) => [c.id, c.usagePercent])).toEqual([
      [0, 50],
      [2, 100],
      [3, 0],
    ]);
    expect(m.cores[2]).toMatchObject({
      id: 3,
      usagePercent: 0,
      userPercent: 0,
      systemPercent: 0,
      iowaitPercent: 0,
    });
  });

  it('sorts cores numerically, not as strings', () => {
    const lines = Object.fromEntries([10, 2, 1, 0].map((id) => [id, '1 0 0 1']));
    const s = parseProcStat(stat('4 0 0 4', lines));
    const m = valid(computeCpuMetrics(s, s, LOAD, 1000));
    expect(m.cores.map((c) => c.id)).toEqual([0, 1, 2, 10]);
  });

  it('divides counters by the real elapsed time and treats a reset as 0, never negative', () => {
    const before = parseProcStat(stat('0 0 0 0', { 0: '0 0 0 0' }, { ctxt: 10_000, intr: 900 }));
    const after = parseProcStat(stat('0 0 0 0', { 0: '0 0 0 0' }, { ctxt: 10_300, intr: 200 }));
    const m = valid(computeCpuMetrics(before, after, LOAD, 1500));
    expect(m.contextSwitchesPerSec).toBe(200);
    expect(m.interruptsPerSec).toBe(0);
    expect(valid(computeCpuMetrics(before, after, LOAD, 0)).contextSwitchesPerSec).toBe(0);
  });

  it('rounds shares to two decimals', () => {
    const before = parseProcStat(stat('0 0 0 0', { 0: '0 0 0 0' }));
    const after = parseProcStat(stat('1 0 1 1', { 0: '1 0 1 1' }, { ctxt: 1001 }));
    const m = valid(computeCpuMetrics(before, after, LOAD, 3000));
    expect(m.userPercent).toBe(33.33);
    expect(m.usagePercent).toBe(66.67);
    expect(m.contextSwitchesPerSec).toBe(0.33);
  });
});

describe('readers and collector', () => {
  it('reads the real debian fixture', async () => {
    const s = await readProcStat(`${DEBIAN}/t0`);
    expect(s.cores.size).toBe(2);
    expect(s.contextSwitches).toBe(773095);
    expect(s.interrupts).toBe(284719);
    expect(await readLoadavg(`${DEBIAN}/t1`)).toEqual({ load1: 0.34, load5: 0.26, load15: 0.11 });
  });

  it('computes the debian 2-vCPU interval exactly', async () => {
    // t0 → t1 aggregate deltas: user 43 system 27 idle 114 iowait 5 softirq 5 steal 10 = 204.
    const before = await readProcStat(`${DEBIAN}/t0`);
    const after = await readProcStat(`${DEBIAN}/t1`);
    const m = valid(computeCpuMetrics(before, after, await readLoadavg(`${DEBIAN}/t1`), 1000));
    expect(m.userPercent).toBeCloseTo((43 / 204) * 100, 2);
    expect(m.systemPercent).toBeCloseTo((27 / 204) * 100, 2);
    expect(m.idlePercent).toBeCloseTo((114 / 204) * 100, 2);
    expect(m.stealPercent).toBeCloseTo((10 / 204) * 100, 2);
    expect(m.usagePercent).toBeCloseTo((85 / 204) * 100, 2);
    expect(m.contextSwitchesPerSec).toBe(779663 - 773095);
    expect(m.interruptsPerSec).toBe(287558 - 284719);
    expect(m).toMatchObject({ coreCount: 2, processesRunning: 4, processesBlocked: 0 });
    // cpu1: user 33 system 19 idle 35 iowait 5 softirq 5 steal 8 = 105 ticks.
    expect(m.cores[1]?.usagePercent).toBeCloseTo((65 / 105) * 100, 2);
    expect(m.cores[1]?.iowaitPercent).toBeCloseTo((5 / 105) * 100, 2);
  });

  it('collects the synthetic 64-core server with a fake clock', async () => {
    const clockAndRoot = deps(`${SYNTHETIC}/t0`, [0, 1000]);
    const collector = createCpuCollector(clockAndRoot);
    await collector.prime?.();
    // /proc changes between the two reads; here the root moves from t0 to t1.
    clockAndRoot.procRoot = `${SYNTHETIC}/t1`;
    const m = valid((await collector.collect()) as CpuSample);

    expect(m.coreCount).toBe(64);
    expect(m.cores.map((c) => c.id)).toEqual([...Array(64).keys()]);
    // Aggregate: 6397 ticks, idle 3088, iowait 287, user 2201 (guest ticks not added again).
    expect(m.usagePercent).toBeCloseTo((3022 / 6397) * 100, 2);
    expect(m.userPercent).toBeCloseTo((2201 / 6397) * 100, 2);
    expect(m.iowaitPercent).toBeCloseTo((287 / 6397) * 100, 2);
    expect(m.stealPercent).toBe(0);
    expect(m.contextSwitchesPerSec).toBe(412345);
    expect(m.interruptsPerSec).toBe(198765);
    expect(m).toMatchObject({ load1: 38.51, processesRunning: 19, processesBlocked: 5 });

    expect(m.cores[0]).toMatchObject({
      id: 0,
      usagePercent: 97,
      userPercent: 85,
      systemPercent: 10,
      iowaitPercent: 0,
    });
    expect(m.cores[20]?.usagePercent).toBe(62);
    expect(m.cores[40]?.usagePercent).toBe(15);
    expect(m.cores[49]).toMatchObject({ usagePercent: 30, iowaitPercent: 30 });
    // cpu50's iowait went back 3 ticks: clamped, so its shares are over the 100 forward ticks.
    expect(m.cores[50]).toMatchObject({
      id: 50,
      usagePercent: 25,
      userPercent: 5,
      systemPercent: 20,
      iowaitPercent: 0,
    });
    expect(m.cores[60]?.usagePercent).toBe(0);
    expect(m.cores[63]?.usagePercent).toBe(3);
  });

  it('primes itself on a first collect without prime: an idle interval, zero rates', async () => {
    const collector = createCpuCollector(deps(`${DEBIAN}/t0`, [5000, 6000]));
    const first = valid((await collector.collect()) as CpuSample);
    expect(first).toMatchObject({
      usagePercent: 0,
      idlePercent: 100,
      contextSwitchesPerSec: 0,
      interruptsPerSec: 0,
      coreCount: 2,
      load1: 0.34,
    });
    // Same files again 1 s later: counters did not move, rates stay 0 rather than failing.
    const second = valid((await collector.collect()) as CpuSample);
    expect(second.contextSwitchesPerSec).toBe(0);
  });

  it('fails with a CollectorError naming the missing file', async () => {
    const collector = createCpuCollector(deps('/nonexistent-proc', [0]));
    await expect(collector.collect()).rejects.toThrow(CollectorError);
    await expect(collector.collect()).rejects.toThrow(/\/nonexistent-proc\/(stat|loadavg)/);
  });
});
