import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { PERF_EVENTS } from './perf.js';
import {
  createPerfStatProcess,
  describePerfExit,
  perfStatArgs,
  type PerfStatOptions,
  type PerfStatProcess,
} from './perf-stat.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/perf/', import.meta.url));
const script = (name: string): string => path.join(fixtures, name);

const running: PerfStatProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop()));
});

function start(options: Partial<PerfStatOptions> & { perfPath: string }): PerfStatProcess {
  const proc = createPerfStatProcess({
    intervalMs: 100,
    events: PERF_EVENTS,
    now: () => performance.now(),
    ...options,
  });
  running.push(proc);
  proc.start();
  return proc;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    expect((err as NodeJS.ErrnoException).code).toBe('ESRCH');
    return false;
  }
}

const waitOpts = { timeout: 8000, interval: 20 };

describe('perfStatArgs', () => {
  it('asks for CSV, system-wide, every interval, the events in order', () => {
    expect(perfStatArgs(500, ['cycles', 'page-faults'])).toEqual([
      'stat',
      '-x,',
      '-I',
      '500',
      '-a',
      '--log-fd',
      '1',
      '-e',
      'cycles,page-faults',
    ]);
  });
});

describe('describePerfExit', () => {
  const none = { code: null, signal: null, spawnError: null };
  it('names each way perf can end', () => {
    const enoent = Object.assign(new Error('spawn /x ENOENT'), { code: 'ENOENT' });
    expect(describePerfExit('/x', { ...none, spawnError: enoent }, [])).toBe(
      'perf not found: install linux-perf (Debian) / linux-tools (Ubuntu) (no /x)',
    );
    expect(describePerfExit('/x', { ...none, signal: 'SIGKILL' }, [])).toBe(
      'perf stat was killed by SIGKILL',
    );
    expect(describePerfExit('/x', { ...none, code: 129 }, ["event syntax error: 'x'"])).toBe(
      "perf stat exited with code 129: event syntax error: 'x'",
    );
    expect(describePerfExit('/x', { ...none, code: 0 }, [])).toBe('perf stat exited unexpectedly');
  });
});

