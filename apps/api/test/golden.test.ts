import { mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { snapshot as snapshotSchema, type Snapshot } from '@livestat/contracts';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createSelfMeter } from '../src/collectors/self-meter.js';
import { createAggregator } from '../src/collectors/aggregator.js';
import { createBandwidthCollector } from '../src/collectors/bandwidth.js';
import { createCpuCollector } from '../src/collectors/cpu.js';
import { createDiskCollector, type StatfsResult } from '../src/collectors/disk.js';
import { createMemoryCollector } from '../src/collectors/memory.js';
import { createNetworkCollector } from '../src/collectors/network.js';
import { createPerfCollector } from '../src/collectors/perf.js';
import type { CollectorDeps } from '../src/collectors/types.js';
import { createSampler } from '../src/sampler.js';

// One golden snapshot per fixture tree: every collector, the aggregator and the sampler end
// to end, from two readings of real /proc files 1 s apart. Regenerate with UPDATE_GOLDEN=1.

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const GOLDEN = fileURLToPath(new URL('./golden/', import.meta.url));
const FAKE_PERF = path.join(FIXTURES, 'perf/fake-perf-stream.sh');
const TIMESTAMP = Date.parse('2026-11-21T12:00:00.000Z');

const CASES = [
  { name: 'debian12-vm-6.18', proc: 'proc/debian12-vm-6.18', sys: 'sys/debian12-vm-6.18' },
  {
    name: 'synthetic-64core-6.8',
    proc: 'proc/synthetic-64core-6.8',
    sys: 'sys/synthetic-64core-6.8',
  },
];

/** A fixed statfs: every real filesystem a different, plausible size. */
async function fakeStatfs(mountPoint: string): Promise<StatfsResult> {
  const blocks = 1_000_000 * (mountPoint.length + 1);
  return {
    bsize: 4096,
    blocks,
    bfree: Math.floor(blocks * 0.4),
    bavail: Math.floor(blocks * 0.35),
  };
}

/** The reading `t` of a fixture tree, or the tree itself when it holds a single reading. */
function reading(tree: string, t: 't0' | 't1'): string {
  const dir = path.join(FIXTURES, tree, t);
  return existsSync(dir) ? dir : path.join(FIXTURES, tree);
}

/** Agent figures depend on this process, not on the fixtures: keep their shape only. */
function stable(s: Snapshot): unknown {
  return {
    ...s,
    agent: {
      collectors: Object.fromEntries(
        Object.entries(s.agent.collectors).map(([name, timing]) => [name, { ok: timing?.ok }]),
      ),
    },
  };
}

let workDir: string | null = null;
afterEach(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
  workDir = null;
});

describe('golden snapshot', () => {
  it.each(CASES)('$name matches its golden file', async (fixture) => {
    // The collectors read through symlinks flipped from the t0 reading to the t1 reading,
    // so they meet real files at real paths, exactly as they would under /proc.
    workDir = await mkdtemp(path.join(os.tmpdir(), 'livestat-golden-'));
    const procLink = path.join(workDir, 'proc');
    const sysLink = path.join(workDir, 'sys');
    await symlink(reading(fixture.proc, 't0'), procLink);
    await symlink(reading(fixture.sys, 't0'), sysLink);

    let clock = 0;
    const deps: CollectorDeps = { procRoot: procLink, sysRoot: sysLink, now: () => clock };
    const logger = pino({ level: 'silent' });
    const collectors = [
      createCpuCollector(deps),
      createMemoryCollector(deps),
      createNetworkCollector(deps),
      createDiskCollector(deps, { statfs: fakeStatfs }),
      // perf counts in real time; a stand-in binary replays captured output of this VM.
      createPerfCollector(
        { ...deps, now: () => performance.now() },
        { intervalMs: 100, perfPath: FAKE_PERF, euid: 0 },
      ),
      createBandwidthCollector(deps, { intervalMs: 100, perfPath: '/nonexistent/perf' }),
    ];
    const aggregator = createAggregator({
      collectors,
      now: () => performance.now(),
      timeoutMs: 5000,
      logger,
    });
    const sampler = createSampler({
      host: fixture.name,
      intervalMs: 600,
      aggregator,
      agent: createSelfMeter(),
      logger,
      wallClock: () => TIMESTAMP,
    });
    const first = new Promise<Snapshot>((resolve) => sampler.subscribe(resolve));
    try {
      await sampler.start();
      await unlink(procLink);
      await symlink(reading(fixture.proc, 't1'), procLink);
      await unlink(sysLink);
      await symlink(reading(fixture.sys, 't1'), sysLink);
      clock = 1000;
      const snapshot = await first;
      expect(snapshotSchema.parse(snapshot)).toEqual(snapshot);
      expect(snapshot.seq).toBe(1);

      const file = path.join(GOLDEN, `${fixture.name}.json`);
      const actual = stable(snapshot);
      if (process.env.UPDATE_GOLDEN === '1') {
        // In CI a rewritten golden file would pass against itself and prove nothing.
        if (process.env.CI === 'true') throw new Error('UPDATE_GOLDEN=1 is refused under CI=true');
        await writeFile(file, `${JSON.stringify(actual, null, 2)}\n`);
      }
      expect(actual).toEqual(JSON.parse(await readFile(file, 'utf8')));
    } finally {
      await sampler.stop();
      await aggregator.stop();
    }
  });
});
