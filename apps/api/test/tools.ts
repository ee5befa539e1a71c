import { spawnSync } from 'node:child_process';
import { describe } from 'vitest';
import { recordSkip } from './skips.js';

const REQUIRE_SERVICES = process.env.REQUIRE_SERVICES === '1';

/** Whether `command` runs at all (`command --version`, or the arguments given). */
export function hasTool(command: string, args: string[] = ['--version']): boolean {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return result.error === undefined;
}

/**
 * Declares a suite that needs the program `tool` (docker-compose, nginx): skipped with the
 * reason in its title and on stderr when it is not installed, and failing under
 * REQUIRE_SERVICES=1 (CI installs it) — the same pattern as databases.ts and redis.ts.
 */
export function describeWithTool(
  tool: string,
  title: string,
  suite: () => void,
  probeArgs: string[] = ['--version'],
): void {
  const present = hasTool(tool, probeArgs);
  if (present || REQUIRE_SERVICES) {
    describe(title, () => {
      if (!present) throw new Error(`REQUIRE_SERVICES=1 but ${tool} is not installed`);
      suite();
    });
    return;
  }
  process.stderr.write(`\n!!! SKIPPED "${title}": ${tool} is not installed\n`);
  recordSkip(title, `${tool} is not installed`);
  describe.skip(`${title} — SKIPPED: ${tool} is not installed`, suite);
}
