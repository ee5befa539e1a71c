/**
 * Pure parsing of `perf stat -x, -I <ms>` output (on stderr, or where `--log-fd` says). One line is
 * `timestamp,value,unit,event,runTimeNs,runningPercent,metricValue,metricUnit`; the value
 * may be `<not supported>` (no PMU for it) or `<not counted>` (never scheduled).
 */

export type PerfCounterStatus = 'counted' | 'not-supported' | 'not-counted';

/** One data line of `perf stat -x,` output. */
export interface PerfStatLine {
  /** Seconds since perf started counting, the end of the interval the line covers. */
  timestampS: number;
  /** Already scaled by perf for multiplexing; null unless `status` is `counted`. */
  value: number | null;
  status: PerfCounterStatus;
  /** The unit perf scaled the value into (`MiB` for uncore CAS counts); '' when none. */
  unit: string;
  /** The event as perf prints it: `cycles`, `cycles:u`, `cpu_core/cycles/`. */
  event: string;
  /** The event without PMU prefix or modifiers: `cycles`. */
  canonicalEvent: string;
  runTimeNs: number | null;
  /** Share of the interval the counter was scheduled (below 100 when multiplexed). */
  runningPercent: number | null;
  metricValue: number | null;
  metricUnit: string | null;
}

/** One event over one interval, summed over the PMUs that count it (hybrid CPUs). */
export interface PerfCounter {
  /** Sum of the counted lines; null when no line of the event was counted. */
  value: number | null;
  /** `counted` if any line counted; otherwise the status perf printed. */
  status: PerfCounterStatus;
  /** The unit perf printed for the event (`MiB`), '' when it printed none. */
  unit: string;
  /** The lowest share of time any of its lines ran, null when perf printed none. */
  runningPercent: number | null;
}

/** All counters of one completed interval. */
export interface PerfInterval {
  timestampS: number;
  /** Seconds since the previous interval of the same perf run (or since it started). */
  lengthS: number;
  /** Keyed by canonical event name, in the order perf printed them. */
  counters: Map<string, PerfCounter>;
}

function optionalNumber(field: string | undefined): number | null {
  if (field === undefined || field.trim() === '') return null;
  const value = Number(field);
  return Number.isFinite(value) ? value : null;
}

/**
 * `cpu_core/cycles/` → `cycles`, `cycles:u` → `cycles`, `cycles` → `cycles`. Hybrid CPUs
 * print one line per PMU; the collector wants the machine-wide event.
 */
export function canonicalEventName(event: string): string {
  const pmuForm = /^[\w.-]+\/([^/,=]+)\/[a-zA-Z]*$/.exec(event);
  const name = pmuForm?.[1] ?? event;
  return name.replace(/:[a-zA-Z]+$/, '');
}

/**
 * Parses one line; null for anything that is not a data line (comments, blank lines,
 * perf's warnings and error messages), so callers can keep those for error reports.
 */
export function parsePerfStatLine(line: string): PerfStatLine | null {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return null;
  const fields = trimmed.split(',');
  // An event spelled with a raw PMU spec (`cpu/event=0x3c,umask=0x0/`) contains commas
  // that perf does not quote: glue the pieces of the slash-delimited name back together.
  const eventStart = 3;
  const slashes = (text: string): number => text.split('/').length - 1;
  let eventEnd = eventStart;
  let name = fields[eventStart] ?? '';
  if (slashes(name) === 1) {
    while (slashes(name) < 2 && eventEnd + 1 < fields.length) name += `,${fields[++eventEnd]}`;
    if (slashes(name) < 2) eventEnd = eventStart;
  }
  const event = fields.slice(eventStart, eventEnd + 1).join(',');
  const rest = fields.slice(eventEnd + 1);
  const [timestampField, valueField, unitField] = fields;
  if (event === '' || timestampField === undefined || valueField === undefined) return null;

  const timestampS = Number(timestampField);
  if (timestampField === '' || !Number.isFinite(timestampS) || timestampS < 0) return null;

  let value: number | null = null;
  let status: PerfCounterStatus;
  if (valueField === '<not supported>') status = 'not-supported';
  else if (valueField === '<not counted>') status = 'not-counted';
  else {
    value = Number(valueField);
    if (valueField === '' || !Number.isFinite(value) || value < 0) return null;
    status = 'counted';
  }

  const metricUnit = rest[3]?.trim();
  return {
    timestampS,
    value,
    status,
    unit: unitField?.trim() ?? '',
    event,
    canonicalEvent: canonicalEventName(event),
    runTimeNs: optionalNumber(rest[0]),
    runningPercent: optionalNumber(rest[1]),
    metricValue: optionalNumber(rest[2]),
    metricUnit: metricUnit === undefined || metricUnit === '' ? null : metricUnit,
  };
}

