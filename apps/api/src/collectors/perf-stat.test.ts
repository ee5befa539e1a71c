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
