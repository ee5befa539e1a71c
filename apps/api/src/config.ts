import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { COLLECTOR_NAMES, type CollectorName } from '@livestat/contracts';
import { z } from 'zod';
import { DEFAULT_IDLE_EVERY_TICKS } from './collectors/process-table.js';

/**
 * Every environment variable livestat reads, parsed and validated in one place.
 * Nothing else reads `process.env`.
 */
export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  /**
   * `api`: HTTP, WebSocket, sampler, writer, retention. `agent`: sampler, writer and publish
   * only, no HTTP; `databaseUrl` and `redisUrl` are then always set.
   */
  role: 'api' | 'agent';
  port: number;
  host: string;
  /** Where `npm run dev` serves the dashboard (Vite): named in the API's log in dev mode. */
  webPort: number;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /**
   * What every Redis channel and key this deployment uses begins with, so deployments sharing
   * one Redis never see each other's hosts, tickets or login counts (`REDIS_PREFIX`; default
   * `livestat:db<N>:` from REDIS_URL's database number).
   */
  redisPrefix: string;
  dataDir: string;
  /** The built dashboard the API serves on its own port (`apps/web/dist`). */
  webDistDir: string;
  jwtSecret: string | undefined;
  jwtTtlSeconds: number;
  adminUsername: string;
  adminPassword: string | undefined;
  samplingIntervalMs: number;
  batchSize: number;
  flushIntervalMs: number;
  maxBufferedSnapshots: number;
  /**
   * Free space the embedded database's disk (DATA_DIR) must keep: below it writes pause, and a
   * first start refuses to create the database. 0 disables. Unused with DATABASE_URL.
   */
  minFreeDiskBytes: number;
  heartbeatIntervalMs: number;
  wsMaxBufferedBytes: number;
  corsOrigins: string[];
  collectors: CollectorName[];
  hostName: string;
  procRoot: string;
  sysRoot: string;
  /**
   * `ROOTFS`: where the host's `/` is mounted (read-only) when livestat runs in a container,
   * as node_exporter's `--path.rootfs`; the host's mount points are measured under it.
   */
  rootFs: string;
  /** `CGROUPS_MAX`: most cgroups the cgroups collector measures; `truncated` says when it cut. */
  cgroupsMax: number;
  /** `DOCKER_HOST`: the Docker (or Podman) Engine API, for container names and health. */
  dockerHost: string;
  retentionDays: number;
  /** PROCESS_RETENTION_HOURS: how long each snapshot's top processes are kept. */
  processRetentionHours: number;
  /**
   * `PROCESS_IDLE_EVERY_TICKS`: an idle process (asleep, one thread, no CPU since the read
   * before) is read once every this many ticks; 1 reads every process every tick.
   */
  processIdleEveryTicks: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Bearer token `GET /metrics` requires when set (at least 16 characters); unset → open. */
  metricsToken: string | undefined;
  /**
   * Whether this process samples its host. Off for an API replica that only serves: the
   * stream reaches it over Redis from the processes that sample.
   */
  sampling: boolean;
  /** Express's `trust proxy`: which hops' X-Forwarded-For to believe for `req.ip`. */
  trustProxy: boolean | number | string[];
  /** Longest a history or resume statement may run before it is cancelled. */
  historyQueryTimeoutMs: number;
  /** Most rows one history request may read (series × rows per series); more is refused. */
  historyMaxRows: number;
  /** Whether this API evaluates alert rules (when elected) and serves `/api/alerts`. */
  alertsEnabled: boolean;
  /** Where people open the dashboard (`PUBLIC_URL`): links in notifications point there. */
  publicUrl: string | undefined;
  /** First retry delay of a failed notification; doubled each attempt up to {@link alertsRetryMaxMs}. */
  alertsRetryBaseMs: number;
  alertsRetryMaxMs: number;
  /** Notifications one channel is sent per minute at most; the rest wait in the outbox. */
  alertsRateLimitPerMinute: number;
  /** How long the evaluator's Redis lease lasts unrenewed: a dead leader is replaced within it. */
  alertsLeaseMs: number;
  /** The Telegram Bot API's base URL (a stand-in in tests). */
  telegramApiUrl: string;
  /** `STATSD_PORT`: the UDP port StatsD is received on (on `host`); null when `off`. */
  statsdPort: number | null;
  /** `APP_MAX_SERIES`: application series one service may hold; new ones past it are refused. */
  appMaxSeries: number;
  /** `APP_MAX_TAG_VALUES`: distinct values one tag key may take within a service. */
  appMaxTagValues: number;
}

/** A bad environment: `message` names every offending variable (never its secret value). */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** `.data` at the repository root: src/ and dist/ sit at the same depth below it. */
export const DEFAULT_DATA_DIR = fileURLToPath(new URL('../../../.data', import.meta.url));