function mergeCounter(previous: PerfCounter | undefined, line: PerfStatLine): PerfCounter {
  const lowest = (a: number | null, b: number | null): number | null =>
    a === null ? b : b === null ? a : Math.min(a, b);
  if (previous === undefined) {
    return {
      value: line.value,
      status: line.status,
      unit: line.unit,
      runningPercent: line.runningPercent,
    };
  }
  const counted = previous.status === 'counted' || line.status === 'counted';
  return {
    value: counted ? (previous.value ?? 0) + (line.value ?? 0) : null,
    status: counted ? 'counted' : previous.status,
    // Every PMU of one event scales into the same unit; take the first one perf printed.
    unit: previous.unit === '' ? line.unit : previous.unit,
    runningPercent: lowest(previous.runningPercent, line.runningPercent),
  };
}

/**
 * Groups data lines of ONE perf run into intervals by timestamp. perf prints every counter
 * of an interval together, so a new timestamp completes the pending interval; `flush()`
 * completes it earlier once the caller knows the interval is whole. Pure, no timers.
 */
export class PerfIntervalAssembler {
  private previousTimestampS = 0;
  private pending: PerfInterval | null = null;

  /** Adds a line; returns the interval it completed, if it started a new one. */
  push(line: PerfStatLine): PerfInterval | null {
    let completed: PerfInterval | null = null;
    if (this.pending !== null && this.pending.timestampS !== line.timestampS) {
      completed = this.flush();
    }
    if (this.pending === null) {
      if (line.timestampS <= this.previousTimestampS) return completed; // late line of a finished interval
      this.pending = {
        timestampS: line.timestampS,
        lengthS: line.timestampS - this.previousTimestampS,
        counters: new Map(),
      };
    }
    const counters = this.pending.counters;
    counters.set(line.canonicalEvent, mergeCounter(counters.get(line.canonicalEvent), line));
    return completed;
  }

  /** Whether the pending interval already holds every one of `events` (canonical names). */
  pendingHasAll(events: readonly string[]): boolean {
    const pending = this.pending;
    return pending !== null && events.every((event) => pending.counters.has(event));
  }

  /** Completes and returns the pending interval, if any. */
  flush(): PerfInterval | null {
    const done = this.pending;
    if (done === null) return null;
    this.pending = null;
    this.previousTimestampS = done.timestampS;
    return done;
  }
}

/** Parses a whole captured output into its intervals (the last one included). */
export function parsePerfStatOutput(text: string): PerfInterval[] {
  const assembler = new PerfIntervalAssembler();
  const intervals: PerfInterval[] = [];
  for (const raw of text.split('\n')) {
    const line = parsePerfStatLine(raw);
    const done = line === null ? null : assembler.push(line);
    if (done !== null) intervals.push(done);
  }
  const last = assembler.flush();
  if (last !== null) intervals.push(last);
  return intervals;
}

const MAX_REASON_LENGTH = 300;

/**
 * The line of perf's stderr that says why it failed: the first non-blank, non-data line
 * after the bare `Error:` header, plus the parser's `\___ hint` when perf points at a bad
 * event (the usage text that follows is left out). Null when perf said nothing.
 */
export function describePerfError(lines: readonly string[]): string | null {
  const meaningful = lines
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== 'Error:' && parsePerfStatLine(line) === null);
  const first = meaningful[0];
  if (first === undefined) return null;
  const hint = meaningful.map((line) => /^\\_+\s*(.+)$/.exec(line)?.[1]).find(Boolean);
  const reason = hint === undefined ? first : `${first} (${hint})`;
  return reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH - 1)}…` : reason;
}
