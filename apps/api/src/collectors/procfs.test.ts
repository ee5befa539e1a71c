import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keyValueParser, readOptionalProcFile, readProcFile } from './procfs.js';
import { CollectorError } from './types.js';

let dir: string | null = null;
afterEach(async () => {
  if (dir !== null) await rm(dir, { recursive: true, force: true });
  dir = null;
});

describe('readProcFile', () => {
  it('reads the current text of a procfs file on every call', () => {
    // Each read of /proc/self/io counts its own bytes in rchar, so the second must be larger.
    const rchar = (): number =>
      Number(/^rchar: (\d+)$/m.exec(readProcFile('/proc', 'self/io'))?.[1]);
    const first = rchar();
    const second = rchar();
    expect(second).toBeGreaterThan(first);
  });

  it('reads a regular file afresh, even when it was replaced between two reads', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'livestat-procfs-'));
    await writeFile(path.join(dir, 'loadavg'), '0.10 0.20 0.30 1/100 42\n');
    expect(readProcFile(dir, 'loadavg')).toBe('0.10 0.20 0.30 1/100 42\n');
    await writeFile(path.join(dir, 'next'), '1.00 2.00 3.00 2/200 43\n');
    await rename(path.join(dir, 'next'), path.join(dir, 'loadavg'));
    expect(readProcFile(dir, 'loadavg')).toBe('1.00 2.00 3.00 2/200 43\n');
  });

  it('names the missing file in a CollectorError; the optional reader says null', () => {
    expect(() => readProcFile('/nonexistent-proc', 'stat')).toThrow(CollectorError);
    expect(() => readProcFile('/nonexistent-proc', 'stat')).toThrow(
      'cannot read /nonexistent-proc/stat: not found',
    );
    expect(readOptionalProcFile('/nonexistent-proc', 'stat')).toBeNull();
  });

  it('reads a procfs file larger than its first buffer whole', () => {
    // /proc/self/smaps of a Node process runs past 64 KB: one header and one Size line a mapping.
    const smaps = readProcFile('/proc', 'self/smaps');
    expect(smaps.length).toBeGreaterThan(64 * 1024);
    expect(smaps.endsWith('\n')).toBe(true);
    const headers = smaps.match(/^[0-9a-f]+-[0-9a-f]+ /gm) ?? [];
    expect(smaps.match(/^Size:/gm)?.length).toBe(headers.length);
  });
});

describe('keyValueParser', () => {
  const parse = keyValueParser(['MemTotal', 'Cached', 'Active(anon)', 'pgfault']);

  it('finds the keys asked for, in meminfo and vmstat layouts alike', () => {
    const text = [
      'MemTotal:        2000000 kB',
      'MemFree:          500000 kB',
      'SwapCached:            7 kB',
      'Cached:           300000 kB',
      'Active(anon):      12345 kB',
      'pgfault 987654321',
      '',
    ].join('\n');
    expect(parse(text)).toEqual(
      new Map([
        ['MemTotal', 2000000],
        ['Cached', 300000],
        ['Active(anon)', 12345],
        ['pgfault', 987654321],
      ]),
    );
  });

  it('takes the whole key only: a longer key that starts with one asked for is not it', () => {
    expect(parse('pgfault_extra 5\nCachedX: 9 kB\nMemTotal 10\n')).toEqual(
      new Map([['MemTotal', 10]]),
    );
  });

  it('keeps the last line that parses and skips lines that do not', () => {
    expect(parse('Cached: 1 kB\nCached: 2 kB\nCached: n/a\nMemTotal:\n42\n')).toEqual(
      new Map([['Cached', 2]]),
    );
  });

  it('reads negative numbers and a key on the first line', () => {
    expect(parse('pgfault -3')).toEqual(new Map([['pgfault', -3]]));
  });
});
