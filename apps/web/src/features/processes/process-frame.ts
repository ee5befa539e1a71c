import {
  isStorableTime,
  PROCESS_COMMAND_MAX,
  processesMessage,
  type ProcessesMessage,
} from '@livestat/contracts';
import { z } from 'zod/mini';

// A `processes` message carries up to 1,000 rows once a second. Validating each row with zod
// costs several milliseconds of the main thread per message (bench:processes-frame), most of
// the time of a frame on a phone; the checks below say the same as the contract's `processRow`
// (process-frame.test.ts holds them to it, field by field) at a small fraction of the cost.

/** The message without its rows, which {@link isProcessRow} checks. */
const envelope = z.extend(processesMessage, { processes: z.array(z.unknown()) });

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isRate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isText = (v: unknown): v is string => typeof v === 'string' && !v.includes('\u0000');
/** ISO 8601 UTC with milliseconds, years 0001–9999, a real date (no 31 April, no 24:00). */
const ISO = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;
function isTimestamp(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const m = ISO.exec(v);
  if (m === null) return false;
  const ms = Date.parse(v);
  // Date.parse takes 30 February as 2 March: the day must survive the round trip.
  return isStorableTime(ms) && new Date(ms).getUTCDate() === Number(m[3]) && m[2] !== '00';
}

/** The contract's `processRow`, checked by hand. */
export function isProcessRow(value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const r = value as Record<string, unknown>;
  return (
    isCount(r.pid) &&
    r.pid > 0 &&
    isCount(r.ppid) &&
    isText(r.user) &&
    isText(r.name) &&
    isText(r.command) &&
    r.command.length <= PROCESS_COMMAND_MAX &&
    isText(r.state) &&
    r.state.length === 1 &&
    isCount(r.threads) &&
    isRate(r.cpuPercent) &&
    isCount(r.rssBytes) &&
    (r.readBytesPerSec === null || isRate(r.readBytesPerSec)) &&
    (r.writeBytesPerSec === null || isRate(r.writeBytesPerSec)) &&
    isTimestamp(r.startedAt)
  );
}

/**
 * A `processes` message as the contract has it, or null when anything in it is not: the
 * envelope through zod, every row through {@link isProcessRow}.
 */
export function parseProcessesFrame(value: unknown): ProcessesMessage | null {
  const parsed = envelope.safeParse(value);
  if (!parsed.success || !parsed.data.processes.every(isProcessRow)) return null;
  return parsed.data as ProcessesMessage;
}
