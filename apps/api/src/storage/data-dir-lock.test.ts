import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnTs } from '../../test/process.js';
import { DataDirLockedError, lockDataDir } from './data-dir-lock.js';

// The lock that keeps a second process out of PGlite's directory: whole or absent, taken over
// only from a process that is gone, and never stolen from a live one.

const children: ChildProcess[] = [];
function spawnSleeper(): ChildProcess {
  const child = spawn('sleep', ['60']);
  children.push(child);
  return child;
}

async function startTicks(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

describe('lockDataDir', () => {
  let root: string;
  let dir: string;
  let n = 0;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'livestat-lock-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });

  const freshDir = () => join(root, `d${++n}`);

  it('records this process and its start time, owner-only, and releases', async () => {
    dir = freshDir();
    const release = await lockDataDir(dir);
    const text = await readFile(join(dir, 'livestat.pid'), 'utf8');
    expect(text).toBe(`${process.pid} ${await startTicks(process.pid)}\n`);
    await release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over a lock whose process is gone', async () => {
    dir = freshDir();
    const child = spawnSleeper();
    const pid = child.pid!;
    child.kill('SIGKILL');
    await once(child, 'exit');
    await lockDataDir(dir).then((release) => release());
    await writeFile(join(dir, 'livestat.pid'), `${pid} 12345\n`);
    const release = await lockDataDir(dir);
    expect(await readFile(join(dir, 'livestat.pid'), 'utf8')).toMatch(`${process.pid} `);
    await release();
  });

  it('takes over a lock whose pid now belongs to another program', async () => {
    dir = freshDir();
    const other = spawnSleeper();
    await once(other, 'spawn');
    // The pid is alive, but it started at another time than the lock's writer did.
    await lockDataDir(dir).then((release) => release());
    await writeFile(join(dir, 'livestat.pid'), `${other.pid} 1\n`);
    const release = await lockDataDir(dir);
    await release();
    // An old lock without a start time, held by a process that is not Node.js.
    await writeFile(join(dir, 'livestat.pid'), `${other.pid}\n`);
    await lockDataDir(dir).then((again) => again());
  });

  it('refuses a lock whose process still runs', async () => {
    dir = freshDir();
    const holder = spawnSleeper();
    await once(holder, 'spawn');
    await lockDataDir(dir).then((release) => release());
    await writeFile(join(dir, 'livestat.pid'), `${holder.pid} ${await startTicks(holder.pid!)}\n`);
    const attempt = lockDataDir(dir);
    await expect(attempt).rejects.toBeInstanceOf(DataDirLockedError);
    await expect(attempt).rejects.toThrow(`is in use by process ${holder.pid}`);
    // The refused attempt left the live lock in place.
    expect(await readFile(join(dir, 'livestat.pid'), 'utf8')).toMatch(`${holder.pid} `);
  });

  it('lets exactly one of several processes starting at once take a stale lock', async () => {
    dir = freshDir();
    await lockDataDir(dir).then((release) => release());
    await writeFile(join(dir, 'livestat.pid'), '999999999 1\n'); // no such pid
    const script = join(root, 'take-lock.mts');
    await writeFile(
      script,
      `import { lockDataDir } from ${JSON.stringify(new URL('./data-dir-lock.ts', import.meta.url).pathname)};
       try { await lockDataDir(process.argv[2]); process.stdout.write('locked\\n'); }
       catch (err) { process.stdout.write(err.name + '\\n'); process.exit(0); }
       process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`,
    );
    const takers = Array.from({ length: 6 }, () => spawnTs(script, [dir], {}));
    const exited = takers.map((child) => once(child, 'close'));
    const outcomes = await Promise.all(
      takers.map(
        (child) =>
          new Promise<string>((resolve) => {
            let out = '';
            child.stdout.on('data', (chunk: Buffer) => {
              out += chunk.toString();
              if (out.includes('\n')) resolve(out.trim());
            });
            child.on('close', () => resolve(out.trim()));
          }),
      ),
    );
    for (const child of takers) child.stdin.end();
    await Promise.all(exited);
    expect(outcomes.filter((o) => o === 'locked')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'DataDirLockedError')).toHaveLength(5);
  }, 60_000);
});
