import { fileURLToPath } from 'node:url';
import { memoryMetrics } from '@livestat/contracts';
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  computeMemoryMetrics,
  createMemoryCollector,
  parseMeminfo,
  parseMeminfoFields,
  readMeminfo,
} from './memory.js';
import type { MemorySample } from './memory.js';
import { CollectorError } from './types.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/proc/', import.meta.url));
const DEBIAN = `${fixtures}debian12-vm-6.18`;
const SYNTHETIC = `${fixtures}synthetic-64core-6.8`;
const KIB = 1024;
const GIB = 1024 ** 3;

/** A meminfo file from `key: kB` pairs, formatted as the kernel does. */
function meminfo(fields: Record<string, number>): string {
  return Object.entries(fields)
    .map(([key, kb]) => `${`${key}:`.padEnd(16)}${String(kb).padStart(8)} kB`)
    .join('\n')
    .concat('\n');
}

const BASE = {
  MemTotal: 16_000_000,
  MemFree: 2_000_000,
  MemAvailable: 9_000_000,
  Buffers: 500_000,
  Cached: 6_000_000,
  SwapCached: 1_000,
  Shmem: 300_000,
  SReclaimable: 400_000,
  SwapTotal: 4_000_000,
  SwapFree: 3_000_000,
};

/** BASE without one field. */
function without(key: keyof typeof BASE): Record<string, number> {
  return Object.fromEntries(Object.entries(BASE).filter(([k]) => k !== key));
}

/** Validates a payload against the shared contract and returns it typed. */
function valid(payload: MemorySample): MemorySample {
  expect(memoryMetrics.parse(payload)).toEqual(payload);
  return payload;
}

function expectCollectorError(err: unknown, code: string, message: RegExp): void {
  expect(err).toBeInstanceOf(CollectorError);
  expect((err as CollectorError).code).toBe(code);
  expect((err as CollectorError).message).toMatch(message);
}

