import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSkip } from './skips.js';

// The users CLI as the production image holds it: the Dockerfile's layout (root package.json,
// apps/api's package.json, dist and migrations, the contracts' dist) and node_modules without
// tsx, as `npm prune --omit=dev` leaves it. What the README and the first-start banner tell an
// operator to run must work there.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BUILT = existsSync(join(ROOT, 'apps/api/dist/cli/users.js'));
const REQUIRE_SERVICES = process.env.REQUIRE_SERVICES === '1';
const TITLE = 'the users CLI in the production layout (no tsx)';

function suite(): void {
  let image: string;
  let data: string;

  beforeAll(() => {
    if (!BUILT)
      throw new Error('REQUIRE_SERVICES=1 but apps/api/dist is not built (npm run build)');
    image = mkdtempSync(join(tmpdir(), 'livestat-image-'));
    data = join(image, 'data');
    for (const path of [
      'package.json',
      'apps/api/package.json',
      'apps/api/dist',
      'apps/api/migrations',
      'packages/contracts/package.json',
      'packages/contracts/dist',
    ]) {
      cpSync(join(ROOT, path), join(image, path), { recursive: true });
    }
    // Every installed package but the dev tools that run TypeScript, and the workspaces
    // pointing at this copy rather than at the repository.
    const modules = join(image, 'node_modules');
    mkdirSync(join(modules, '@livestat'), { recursive: true });
    for (const name of readdirSync(join(ROOT, 'node_modules'))) {
      if (['.bin', 'tsx', '@livestat', '.package-lock.json'].includes(name)) continue;
      symlinkSync(join(ROOT, 'node_modules', name), join(modules, name));
    }
    symlinkSync(join(image, 'packages/contracts'), join(modules, '@livestat/contracts'));
    symlinkSync(join(image, 'apps/api'), join(modules, '@livestat/api'));
  });
  afterAll(() => {
    if (image) rmSync(image, { recursive: true, force: true });
  });

  /** Runs `command` in the copy with an environment where tsx cannot be found. */
  function run(command: string, args: string[], input = ''): string {
    return execFileSync(command, args, {
      cwd: image,
      input,
      encoding: 'utf8',
      env: {
        PATH: (process.env.PATH ?? '')
          .split(':')
          .filter((dir) => !dir.includes('node_modules'))
          .join(':'),
        HOME: image,
        ENV_FILE: 'none',
        DATA_DIR: data,
        LOG_LEVEL: 'silent',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  it('node apps/api/dist/cli/users.js adds and lists users', () => {
    expect(
      run(
        'node',
        ['apps/api/dist/cli/users.js', 'add', 'alice', '--password-stdin'],
        'a-long-password\n',
      ),
    ).toMatch(/^created viewer "alice" \(id \d+\)\n$/);
    expect(run('node', ['apps/api/dist/cli/users.js', 'list'])).toMatch(/alice\s+viewer/);
  });

  it('npm run users runs the compiled CLI when there is no tsx', () => {
    const out = run('npm', ['run', '--silent', 'users', '--', 'list']);
    expect(out).toMatch(/^ID\s+USERNAME\s+ROLE/);
    expect(out).toMatch(/alice\s+viewer/);
  });
}

if (BUILT || REQUIRE_SERVICES) {
  describe(TITLE, suite);
} else {
  process.stderr.write(`\n!!! SKIPPED "${TITLE}": apps/api/dist is not built (npm run build)\n`);
  recordSkip(TITLE, 'apps/api/dist is not built (npm run build)');
  describe.skip(`${TITLE} — SKIPPED: apps/api/dist is not built (npm run build)`, suite);
}