/** `.env` at the repository root, read by {@link loadEnvFile}. */
export const DEFAULT_ENV_FILE = fileURLToPath(new URL('../../../.env', import.meta.url));

/**
 * Reads a `.env` file into `process.env` when it exists: `ENV_FILE` names it (`none` reads
 * nothing), else `.env` at the repository root. A variable already in the environment wins
 * over the file, even when empty. Returns the file read, or null. The entry points (the API
 * and the CLIs) call it before {@link loadConfig}; tests pass their environment explicitly.
 */
export function loadEnvFile(env: NodeJS.ProcessEnv = process.env): string | null {
  const named = env.ENV_FILE?.trim();
  if (named === 'none') return null;
  const file = named || DEFAULT_ENV_FILE;
  if (!existsSync(file)) {
    if (named) throw new ConfigError([`ENV_FILE names ${file}, which does not exist`]);
    return null;
  }
  try {
    process.loadEnvFile(file);
  } catch (err) {
    throw new ConfigError([`ENV_FILE: cannot read ${file}: ${(err as Error).message}`]);
  }
  return file;
}

/** `apps/web/dist`, where `npm run build` puts the dashboard. */
export const DEFAULT_WEB_DIST_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** Variables whose values must never appear in an error message or a log line. */
const SECRET_VARIABLES = new Set([
  'JWT_SECRET',
  'ADMIN_PASSWORD',
  'DATABASE_URL',
  'REDIS_URL',
  'METRICS_TOKEN',
]);

const number = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .refine((n) => n >= min && n <= max, `must be between ${min} and ${max}`);
const integer = (min: number, max: number) =>
  number(min, max).refine(Number.isInteger, 'must be a whole number');

const csv = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

const origin = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === value;
  } catch {
    return false;
  }
}, 'each entry must be an origin such as http://localhost:5173 (scheme, host, optional port; no path or trailing slash)');

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };
const duration = z
  .string()
  .regex(/^\d+[smhd]$/, 'must be a duration such as 900s, 30m, 12h or 7d')
  .transform((value) => Number(value.slice(0, -1)) * (DURATION_UNITS[value.slice(-1)] ?? 1))
  .refine((seconds) => seconds >= 60 && seconds <= 30 * 86_400, 'must be between 1m and 30d');

const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
  );

