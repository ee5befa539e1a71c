import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createCgroupFileReader, isCgroupfs, type CgroupFileTier } from './cgroup-files.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'livestat-cgroup-files-'));
  for (const id of ['a', 'b', 'c']) {
    mkdirSync(path.join(dir, id));
    for (const name of ['cpu.stat', 'memory.current', 'memory.stat', 'io.stat', 'io.pressure']) {
      writeFileSync(path.join(dir, id, name), `${id} ${name}\n`);
    }
  }
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('the cgroups collector’s descriptor budget', () => {
  it('keeps per-tick files first, slow ones only while the per-tick ones still fit', () => {
    const reader = createCgroupFileReader(7);
    // Three cgroups × two per-tick files claim 6 of the 7.
    reader.reserve(6, 0);
    const read = (id: string, name: string, tier: CgroupFileTier) =>
      reader.read(id, path.join(dir, id), name, tier);
    expect(read('a', 'cpu.stat', 'tick')).toBe('a cpu.stat\n');
    expect(read('a', 'memory.current', 'tick')).toBe('a memory.current\n');
    // 2 open + 4 still claimed: one slow file fits, the next is read and closed.
    expect(read('a', 'memory.stat', 'slow')).toBe('a memory.stat\n');
    expect(reader.kept()).toBe(3);
    expect(read('a', 'io.stat', 'slow')).toBe('a io.stat\n');
    expect(reader.kept()).toBe(3);
    for (const id of ['b', 'c']) {
      read(id, 'cpu.stat', 'tick');
      read(id, 'memory.current', 'tick');
    }
    expect(reader.kept()).toBe(7);
    // The budget is spent: a per-tick file past it is still read, just not kept.
    writeFileSync(path.join(dir, 'c', 'extra'), 'x\n');
    expect(read('c', 'extra', 'tick')).toBe('x\n');
    expect(reader.kept()).toBe(7);
    reader.retain(new Set(['b', 'c']));
    expect(reader.kept()).toBe(4);
    reader.forget('b');
    expect(reader.kept()).toBe(2);
    reader.close();
    reader.close();
    expect(reader.kept()).toBe(0);
  });

  it('keeps PSI files before the other slow files, which wait two turns of three', () => {
    const reader = createCgroupFileReader(5);
    // Two cgroups' per-tick files claim 4, their PSI files 2 more: past the budget of 5.
    reader.reserve(4, 2);
    const read = (id: string, name: string, tier: CgroupFileTier) =>
      reader.read(id, path.join(dir, id), name, tier);
    // Nothing open yet, 6 claimed: a slow file is read and closed, a PSI file kept.
    expect(read('a', 'memory.stat', 'slow')).toBe('a memory.stat\n');
    expect(reader.kept()).toBe(0);
    expect(read('a', 'io.pressure', 'psi')).toBe('a io.pressure\n');
    expect(reader.kept()).toBe(1);
    for (const id of ['a', 'b']) {
      read(id, 'cpu.stat', 'tick');
      read(id, 'memory.current', 'tick');
    }
    expect(reader.kept()).toBe(5);
    // The budget is spent on per-tick and PSI files; b's PSI file is read, not kept.
    expect(read('b', 'io.pressure', 'psi')).toBe('b io.pressure\n');
    expect(reader.kept()).toBe(5);
  });

  it('reads a missing file as null and keeps nothing for it', () => {
    const reader = createCgroupFileReader(10);
    expect(reader.read('a', path.join(dir, 'a'), 'pids.current', 'tick')).toBeNull();
    expect(reader.kept()).toBe(0);
  });

  it('tells cgroupfs from a fixture tree on disk', () => {
    expect(isCgroupfs(dir)).toBe(false);
  });
});
