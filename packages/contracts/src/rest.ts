import { z } from 'zod/mini';
import { hostName, isoTimestamp, isStorableTime, TIME_RANGE_MESSAGE } from './common.js';
import { hostInfo } from './messages.js';
import { processSort } from './processes.js';
import { COLLECTOR_NAMES, snapshot } from './snapshot.js';

/** Every error answer of the REST API. */
export const errorResponse = z.object({ error: z.string().check(z.minLength(1)) });
export type ErrorResponse = z.infer<typeof errorResponse>;

export const role = z.enum(['admin', 'viewer']);
export type Role = z.infer<typeof role>;

export const publicUser = z.object({
  id: z.number().check(z.int(), z.positive()),
  username: z.string().check(z.minLength(1)),
  role,
});
export type PublicUser = z.infer<typeof publicUser>;

/** `POST /api/auth/login` body. */
export const loginRequest = z.object({
  username: z.string().check(z.trim(), z.minLength(1), z.maxLength(64)),
  password: z.string().check(z.minLength(1), z.maxLength(1024)),
});
export type LoginRequest = z.infer<typeof loginRequest>;

/**
 * `POST /api/auth/login` answer, and `POST /api/auth/refresh`'s: a new token for the same user
 * (as stored now), `expiresAt` being the token's `exp`.
 */
export const loginResponse = z.object({
  token: z.string().check(z.minLength(1)),
  expiresAt: isoTimestamp,
  user: publicUser,
});
export type LoginResponse = z.infer<typeof loginResponse>;

/**
 * `POST /api/ws/ticket` answer: a single-use ticket that opens one socket as
 * `/api/ws/metrics?ticket=…` before `expiresAt` (30 s at most), so no JWT goes in a URL.
 */
export const wsTicketResponse = z.object({
  ticket: z.string().check(z.minLength(16), z.maxLength(256)),
  expiresAt: isoTimestamp,
});
export type WsTicketResponse = z.infer<typeof wsTicketResponse>;

/** `GET /api/auth/me` answer. */
export const meResponse = z.object({ user: publicUser });
export type MeResponse = z.infer<typeof meResponse>;

/** `GET /api/hosts` answer. */
export const hostsResponse = z.object({ hosts: z.array(hostInfo) });
export type HostsResponse = z.infer<typeof hostsResponse>;

/** `GET /api/snapshots/latest` answer: the polling fallback while a socket cannot connect. */
export const latestSnapshotsResponse = z.object({ snapshots: z.array(snapshot) });
export type LatestSnapshotsResponse = z.infer<typeof latestSnapshotsResponse>;

export const HISTORY_DEFAULT_POINTS = 500;
export const HISTORY_MAX_POINTS = 5000;
export const HISTORY_MAX_SERIES = 20;

/** A series path into a snapshot, such as `cpu.usagePercent` or `network.interfaces.eth0.rxBytesPerSec`. */
export const seriesPath = z.string().check(
  z.minLength(3),
  z.maxLength(200),
  // The first segment names a section of the snapshot: `nosuch.x` is a bad parameter, not an
  // empty series. No NUL either: no interface or device can carry one, and the database refuses it.
  z.regex(
    new RegExp(`^(?:${[...COLLECTOR_NAMES, 'agent', 'app'].join('|')})(?:\\.[^.\\s\\u0000]+)+$`),
    'a dotted path such as cpu.usagePercent',
  ),
);

/**
 * ISO 8601 as a date (UTC) or a date-time with `Z` or an offset. Checked before `Date.parse`,
 * which also reads free text (`"cpu 2"` is a date in V8) and offset-less times in the server's zone.
 */
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** False for a date the calendar lacks, such as 2025-02-30, which `Date.parse` rolls over into March. */
function isCalendarDate([, year, month, day]: RegExpExecArray): boolean {
  const date = new Date(0);
  date.setUTCFullYear(Number(year), Number(month) - 1, Number(day));
  return date.getUTCMonth() === Number(month) - 1 && date.getUTCDate() === Number(day);
}