const schema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    ROLE: z.enum(['api', 'agent']).default('api'),
    PORT: integer(0, 65_535).default(8000),
    WEB_PORT: integer(1, 65_535).default(5173),
    HOST: z.string().min(1).default('127.0.0.1'),
    DATABASE_URL: url(['postgres:', 'postgresql:']).optional(),
    REDIS_URL: url(['redis:', 'rediss:']).optional(),
    REDIS_PREFIX: z
      .string()
      .regex(/^[\w.:-]{1,64}$/, 'must be 1-64 letters, digits, or . _ : -')
      .optional(),
    DATA_DIR: z.string().min(1).default(DEFAULT_DATA_DIR),
    WEB_DIST_DIR: z.string().min(1).default(DEFAULT_WEB_DIST_DIR),
    JWT_SECRET: z.string().optional(),
    JWT_TTL: duration.default(12 * 3600),
    ADMIN_USERNAME: z
      .string()
      .regex(/^[\w.@-]{1,64}$/, 'must be 1-64 letters, digits, or . _ @ -')
      .default('admin'),
    ADMIN_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
    SAMPLING_INTERVAL_SECONDS: number(0.1, 3600).default(1),
    BATCH_SIZE: integer(1, 10_000).default(10),
    FLUSH_INTERVAL_SECONDS: number(0.1, 3600).default(30),
    MAX_BUFFERED_SNAPSHOTS: integer(1, 10_000_000).default(10_000),
    MIN_FREE_DISK_MB: integer(0, 16 * 1024 * 1024).default(256),
    HEARTBEAT_INTERVAL_SECONDS: number(1, 3600).default(30),
    WS_MAX_BUFFERED_BYTES: integer(1024, 1024 ** 3).default(1024 ** 2),
    CORS_ORIGINS: csv.pipe(z.array(origin)).optional(),
    COLLECTORS: csv
      .pipe(
        z
          .array(
            z.enum(COLLECTOR_NAMES, { error: `each must be one of ${COLLECTOR_NAMES.join(', ')}` }),
          )
          .min(1, 'must name at least one collector'),
      )
      .default([...COLLECTOR_NAMES]),
    METRICS_HOST_NAME: z
      .string()
      .regex(/^[^\s]{1,253}$/, 'must be 1-253 characters without spaces')
      .optional(),
    PROC_ROOT: z.string().min(1).default('/proc'),
    SYS_ROOT: z.string().min(1).default('/sys'),
    ROOTFS: z.string().min(1).default('/'),
    CGROUPS_MAX: integer(1, 100_000).default(500),
    DOCKER_HOST: z
      .string()
      .regex(
        /^(?:unix:\/\/\/\S+|tcp:\/\/[^:/\s]+:\d{1,5}\/?)$/,
        'must be unix:///path/to/docker.sock or tcp://host:port',
      )
      .default('unix:///var/run/docker.sock'),
    RETENTION_DAYS: number(1, 3650).default(7),
    PROCESS_RETENTION_HOURS: number(1, 3650 * 24).default(48),
    PROCESS_IDLE_EVERY_TICKS: integer(1, 60).default(DEFAULT_IDLE_EVERY_TICKS),
    HISTORY_QUERY_TIMEOUT_SECONDS: number(0.1, 600).default(10),
    HISTORY_MAX_ROWS: integer(1000, 1_000_000_000).default(500_000),
    ALERTS: z.enum(['on', 'off']).default('on'),
    PUBLIC_URL: url(['http:', 'https:']).optional(),
    ALERTS_RETRY_BASE_SECONDS: number(0.01, 3600).default(5),
    ALERTS_RETRY_MAX_SECONDS: number(0.01, 86_400).default(300),
    ALERTS_RATE_LIMIT_PER_MINUTE: integer(1, 10_000).default(20),
    ALERTS_LEASE_SECONDS: number(1, 60).default(10),
    TELEGRAM_API_URL: url(['http:', 'https:']).default('https://api.telegram.org'),
    LOG_LEVEL: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info'),
    METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    SAMPLING: z.enum(['on', 'off']).default('on'),
    STATSD_PORT: z
      .union([z.literal('off'), integer(0, 65_535)], {
        error: 'must be a port number 0-65535 or off',
      })
      .default(8125),
    APP_MAX_SERIES: integer(1, 1_000_000).default(2000),
    APP_MAX_TAG_VALUES: integer(1, 1_000_000).default(100),
    TRUST_PROXY: z
      .string()
      .transform((value, ctx) => {
        const parsed = trustProxy(value);
        if (parsed === null) {
          ctx.addIssue({
            code: 'custom',
            message:
              'must be true, false, a number of hops, or a comma-separated list of loopback, linklocal, uniquelocal, IP addresses and CIDR ranges',
          });
          return z.NEVER;
        }
        return parsed;
      })
      .default(['loopback']),
  })
  .superRefine((env, ctx) => {
    if (env.JWT_SECRET !== undefined && Buffer.byteLength(env.JWT_SECRET) < 32) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'must be at least 32 bytes' });
    }
    // An agent signs nothing: it has no HTTP and no users.
    if (env.NODE_ENV === 'production' && env.ROLE === 'api' && env.JWT_SECRET === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['JWT_SECRET'],
        message:
          'is required when NODE_ENV=production (at least 32 bytes, e.g. `openssl rand -base64 48`)',
      });
    }
  });

// An agent on PGlite or the in-process bus would sample into a void no dashboard sees. Checked
// on the raw environment, beside the schema, so these are reported with any other bad variable.
const AGENT_NEEDS = [
  ['DATABASE_URL', 'the PostgreSQL the API replicas read history from'],
  ['REDIS_URL', 'the Redis the API replicas stream from'],
] as const;

function roleIssues(present: Record<string, string | undefined>): string[] {
  if (present.SAMPLING === 'off') {
    if (present.ROLE === 'agent')
      return ['SAMPLING=off makes no sense with ROLE=agent, which only samples'];
    if (present.REDIS_URL === undefined) {
      return [
        'REDIS_URL is required when SAMPLING=off (the stream must come from other processes over Redis)',
      ];
    }
  }
  if (present.ROLE !== 'agent') return [];
  return AGENT_NEEDS.filter(([name]) => present[name] === undefined).map(
    ([name, what]) => `${name} is required when ROLE=agent (${what})`,
  );
}

