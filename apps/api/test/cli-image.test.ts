import { execFileSync, spawn } from 'node:child_process';
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
import { freePort } from './process.js';
import { recordSkip } from './skips.js';

// The build as the production image holds it: the Dockerfile's layout (root package.json,
// apps/api's package.json, dist and migrations, the contracts' dist) and node_modules without
// tsx, as `npm prune --omit=dev` leaves it. What the README and the first-start banner tell an
// operator to run must work there, and the API itself must start from its bundled dist/ and
// find what it loads from files: migrations, PGlite's thread and data, the OTLP decoder's thread.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BUILT = existsSync(join(ROOT, 'apps/api/dist/cli/users.js'));
const REQUIRE_SERVICES = process.env.REQUIRE_SERVICES === '1';
const TITLE = 'the build in the production layout (no tsx)';

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

  /** An environment where tsx cannot be found. */
  const environment = (more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
    PATH: (process.env.PATH ?? '')
      .split(':')
      .filter((dir) => !dir.includes('node_modules'))
      .join(':'),
    HOME: image,
    ENV_FILE: 'none',
    DATA_DIR: data,
    LOG_LEVEL: 'silent',
    ...more,
  });

  /** Runs `command` in the copy with an environment where tsx cannot be found. */
  function run(command: string, args: string[], input = '', more: NodeJS.ProcessEnv = {}): string {
    return execFileSync(command, args, {
      cwd: image,
      input,
      encoding: 'utf8',
      env: environment(more),
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

  it('node apps/api/dist/main.js samples, opens PGlite and decodes OTLP on its threads', async () => {
    const apiData = join(image, 'api-data');
    const created = run(
      'node',
      ['apps/api/dist/cli/tokens.js', 'create', '--scope', 'ingest', 'ci'],
      '',
      {
        DATA_DIR: apiData,
      },
    );
    const token = /lsk_\S+/.exec(created)?.[0];
    expect(token).toBeDefined();
    const port = await freePort();
    const api = spawn('node', ['apps/api/dist/main.js'], {
      cwd: image,
      env: environment({
        DATA_DIR: apiData,
        PORT: String(port),
        STATSD_PORT: '0',
        ADMIN_PASSWORD: 'image-admin-password',
        SAMPLING_INTERVAL_SECONDS: '0.2',
      }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    api.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => api.on('close', resolve));
    const url = `http://127.0.0.1:${port}`;
    try {
      // PGlite's thread found its worker file, its data and the migrations; the sampler ticked.
      await expect
        .poll(
          async () => {
            if (api.exitCode !== null) throw new Error(`the API exited:\n${stderr}`);
            const health = (await (await fetch(`${url}/api/health`)).json()) as {
              database: string;
              sampler: { seq: number };
            };
            return health.database === 'up' && health.sampler.seq >= 1;
          },
          { timeout: 60_000, interval: 100 },
        )
        .toBe(true);
      // The OTLP body is decoded on its own thread, from its own file.
      const res = await fetch(`${url}/v1/metrics`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          resourceMetrics: [
            {
              resource: {
                attributes: [{ key: 'service.name', value: { stringValue: 'image' } }],
              },
              scopeMetrics: [
                {
                  metrics: [
                    { name: 'jobs', gauge: { dataPoints: [{ asInt: '5', timeUnixNano: '1' }] } },
                  ],
                },
              ],
            },
          ],
        }),
      });
      expect([res.status, await res.text()]).toEqual([200, '{}']);
    } finally {
      api.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 90_000);
}

if (BUILT || REQUIRE_SERVICES) {
  describe(TITLE, suite);
} else {
  process.stderr.write(`\n!!! SKIPPED "${TITLE}": apps/api/dist is not built (npm run build)\n`);
  recordSkip(TITLE, 'apps/api/dist is not built (npm run build)');
  describe.skip(`${TITLE} — SKIPPED: apps/api/dist is not built (npm run build)`, suite);
}
