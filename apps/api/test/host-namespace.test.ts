import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { snapshot as snapshotSchema, type Snapshot } from '@livestat/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_DIR } from './process.js';
import { recordSkip } from './skips.js';

// A container with the host's /proc at PROC_ROOT and its / at ROOTFS must report the host's
// interfaces and filesystems, not its own. `unshare -n -m` gives the sampler a network
// namespace with nothing but a down `lo` and a mount namespace of its own, as a container
// has; the host's /proc and / are bind-mounted into it, read-only, as compose would.

const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const REQUIRE_SERVICES = process.env.REQUIRE_SERVICES === '1';

function problem(): string | null {
  if (process.getuid?.() !== 0) return 'not root (unshare -n -m needs CAP_SYS_ADMIN)';
  try {
    execFileSync('unshare', ['-n', '-m', 'true'], { stdio: 'ignore' });
    return null;
  } catch (err) {
    return `unshare -n -m fails here: ${(err as Error).message.split('\n')[0]}`;
  }
}

/** Interface names in a `/proc/net/dev` text. */
function interfacesOf(netDev: string): string[] {
  return netDev
    .split('\n')
    .slice(2)
    .map((line) => line.split(':')[0]?.trim() ?? '')
    .filter((name) => name !== '');
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(command, args, { cwd: API_DIR, env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const why = problem();
const title = 'the sampler in a container sees the host';
if (why !== null && !REQUIRE_SERVICES) {
  process.stderr.write(`\n!!! SKIPPED "${title}": ${why}\n`);
  recordSkip(title, why);
}

describe.skipIf(why !== null && !REQUIRE_SERVICES)(title, () => {
  let dir: string;
  beforeAll(async () => {
    if (why !== null) throw new Error(`REQUIRE_SERVICES=1 but ${why}`);
    dir = await mkdtemp(path.join(tmpdir(), 'livestat-hostns-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("reports the host's interfaces and / from inside unshare -n -m", async () => {
    const hostInterfaces = interfacesOf(await readFile('/proc/net/dev', 'utf8'));
    const real = hostInterfaces.filter((name) => name !== 'lo');
    expect(real.length).toBeGreaterThan(0);

    // The premise: inside the new network namespace our own /proc/net/dev has only lo.
    const inside = await run('unshare', ['-n', 'cat', '/proc/net/dev']);
    expect(interfacesOf(inside.stdout)).toEqual(['lo']);

    const script = [
      'set -e',
      // Our mounts must not leak back to the host's namespace.
      'mount --make-rprivate /',
      'mkdir -p "$D/proc" "$D/root"',
      'mount --bind /proc "$D/proc"',
      'mount --bind / "$D/root"',
      'mount -o remount,bind,ro "$D/root"',
      `exec "${TSX}" --conditions=@livestat/source src/cli/sample.ts --count 2 --interval 0.3`,
    ].join('\n');
    const { code, stdout, stderr } = await run('unshare', ['-n', '-m', 'sh', '-c', script], {
      D: dir,
      ENV_FILE: 'none',
      PROC_ROOT: path.join(dir, 'proc'),
      ROOTFS: path.join(dir, 'root'),
      COLLECTORS: 'network,disk',
      METRICS_HOST_NAME: 'hostns-test',
    });
    expect(code, stderr).toBe(0);
    const snapshots = stdout
      .trim()
      .split('\n')
      .map((line) => snapshotSchema.parse(JSON.parse(line)) as Snapshot);
    const last = snapshots.at(-1);
    if (!last?.network.available || !last.disk.available) {
      throw new Error(`collectors unavailable: ${stdout}`);
    }
    const { interfaces } = last.network;
    expect(Object.keys(interfaces)).toEqual(expect.arrayContaining(real));
    // The host's eth0 counts since boot, far from a fresh namespace's zero.
    const busiest = Math.max(...real.map((name) => interfaces[name]?.counters?.[0] ?? 0));
    expect(busiest).toBeGreaterThan(0);
    expect(last.disk.filesystems.map((fs) => fs.mountPoint)).toContain('/');
    const root = last.disk.mounts?.find(([mountPoint]) => mountPoint === '/');
    expect(root?.[3]).toBeGreaterThan(0);
  }, 60_000);
});