/**
 * Parses the environment into a `Config`. An empty variable counts as unset (compose files
 * often write `FOO=`). Throws `ConfigError` naming every bad variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const parsed = schema.safeParse(present);
  const issues = roleIssues(present);
  if (!parsed.success) {
    issues.unshift(
      ...parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? 'environment');
        const shown = SECRET_VARIABLES.has(name)
          ? ''
          : ` (got ${JSON.stringify(present[name] ?? '')})`;
        return `${name} ${issue.message}${shown}`;
      }),
    );
  }
  if (!parsed.success || issues.length > 0) throw new ConfigError(issues);
  const e = parsed.data;
  return {
    nodeEnv: e.NODE_ENV,
    role: e.ROLE,
    port: e.PORT,
    host: e.HOST,
    webPort: e.WEB_PORT,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX ?? defaultRedisPrefix(e.REDIS_URL),
    dataDir: e.DATA_DIR,
    webDistDir: e.WEB_DIST_DIR,
    jwtSecret: e.JWT_SECRET,
    jwtTtlSeconds: e.JWT_TTL,
    adminUsername: e.ADMIN_USERNAME,
    adminPassword: e.ADMIN_PASSWORD,
    samplingIntervalMs: Math.round(e.SAMPLING_INTERVAL_SECONDS * 1000),
    batchSize: e.BATCH_SIZE,
    flushIntervalMs: Math.round(e.FLUSH_INTERVAL_SECONDS * 1000),
    maxBufferedSnapshots: e.MAX_BUFFERED_SNAPSHOTS,
    minFreeDiskBytes: e.MIN_FREE_DISK_MB * 1024 * 1024,
    heartbeatIntervalMs: Math.round(e.HEARTBEAT_INTERVAL_SECONDS * 1000),
    wsMaxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
    // The dev server's origins by default, on whatever port WEB_PORT moved it to.
    corsOrigins: e.CORS_ORIGINS ?? [
      `http://localhost:${e.WEB_PORT}`,
      `http://127.0.0.1:${e.WEB_PORT}`,
    ],
    collectors: [...new Set(e.COLLECTORS)],
    hostName: e.METRICS_HOST_NAME ?? os.hostname(),
    procRoot: e.PROC_ROOT,
    sysRoot: e.SYS_ROOT,
    rootFs: e.ROOTFS,
    cgroupsMax: e.CGROUPS_MAX,
    dockerHost: e.DOCKER_HOST,
    retentionDays: e.RETENTION_DAYS,
    processRetentionHours: e.PROCESS_RETENTION_HOURS,
    processIdleEveryTicks: e.PROCESS_IDLE_EVERY_TICKS,
    logLevel: e.LOG_LEVEL,
    metricsToken: e.METRICS_TOKEN,
    sampling: e.SAMPLING === 'on',
    trustProxy: e.TRUST_PROXY,
    historyQueryTimeoutMs: Math.round(e.HISTORY_QUERY_TIMEOUT_SECONDS * 1000),
    historyMaxRows: e.HISTORY_MAX_ROWS,
    alertsEnabled: e.ALERTS === 'on',
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    alertsRetryBaseMs: Math.round(e.ALERTS_RETRY_BASE_SECONDS * 1000),
    alertsRetryMaxMs: Math.round(e.ALERTS_RETRY_MAX_SECONDS * 1000),
    alertsRateLimitPerMinute: e.ALERTS_RATE_LIMIT_PER_MINUTE,
    alertsLeaseMs: Math.round(e.ALERTS_LEASE_SECONDS * 1000),
    telegramApiUrl: e.TELEGRAM_API_URL.replace(/\/+$/, ''),
    statsdPort: e.STATSD_PORT === 'off' ? null : e.STATSD_PORT,
    appMaxSeries: e.APP_MAX_SERIES,
    appMaxTagValues: e.APP_MAX_TAG_VALUES,
  };
}

/**
 * `livestat:db<N>:` for REDIS_URL's database number (`redis://host:6379/2` → `livestat:db2:`;
 * none → 0). Pub/sub channels are shared by every database of one Redis: the number in the
 * prefix keeps deployments on different databases apart on the channel too.
 */
export function defaultRedisPrefix(redisUrl: string | undefined): string {
  const path = redisUrl === undefined ? '' : new URL(redisUrl).pathname.replace(/^\//, '');
  const db = /^\d+$/.test(path) ? Number(path) : 0;
  return `livestat:db${db}:`;
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** `TRUST_PROXY` as Express takes it, or null when it is not one of the forms it knows. */
function trustProxy(value: string): boolean | number | string[] | null {
  const text = value.trim().toLowerCase();
  if (text === 'true' || text === 'false') return text === 'true';
  if (/^\d+$/.test(text)) return Number(text);
  const entries = text.split(',').map((entry) => entry.trim());
  const valid = entries.every((entry) => {
    if (PROXY_NAMES.has(entry)) return true;
    const [address, bits, extra] = entry.split('/');
    const version = isIP(address ?? '');
    if (version === 0 || extra !== undefined) return false;
    if (bits === undefined) return true;
    const n = Number(bits);
    return /^\d+$/.test(bits) && n <= (version === 4 ? 32 : 128);
  });
  return valid && entries.length > 0 ? entries : null;
}