/** The error `fn` throws, or undefined. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('parseMeminfo', () => {
  it('converts kB to bytes', () => {
    expect(parseMeminfo(meminfo(BASE))).toEqual({
      memTotal: 16_000_000 * KIB,
      memFree: 2_000_000 * KIB,
      memAvailable: 9_000_000 * KIB,
      buffers: 500_000 * KIB,
      cached: 6_000_000 * KIB,
      sReclaimable: 400_000 * KIB,
      shmem: 300_000 * KIB,
      swapTotal: 4_000_000 * KIB,
      swapFree: 3_000_000 * KIB,
    });
  });

  it('treats optional fields an old or minimal kernel lacks as absent', () => {
    // Linux < 3.14 has no MemAvailable; CONFIG_SWAP=n has no swap lines; 2.6.31 and older no Shmem.
    const parsed = parseMeminfo(meminfo({ MemTotal: 1000, MemFree: 200 }));
    expect(parsed).toMatchObject({
      memAvailable: null,
      buffers: 0,
      cached: 0,
      sReclaimable: 0,
      shmem: 0,
      swapTotal: 0,
      swapFree: 0,
    });
  });

  it('ignores fields and garbage lines it does not know', () => {
    const text = `${meminfo(BASE)}Unaccepted:  0 kB\nHugePages_Total:   4\n%%% garbage\nFutureField: 12 kB\n`;
    expect(parseMeminfo(text).memTotal).toBe(16_000_000 * KIB);
  });

  it('requires MemTotal and MemFree', () => {
    const noTotal = without('MemTotal');
    const noFree = without('MemFree');
    expectCollectorError(
      thrownBy(() => parseMeminfo(meminfo(noTotal))),
      'missing_field',
      /no "MemTotal" field/,
    );
    expectCollectorError(
      thrownBy(() => parseMeminfo(meminfo(noFree))),
      'missing_field',
      /no "MemFree" field/,
    );
    expectCollectorError(
      thrownBy(() => parseMeminfo('')),
      'missing_field',
      /MemTotal/,
    );
    expectCollectorError(
      thrownBy(() => parseMeminfo(meminfo({ ...BASE, MemTotal: 0 }))),
      'parse_failed',
      /MemTotal is 0/,
    );
  });
});

describe('parseMeminfoFields', () => {
  // The line grammar, as the regular expression the hand-written scan replaced.
  const byRegExp = (text: string) =>
    [...text.matchAll(/^([^\s:]+):[^\S\n]+(\d+)( kB)?[^\S\n]*$/gm)].map(([, name, value, kb]) => [
      name,
      Number(value) * (kb === undefined ? 1 : KIB),
    ]);
  const files = ['debian12-vm-6.18/t0', 'debian12-vm-6.18/t1', 'synthetic-64core-6.8/t1'].map(
    (dir) => readFileSync(`${fixtures}${dir}/meminfo`, 'utf8'),
  );
  const odd = [
    'MemTotal:  1000 kB\r\nActive(anon):\t17080 kB \nHugePages_Total:       3',
    'NoBlank:12 kB\nNoValue: kB\n: 5 kB\nSpaced Name: 4 kB\nMinus: -4 kB\nUnit: 4 MB\nkB: 7 kBx\n',
    'Half: 12 k\nTrail: 5 kB  \t\n\n\nLast: 9',
  ];

  it('gives what the line grammar gives, on the fixtures and on odd lines', () => {
    for (const text of [...files, ...odd]) expect(parseMeminfoFields(text)).toEqual(byRegExp(text));
  });

  it('reads a reading right whatever the reading before held', () => {
    const [t0, t1] = files as [string, string];
    const before = parseMeminfoFields(t0);
    // The same names (as each tick), others, fewer, or shifted by a line.
    for (const previous of [
      before,
      before.slice(3),
      before.slice(0, 5),
      [['MemTot', 1]] as const,
    ]) {
      expect(parseMeminfoFields(t1, previous)).toEqual(byRegExp(t1));
      expect(parseMeminfoFields(`Extra: 1 kB\n${t1}`, previous)).toEqual(
        byRegExp(`Extra: 1 kB\n${t1}`),
      );
    }
  });
});

describe('computeMemoryMetrics', () => {
  it('computes used, cached and percentages as psutil does', () => {
    const m = valid(computeMemoryMetrics(parseMeminfo(meminfo(BASE))));
    expect(m).toEqual({
      available: true,
      totalBytes: 16_000_000 * KIB,
      freeBytes: 2_000_000 * KIB,
      buffersBytes: 500_000 * KIB,
      // Cached + SReclaimable.
      cachedBytes: 6_400_000 * KIB,
      // 16e6 − 2e6 − 0.5e6 − 6.4e6.
      usedBytes: 7_100_000 * KIB,
      availableBytes: 9_000_000 * KIB,
      sharedBytes: 300_000 * KIB,
      // (16e6 − 9e6) / 16e6.
      usedPercent: 43.75,
      swapTotalBytes: 4_000_000 * KIB,
      swapUsedBytes: 1_000_000 * KIB,
      swapFreeBytes: 3_000_000 * KIB,
      swapUsedPercent: 25,
    });
  });

  it('falls back to total − free when caches exceed what is not free', () => {
    // lxcfs and racing counters can report more cache than total − free.
    const m = valid(
      computeMemoryMetrics(
        parseMeminfo(meminfo({ ...BASE, Cached: 15_000_000, SReclaimable: 900_000 })),
      ),
    );
    expect(m.usedBytes).toBe(14_000_000 * KIB);
  });

  it('estimates available as free + buffers + cached without MemAvailable', () => {
    const old = without('MemAvailable');
    const m = valid(computeMemoryMetrics(parseMeminfo(meminfo(old))));
    expect(m.availableBytes).toBe((2_000_000 + 500_000 + 6_400_000) * KIB);
    // (16e6 − 8.9e6) / 16e6 = 44.375 %, rounded to two decimals.
    expect(m.usedPercent).toBe(44.38);
  });

  it('clamps an available figure larger than total', () => {
    const m = valid(computeMemoryMetrics(parseMeminfo(meminfo({ ...BASE, MemAvailable: 17e6 }))));
    expect(m.availableBytes).toBe(16_000_000 * KIB);
    expect(m.usedPercent).toBe(0);
  });

  it('reports 0 % swap when there is no swap, and never negative swap use', () => {
    const noSwap = valid(
      computeMemoryMetrics(parseMeminfo(meminfo({ ...BASE, SwapTotal: 0, SwapFree: 0 }))),
    );
    expect(noSwap).toMatchObject({ swapTotalBytes: 0, swapUsedBytes: 0, swapUsedPercent: 0 });
    const odd = valid(
      computeMemoryMetrics(parseMeminfo(meminfo({ ...BASE, SwapTotal: 100, SwapFree: 120 }))),
    );
    expect(odd).toMatchObject({ swapUsedBytes: 0, swapFreeBytes: 100 * KIB, swapUsedPercent: 0 });
  });
});

describe('reader and collector', () => {
  it('reads the real debian fixture (24 GiB, no swap) like free(1)', async () => {
    const m = valid(computeMemoryMetrics(await readMeminfo(`${DEBIAN}/t0`)));
    expect(m.totalBytes).toBe(24_684_096 * KIB);
    // 577108 Cached + 91788 SReclaimable.
    expect(m.cachedBytes).toBe(668_896 * KIB);
    // 24684096 − 23565820 − 12052 − 668896.
    expect(m.usedBytes).toBe(437_328 * KIB);
    expect(m.availableBytes).toBe(23_922_760 * KIB);
    expect(m.sharedBytes).toBe(69_404 * KIB);
    expect(m.usedPercent).toBeCloseTo((761_336 / 24_684_096) * 100, 2);
    expect(m).toMatchObject({ swapTotalBytes: 0, swapUsedBytes: 0, swapUsedPercent: 0 });
  });

  it('collects the synthetic 512 GiB server with swap in use', async () => {
    const collector = createMemoryCollector({
      procRoot: `${SYNTHETIC}/t1`,
      sysRoot: '/nonexistent-sys',
      now: () => 0,
    });
    expect(collector.prime).toBeUndefined();
    const m = valid((await collector.collect()) as MemorySample);
    expect(m.totalBytes).toBe(527_913_196 * KIB);
    expect(m.totalBytes / GIB).toBeCloseTo(503.5, 1);
    // 527913196 − 18102344 − 1234696 − (180521012 + 12345932).
    expect(m.usedBytes).toBe(315_709_212 * KIB);
    expect(m.usedPercent).toBeCloseTo(((527_913_196 - 201_210_436) / 527_913_196) * 100, 2);
    expect(m.swapTotalBytes).toBe(64 * GIB - 4 * KIB);
    expect(m.swapUsedBytes).toBe((67_108_860 - 45_670_720) * KIB);
    expect(m.swapUsedPercent).toBeCloseTo(((67_108_860 - 45_670_720) / 67_108_860) * 100, 2);
    expect(m.sharedBytes).toBe(4_200_012 * KIB);
  });

  it('fails with a CollectorError naming the missing file', async () => {
    const collector = createMemoryCollector({
      procRoot: '/nonexistent-proc',
      sysRoot: '/nonexistent-sys',
      now: () => 0,
    });
    const err: unknown = await collector.collect().catch((e: unknown) => e);
    expectCollectorError(err, 'read_failed', /\/nonexistent-proc\/meminfo: not found/);
  });
});
