import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { perfMetrics } from '@livestat/contracts';
import { describe, expect, it } from 'vitest';
import { parsePerfStatOutput, type PerfInterval } from './perf-parse.js';
import { computePerfMetrics } from './perf.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/perf/', import.meta.url));
const fixture = (name: string): string => path.join(fixtures, name);
const intervalsOf = (name: string): PerfInterval[] =>
  parsePerfStatOutput(readFileSync(fixture(name), 'utf8'));
const firstIntervalOf = (name: string): PerfInterval => {
  const first = intervalsOf(name)[0];
  if (first === undefined) throw new Error(`${name} has no interval`);
  return first;
};

const VM_HARDWARE_REASON =
  'hardware events not supported on this machine (no PMU, common on VMs): ' +
  'cycles, instructions, cache-references, cache-misses, branch-misses';

describe('computePerfMetrics', () => {
  it('reports software rates and names the missing PMU on the VM (captured)', () => {
    const payload = perfMetrics.parse(computePerfMetrics(firstIntervalOf('vm-system-wide.txt')));
    expect(payload).toEqual({
      available: true,
      hardwareAvailable: false,
      hardwareUnavailableReason: VM_HARDWARE_REASON,
      cyclesPerSec: null,
      instructionsPerSec: null,
      ipc: null,
      cacheReferencesPerSec: null,
      cacheMissesPerSec: null,
      cacheMissPercent: null,
      branchMissesPerSec: null,
      contextSwitchesPerSec: 535.4,
      cpuMigrationsPerSec: 52.94,
      pageFaultsPerSec: 4286.23,
      unsupportedEvents: [
        'cycles',
        'instructions',
        'cache-references',
        'cache-misses',
        'branch-misses',
      ],
      perfIntervalMs: 1001.11,
    });
  });

  it('computes hardware rates, IPC and cache-miss % from multiplexed counters (hand-made)', () => {
    const [first, second] = intervalsOf('handmade-x86-multiplexed.txt');
    if (first === undefined || second === undefined) throw new Error('two intervals expected');
    expect(perfMetrics.parse(computePerfMetrics(first))).toEqual({
      available: true,
      hardwareAvailable: true,
      hardwareUnavailableReason: null,
      cyclesPerSec: 9624409476.33,
      instructionsPerSec: 12511732319.02,
      ipc: 1.3,
      cacheReferencesPerSec: 48166602.66,
      cacheMissesPerSec: 12041650.17,
      cacheMissPercent: 25,
      branchMissesPerSec: 3117309.98,
      contextSwitchesPerSec: 23996.57,
      cpuMigrationsPerSec: 1201.78,
      pageFaultsPerSec: 34976.4,
      unsupportedEvents: [],
      perfIntervalMs: 1001.02,
    });
    const later = perfMetrics.parse(computePerfMetrics(second));
    expect(later).toMatchObject({ cyclesPerSec: 10000765327.12, ipc: 0.8, cacheMissPercent: 10 });
    expect(later.available && later.perfIntervalMs).toBe(1001.13);
  });

  it('adds up hybrid core and atom PMUs (hand-made)', () => {
    const payload = perfMetrics.parse(
      computePerfMetrics(firstIntervalOf('handmade-hybrid-alderlake.txt')),
    );
    expect(payload).toMatchObject({
      available: true,
      hardwareAvailable: true,
      cyclesPerSec: 8417730952.66,
      instructionsPerSec: 12504197346.22,
      ipc: 1.49,
      cacheReferencesPerSec: 49947726.61,
      cacheMissPercent: 10,
      branchMissesPerSec: 1498431.8,
      contextSwitchesPerSec: 15999.26,
      unsupportedEvents: [],
      perfIntervalMs: 1001.05,
    });
  });

  it('keeps the PMU available when only some hardware events are missing', () => {
    const text = [
      '1.0,2000,,cycles,1,100.00,,',
      '1.0,3000,,instructions,1,100.00,1.50,insn per cycle',
      '1.0,<not supported>,,cache-references,0,100.00,,',
      '1.0,<not counted>,,cache-misses,0,0.00,,',
      '1.0,10,,branch-misses,1,100.00,,',
      '1.0,5,,context-switches,1,100.00,,',
      '1.0,1,,cpu-migrations,1,100.00,,',
      '1.0,2,,page-faults,1,100.00,,',
    ].join('\n');
    const payload = perfMetrics.parse(
      computePerfMetrics(parsePerfStatOutput(text)[0] as PerfInterval),
    );
    expect(payload).toMatchObject({
      hardwareAvailable: true,
      hardwareUnavailableReason: null,
      ipc: 1.5,
      cacheReferencesPerSec: null,
      cacheMissesPerSec: null,
      cacheMissPercent: null,
      unsupportedEvents: ['cache-references', 'cache-misses'],
    });
  });

  it('gives a null IPC when no cycle was counted, and a missing line counts as unsupported', () => {
    const text =
      '0.5,0,,cycles,1,100.00,,\n0.5,10,,instructions,1,100.00,,\n0.5,4,,page-faults,1,100.00,,';
    const payload = perfMetrics.parse(
      computePerfMetrics(parsePerfStatOutput(text)[0] as PerfInterval),
    );
    expect(payload).toMatchObject({
      cyclesPerSec: 0,
      instructionsPerSec: 20,
      ipc: null,
      pageFaultsPerSec: 8,
    });
    expect(payload.available && payload.unsupportedEvents).toEqual([
      'cache-references',
      'cache-misses',
      'branch-misses',
      'context-switches',
      'cpu-migrations',
    ]);
  });

  it('is unavailable when no event counts (captured: -e cycles,instructions on the VM)', () => {
    const interval = firstIntervalOf('vm-hardware-only.txt');
    const expected = {
      available: false,
      error: 'no countable perf events: perf counts none of cycles, instructions here',
    };
    expect(perfMetrics.parse(computePerfMetrics(interval, ['cycles', 'instructions']))).toEqual(
      expected,
    );
    expect(computePerfMetrics(interval).available).toBe(false);
  });
});
