import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPerfPermission, parseCapEff, readPerfPermission } from './perf-permission.js';
import { CollectorError } from './types.js';

const fixtures = fileURLToPath(new URL('../../test/fixtures/perf/', import.meta.url));
const fixture = (name: string): string => path.join(fixtures, name);

describe('permission check', () => {
  const bit = (n: number): bigint => 1n << BigInt(n);
  const denied = (level: number): string =>
    `perf_event_paranoid is ${String(level)}; system-wide counting needs ≤ 0, root, ` +
    'or CAP_PERFMON (sysctl kernel.perf_event_paranoid=0)';

  it.each([
    { paranoid: 2, capEff: 0n, euid: 1000, expected: denied(2) },
    { paranoid: 1, capEff: 0n, euid: 1000, expected: denied(1) },
    { paranoid: 4, capEff: 0n, euid: 1000, expected: denied(4) },
    { paranoid: 0, capEff: 0n, euid: 1000, expected: null },
    { paranoid: -1, capEff: 0n, euid: 1000, expected: null },
    { paranoid: 2, capEff: 0n, euid: 0, expected: null },
    { paranoid: 2, capEff: bit(38), euid: 1000, expected: null },
    { paranoid: 2, capEff: bit(21), euid: 1000, expected: null },
    { paranoid: 2, capEff: bit(19) | bit(37) | bit(39), euid: 1000, expected: denied(2) },
    {
      paranoid: null,
      capEff: 0n,
      euid: 0,
      expected:
        'perf events not supported by this kernel (no /proc/sys/kernel/perf_event_paranoid)',
    },
  ])('paranoid $paranoid, CapEff $capEff, euid $euid', ({ expected, ...input }) => {
    expect(checkPerfPermission(input)).toBe(expected);
  });

  it('parses CapEff as a 64-bit mask', () => {
    expect(parseCapEff('Name:\tnode\nCapPrm:\t0\nCapEff:\t000001fffeffffff\nCapBnd:\t0\n')).toBe(
      0x1fffeffffffn,
    );
    expect(parseCapEff('Name:\tnode\n')).toBe(0n);
  });

  it('reads the captured proc trees', async () => {
    expect(await readPerfPermission(fixture('proc-unprivileged'))).toEqual({
      paranoid: 2,
      capEff: 0n,
    });
    expect(await readPerfPermission(fixture('proc-perfmon'))).toEqual({
      paranoid: 2,
      capEff: bit(38),
    });
  });

  describe('with made-up proc trees', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'livestat-perf-proc-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));
    const tree = (name: string, paranoid: string | null, status = true): string => {
      const dir = path.join(root, name);
      mkdirSync(path.join(dir, 'self'), { recursive: true });
      mkdirSync(path.join(dir, 'sys/kernel'), { recursive: true });
      if (status) {
        writeFileSync(path.join(dir, 'self/status'), 'Name:\tnode\nCapEff:\t0000000000200000\n');
      }
      if (paranoid !== null)
        writeFileSync(path.join(dir, 'sys/kernel/perf_event_paranoid'), paranoid);
      return dir;
    };

    it('reports a kernel without perf events and rejects a malformed level', async () => {
      expect(await readPerfPermission(tree('none', null))).toEqual({
        paranoid: null,
        capEff: bit(21),
      });
      await expect(readPerfPermission(tree('bad', 'two\n'))).rejects.toThrow(
        new CollectorError('malformed', 'malformed perf_event_paranoid: "two"'),
      );
    });

    it('reads no capabilities when self/status is absent, so only root or paranoid ≤ 0 pass', async () => {
      const strict = await readPerfPermission(tree('no-status-2', '2\n', false));
      expect(strict).toEqual({ paranoid: 2, capEff: 0n });
      expect(checkPerfPermission({ ...strict, euid: 1000 })).toMatch(
        /^perf_event_paranoid is 2; system-wide counting needs ≤ 0/,
      );
      expect(checkPerfPermission({ ...strict, euid: 0 })).toBeNull();
      const open = await readPerfPermission(tree('no-status-0', '0\n', false));
      expect(open).toEqual({ paranoid: 0, capEff: 0n });
      expect(checkPerfPermission({ ...open, euid: 1000 })).toBeNull();
      // No self/ directory at all (a bare fixture tree) is the same.
      const bare = path.join(root, 'bare');
      mkdirSync(path.join(bare, 'sys/kernel'), { recursive: true });
      writeFileSync(path.join(bare, 'sys/kernel/perf_event_paranoid'), '-1\n');
      expect(await readPerfPermission(bare)).toEqual({ paranoid: -1, capEff: 0n });
    });
  });
});