/** A point in time as ISO 8601 or epoch milliseconds, parsed to epoch ms, within years 0001–9999. */
export const timeParam = z.pipe(
  z.string().check(z.trim(), z.minLength(1)),
  z.transform((value, ctx) => {
    const iso = ISO_8601.exec(value);
    const ms = /^\d+$/.test(value)
      ? Number(value)
      : iso && isCalendarDate(iso)
        ? Date.parse(value)
        : NaN;
    // zod/mini's transform has no `addIssue`: the issue goes on the payload as zod would put it.
    const refuse = (message: string) => {
      ctx.issues.push({ code: 'custom', message, input: value });
      return z.NEVER;
    };
    if (Number.isNaN(ms)) {
      return refuse('an ISO 8601 time with Z or an offset, or epoch milliseconds');
    }
    // Beyond these the database refuses the time or reads it as another one.
    if (!isStorableTime(ms)) return refuse(TIME_RANGE_MESSAGE);
    return ms;
  }),
);

/** A query parameter given once (`?series=a`) or repeated (`?series=a&series=b`). */
const seriesList = z.pipe(
  z.pipe(
    z.union([z.string(), z.array(z.string())]),
    z.transform((value) => (Array.isArray(value) ? value : [value])),
  ),
  z.array(seriesPath).check(z.minLength(1), z.maxLength(HISTORY_MAX_SERIES)),
);

/** `GET /api/history` query string, as Express parses it. */
export const historyQuery = z
  .object({
    host: z.optional(hostName),
    series: seriesList,
    from: timeParam,
    to: timeParam,
    points: z._default(
      z.coerce.number().check(z.int(), z.minimum(1), z.maximum(HISTORY_MAX_POINTS)),
      HISTORY_DEFAULT_POINTS,
    ),
  })
  .check(z.refine((q) => q.from < q.to, { path: ['from'], message: 'must be before to' }));
export type HistoryQuery = z.infer<typeof historyQuery>;

/** One bucket: `[epochMs, avg, min, max]`; the values are null where the bucket holds no sample. */
export const historyPoint = z.tuple([
  z.number(),
  z.nullable(z.number()),
  z.nullable(z.number()),
  z.nullable(z.number()),
]);
export type HistoryPoint = z.infer<typeof historyPoint>;

/** `GET /api/history` answer. */
export const historyResponse = z.object({
  host: hostName,
  from: z.number(),
  to: z.number(),
  /** Width of one bucket in ms. */
  bucketMs: z.number().check(z.positive()),
  /** The stored tier the buckets were computed from. */
  tier: z.enum(['raw', '1m', '1h']),
  series: z.record(z.string(), z.array(historyPoint)),
});
export type HistoryResponse = z.infer<typeof historyResponse>;

export const PROCESSES_TOP_DEFAULT_LIMIT = 10;
export const PROCESSES_TOP_MAX_LIMIT = 50;
/** The widest window `GET /api/processes/top` answers: 31 days (the goal is any up to 30). */
export const PROCESSES_TOP_MAX_SPAN_MS = 31 * 86_400_000;

/** `GET /api/processes/top` query string: who used the most of `by` between `from` and `to`. */
export const processesTopQuery = z
  .object({
    host: hostName,
    from: timeParam,
    to: timeParam,
    by: z._default(processSort, 'cpu'),
    limit: z._default(
      z.coerce.number().check(z.int(), z.minimum(1), z.maximum(PROCESSES_TOP_MAX_LIMIT)),
      PROCESSES_TOP_DEFAULT_LIMIT,
    ),
  })
  .check(
    z.refine((q) => q.from < q.to, { path: ['from'], message: 'must be before to' }),
    z.refine((q) => q.to - q.from <= PROCESSES_TOP_MAX_SPAN_MS, {
      path: ['from'],
      message: 'must be at most 31 days before to',
    }),
  );