describe('createPerfStatProcess', () => {
  it('keeps the latest complete interval of one long-running child', async () => {
    const proc = start({ perfPath: script('fake-perf-stream.sh') });
    await vi.waitFor(
      () => expect(proc.status().latest?.interval.timestampS).toBeGreaterThan(0.2),
      waitOpts,
    );
    const { latest, pid, spawns, failure } = proc.status();
    expect(spawns).toBe(1);
    expect(failure).toBeNull();
    expect(typeof pid).toBe('number');
    expect(latest?.interval.lengthS).toBeCloseTo(0.1, 9);
    expect(latest?.interval.counters.get('context-switches')?.value).toBe(536);
    expect(latest?.interval.counters.size).toBe(8);
  });

  it('restarts a child that was killed, and reports why it died meanwhile', async () => {
    const warnings: object[] = [];
    const proc = start({
      perfPath: script('fake-perf-stream.sh'),
      restartBackoff: { initialMs: 1000, maxMs: 30_000 },
      logger: { warn: (obj) => warnings.push(obj) },
    });
    await vi.waitFor(() => expect(proc.status().latest).not.toBeNull(), waitOpts);
    const firstPid = proc.status().pid ?? -1;
    process.kill(firstPid, 'SIGKILL');
    await vi.waitFor(
      () => expect(proc.status().failure).toBe('perf stat was killed by SIGKILL'),
      waitOpts,
    );
    expect(proc.status().pid).toBeUndefined();
    expect(warnings).toEqual([
      { perfPath: script('fake-perf-stream.sh'), code: null, signal: 'SIGKILL', restartInMs: 1000 },
    ]);
    await vi.waitFor(() => {
      const status = proc.status();
      expect(status.spawns).toBe(2);
      expect(status.failure).toBeNull();
      expect(status.latest?.interval.counters.get('page-faults')?.value).toBe(4291);
    }, waitOpts);
    expect(proc.status().pid).not.toBe(firstPid);
    expect(isAlive(firstPid)).toBe(false);
  });

  it('backs off exponentially up to the cap while perf keeps failing', async () => {
    const delays: number[] = [];
    const proc = start({
      perfPath: script('fake-perf-denied.sh'),
      restartBackoff: { initialMs: 20, maxMs: 80 },
      logger: { warn: (obj) => delays.push((obj as { restartInMs: number }).restartInMs) },
    });
    await vi.waitFor(() => expect(delays.length).toBeGreaterThanOrEqual(5), waitOpts);
    expect(delays.slice(0, 5)).toEqual([20, 40, 80, 80, 80]);
    expect(proc.status().failure).toBe(
      'perf stat exited with code 255: Access to performance monitoring and observability operations is limited.',
    );
  });

  it('starts the backoff over after a child ran healthily', async () => {
    const delays: number[] = [];
    const proc = start({
      perfPath: script('fake-perf-stream.sh'),
      restartBackoff: { initialMs: 50, maxMs: 1000 },
      healthyAfterMs: 0,
      logger: { warn: (obj) => delays.push((obj as { restartInMs: number }).restartInMs) },
    });
    for (let spawn = 1; spawn <= 3; spawn++) {
      await vi.waitFor(() => expect(proc.status().pid).toBeDefined(), waitOpts);
      expect(proc.status().spawns).toBe(spawn);
      process.kill(proc.status().pid ?? -1, 'SIGKILL');
      await vi.waitFor(() => expect(delays).toHaveLength(spawn), waitOpts);
    }
    expect(delays).toEqual([50, 50, 50]);
  });

  it('reports a missing binary and keeps retrying it', async () => {
    const proc = start({
      perfPath: '/nonexistent/bin/perf',
      restartBackoff: { initialMs: 20, maxMs: 20 },
    });
    await vi.waitFor(() => expect(proc.status().spawns).toBeGreaterThanOrEqual(2), waitOpts);
    expect(proc.status().failure).toBe(
      'perf not found: install linux-perf (Debian) / linux-tools (Ubuntu) (no /nonexistent/bin/perf)',
    );
    expect(proc.status().latest).toBeNull();
  });

  it('reports a spawn that throws (an invalid path) and retries it', async () => {
    const proc = start({
      perfPath: '/usr/bin/pe\0rf',
      restartBackoff: { initialMs: 20, maxMs: 20 },
    });
    await vi.waitFor(() => expect(proc.status().spawns).toBeGreaterThanOrEqual(2), waitOpts);
    expect(proc.status().failure).toBe('cannot run /usr/bin/pe\0rf: ERR_INVALID_ARG_VALUE');
  });

  it('stop() kills the child, leaves no process behind, and is idempotent', async () => {
    const proc = start({ perfPath: script('fake-perf-stream.sh') });
    await vi.waitFor(() => expect(proc.status().latest).not.toBeNull(), waitOpts);
    const pid = proc.status().pid ?? -1;
    expect(isAlive(pid)).toBe(true);
    const first = proc.stop();
    expect(proc.stop()).toBe(first);
    await first;
    expect(isAlive(pid)).toBe(false);
    expect(proc.status().pid).toBeUndefined();
    proc.start();
    expect(proc.status().spawns).toBe(1);
  });

  it('stop() cancels a pending restart', async () => {
    const proc = start({
      perfPath: script('fake-perf-denied.sh'),
      restartBackoff: { initialMs: 100, maxMs: 100 },
    });
    await vi.waitFor(() => expect(proc.status().failure).not.toBeNull(), waitOpts);
    await proc.stop();
    const spawns = proc.status().spawns;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(proc.status().spawns).toBe(spawns);
  });

  describe('with one-shot and silent children', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'livestat-perf-'));
    const write = (name: string, lines: string[]): string => {
      const file = path.join(dir, name);
      writeFileSync(file, ['#!/bin/sh', ...lines, ''].join('\n'));
      chmodSync(file, 0o755);
      return file;
    };
    // One uncore interval, then silence: the interval is complete only if perf-stat sees
    // that every -e event (PMU-qualified) has reported, not when a next timestamp arrives.
    const oneUncoreInterval = write('perf-uncore-once', [
      "printf '0.10,25.00,MiB,uncore_imc/cas_count_read/,100000000,100.00,,\\n' >&2",
      "printf '0.10,5.00,MiB,uncore_imc/cas_count_write/,100000000,100.00,,\\n' >&2",
      'exec sleep 1000',
    ]);
    const silent = write('perf-silent', ['exec sleep 1000']);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const uncoreEvents = ['uncore_imc/cas_count_read/', 'uncore_imc/cas_count_write/'];

    it('completes a PMU-qualified interval once all its events reported', async () => {
      const proc = start({ perfPath: oneUncoreInterval, events: uncoreEvents });
      await vi.waitFor(() => expect(proc.status().latest).not.toBeNull(), waitOpts);
      const interval = proc.status().latest?.interval;
      expect(interval?.timestampS).toBe(0.1);
      expect(interval?.counters.get('cas_count_read')).toEqual({
        value: 25,
        status: 'counted',
        unit: 'MiB',
        runningPercent: 100,
      });
      expect(interval?.counters.get('cas_count_write')?.value).toBe(5);
    });

    it('whenReady() resolves on the first interval, not on its time limit', async () => {
      const proc = start({ perfPath: oneUncoreInterval, events: uncoreEvents });
      // A limit far beyond the test's own timeout: only the interval can resolve it.
      await proc.whenReady(600_000);
      expect(proc.status().latest?.interval.counters.get('cas_count_write')?.value).toBe(5);
      // Already ready: at once.
      await proc.whenReady(600_000);
    });

    it('whenReady() resolves when the child fails, and when stopped', async () => {
      const denied = start({ perfPath: script('fake-perf-denied.sh') });
      await denied.whenReady(600_000);
      expect(denied.status().failure).toMatch(/^perf stat exited with code 255: Access to/);
      expect(denied.status().latest).toBeNull();

      const quiet = start({ perfPath: silent });
      const ready = quiet.whenReady(600_000);
      await vi.waitFor(() => expect(quiet.status().pid).toBeDefined(), waitOpts);
      await quiet.stop();
      await ready;
      expect(quiet.status().latest).toBeNull();
    });

    it('whenReady() gives up after its time limit when perf stays silent', async () => {
      const proc = start({ perfPath: silent });
      await proc.whenReady(50);
      const status = proc.status();
      expect(status.latest).toBeNull();
      expect(status.failure).toBeNull();
      expect(typeof status.pid).toBe('number');
    });
  });

  describe('with a child that ignores SIGTERM', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'livestat-perf-'));
    const stubborn = path.join(dir, 'perf');
    // It prints two intervals once its trap is set, so the test knows SIGTERM will be ignored.
    writeFileSync(
      stubborn,
      [
        '#!/bin/sh',
        "trap '' TERM",
        "printf '0.01,1,,context-switches,1,100.00,,\\n0.02,1,,context-switches,1,100.00,,\\n' >&2",
        'while :; do sleep 0.05; done',
        '',
      ].join('\n'),
    );
    chmodSync(stubborn, 0o755);
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('stop() escalates to SIGKILL after the grace period', async () => {
      const proc = start({ perfPath: stubborn, killGraceMs: 100 });
      await vi.waitFor(() => expect(proc.status().latest).not.toBeNull(), waitOpts);
      const pid = proc.status().pid ?? -1;
      await proc.stop();
      expect(isAlive(pid)).toBe(false);
    });
  });
});
