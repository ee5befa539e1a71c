/**
 * Whether this process may run `perf stat -a` (system-wide counting), shared by the perf
 * collector and the bandwidth collector's uncore_imc source.
 */
import { readOptionalProcFile } from './procfs.js';
import { CollectorError } from './types.js';

const CAP_SYS_ADMIN = 21n;
const CAP_PERFMON = 38n;

/** What decides whether system-wide counting is allowed. */
export interface PerfPermissionInput {
  /** `kernel.perf_event_paranoid`, null when the kernel has no perf events at all. */
  paranoid: number | null;
  /** Effective capability mask (`CapEff` of `/proc/self/status`). */
  capEff: bigint;
  euid: number;
}

/** The `CapEff` mask of a `/proc/<pid>/status` text; 0 when the field is absent. */
export function parseCapEff(statusText: string): bigint {
  const match = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText);
  if (match?.[1] === undefined) return 0n;
  return BigInt(`0x${match[1]}`);
}

/**
 * Null when `perf stat -a` may count system-wide; otherwise why not. The kernel allows
 * CPU-wide events for everyone only at paranoid ≤ 0, and for root or a process holding
 * CAP_PERFMON (or, before 5.8, CAP_SYS_ADMIN) at any level.
 */
export function checkPerfPermission(input: PerfPermissionInput): string | null {
  const { paranoid, capEff, euid } = input;
  if (paranoid === null) {
    return 'perf events not supported by this kernel (no /proc/sys/kernel/perf_event_paranoid)';
  }
  const hasCap = (bit: bigint): boolean => ((capEff >> bit) & 1n) === 1n;
  if (paranoid <= 0 || euid === 0 || hasCap(CAP_PERFMON) || hasCap(CAP_SYS_ADMIN)) return null;
  return (
    `perf_event_paranoid is ${String(paranoid)}; system-wide counting needs ≤ 0, root, ` +
    'or CAP_PERFMON (sysctl kernel.perf_event_paranoid=0)'
  );
}

/**
 * Reads the paranoid level and this process's effective capabilities under `procRoot`.
 * A missing `self/status` (a fixture tree, an unusual proc mount) means no capabilities,
 * so root or paranoid ≤ 0 still pass; a malformed paranoid level is a `CollectorError`.
 */
export async function readPerfPermission(
  procRoot: string,
): Promise<Omit<PerfPermissionInput, 'euid'>> {
  const paranoidText = await readOptionalProcFile(procRoot, 'sys/kernel/perf_event_paranoid');
  const statusText = await readOptionalProcFile(procRoot, 'self/status');
  let paranoid: number | null = null;
  if (paranoidText !== null) {
    paranoid = Number(paranoidText.trim());
    if (paranoidText.trim() === '' || !Number.isInteger(paranoid)) {
      throw new CollectorError(
        'malformed',
        `malformed perf_event_paranoid: ${JSON.stringify(paranoidText.trim())}`,
      );
    }
  }
  return { paranoid, capEff: statusText === null ? 0n : parseCapEff(statusText) };
}