export type ProcessesTopQuery = z.infer<typeof processesTopQuery>;

/** One process in a window: a pid, its start time and its name identify it. */
export const processUsage = z.object({
  pid: z.number().check(z.int(), z.positive()),
  name: z.string(),
  user: z.string(),
  /** '' when the tier holds no command line. */
  command: z.string(),
  /** CPU time used in the window, seconds of one core. */
  cpuSeconds: z.number().check(z.nonnegative()),
  /** `cpuSeconds` over the time the process was seen in the window, 100 = one core. */
  avgCpuPercent: z.number().check(z.nonnegative()),
  peakRssBytes: z.number().check(z.int(), z.nonnegative()),
  /** Bytes read + written in the window; null where I/O could not be read. */
  ioBytes: z.nullable(z.number().check(z.nonnegative())),
  firstSeen: isoTimestamp,
  lastSeen: isoTimestamp,
});
export type ProcessUsage = z.infer<typeof processUsage>;

/** `GET /api/processes/top` answer, sorted by the `by` measure, highest first. */
export const processesTopResponse = z.object({
  host: hostName,
  from: isoTimestamp,
  to: isoTimestamp,
  by: processSort,
  /**
   * The stored tier the answer was computed from; '1d' sums whole days, with the hours at
   * either end of the range that are not a whole day.
   */
  tier: z.enum(['raw', '1m', '1h', '1d']),
  processes: z.array(processUsage),
});
export type ProcessesTopResponse = z.infer<typeof processesTopResponse>;

export const componentStatus = z.enum(['up', 'down', 'not_configured']);
export type ComponentStatus = z.infer<typeof componentStatus>;

/** `GET /api/health` answer. */
export const healthResponse = z.object({
  status: z.enum(['ok', 'degraded']),
  version: z.string(),
  host: hostName,
  uptimeSeconds: z.number().check(z.nonnegative()),
  database: componentStatus,
  redis: componentStatus,
  /**
   * `disk full` while history is not being stored for lack of disk space (snapshots still
   * stream, and are buffered until space returns). Optional: older APIs do not send it.
   */
  storage: z.optional(z.enum(['ok', 'disk full'])),
  /** Snapshots the batch writer holds, not yet stored (database down or disk full). */
  bufferedSnapshots: z.optional(z.number().check(z.int(), z.nonnegative())),
  websocketConnections: z.number().check(z.int(), z.nonnegative()),
  sampler: z.object({
    seq: z.number().check(z.int(), z.nonnegative()),
    lastSnapshotAt: z.nullable(isoTimestamp),
    // Optional, like every field added since: a dashboard also reads an older API's answer.
    /** Sampling slots missed in the last minute (each a snapshot lost), including any being missed now. */
    skippedTicksLastMinute: z.optional(z.number().check(z.int(), z.nonnegative())),
    /** Sampling slots missed since the process started. */
    skippedTicksTotal: z.optional(z.number().check(z.int(), z.nonnegative())),
  }),
  /** How late the API's event loop ran over the last minute, in ms. */
  eventLoop: z.optional(
    z.object({
      /** The 99th percentile (the worst of its 10 s slices). */
      lagMs: z.number().check(z.nonnegative()),
      /** The longest single stall. */
      maxLagMs: z.number().check(z.nonnegative()),
    }),
  ),
  /** Why `status` is `degraded`, one short sentence each; empty or absent when `ok`. */
  reasons: z.optional(z.array(z.string())),
});
export type HealthResponse = z.infer<typeof healthResponse>;

/**
 * Where `/api/health` turns `degraded` for the process's own rhythm: any skipped sampling tick in
 * the last minute, an event-loop lag p99 over 200 ms, or a single stall over 1 s. Shared so the
 * dashboard marks the same figures the API judged; the API says why these values.
 */
export const HEALTH_LIMITS = {
  maxSkippedTicksLastMinute: 0,
  maxLagMs: 200,
  maxStallMs: 1000,
} as const;
