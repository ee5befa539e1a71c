import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** One hand-built process of a {@link writeProcessTree} tree. */
export interface FakeProcess {
  pid: number;
  ppid: number;
  comm: string;
  state: string;
  uid: number;
  /** utime + stime in clock ticks (all counted as utime). */
  cpuTicks: number;
  startTicks: number;
  rssPages: number;
  threads: number;
  /** Null: no `io` file (a kernel without task I/O accounting). */
  readBytes: number | null;
  writeBytes: number | null;
  argv: string[];
  /** PF_ flags of `stat` (0x00200000 = PF_KTHREAD). */
  flags?: number;
}

export const FAKE_BTIME = 1_764_000_000;

/** A `stat` line as the kernel writes it (52 fields), for `p`. */
export function statLine(p: FakeProcess): string {
  const after = [
    p.state,
    p.ppid,
    p.pid, // pgrp
    p.pid, // session
    0,
    -1,
    p.flags ?? 4194560,
    100, // minflt
    0,
    0,
    0,
    p.cpuTicks, // utime
    0, // stime
    0,
    0,
    20,
    0,
    p.threads,
    0,
    p.startTicks,
    p.rssPages * 4096 * 4, // vsize
    p.rssPages,
    ...Array.from({ length: 28 }, () => 0),
  ];
  return `${p.pid} (${p.comm}) ${after.join(' ')}\n`;
}

/**
 * `n` plausible processes: pid 1, kthreadd and a few kernel threads, then user processes of
 * uids 0, 1000 and 1001 with different CPU, memory and I/O, so each order has a clear top.
 */
export function fakeProcesses(n: number): FakeProcess[] {
  const kernel: FakeProcess[] = [2, 3, 4].map((pid) => ({
    pid,
    ppid: pid === 2 ? 0 : 2,
    comm: pid === 2 ? 'kthreadd' : `kworker/${pid}:0`,
    state: 'I',
    uid: 0,
    cpuTicks: 5,
    startTicks: 1,
    rssPages: 0,
    threads: 1,
    readBytes: 0,
    writeBytes: 0,
    argv: [],
    flags: 0x00208040,
  }));
  const user: FakeProcess[] = Array.from({ length: n }, (_, i) => {
    const pid = i === 0 ? 1 : 100 + i * 3;
    return {
      pid,
      ppid: i === 0 ? 0 : 1,
      comm: i === 0 ? 'systemd' : `worker-${i}`,
      state: i % 97 === 5 ? 'D' : i % 89 === 7 ? 'Z' : i % 50 === 3 ? 'R' : 'S',
      uid: [0, 1000, 1001][i % 3]!,
      cpuTicks: 1000 + i,
      startTicks: 500 + i,
      rssPages: 100 + ((i * 7919) % 5000),
      threads: 1 + (i % 4),
      readBytes: i * 4096,
      writeBytes: i * 512,
      argv: i === 0 ? ['/sbin/init'] : [`/usr/bin/worker`, `--id=${i}`],
    };
  });
  return [...kernel, ...user];
}

/**
 * Writes `processes` as a proc root at `root` (replacing it), with `stat` holding btime.
 * Synchronous: thousands of tiny files go several times faster so than through promises.
 */
export function writeProcessTree(root: string, processes: FakeProcess[]): Promise<void> {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  writeFileSync(
    path.join(root, 'stat'),
    `cpu  1 0 1 100 0 0 0 0 0 0\nbtime ${FAKE_BTIME}\nprocesses 1000\n`,
  );
  for (const p of processes) writeProcess(root, p);
  return Promise.resolve();
}

/** Writes one process of a tree made by {@link writeProcessTree}. */
export function writeProcess(root: string, p: FakeProcess): void {
  const dir = path.join(root, String(p.pid));
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'stat'), statLine(p));
  writeFileSync(
    path.join(dir, 'status'),
    `Name:\t${p.comm}\nState:\t${p.state}\nUid:\t${p.uid}\t${p.uid}\t${p.uid}\t${p.uid}\n`,
  );
  writeFileSync(path.join(dir, 'cmdline'), p.argv.map((a) => `${a}\u0000`).join(''));
  if (p.readBytes === null) return;
  writeFileSync(
    path.join(dir, 'io'),
    `rchar: ${p.readBytes * 2}\nwchar: ${(p.writeBytes ?? 0) * 2}\nsyscr: 10\nsyscw: 10\n` +
      `read_bytes: ${p.readBytes}\nwrite_bytes: ${p.writeBytes ?? 0}\ncancelled_write_bytes: 0\n`,
  );
}

/** A passwd file naming uids 0 and 1000 (1001 is left for the reader to show as a number). */
export const FAKE_PASSWD =
  'root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n';

/**
 * A new temporary directory on tmpfs (`/dev/shm`) where there is one: a generated tree is
 * thousands of files, which a loaded disk-backed /tmp writes a hundred times slower.
 */
export function makeTreeDir(): string {
  const base = existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
  return mkdtempSync(path.join(base, 'livestat-processes-'));
}
