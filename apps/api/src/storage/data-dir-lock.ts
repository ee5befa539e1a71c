import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Another live process holds the embedded database's directory. */
export class DataDirLockedError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `${dir} is in use by process ${pid}: PGlite allows one process per directory; ` +
        'stop it, or give this process its own DATA_DIR or a DATABASE_URL',
    );
    this.name = 'DataDirLockedError';
  }
}

/** Who holds a lock: a pid and, to tell a reused pid apart, that process's start time. */
interface Holder {
  pid: number;
  /** Field 22 of `/proc/<pid>/stat` (clock ticks since boot); null in old pid files. */
  startTicks: string | null;
}

/** A process's start time in clock ticks since boot, or null when it does not exist. */
async function startTicksOf(pid: number, procRoot: string): Promise<string | null> {
  const stat = await readFile(join(procRoot, String(pid), 'stat'), 'utf8').catch(() => null);
  if (stat === null) return null;
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19] ?? null;
}

/** The process's command line, NUL-separated arguments joined by spaces; '' when gone. */
async function commandLineOf(pid: number, procRoot: string): Promise<string> {
  const raw = await readFile(join(procRoot, String(pid), 'cmdline'), 'utf8').catch(() => '');
  return raw.split('\0').join(' ');
}

function parseHolder(text: string): Holder | null {
  const [pidText, startTicks] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) return null;
  return { pid, startTicks: startTicks ?? null };
}

/**
 * Whether the process that wrote the lock still runs. A pid now used by another program (a
 * reboot, or a crash long ago) is not the holder: its start time differs from the one the
 * lock recorded, or, for a lock that recorded none, it is not a Node.js process.
 */
async function holderAlive(holder: Holder, procRoot: string): Promise<boolean> {
  const startTicks = await startTicksOf(holder.pid, procRoot);
  if (startTicks === null) return false;
  if (holder.startTicks !== null) return startTicks === holder.startTicks;
  return /\bnode\b|livestat|tsx/.test(await commandLineOf(holder.pid, procRoot));
}

export interface LockOptions {
  /** Where processes are looked up; tests point it at a fixture. */
  procRoot?: string;
}

/**
 * Takes `<dir>/livestat.pid` for this process. PGlite itself opens a directory from two
 * processes without complaint, and two writers corrupt it. The file appears whole or not at
 * all (written aside, then hard-linked into place, which fails if it exists), so no process
 * ever reads a half-written lock and calls it stale. A lock whose process is gone, or whose pid
 * now belongs to another program, is taken over. Returns the release function.
 */
export async function lockDataDir(
  dir: string,
  options: LockOptions = {},
): Promise<() => Promise<void>> {
  const procRoot = options.procRoot ?? '/proc';
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, 'livestat.pid');
  const mine = `${process.pid} ${(await startTicksOf(process.pid, procRoot)) ?? ''}`.trim() + '\n';
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(aside, mine, { mode: 0o600 });
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(aside, file);
        return async () => {
          // Only our own lock: never remove one another process took over meanwhile.
          const now = await readFile(file, 'utf8').catch(() => null);
          if (now === mine) await unlink(file).catch(() => undefined);
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const seen = await readFile(file, 'utf8').catch(() => null);
      if (seen === null) continue; // released meanwhile: try again
      const holder = parseHolder(seen);
      if (holder !== null && holder.pid !== process.pid && (await holderAlive(holder, procRoot))) {
        throw new DataDirLockedError(dir, holder.pid);
      }
      // Stale. Moved aside first, then checked: if another process replaced the stale lock
      // with its own in between, that one is put back and this process yields to it.
      const moved = `${file}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
      try {
        await rename(file, moved);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const taken = await readFile(moved, 'utf8').catch(() => null);
      if (taken !== seen && taken !== null) {
        await link(moved, file).catch(() => undefined);
        await unlink(moved).catch(() => undefined);
        const other = parseHolder(taken);
        throw new DataDirLockedError(dir, other?.pid ?? 0);
      }
      await unlink(moved).catch(() => undefined);
    }
    throw new Error(`could not lock ${dir}`);
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}
