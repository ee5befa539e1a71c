import { CGROUPS_SNAPSHOT_TOP, fromCgroupEntry, type CgroupRow } from '@livestat/contracts';
import { describe, expect, it } from 'vitest';
import { compactGroups } from './cgroup-rows.js';

/** A service's row with only CPU and memory measured. */
const row = (i: number, cpuPercent: number, memoryBytes: number): CgroupRow => {
  const name = `svc-${String(i).padStart(3, '0')}.service`;
  return fromCgroupEntry(`system.slice/${name}`, {
    name,
    kind: 'service',
    cpuPercent,
    memoryBytes,
  });
};

describe('compactGroups', () => {
  it('keeps the top by CPU (the rows’ order) and the top by memory, ties by path', () => {
    // 200 rows in the table's order: CPU falling, then many idle ones; memory in no order,
    // with ties.
    const rows = Array.from({ length: 200 }, (_, i) =>
      row(i, i < 30 ? 300 - i : 0, ((i * 7919) % 97) * 4096),
    );
    const byMemory = [...rows].sort(
      (a, b) => b.memoryBytes - a.memoryBytes || a.id.localeCompare(b.id),
    );
    const expected = new Set([
      ...rows.slice(0, CGROUPS_SNAPSHOT_TOP),
      ...byMemory.slice(0, CGROUPS_SNAPSHOT_TOP),
    ]);
    const groups = compactGroups(rows);
    // In the table's order, keyed by name.
    expect(Object.keys(groups)).toEqual(rows.filter((r) => expected.has(r)).map((r) => r.name));
    expect(Object.keys(groups).length).toBeGreaterThan(CGROUPS_SNAPSHOT_TOP);
  });

  it('falls back to the path for a name two cgroups share', () => {
    const a = { ...row(1, 5, 4096), name: 'web' };
    const b = { ...row(2, 1, 4096), name: 'web' };
    expect(Object.keys(compactGroups([a, b]))).toEqual(['web', b.id]);
  });
});
