// Pure parsers of the cgroupfs files the cgroups collector reads, v2 and v1. Each takes the
// file's text and returns numbers, or null where the file does not say.

/** The value of `key` in a flat-keyed file (`cpu.stat`, `memory.stat`): `key value` lines. */
export function flatKey(text: string, key: string): number | null {
  let at = text.startsWith(`${key} `) ? 0 : text.indexOf(`\n${key} `);
  if (at === -1) return null;
  if (at > 0) at += 1;
  const start = at + key.length + 1;
  const end = text.indexOf('\n', start);
  const value = Number(text.slice(start, end === -1 ? text.length : end));
  return Number.isFinite(value) ? value : null;
}

/** A single-number file (`memory.current`, `pids.current`, `cpuacct.usage`); null for "max" or junk. */
export function singleValue(text: string): number | null {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed === 'max') return null;
  const value = Number(trimmed);
  return Number.isFinite(value) && value >= 0 ? value : null;
}

// v1 reports "no limit" as PAGE_COUNTER_MAX rounded to pages (9223372036854771712 on 4 KiB
// pages): anything this large is no limit at all.
const NO_LIMIT_V1 = 2 ** 60;

/** A memory limit: `memory.max` ("max") or `memory.limit_in_bytes` (a huge number); null = none. */
export function memoryLimit(text: string): number | null {
  const value = singleValue(text);
  return value === null || value >= NO_LIMIT_V1 ? null : value;
}

/** I/O counters summed over every device. */
export interface IoTotals {
  readBytes: number;
  writeBytes: number;
  readOps: number;
  writeOps: number;
}

/** v2 `io.stat`: `8:0 rbytes=… wbytes=… rios=… wios=… dbytes=… dios=…` per device, summed. */
export function parseIoStat(text: string): IoTotals {
  const totals = { readBytes: 0, writeBytes: 0, readOps: 0, writeOps: 0 };
  const field = /\b(rbytes|wbytes|rios|wios)=(\d+)/g;
  for (let match = field.exec(text); match !== null; match = field.exec(text)) {
    const value = Number(match[2]);
    if (match[1] === 'rbytes') totals.readBytes += value;
    else if (match[1] === 'wbytes') totals.writeBytes += value;
    else if (match[1] === 'rios') totals.readOps += value;
    else totals.writeOps += value;
  }
  return totals;
}

/**
 * v1 `blkio.throttle.io_service_bytes` or `…io_serviced`: `8:0 Read 4096` lines per device,
 * summed; the per-device and overall `Total` lines are left out so nothing counts twice.
 */
export function parseBlkio(text: string): { read: number; write: number } {
  let read = 0;
  let write = 0;
  const line = /^\S+ (Read|Write) (\d+)$/gm;
  for (let match = line.exec(text); match !== null; match = line.exec(text)) {
    if (match[1] === 'Read') read += Number(match[2]);
    else write += Number(match[2]);
  }
  return { read, write };
}

/** `some avg10` of a cgroup PSI file (`cpu.pressure`), %; null when the line is missing. */
export function psiSomeAvg10(text: string): number | null {
  const match = /^some avg10=([\d.]+)/m.exec(text);
  return match ? Math.min(100, Number(match[1])) : null;
}

/** A systemd unit name as it appears in a cgroup path, with `\x2d`-style escapes undone. */
export function unescapeUnit(name: string): string {
  return name.replace(/\\x([0-9a-fA-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(parseInt(hex, 16)),
  );
}
