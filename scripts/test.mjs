// `npm test`: every package's suite through Turborepo, then — after turbo's own summary, which
// says "successful" whatever was skipped — a loud list of every suite that did not run because
// a service, Chromium or perf was absent, so a green run can never hide one.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'livestat-skips-'));
const log = join(dir, 'skipped.txt');
const result = spawnSync(
  'npx',
  ['turbo', 'run', 'test', '--concurrency=1', ...process.argv.slice(2)],
  { stdio: 'inherit', env: { ...process.env, LIVESTAT_SKIP_LOG: log } },
);
let skipped = [];
try {
  skipped = [...new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean))];
} catch {
  // No suite skipped: the log was never written.
}
rmSync(dir, { recursive: true, force: true });
if (skipped.length > 0) {
  process.stderr.write(
    `\n!!! ${skipped.length} suite(s) did NOT run — skipped, not passed:\n` +
      skipped.map((line) => `  - ${line}`).join('\n') +
      '\n!!! Start what they need (see the README, "Test it"), or set REQUIRE_SERVICES=1 ' +
      'REQUIRE_BROWSER=1 REQUIRE_PERF=1 to make these failures.\n',
  );
}
process.exit(result.status ?? 1);
