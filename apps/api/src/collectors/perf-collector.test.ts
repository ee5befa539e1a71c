import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { perfMetrics } from '@livestat/contracts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createPerfCollector, type PerfCollector, type PerfCollectorOptions } from './perf.js';
import { recordSkip } from '../../test/skips.js';

// The factory end to end: permission gate, a fake perf (shell scripts replaying captured
// output, real child processes), and the real /usr/bin/perf where it is installed.
const fixtures = fileURLToPath(new URL('../../test/fixtures/perf/', import.meta.url));
const fixture = (name: string): string => path.join(fixtures, name);

const VM_HARDWARE_REASON =
  'hardware events not supported on this machine (no PMU, common on VMs): ' +
  'cycles, instructions, cache-references, cache-misses, branch-misses';

describe('createPerfCollector', () => {
  const collectors: PerfCollector[] = [];
  afterEach(async () => {
    await Promise.all(collectors.splice(0).map((c) => c.stop?.()));
  });
  function make(options: PerfCollectorOptions, procRoot = fixture('proc-perfmon')): PerfCollector {
    const deps = { procRoot, sysRoot: '/sys', now: () => performance.now() };
    const collector = createPerfCollector(deps, { euid: 65534, ...options });
    collectors.push(collector);
    return collector;
  }
  const waitOpts = { timeout: 8000, interval: 20 };

  it('refuses to spawn without permission, naming the sysctl', async () => {
    const collector = make(
      { intervalMs: 100, perfPath: fixture('fake-perf-stream.sh'), euid: 1000 },
      fixture('proc-unprivileged'),
    );
    await collector.prime?.();
    expect(collector.childStatus()).toBeNull();
    expect(perfMetrics.parse(await collector.collect())).toEqual({
      available: false,
      error:
        'perf_event_paranoid is 2; system-wide counting needs ≤ 0, root, or CAP_PERFMON ' +
        '(sysctl kernel.perf_event_paranoid=0)',
    });
  });

  it('says it is starting until the first interval completes, then stale', async () => {
    let clock = 0;
    const deps = { procRoot: fixture('proc-perfmon'), sysRoot: '/sys', now: () => clock };
    const collector = createPerfCollector(deps, {
      intervalMs: 2000,
      perfPath: fixture('fake-perf-stream.sh'),
      euid: 65534,
    });
    collectors.push(collector);
    const starting = {
      available: false,
      error: 'perf stat starting: no interval completed yet',
    };
    // collect() without prime() starts the child itself.
    expect(await collector.collect()).toEqual(starting);
    expect(collector.childStatus()?.spawns).toBe(1);
    // The fake perf prints its first interval 2 s of real time after it starts; the fake
    // clock runs ahead of it: 3 intervals (6 s) without one is stale.
    clock = 5500;
    expect(await collector.collect()).toEqual(starting);
    clock = 6500;
    expect(await collector.collect()).toEqual({
      available: false,
      error: 'perf stat stale: no interval completed for 6.5 s (expected one every 2000 ms)',
    });
  });

  it('prime() waits for the first interval: an immediate collect() has figures', async () => {
    const collector = make({ intervalMs: 200, perfPath: fixture('fake-perf-stream.sh') });
    await collector.prime?.();
    expect(collector.childStatus()?.latest).not.toBeNull();
    expect(perfMetrics.parse(await collector.collect())).toMatchObject({
      available: true,
      contextSwitchesPerSec: 2680,
      pageFaultsPerSec: 21455,
      perfIntervalMs: 200,
    });
    expect(collector.childStatus()?.spawns).toBe(1);
  });

  it('prime() returns as soon as perf fails, and collect() says why at once', async () => {
    const denied = make({ intervalMs: 100, perfPath: fixture('fake-perf-denied.sh') });
    await denied.prime?.();
    expect(await denied.collect()).toEqual({
      available: false,
      error:
        'perf stat exited with code 255: Access to performance monitoring and observability operations is limited.',
    });
    const missing = make({ intervalMs: 100, perfPath: '/nonexistent/bin/perf' });
    await missing.prime?.();
    expect(await missing.collect()).toEqual({
      available: false,
      error:
        'perf not found: install linux-perf (Debian) / linux-tools (Ubuntu) (no /nonexistent/bin/perf)',
    });
  });

  it('prime() gives up waiting after its bound when perf stays silent', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'livestat-perf-'));
    try {
      const silent = path.join(dir, 'perf');
      writeFileSync(silent, '#!/bin/sh\nexec sleep 1000\n');
      chmodSync(silent, 0o755);
      // 2 × 10 ms + 1.5 s: the test's timeout fails it if prime() waits on forever.
      const collector = make({ intervalMs: 10, perfPath: silent });
      await collector.prime?.();
      expect(collector.childStatus()?.latest).toBeNull();
      expect(collector.childStatus()?.failure).toBeNull();
      expect(typeof collector.childStatus()?.pid).toBe('number');
      expect(await collector.collect()).toEqual({
        available: false,
        error: 'perf stat starting: no interval completed yet',
      });
      await collector.stop?.();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports the latest interval of the child (fake perf replaying captured lines)', async () => {
    const collector = make({ intervalMs: 100, perfPath: fixture('fake-perf-stream.sh') });
    await collector.prime?.();
    await vi.waitFor(
      async () => expect((await collector.collect()).available).toBe(true),
      waitOpts,
    );
    const payload = perfMetrics.parse(await collector.collect());
    expect(payload).toMatchObject({
      available: true,
      hardwareAvailable: false,
      hardwareUnavailableReason: VM_HARDWARE_REASON,
      cyclesPerSec: null,
      contextSwitchesPerSec: 5360,
      pageFaultsPerSec: 42910,
      perfIntervalMs: 100,
    });
  });

  it("surfaces perf's own error when it exits", async () => {
    const collector = make({ intervalMs: 100, perfPath: fixture('fake-perf-denied.sh') });
    await collector.prime?.();
    await vi.waitFor(
      async () => expect((await collector.collect()).available).toBe(false),
      waitOpts,
    );
    await vi.waitFor(
      async () =>
        expect(await collector.collect()).toEqual({
          available: false,
          error:
            'perf stat exited with code 255: Access to performance monitoring and observability operations is limited.',
        }),
      waitOpts,
    );
  });

  it('says perf is missing when the binary does not exist', async () => {
    const collector = make({ intervalMs: 100, perfPath: '/nonexistent/bin/perf' });
    await collector.prime?.();
    await vi.waitFor(
      async () =>
        expect(await collector.collect()).toEqual({
          available: false,
          error:
            'perf not found: install linux-perf (Debian) / linux-tools (Ubuntu) (no /nonexistent/bin/perf)',
        }),
      waitOpts,
    );
  });

  it('goes stale when perf stops printing', async () => {
    const collector = make({ intervalMs: 50, perfPath: fixture('fake-perf-stall.sh') });
    await collector.prime?.();
    await vi.waitFor(() => expect(collector.childStatus()?.latest).not.toBeNull(), waitOpts);
    await vi.waitFor(async () => {
      const payload = await collector.collect();
      expect(payload.available).toBe(false);
      expect(!payload.available && payload.error).toMatch(
        /^perf stat stale: no interval completed for \d+\.\d s \(expected one every 50 ms\)$/,
      );
    }, waitOpts);
  });

  it('stop() leaves no child running and later collects say so', async () => {
    const collector = make({ intervalMs: 100, perfPath: fixture('fake-perf-stream.sh') });
    await collector.prime?.();
    await vi.waitFor(() => expect(collector.childStatus()?.pid).toBeDefined(), waitOpts);
    const pid = collector.childStatus()?.pid ?? -1;
    await Promise.all([collector.stop?.(), collector.stop?.()]);
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(await collector.collect()).toEqual({
      available: false,
      error: 'perf collector stopped',
    });
  });

  it('rejects an interval perf cannot use', () => {
    const deps = { procRoot: '/proc', sysRoot: '/sys', now: () => 0 };
    expect(() => createPerfCollector(deps, { intervalMs: 5 })).toThrow(RangeError);
    expect(() => createPerfCollector(deps, { intervalMs: 99.5 })).toThrow(RangeError);
  });

  const realPerf = '/usr/bin/perf';
  // A CPU PMU shows up as an event source (x86 `cpu` / `cpu_core`, Arm `armv8_*`); none on most VMs.
  const sources = existsSync('/sys/bus/event_source/devices')
    ? readdirSync('/sys/bus/event_source/devices')
    : [];
  const hasCpuPmu = sources.some(
    (d) => d === 'cpu' || d.startsWith('cpu_') || d.startsWith('armv'),
  );

  const haveRealPerf = existsSync(realPerf);
  // CI installs Debian's linux-perf and sets REQUIRE_PERF=1: a missing perf fails, not skips.
  if (!haveRealPerf)
    recordSkip('perf collector with the real perf', `${realPerf} is not installed`);
  if (!haveRealPerf && process.env.REQUIRE_PERF === '1') {
    it('has the real perf, as REQUIRE_PERF=1 demands', () => {
      throw new Error(`REQUIRE_PERF=1 but ${realPerf} is not installed (Debian: linux-perf)`);
    });
  }
  it.skipIf(!haveRealPerf)(
    haveRealPerf
      ? `counts with the real ${realPerf}`
      : `counts with the real perf: SKIPPED, ${realPerf} is not installed`,
    async () => {
      const deps = { procRoot: '/proc', sysRoot: '/sys', now: () => performance.now() };
      const collector = createPerfCollector(deps, { intervalMs: 500, perfPath: realPerf });
      collectors.push(collector);
      await collector.prime?.();
      // Three intervals from one child: perf keeps counting, nothing is respawned per tick.
      await vi.waitFor(
        () => expect(collector.childStatus()?.latest?.interval.timestampS).toBeGreaterThan(1.4),
        { timeout: 6000, interval: 100 },
      );
      expect(collector.childStatus()?.spawns).toBe(1);
      const payload = perfMetrics.parse(await collector.collect());
      if (!payload.available) throw new Error(payload.error);
      expect(payload.contextSwitchesPerSec).toBeGreaterThan(0);
      expect(payload.perfIntervalMs).toBeCloseTo(500, -2);
      if (hasCpuPmu) {
        expect(payload.hardwareAvailable).toBe(true);
        expect(payload.cyclesPerSec).toBeGreaterThan(0);
      } else {
        expect(payload.hardwareAvailable).toBe(false);
        expect(payload.cyclesPerSec).toBeNull();
        expect(payload.hardwareUnavailableReason).toBe(VM_HARDWARE_REASON);
      }
      const pid = collector.childStatus()?.pid ?? -1;
      await collector.stop?.();
      expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    },
  );

  it.skipIf(!haveRealPerf)(
    haveRealPerf
      ? `has figures right after prime() with the real ${realPerf}`
      : `has figures right after prime() with the real perf: SKIPPED, ${realPerf} is not installed`,
    async () => {
      const deps = { procRoot: '/proc', sysRoot: '/sys', now: () => performance.now() };
      const collector = createPerfCollector(deps, { intervalMs: 500, perfPath: realPerf });
      collectors.push(collector);
      await collector.prime?.();
      // The sampler's first tick comes one interval after prime(); this asks at once.
      const payload = perfMetrics.parse(await collector.collect());
      if (!payload.available) throw new Error(payload.error);
      expect(payload.contextSwitchesPerSec).toBeGreaterThan(0);
      expect(payload.perfIntervalMs).toBeCloseTo(500, -2);
      expect(collector.childStatus()?.spawns).toBe(1);
    },
  );
});
