import { snapshot } from '@livestat/contracts';
import { describe, expect, it } from 'vitest';
import { runTs } from './process.js';

describe('npm run sample', () => {
  it('prints N snapshots as JSON lines on stdout and logs only on stderr', async () => {
    const { code, stdout, stderr } = await runTs(
      'src/cli/sample.ts',
      ['--count', '3', '--interval', '0.3'],
      {
        METRICS_HOST_NAME: 'sample-test',
      },
    );
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    const snapshots = lines.map((line) => snapshot.parse(JSON.parse(line)));
    expect(snapshots.map((s) => s.seq)).toEqual([1, 2, 3]);
    expect(snapshots.every((s) => s.host === 'sample-test' && s.intervalMs === 300)).toBe(true);
    // Timestamps follow the schedule: consecutive snapshots ~300 ms apart.
    const gaps = snapshots
      .slice(1)
      .map((s, i) => Date.parse(s.timestamp) - Date.parse(snapshots[i]!.timestamp));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(250);
    // This machine has /proc: the procfs collectors all measured something.
    for (const s of snapshots) {
      expect(s.cpu.available && s.memory.available && s.network.available && s.disk.available).toBe(
        true,
      );
    }
    expect(stderr).toContain('"msg":"sampling"');
  }, 30_000);

  it.each([
    [[], '--count is required'],
    [['--count', '0'], '--count must be a whole number from 1 to 100000'],
    [['--count', 'ten'], '--count must be a whole number'],
    [['--count', '1', '--interval', 'fast'], '--interval must be a number of seconds'],
    [['--count', '1', '--bogus'], "Unknown option '--bogus'"],
    [['--count', '1', 'extra'], 'extra'],
  ])(
    'exits 2 with usage for bad arguments %j',
    async (args, message) => {
      const { code, stdout, stderr } = await runTs('src/cli/sample.ts', args);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toContain(message);
      expect(stderr).toContain('usage: npm run sample -- --count N');
    },
    30_000,
  );

  it('exits 2 naming a bad environment variable', async () => {
    const { code, stderr } = await runTs('src/cli/sample.ts', ['--count', '1'], {
      COLLECTORS: 'cpu,gpu',
    });
    expect(code).toBe(2);
    expect(stderr).toContain('COLLECTORS each must be one of');
  }, 30_000);
});
