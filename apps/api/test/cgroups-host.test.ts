import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cgroupsMetrics } from '@livestat/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCgroupMounts, type CgroupMounts } from '../src/collectors/cgroup-mounts.js';
import { createCgroupsCollector } from '../src/collectors/cgroups.js';
import { recordSkip } from './skips.js';

// A real cgroup on this machine's own hierarchy (v1 here, v2 elsewhere): a busy child moved
// into it must show up in the cgroups collector with its CPU and the memory it touched.

const REQUIRE_SERVICES = process.env.REQUIRE_SERVICES === '1';
const NAME = `livestat-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
const MIB = 1024 * 1024;

/** The directories to create: one per v1 controller the collector reads, or one on v2. */
function cgroupDirs(mounts: CgroupMounts): string[] {
  if (mounts.layout === 'v2') return [path.join(mounts.unified!, NAME)];
  const roots = [mounts.v1.cpuacct, mounts.v1.cpu, mounts.v1.memory, mounts.v1.pids];
  return [...new Set(roots.filter((root): root is string => root !== undefined))].map((root) =>
    path.join(root, NAME),
  );
}

function problem(): string | null {
  let mounts: CgroupMounts;
  try {
    mounts = parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'), '/sys');
  } catch (err) {
    return (err as Error).message;
  }
  if (mounts.layout !== 'v2' && (!mounts.v1.cpuacct || !mounts.v1.memory))
    return 'no v1 cpuacct and memory hierarchies';
  const probe = cgroupDirs(mounts)[0]!;
  try {
    mkdirSync(probe);
    rmdirSync(probe);
    return null;
  } catch (err) {
    return `the cgroup hierarchy is not writable here (${(err as NodeJS.ErrnoException).code})`;
  }
}

const why = problem();
const title = 'the cgroups collector sees a real cgroup on this machine';
if (why !== null && !REQUIRE_SERVICES) {
  process.stderr.write(`\n!!! SKIPPED "${title}": ${why}\n`);
  recordSkip(title, why);
}

describe.skipIf(why !== null && !REQUIRE_SERVICES)(title, () => {
  let dirs: string[] = [];
  let child: ChildProcess | null = null;

  beforeAll(() => {
    if (why !== null) throw new Error(`REQUIRE_SERVICES=1 but ${why}`);
    dirs = cgroupDirs(parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'), '/sys'));
    for (const dir of dirs) mkdirSync(dir);
  });

  afterAll(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    // A cgroup can only be removed once no task is left in it.
    for (const dir of dirs) if (existsSync(dir)) rmdirSync(dir);
  });

  it('reports the CPU and memory of a busy child moved into it', async () => {
    // The child touches 64 MiB only after it is moved: v1 charges memory where it is allocated.
    child = spawn(
      process.execPath,
      [
        '-e',
        `process.stdin.once('data', () => {
           const kept = Buffer.alloc(${64 * MIB}, 1);
           process.stdout.write('ready\\n');
           let x = 0;
           for (;;) x += kept[x % kept.length];
         });`,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    for (const dir of dirs) writeFileSync(path.join(dir, 'cgroup.procs'), `${child.pid}\n`);
    const ready = new Promise((resolve) => child!.stdout!.once('data', resolve));
    child.stdin!.write('go\n');
    await ready;

    const collector = createCgroupsCollector({
      procRoot: '/proc',
      sysRoot: '/sys',
      now: () => performance.now(),
    });
    await collector.prime?.();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const metrics = await collector.collect();
    expect(cgroupsMetrics.parse(metrics)).toEqual(metrics);
    if (!metrics.available) throw new Error(metrics.error);
    const row = collector.table()!.groups.find((group) => group.id === NAME);
    expect(
      row,
      `${NAME} among ${collector
        .table()!
        .groups.map((g) => g.id)
        .join(', ')}`,
    ).toBeDefined();
    expect(row!.kind).toBe('other');
    expect(row!.cpuPercent).toBeGreaterThan(0);
    expect(row!.memoryBytes).toBeGreaterThanOrEqual(64 * MIB);
    expect(row!.pids).toBeGreaterThanOrEqual(1);

    // cgroupfs: the files stay open between ticks. The child exits and the cgroup is removed:
    // the next read of its kept descriptors fails, the row goes and its descriptors close.
    const kept = collector.keptDescriptors();
    expect(kept).toBeGreaterThan(0);
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    for (const dir of dirs) rmdirSync(dir);
    const after = await collector.collect();
    if (!after.available) throw new Error(after.error);
    expect(collector.table()!.groups.some((group) => group.id === NAME)).toBe(false);
    expect(collector.keptDescriptors()).toBeLessThan(kept);
    await collector.stop?.();
    expect(collector.keptDescriptors()).toBe(0);
  });
});
